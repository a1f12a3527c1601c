"""Rate limits per ama and failed-authentication backoff per peer, on a controlled clock."""

from __future__ import annotations

import pytest

from studio_operator.server.tenancy import AuthBackoff, Plan, PlanBook, QuotaExceededError, RateLimiter


def test_the_token_bucket_allows_the_burst_then_the_rate():
    limiter, plan = RateLimiter(), Plan("free", requests_per_second=10, request_burst=3)
    for _ in range(3):
        limiter.check("alice", plan, now=100.0)
    with pytest.raises(QuotaExceededError, match=r"requests_per_second: over 10 requests/s .*retry in 0\.10 s") as err:
        limiter.check("alice", plan, now=100.0)
    assert err.value.limit == "requests_per_second"
    limiter.check("bob", plan, now=100.0)  # per ama
    limiter.check("alice", plan, now=100.15)  # one refilled
    limiter.check("alice", Plan("unlimited"), now=100.15)  # no rate: never limited


def test_backoff_locks_a_peer_out_for_doubling_times_after_the_free_failures():
    backoff = AuthBackoff(free_failures=3, window_s=60, max_lock_s=4)
    for i in range(3):
        backoff.failed("ipv4:10.0.0.1", now=float(i))
    assert backoff.locked_for("ipv4:10.0.0.1", now=2.0) == 0.0
    backoff.failed("ipv4:10.0.0.1", now=3.0)
    assert backoff.locked_for("ipv4:10.0.0.1", now=3.0) == 1.0
    backoff.failed("ipv4:10.0.0.1", now=4.0)
    assert backoff.locked_for("ipv4:10.0.0.1", now=4.0) == 2.0
    for t in (5.0, 6.0, 7.0):
        backoff.failed("ipv4:10.0.0.1", now=t)
    assert backoff.locked_for("ipv4:10.0.0.1", now=7.0) == 4.0  # capped
    assert backoff.locked_for("ipv4:10.0.0.2", now=7.0) == 0.0  # another peer
    backoff.failed("ipv4:10.0.0.1", now=100.0)  # after a quiet window the count starts again
    assert backoff.locked_for("ipv4:10.0.0.1", now=100.0) == 0.0


def test_the_packaged_plans_load_and_a_bad_file_names_the_plan(tmp_path):
    book = PlanBook.load()
    assert book.default == "free" and book["free"].concurrent_practices == 1 and book["nonexistent"].name == "unlimited"
    bad = tmp_path / "plans.yaml"
    bad.write_text("plans:\n  gold:\n    render_minutes: lots\n")
    with pytest.raises(ValueError, match="plan 'gold': render_minutes must be a number"):
        PlanBook.load(bad)
