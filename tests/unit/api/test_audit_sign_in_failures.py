"""Failed sign-ins on requests are written at most once per client IP per window."""

from __future__ import annotations

from atelier.api.audit import SignInFailures, credential_hint, job_label


def test_one_entry_per_ip_per_window_counting_the_rest() -> None:
    log = SignInFailures(window_s=60)
    assert log.admit("10.0.0.1", now=0) == 0
    assert [log.admit("10.0.0.1", now=t) for t in (1, 2, 59)] == [None, None, None]
    assert log.admit("10.0.0.2", now=30) == 0  # another IP is not held back
    assert log.admit("10.0.0.1", now=60) == 3  # the window passed: 3 were not written
    assert log.admit("10.0.0.1", now=61) is None


def test_memory_stays_bounded_under_many_ips() -> None:
    log = SignInFailures(window_s=60, max_ips=100)
    for n in range(1000):
        log.admit(f"ip-{n}", now=n / 1000)
    assert len(log._last) <= 100


def test_only_a_key_prefix_is_kept_of_a_bad_credential() -> None:
    assert credential_hint("atl_1a2b3c4d_" + "s" * 43) == {"key_prefix": "atl_1a2b3c4d"}
    assert credential_hint("a-secret-of-another-system") == {}
    assert credential_hint("eyJhbGciOi.x.y") == {}


def test_a_job_label_is_the_start_of_its_prompt_on_one_line() -> None:
    assert job_label("A calc\n module.") == "A calc module."
    label = job_label("x" * 500)
    assert len(label) == 80 and label.endswith("…")
