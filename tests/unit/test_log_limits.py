"""The repeated-log-line limit: the first N of the same line per interval pass, the rest are
dropped and counted on the next one let through."""

from __future__ import annotations

import logging

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
