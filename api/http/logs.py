"""The service's log format: text for a terminal, or one JSON object per line for a log
collector (``RURAL_LEDGER_LOG_FORMAT=json``).

A JSON line holds ``ts`` (RFC 3339 UTC), ``level``, ``logger`` and ``message``, the request
fields a request's line carries (``method``, ``route``, ``status``, ``duration_ms``,
``request_id``: see ``api.http.observe``) and ``exception`` for a traceback. Nothing else of a
record is written: extra attributes a library attaches are not copied out.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import sys
import time
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

FORMAT_ENV = "RURAL_LEDGER_LOG_FORMAT"
FORMATS = ("text", "json")
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "request_id")


def log_format() -> str:
    """The configured format; an unknown value is refused at start rather than ignored."""
    value = (os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"{FORMAT_ENV} must be one of {', '.join(FORMATS)}, found {value!r}")
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def with_format(config: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging configuration with every formatter in the configured format."""
    if log_format() == "json":
        config["formatters"] = {name: {"()": JsonFormatter} for name in config.get("formatters", {})}
    return config


def send_everything_as_json(stream: Any = None) -> logging.Handler | None:
    """In JSON format, one handler on the root logger for every logger (the framework's own
    handlers removed, its loggers propagating), so that no line leaves in another format.
    Returns that handler; None in text format, where nothing is changed."""
    if log_format() != "json":
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger.handlers:
            logger.handlers = []
            logger.propagate = True
    # The HTTP client logs each URL it fetches at INFO (witnesses', mirrors'): only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


BATCH_SECONDS = 0.005  # how long the log's thread waits, after writing what was queued, to look again


class BatchingListener(QueueListener):
    """A queue listener that, once a line wakes it, writes every line queued, then waits
    ``BATCH_SECONDS`` before it looks again: under load it wakes about 200 times a second,
    not once a line."""

    def __init__(self, lines: queue.SimpleQueue[Any], *handlers: logging.Handler) -> None:
        super().__init__(lines, *handlers)
        self.lines = lines

    def stop(self) -> None:
        """Write what is queued and end the thread; once only (at exit, and before if asked)."""
        if getattr(self, "_thread", None) is not None:
            super().stop()

    def _monitor(self) -> None:
        lines, end = self.lines, getattr(self, "_sentinel", None)  # what ``stop`` puts on the queue
        while True:
            record = lines.get()
            while True:
                if record is end:
                    return
                self.handle(record)
                try:
                    record = lines.get_nowait()
                except queue.Empty:
                    break
            time.sleep(BATCH_SECONDS)


class BatchedQueueHandler(QueueHandler):
    """The root logger's handler in text format (Litestar's ``queue_listener``, given to it by
    ``api.http.app``): lines are written by a thread of their own, off the event loop, as with
    Litestar's, but put on a ``queue.SimpleQueue`` (no lock the listener may hold while it
    waits for the interpreter) and written in batches (``BatchingListener``). With Litestar's
    queue every request's line woke the listener and often waited for it: a fifth of a
    served proof's time in a profile. Lines queued when the process exits are written first."""

    def __init__(self, handlers: Any = None) -> None:
        lines: queue.SimpleQueue[Any] = queue.SimpleQueue()
        super().__init__(lines)
        # ``handlers`` as dictConfig passes them (a converting list), else standard error.
        targets = [handlers[i] for i in range(len(handlers))] if handlers else [logging.StreamHandler()]
        self.listener = BatchingListener(lines, *targets)
        self.listener.start()
        atexit.register(self.listener.stop)


# Litestar's logging configuration of the root logger's handler, with ``BatchedQueueHandler``.
QUEUE_LISTENER = {"class": f"{__name__}.BatchedQueueHandler", "level": "DEBUG", "formatter": "standard"}
