"""The root logger's handler in text format (``api.http.logs.BatchedQueueHandler``): every line
is written, in order, by its own thread, those still queued when it stops included; and the
app gives it to Litestar as the root logger's handler."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

from api.home import Home
from api.http.app import Settings, create_app
from api.http.logs import BatchedQueueHandler


def test_every_line_is_written_in_order_by_the_log_thread() -> None:
    out = io.StringIO()
    target = logging.StreamHandler(out)
    writers: set[str] = set()
    emit = target.emit

    def noted(record: logging.LogRecord) -> None:
        writers.add(threading.current_thread().name)
        emit(record)

    target.emit = noted  # type: ignore[method-assign]
    handler = BatchedQueueHandler([target])
    log = logging.Logger("test.batched")
    log.addHandler(handler)
    for i in range(5000):
        log.warning("line %d", i)
    handler.listener.stop()  # what is queued is written first
    assert out.getvalue().splitlines() == [f"line {i}" for i in range(5000)]
    assert threading.current_thread().name not in writers and len(writers) == 1


def test_the_app_logs_through_it(tmp_path: Path) -> None:
    create_app(Settings(home=Home(tmp_path)))
    assert [type(h) for h in logging.getLogger().handlers] == [BatchedQueueHandler]
