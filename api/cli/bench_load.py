"""Driving a server over loopback with httpx: requests/s and latency percentiles.

``drive`` keeps ``concurrency`` requests in flight on as many kept-alive connections, each
request timed from the call to the whole response read; the first ``warmup`` requests (the
connections' set-up, the server's first queries) are not counted. With ``concurrency`` 1 the
latencies are the server's and the client's own cost; above it they include waiting behind
the requests in flight. Every answer must be a 200: a benchmark of refusals measures nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Load:
    """What ``drive`` measured: ``requests`` answered in ``seconds``, their sorted latencies."""

    requests: int
    seconds: float
    concurrency: int
    latencies: list[float]  # seconds, sorted

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """The nearest-rank percentile ``p`` (0-100) of the latencies, in milliseconds."""
        if not self.latencies:
            return 0.0
        rank = max(1, math.ceil(p / 100 * len(self.latencies)))
        return self.latencies[rank - 1] * 1000

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile_ms(50), 3),
            "p99_ms": round(self.percentile_ms(99), 3),
        }


class Refused(RuntimeError):
    """A benchmark request was answered with something other than 200."""


async def drive(base: str, send: Send, requests: int, concurrency: int, warmup: int = 50) -> Load:
    """``send(client, i)`` for i in 0..warmup-1 untimed, then for i in warmup..warmup+requests-1
    timed, ``concurrency`` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        await run(client, send, range(warmup), concurrency)
        started = time.perf_counter()
        latencies = await run(client, send, range(warmup, warmup + requests), concurrency)
        seconds = time.perf_counter() - started
    return Load(len(latencies), seconds, concurrency, sorted(latencies))


async def run(client: httpx.AsyncClient, send: Send, indexes: range, concurrency: int) -> list[float]:
    """Each request's latency; ``concurrency`` workers take the indexes in turn."""
    latencies: list[float] = []
    todo = iter(indexes)

    async def worker() -> None:
        for i in todo:
            started = time.perf_counter()
            response = await send(client, i)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise Refused(
                    f"{response.request.url} answered {response.status_code}: {response.text[:300]}"
                )

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies
