"""The presenter key's checks and the share rate: pure rules, no server."""

from __future__ import annotations

from mnist_app.drawings.limits import ShareRate
from mnist_app.drawings.presenter import LONGEST_WAIT_S, Attempts, matches, new_key


def test_keys_match_only_exactly():
    key = new_key()
    assert len(key) == 16 and key != new_key()
    assert matches(key, key)
    assert not matches("", key) and not matches(key[:-1], key) and not matches(key + " ", key)
    assert not matches("ünïcode", key)


def test_wrong_keys_wait_longer_each_time_and_the_right_one_resets():
    attempts = Attempts(free=3)
    for _ in range(2):
        attempts.failed(now=100.0)
        assert attempts.wait_s(100.0) == 0
    waits = []
    for _ in range(4):
        attempts.failed(now=100.0)
        waits.append(attempts.wait_s(100.0))
    assert waits == [2.0, 4.0, 8.0, 16.0]
    for _ in range(20):
        attempts.failed(now=100.0)
    assert attempts.wait_s(100.0) == LONGEST_WAIT_S
    attempts.succeeded()
    assert attempts.wait_s(100.0) == 0 and attempts.wrong == 0


def test_twelve_shares_a_minute_then_a_wait():
    rate = ShareRate(per_minute=12)
    for second in range(12):
        assert rate.wait_s(float(second)) == 0
        rate.record(float(second))
    assert rate.wait_s(12.0) == 48.0  # the first share leaves the window at 60 s
    assert rate.wait_s(60.0) == 0
