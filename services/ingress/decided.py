"""Write RPCs built from their parts: how the caller's request is decided (one event on the
log) and how the order key is answered."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar, overload

from parley.domain.commands import Stamp
from parley.domain.events import Event
from services.writes.context import IngressContext

S = TypeVar("S", bound="IngressServicer")
R = TypeVar("R")
A = TypeVar("A")
R_contra = TypeVar("R_contra", contravariant=True)
A_co = TypeVar("A_co", covariant=True)

# decide(servicer, request, actor, stamp): the event the caller's request appends, or Rejected.
Decide = Callable[[S, R, str, Stamp], Event]
# answer(request, order_key): the response once the log acknowledged the event.
Answer = Callable[[R, int], A]


class IngressServicer:
    """The base of the ingress servicers. With `as_admin` (the AdminService) the caller has
    owner rights over every group and room."""

    def __init__(self, ingress: IngressContext, *, as_admin: bool = False) -> None:
        self._ingress = ingress
        self._admin = as_admin


class Rpc(Protocol[R_contra, A_co]):
    """A servicer's RPC method, as gRPC calls it."""

    def __call__(self, request: R_contra, context: Any) -> Coroutine[Any, Any, A_co]: ...


class DecidedRpc(Generic[S, R, A]):
    """An RPC, set as a servicer's class attribute: it decides the request as the authenticated
    caller, appends the event (with `settle`, also waits until this process folded it, so the
    caller reads its own change at once) and answers."""

    def __init__(self, decide: Decide[S, R], answer: Answer[R, A], *, settle: bool = False) -> None:
        self._decide = decide
        self._answer = answer
        self._settle = settle

    @overload
    def __get__(self, servicer: None, owner: type[Any]) -> DecidedRpc[S, R, A]: ...

    @overload
    def __get__(self, servicer: S, owner: type[Any]) -> Rpc[R, A]: ...

    def __get__(self, servicer: S | None, owner: type[Any]) -> DecidedRpc[S, R, A] | Rpc[R, A]:
        if servicer is None:
            return self
        decide, answer, settle = self._decide, self._answer, self._settle

        async def rpc(request: R, context: Any) -> A:
            order_key = await servicer._ingress.decide_as_caller(
                context, lambda actor, stamp: decide(servicer, request, actor, stamp), settle=settle
            )
            return answer(request, order_key)

        return rpc


def order_key_answer(response: Callable[..., A]) -> Answer[object, A]:
    """The answer of an RPC whose response carries only the order key."""
    return lambda _request, order_key: response(order_key=order_key)
