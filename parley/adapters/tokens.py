"""User tokens: HS256 JSON Web Tokens issued and verified with PyJWT."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from parley.domain.conversations import check_id
from parley.domain.errors import Reason, Rejected

_ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
# The longest lifetime a token may be issued for: ten years. Its expiry in milliseconds must fit
# the int64 fields that carry it (IssueTokenResponse, Welcome).
MAX_TTL_S = 10 * 366 * 86400
# Expiry is checked by verify() against its `now_s`, so that callers and tests control time.
_DECODE_OPTIONS: jwt.types.Options = {
    "require": ["sub", "iss", "exp"],
    "verify_exp": False,
    "verify_iat": False,
}


@dataclass(frozen=True)
class Claims:
    """What a verified token says: who the caller is and until when."""

    user_id: str
    expires_at_ms: int  # milliseconds since the Unix epoch


class TokenAuthority:
    """Issues and verifies user tokens signed with one shared secret.

    Expiry has whole-second resolution (the JWT `exp` claim); a token is expired from its `exp`
    second on, plus `leeway_s` of tolerance for clock skew between nodes.
    """

    def __init__(
        self, secret: str, issuer: str = "parley", default_ttl_s: int = 86400, leeway_s: int = 0
    ) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        if not 0 < default_ttl_s <= MAX_TTL_S or leeway_s < 0:
            raise ValueError(f"default_ttl_s must be 1..{MAX_TTL_S} and leeway_s not negative")
        self._secret = secret
        self._issuer = issuer
        self._default_ttl_s = default_ttl_s
        self._leeway_s = leeway_s

    def issue(
        self, user_id: str, ttl_s: int | None = None, now_s: float | None = None
    ) -> tuple[str, int]:
        """A token for `user_id` and its expiry in epoch milliseconds."""
        check_id(user_id, "user id")
        ttl = self._default_ttl_s if ttl_s is None else ttl_s
        if not 0 < ttl <= MAX_TTL_S:
            raise Rejected(
                Reason.BAD_PARAMETER, f"the token lifetime must be 1 to {MAX_TTL_S} seconds"
            )
        issued_at = int(time.time() if now_s is None else now_s)
        expires_at = issued_at + ttl
        claims = {"sub": user_id, "iss": self._issuer, "iat": issued_at, "exp": expires_at}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), expires_at * 1000

    def verify(self, token: str, now_s: float | None = None) -> Claims:
        """The claims of a genuine, unexpired token; TOKEN_INVALID or TOKEN_EXPIRED otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["sub", "iss", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise Rejected(Reason.TOKEN_INVALID, f"invalid token: {error}") from None
        user_id, expires_at = claims["sub"], claims["exp"]
        if not isinstance(user_id, str) or not user_id or not isinstance(expires_at, int):
            raise Rejected(Reason.TOKEN_INVALID, "invalid token: malformed claims")
        now = time.time() if now_s is None else now_s
        if now >= expires_at + self._leeway_s:
            raise Rejected(Reason.TOKEN_EXPIRED, "the token has expired")
        return Claims(user_id, expires_at * 1000)
