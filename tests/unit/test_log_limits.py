"""The repeated-log-line limit: the first N of the same line per interval pass, the rest are
dropped and counted on the next one let through."""

from __future__ import annotations

import logging

import pytest

from api.http.log_limits import RepeatLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("asyncio", level, __file__, 1, msg, args or None, None)


def test_first_repeats_pass_then_the_rest_are_dropped() -> None:
    limit = RepeatLimit(repeats=3, interval=10, clock=Clock())
    passed = [limit.filter(record("socket.accept() out of system resource")) for _ in range(1000)]
    assert passed.count(True) == 3
    assert passed[:3] == [True, True, True]


def test_the_next_window_reports_how_many_were_suppressed() -> None:
    clock = Clock()
    limit = RepeatLimit(repeats=2, interval=10, clock=clock)
    for _ in range(12):
        limit.filter(record("fd %d exhausted", 7))
    clock.now = 10.0
    note = record("fd %d exhausted", 7)
    assert limit.filter(note)
    assert note.getMessage() == "fd 7 exhausted [suppressed 10 like this in the last 10 s]"


def test_different_lines_are_limited_apart() -> None:
    limit = RepeatLimit(repeats=1, interval=10, clock=Clock())
    assert limit.filter(record("GET /healthz from port %d", 1))
    assert limit.filter(record("GET /healthz from port %d", 2))
    assert not limit.filter(record("GET /healthz from port %d", 2))
    assert limit.filter(record("GET /healthz from port %d", 2, level=logging.INFO))


def test_a_flood_of_different_lines_is_not_looked_over_for_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Request log lines, each with its own request id, 50,000 in one interval: the table of
    kinds is looked over for old ones a few times, not once a line, and all of them pass; the
    next interval's flood forgets them."""
    clock = Clock()
    limit = RepeatLimit(clock=clock)
    looks: list[float] = []
    forget = limit._forget_old

    def look(now: float) -> None:
        looks.append(now)
        forget(now)

    monkeypatch.setattr(limit, "_forget_old", look)
    lines = (record("GET /v1/entries/{seq} 200 [%s]", i, level=logging.INFO) for i in range(50_000))
    assert all(limit.filter(line) for line in lines)
    assert 1 <= len(looks) <= 5
    clock.now = 20.0
    for i in range(40_000):
        assert limit.filter(record("GET /v1/checkpoint 200 [%s]", i, level=logging.INFO))
    assert 1 <= len([t for t in looks if t == 20.0]) <= 3
    assert not [key for key in limit._seen if key[2].startswith("GET /v1/entries")]
