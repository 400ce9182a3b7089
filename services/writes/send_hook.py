"""The pre-send hook on the send path: asks the operator's hook about a new send, times and
counts the call, and turns its verdict or its failure into the event to append."""

from __future__ import annotations

import logging
import time

from parley import metrics
from parley.domain.errors import Rejected
from parley.domain.events import Event
from parley.domain.limits import Limits
from parley.domain.send_hook import (
    Allow,
    Reject,
    SendHookPolicy,
    SendHookRule,
    UnusableVerdict,
    Verdict,
    apply_verdict,
    on_failure,
)
from parley.ports import SendHook, SendHookFailed

log = logging.getLogger(__name__)


class SendHookStep:
    def __init__(
        self, hook: SendHook, rule: SendHookRule, policy: SendHookPolicy, limits: Limits
    ) -> None:
        self._hook = hook
        self._rule = rule
        self._policy = policy
        self._limits = limits

    def sees(self, event: Event) -> bool:
        return self._rule.sees(event)

    async def check(self, event: Event) -> Event:
        """The event to append (the same, or with the hook's content); Rejected when the hook
        rejects it, its replacement breaks a limit, or it failed under fail-closed."""
        started = time.perf_counter()
        try:
            verdict = await self._hook.check(event)
            checked = apply_verdict(event, verdict, self._limits)
        except SendHookFailed as failed:
            return self._failed(event, started, "timeout" if failed.timed_out else "error", failed)
        except UnusableVerdict as unusable:
            return self._failed(event, started, "error", unusable)
        except Rejected:
            _observe(_outcome_of(verdict), started)
            raise
        _observe(_outcome_of(verdict), started)
        return checked

    def _failed(self, event: Event, started: float, outcome: str, error: Exception) -> Event:
        _observe(outcome, started)
        log.warning(
            "pre-send hook %s (%s): %s",
            outcome,
            self._policy.value,
            error,
            extra={"event_id": event.event_id},
        )
        return on_failure(event, self._policy, timed_out=outcome == "timeout")


def _outcome_of(verdict: Verdict) -> str:
    if isinstance(verdict, Allow):
        return "allow"
    return "reject" if isinstance(verdict, Reject) else "replace"


def _observe(outcome: str, started: float) -> None:
    metrics.SEND_HOOK_CALLS.labels(outcome=outcome).inc()
    metrics.SEND_HOOK_LATENCY.labels(outcome=outcome).observe(time.perf_counter() - started)
