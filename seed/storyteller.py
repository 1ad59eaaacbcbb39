"""Telling the story in a process of its own, one tick ahead of the seeder.

Building a tick is plain Python over every resident of every village (who dies, marries,
settles, sells shares): at 500 villages it was two fifths of the busy process's time in the
half-year rounds, time the service could not use. The story is deterministic and never reads
the ledger, so a second process builds tick N+1 while the seeder submits tick N; the same
seed gives the same ticks in either process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from seed.model import Counts
from seed.story import CountyStory, Root, Tick

_story: CountyStory | None = None
_ticks: Iterator[Tick] | None = None


def _start(
    seed: int, villages: int, root: Root, start: date, years: int, households: tuple[int, int]
) -> None:
    global _story, _ticks
    _story = CountyStory(seed, villages, root, start, years, households)
    _ticks = _story.ticks()


def _next() -> Tick | None:
    assert _ticks is not None
    return next(_ticks, None)


def _outcome() -> tuple[Counts, dict[str, str]]:
    assert _story is not None
    showcase: dict[str, str] = {}
    for v in _story.villages:
        for k, value in v.showcase.items():
            showcase.setdefault(k, value)
    return _story.counts(), showcase


class Storyteller:
    """``await teller.next_tick()`` until ``None``; then ``await teller.outcome()``: what the
    story made and a showcase of interesting entries."""

    def __init__(
        self, seed: int, villages: int, root: Root, start: date, years: int, households: tuple[int, int]
    ) -> None:
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(seed, villages, root, start, years, households),
        )

    async def next_tick(self) -> Tick | None:
        return await asyncio.get_running_loop().run_in_executor(self.pool, _next)

    async def outcome(self) -> tuple[Counts, dict[str, str]]:
        return await asyncio.get_running_loop().run_in_executor(self.pool, _outcome)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
