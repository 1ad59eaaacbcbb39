"""The service's log format: text for a terminal, or one JSON object per line for a log
collector (``RURAL_LEDGER_LOG_FORMAT=json``).

A JSON line holds ``ts`` (RFC 3339 UTC), ``level``, ``logger`` and ``message``, the request
fields a request's line carries (``method``, ``route``, ``status``, ``duration_ms``,
``request_id``: see ``api.http.observe``) and ``exception`` for a traceback. Nothing else of a
record is written: extra attributes a library attaches are not copied out.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
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
