"""Dated acts told in ticks of their own between the story's rounds, and how two such agendas
(the exchange's and the vouchers') are told together in time order; the monthly processing
day the vouchers' and quotas' acts are recorded on.

An act is a function that emits entries into the story's current tick and may date further
acts; acts due at the same instant share a tick. Every act is dated after the act or round
that dates it, so ticks come out in time order whoever made them.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from seed.story import Tick

if TYPE_CHECKING:
    from seed.story import CountyStory

CST = timedelta(hours=8)
Event = tuple[datetime, int, str, Callable[[], None]]
# The housing authority and the county record the month's voucher and quota business on one
# processing day, the 20th, at 10:00 China time: one tick a month rather than one an act.
PROCESSING_DAY = 20


def processing_day(d: date) -> date:
    """The first processing day on or after ``d``."""
    if d.day <= PROCESSING_DAY:
        return d.replace(day=PROCESSING_DAY)
    return date(d.year + d.month // 12, d.month % 12 + 1, PROCESSING_DAY)


def processing_time(d: date) -> datetime:
    """10:00 China time on the first processing day on or after ``d``, as the ledger's instant."""
    day = processing_day(d)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC) - CST


class Told(Protocol):
    """What ``interleave`` needs of an agenda (``seed.exchange.ExchangeStory`` is one)."""

    events: list[Event]

    def ticks_until(self, limit: datetime | None) -> Iterator[Tick]: ...


class Agenda:
    """Acts dated to the minute, each tick labelled ``<China time> <name>: <label>``."""

    def __init__(self, story: CountyStory, name: str) -> None:
        self.story, self.name = story, name
        self.events: list[Event] = []
        self.counter = itertools.count()

    def at(self, when: datetime, label: str, act: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.counter), label, act))

    def ticks_until(self, limit: datetime | None) -> Iterator[Tick]:
        """The ticks before ``limit`` (all that are left, for None), in time order."""
        while self.events and (limit is None or self.events[0][0] < limit):
            when, _, label, _ = self.events[0]
            tick = Tick(when, f"{(when + CST):%Y-%m-%d %H:%M} {self.name}: {label}")
            self.story.tick, self.story.lane = tick, None
            while self.events and self.events[0][0] == when:
                heapq.heappop(self.events)[3]()
            if tick.intents:
                yield tick


def interleave(limit: datetime | None, *agendas: Told) -> Iterator[Tick]:
    """The agendas' ticks before ``limit``, in time order; at the same instant, the first
    agenda's tick first. Each agenda is asked only for the ticks of its next instant, so an act
    that dates a new act (in any agenda) is told before anything later."""
    while True:
        due = [
            (a.events[0][0], i)
            for i, a in enumerate(agendas)
            if a.events and (limit is None or a.events[0][0] < limit)
        ]
        if not due:
            return
        when, i = min(due)
        yield from agendas[i].ticks_until(when + timedelta(microseconds=1))
