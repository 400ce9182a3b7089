"""The write side shared by the ingress servicers and the media server: the write model
following the log, the event writer, the send flow and the request context."""
