"""The security suite (issue 17): every RPC without, with a forged, an expired, an `alg: none`
token; the authorization matrix; oversized fields and frames; mutated and random requests.

Each case must end as docs/reason-codes.md says: its reason code (status and trailer agreeing),
never INTERNAL or UNKNOWN, nothing appended to the log when refused, and every server still
serving afterwards. `run` returns, per case group, how many cases were tried and how many
behaved as documented (plus the first failures of each). Run it while nothing else writes the
stack's topics: end offsets are compared around each refused call.

    python -m faults.security [--full] [--seed N]   # the stack of PARLEY_* settings; a JSON line
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import jwt
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from faults.security_calls import Answer, Caller, LogEnds, Rpc, every_rpc
from faults.security_cases import Case, authorization_cases, oversized_cases
from faults.security_messages import message_of, mutation_of
from faults.security_world import World, build_world, seed_for
from infra.local.processes import is_alive
from parley.config import Settings
from parley.domain.errors import Reason
from parley.gen.parley.v1 import ingress_pb2

KEPT_FAILURES = 10
PROFILES = {"short": 3, "full": 25}  # hypothesis examples per RPC, for mutated and random
_UNACCEPTABLE = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
NONE_HEADER = json.dumps({"alg": "none", "typ": "JWT"}).encode()


@dataclass(frozen=True)
class Targets:
    """Where the stack serves, its admin secret, and the topics a request may write."""

    ingress: str
    delivery: str
    media: str
    admin_secret: str
    kafka_bootstrap: str
    topics: tuple[str, ...]  # written by requests themselves (not the projector's updates)
    pids: tuple[int, ...] = ()  # the servers' processes: each must still run at the end

    @classmethod
    def from_settings(cls, s: Settings, host: str = "127.0.0.1") -> Targets:
        return cls(
            f"{host}:{s.ingress_port}", f"{host}:{s.delivery_port}", f"{host}:{s.media_port}",
            s.admin_secret, s.kafka_bootstrap,
            (s.topic_conversation_events, s.topic_signals, s.topic_broadcasts),
        )  # fmt: skip


@dataclass
class Tally:
    tried: int = 0
    documented: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, label: str, wrong: str | None) -> None:
        self.tried += 1
        if wrong is None:
            self.documented += 1
        elif len(self.failures) < KEPT_FAILURES:
            self.failures.append(f"{label}: {wrong}")


def judge(case: Case, answer: Answer, wrote: bool) -> str | None:
    """None when the answer is the documented one; else what is wrong with it."""
    if answer.code in _UNACCEPTABLE:
        return f"answered {answer.describe()}"
    if answer.code is grpc.StatusCode.OK:
        if case.must_refuse:
            return f"accepted; expected {sorted(case.expect) or 'a refusal'}"
        if wrote and case.settle_s:
            return "accepted, and appended to the log what it had to ignore"
        return case.check(answer) if case.check is not None else None
    if answer.code.name in case.transport and answer.reason is None:
        return None  # refused by gRPC's own size limit, as documented
    if not answer.is_documented_rejection():
        return f"undocumented refusal {answer.describe()} ({answer.reason_name})"
    if case.expect and answer.reason not in case.expect:
        return f"refused with {answer.reason}; expected {sorted(case.expect)}"
    if wrote:
        return f"refused with {answer.reason} but the log grew"
    return None


class Suite:
    def __init__(self, targets: Targets) -> None:
        self.targets = targets
        self.caller = Caller(targets.ingress, targets.delivery, targets.media)
        self.ends = LogEnds(targets.kafka_bootstrap, targets.topics)
        self.rpcs = {rpc.path: rpc for rpc in every_rpc()}
        self.tallies: dict[str, Tally] = {}

    def run_case(self, case: Case) -> None:
        before = self.ends.now()
        answer = self.caller.call(self.rpcs[case.path], case.request, case.bearer,
                                  case.metadata, case.until)  # fmt: skip
        refused = answer.code is not grpc.StatusCode.OK
        wrote = False
        if refused or case.settle_s:
            time.sleep(case.settle_s)
            wrote = self.ends.now() != before
        self.tallies.setdefault(case.group, Tally()).add(case.label, judge(case, answer, wrote))

    def serving(self) -> Tally:
        tally = Tally()
        for target in (self.targets.ingress, self.targets.delivery, self.targets.media):
            with grpc.insecure_channel(target) as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=5.0
                    )
                    up = reply.status == health_pb2.HealthCheckResponse.SERVING
                except grpc.RpcError as error:
                    up = False
                    reply = error
            tally.add(target, None if up else f"not serving: {reply}")
        for pid in self.targets.pids:
            tally.add(f"process {pid}", None if is_alive(pid) else "it is gone")
        return tally

    def close(self) -> None:
        self.caller.close()
        self.ends.close()


def token_cases(rpcs: Iterable[Rpc], w: World, expired: str) -> list[Case]:
    """Every RPC without a token, with a forged, a tampered, an expired and an `alg: none` one.
    The admin API refuses anything but its secret with ADMIN_CREDENTIAL_REQUIRED."""
    genuine = w.token("alice")
    header, payload, signature = genuine.split(".")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-" * 4, algorithm="HS256")
    tampered_claims = _b64(json.dumps({**claims, "sub": w.user("bob")}).encode())
    tampered = f"{header}.{tampered_claims}.{signature}"
    alg_none = f"{_b64(NONE_HEADER)}.{payload}."
    variants = (
        ("no_token", None, Reason.TOKEN_MISSING),
        ("forged_token", forged, Reason.TOKEN_INVALID),
        ("forged_token", tampered, Reason.TOKEN_INVALID),
        ("expired_token", expired, Reason.TOKEN_EXPIRED),
        ("alg_none", alg_none, Reason.TOKEN_INVALID),
    )
    cases = []
    for rpc in rpcs:
        request = [seed_for(rpc, w)] if rpc.method.client_streaming else seed_for(rpc, w)
        for group, token, reason in variants:
            if rpc.is_admin and token is not None:
                reason = Reason.ADMIN_CREDENTIAL_REQUIRED
            cases.append(Case(group, f"{rpc.path} ({group})", rpc.path, request, token,
                              frozenset({int(reason)})))  # fmt: skip
    return cases


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def expired_token(suite: Suite, user_id: str) -> str:
    """A genuine token of one second's lifetime, once that second has passed."""
    issue = suite.rpcs["/parley.v1.AdminService/IssueToken"]
    answer = suite.caller.call(issue, ingress_pb2.IssueTokenRequest(user_id=user_id, ttl_s=1),
                               suite.targets.admin_secret)  # fmt: skip
    issued: Any = answer.responses[0]
    time.sleep(max(0.0, issued.expires_at_ms / 1000 - time.time()) + 1.1)
    return str(issued.token)


def fuzz_cases(
    suite: Suite,
    w: World,
    group: str,
    strategy_of: Callable[[Rpc], st.SearchStrategy[Any]],
    examples: int,
    seed: int,
) -> None:
    """`examples` requests per RPC drawn by hypothesis, each run as a case that may be accepted
    or refused with any documented reason. Users take turns so one's rate limit is not all."""
    bearers = [w.token(n) for n in ("alice", "bob", "dave")]
    for rpc in suite.rpcs.values():
        _fuzz_one(suite, w, group, rpc, strategy_of(rpc), bearers, examples, seed)


def _fuzz_one(
    suite: Suite, w: World, group: str, rpc: Rpc, strategy: st.SearchStrategy[Any],
    bearers: list[str], examples: int, seed: int,
) -> None:  # fmt: skip
    turn = iter(range(1 << 30))
    until = (lambda read: True) if rpc.service.endswith("DeliveryService") else None

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @hypothesis_seed(seed)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        drawn = data.draw(strategy)
        bearer = w.admin_secret if rpc.is_admin else bearers[next(turn) % len(bearers)]
        suite.run_case(Case(group, f"{rpc.path} {str(drawn)[:200]!r}", rpc.path, drawn,
                            bearer, must_refuse=False, until=until))  # fmt: skip

    one()


def _streamed(rpc: Rpc, message: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if rpc.method.client_streaming:
        return st.lists(message, min_size=1, max_size=3)
    return message


def run(targets: Targets, profile: str = "short", seed: int = 17) -> dict[str, dict[str, Any]]:
    """Runs every case group against the stack; per group {"tried", "documented", "failures"}."""
    suite = Suite(targets)
    try:
        w = build_world(suite.caller, targets.admin_secret)
        for case in token_cases(suite.rpcs.values(), w, expired_token(suite, w.user("alice"))):
            suite.run_case(case)
        for case in [*authorization_cases(w), *oversized_cases(w)]:
            suite.run_case(case)
        examples = PROFILES[profile]
        fuzz_cases(suite, w, "mutated", lambda rpc: _streamed(rpc, mutation_of(seed_for(rpc, w))),
                   examples, seed)  # fmt: skip
        fuzz_cases(
            suite,
            w,
            "random",
            lambda rpc: _streamed(rpc, message_of(rpc.method.input_type)),
            examples,
            seed,
        )
        suite.tallies["still_serving"] = suite.serving()
        return {
            name: {"tried": t.tried, "documented": t.documented, "failures": t.failures}
            for name, t in suite.tallies.items()
        }
    finally:
        suite.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="25 generated requests per RPC")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    report = run(Targets.from_settings(Settings()), "full" if args.full else "short", args.seed)
    print(json.dumps({"security": report}, sort_keys=True))


if __name__ == "__main__":
    main()
