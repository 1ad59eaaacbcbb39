"""Repeated log lines are rate-limited, so that a fault that repeats thousands of times a second
(a client flood, a resource running out) cannot fill the disk with identical tracebacks."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from uvicorn.config import LOGGING_CONFIG

REPEATS_PER_INTERVAL = 5
INTERVAL_SECONDS = 10.0
KINDS_HELD = 10_000  # kinds of line remembered before the old ones are forgotten


class RepeatLimit(logging.Filter):
    """Lets the first ``repeats`` records of the same logger, level and message through
    per ``interval`` seconds, drops the rest, and says how many it dropped on the first record of
    that kind let through afterwards."""

    def __init__(
        self,
        repeats: int = REPEATS_PER_INTERVAL,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.repeats = repeats
        self.interval = interval
        self.clock = clock
        # (logger, level, message) -> [window start, records seen in it, records suppressed]
        self._seen: dict[tuple[str, int, str], list[float]] = {}
        self._held = KINDS_HELD  # how many kinds are held before the old ones are looked for

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        now = self.clock()
        window = self._seen.get(key)
        if window is None or now - window[0] >= self.interval:
            suppressed = int(window[2]) if window else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > self._held:
                self._forget_old(now)
                # Lines all different (each request's line names its request id) may keep more
                # kinds than that within one interval: look again only once as many more have
                # come, so that a line costs one look over the table in all, not one each.
                self._held = max(KINDS_HELD, 2 * len(self._seen))
            if suppressed:
                record.msg = (
                    f"{record.getMessage()} [suppressed {suppressed} like this in "
                    f"the last {self.interval:g} s]"
                )
                record.args = None
            return True
        window[1] += 1
        if window[1] <= self.repeats:
            return True
        window[2] += 1
        return False

    def _forget_old(self, now: float) -> None:
        for key in [k for k, w in self._seen.items() if now - w[0] >= self.interval and not w[2]]:
            del self._seen[key]


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with every handler rate-limited, and the root logger
    (asyncio, the service's own loggers) sent through the same limited handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"repeats": {"()": RepeatLimit}}
    for handler in config["handlers"].values():
        handler["filters"] = ["repeats"]
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config


def limit_every_handler(limit: logging.Filter) -> None:
    """Add ``limit`` to every handler now attached to any logger: frameworks that install their
    own logging configuration (Litestar's root queue handler) are limited too."""
    loggers = [
        logging.getLogger(),
        *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if limit not in handler.filters:
                handler.addFilter(limit)
