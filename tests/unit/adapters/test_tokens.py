"""User tokens: issued tokens verify until they expire; forged or malformed ones never do."""

from __future__ import annotations

import jwt
import pytest

from parley.adapters.tokens import MAX_TTL_S, Claims, TokenAuthority
from parley.domain.errors import Reason, Rejected

SECRET = "test-secret-0123456789abcdef-0123456789"
NOW = 1_700_000_000


def _reason_of(authority: TokenAuthority, token: str, now_s: float = NOW) -> Reason:
    with pytest.raises(Rejected) as caught:
        authority.verify(token, now_s=now_s)
    return caught.value.reason


def test_tokens__issued_token_verifies_with_its_user_and_expiry() -> None:
    authority = TokenAuthority(SECRET, default_ttl_s=3600)
    token, expires_at_ms = authority.issue("alice", now_s=NOW)
    assert expires_at_ms == (NOW + 3600) * 1000
    assert authority.verify(token, now_s=NOW + 3599) == Claims("alice", expires_at_ms)


def test_tokens__explicit_ttl_overrides_the_default() -> None:
    authority = TokenAuthority(SECRET, default_ttl_s=3600)
    _, expires_at_ms = authority.issue("alice", ttl_s=60, now_s=NOW)
    assert expires_at_ms == (NOW + 60) * 1000


def test_tokens__token_expires_at_its_expiry_second() -> None:
    authority = TokenAuthority(SECRET)
    token, _ = authority.issue("alice", ttl_s=60, now_s=NOW)
    assert _reason_of(authority, token, now_s=NOW + 60) is Reason.TOKEN_EXPIRED


def test_tokens__leeway_tolerates_clock_skew() -> None:
    authority = TokenAuthority(SECRET, leeway_s=5)
    token, _ = authority.issue("alice", ttl_s=60, now_s=NOW)
    assert authority.verify(token, now_s=NOW + 64).user_id == "alice"
    assert _reason_of(authority, token, now_s=NOW + 65) is Reason.TOKEN_EXPIRED


def test_tokens__verify_uses_the_clock_by_default() -> None:
    authority = TokenAuthority(SECRET)
    token, _ = authority.issue("alice", ttl_s=60)
    assert authority.verify(token).user_id == "alice"
    expired, _ = authority.issue("alice", ttl_s=1, now_s=NOW)
    assert _reason_of(authority, expired, now_s=NOW + 10**9) is Reason.TOKEN_EXPIRED


def test_tokens__token_signed_with_another_secret_is_invalid() -> None:
    forged, _ = TokenAuthority("another-secret-0123456789abcdef-01234").issue("alice", now_s=NOW)
    assert _reason_of(TokenAuthority(SECRET), forged) is Reason.TOKEN_INVALID


def test_tokens__forged_expired_token_is_invalid_not_expired() -> None:
    forged, _ = TokenAuthority("another-secret-0123456789abcdef-01234").issue("a", now_s=0, ttl_s=1)
    assert _reason_of(TokenAuthority(SECRET), forged) is Reason.TOKEN_INVALID


def test_tokens__token_of_another_issuer_is_invalid() -> None:
    token, _ = TokenAuthority(SECRET, issuer="elsewhere").issue("alice", now_s=NOW)
    assert _reason_of(TokenAuthority(SECRET), token) is Reason.TOKEN_INVALID


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "parley", "exp": NOW + 60},
        {"sub": "alice", "exp": NOW + 60},
        {"sub": "alice", "iss": "parley"},
        {"sub": "", "iss": "parley", "exp": NOW + 60},
        {"sub": 42, "iss": "parley", "exp": NOW + 60},
    ],
    ids=["no-sub", "no-iss", "no-exp", "empty-sub", "numeric-sub"],
)
def test_tokens__token_with_missing_or_bad_claims_is_invalid(claims: dict[str, object]) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert _reason_of(TokenAuthority(SECRET), token) is Reason.TOKEN_INVALID


def test_tokens__unsigned_token_is_invalid() -> None:
    token = jwt.encode({"sub": "alice", "iss": "parley", "exp": NOW + 60}, None, algorithm="none")
    assert _reason_of(TokenAuthority(SECRET), token) is Reason.TOKEN_INVALID


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "\u00e9\u00e9.\u00e9.\u00e9"])
def test_tokens__malformed_token_is_invalid(token: str) -> None:
    assert _reason_of(TokenAuthority(SECRET), token) is Reason.TOKEN_INVALID


def test_tokens__bad_user_id_or_lifetime_is_bad_parameter() -> None:
    authority = TokenAuthority(SECRET)
    for user_id, ttl_s in [("", None), ("has space", None), ("alice", 0), ("alice", -5)]:
        with pytest.raises(Rejected) as caught:
            authority.issue(user_id, ttl_s=ttl_s, now_s=NOW)
        assert caught.value.reason is Reason.BAD_PARAMETER


def test_tokens__short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenAuthority("short")


def test_tokens__a_lifetime_past_the_longest_is_bad_parameter() -> None:
    # Found by the security suite: IssueToken(ttl_s=2**62) answered UNKNOWN, its expiry in
    # milliseconds overflowing the response's int64.
    authority = TokenAuthority(SECRET)
    for ttl_s in (MAX_TTL_S + 1, 2**62, 2**63 - 1):
        with pytest.raises(Rejected) as caught:
            authority.issue("alice", ttl_s=ttl_s, now_s=NOW)
        assert caught.value.reason is Reason.BAD_PARAMETER
    _, expires_at_ms = authority.issue("alice", ttl_s=MAX_TTL_S, now_s=NOW)
    assert expires_at_ms == (NOW + MAX_TTL_S) * 1000 < 2**63
