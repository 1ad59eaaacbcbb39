"""How ``serve`` runs uvicorn so that silent or idle clients cannot take the service down.

- The soft open-file limit is raised to the hard limit at start, and the open connections of a
  server process are capped at ``connection_cap()``, a margin below it, kept for the database
  pool, the verifier workers' pipes and the log. A connection beyond the cap closes the one that
  has waited longest without a request in progress, or itself if every connection is busy, so
  ``accept()`` never meets EMFILE.
- A connection must complete a request's headers within ``HEADER_TIMEOUT`` seconds of opening or
  of its previous response, however slowly it trickles bytes; then it is closed. uvicorn's own
  ``timeout_keep_alive`` applies on top, between requests.
- Repeated log lines are rate-limited (``api.http.log_limits``).
- Every server process started by uvicorn's supervisor (``--workers N``) dies with it.
- Requests are logged by ``api.http.observe`` (route templates, never paths or query strings),
  not by uvicorn's access log; the format is ``RURAL_LEDGER_LOG_FORMAT`` (``api.http.logs``).
- Each process serves the ledger of ``RURAL_LEDGER_HOME``, or the several ledgers of
  ``RURAL_LEDGER_HOMES`` (``serve --home A --home B``) by host name (``api.http.ledgers``).
- The processes keep their metrics in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder made here
  unless given; emptied at start), so that ``/metrics`` adds every worker's up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import resource
import shutil
import tempfile
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from api.http.log_limits import RepeatLimit, limit_every_handler, log_config
from api.http.logs import log_format, send_everything_as_json, with_format
from api.service.parent_death import die_with_parent

HEADER_TIMEOUT = 5.0
KEEP_ALIVE_TIMEOUT = 5
GRACEFUL_SHUTDOWN_TIMEOUT = 10
# asyncio accepts up to BACKLOG connections per turn of the event loop, and a connection over
# the cap is closed a few turns later: the margin below the file limit holds those bursts, plus
# the database pool, the verifier workers' pipes, the log and the listening socket.
BACKLOG = 128
RESERVED_FILES = 100 + 3 * BACKLOG
MAX_OPEN_FILES = 1 << 20

log = logging.getLogger("uvicorn.error")


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return target
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@functools.cache
def connection_cap() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = MAX_OPEN_FILES if soft == resource.RLIM_INFINITY else soft
    return max(soft - max(RESERVED_FILES, soft // 10), 16)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the header deadline and the connection cap."""

    header_timeout = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._idle_since = self.loop.time()
        self._watch_idle()
        if len(self.connections) > connection_cap():
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_idle()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def idle(self) -> bool:
        return not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete)

    def _watch_idle(self) -> None:
        # The deadline is armed once per idle period and never pushed back by partial data.
        if not self.idle():
            self._cancel_deadline()
        elif self._deadline is None:
            self._idle_since = self.loop.time()
            self._deadline = self.loop.call_later(self.header_timeout, self._close_if_idle)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _close_if_idle(self) -> None:
        self._deadline = None
        if self.idle():
            self.transport.close()

    def _make_room(self) -> None:
        open_ones = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_ones) <= connection_cap():
            return
        idle = [c for c in open_ones if c is not self and isinstance(c, GuardedH11Protocol) and c.idle()]
        victim = min(idle, key=lambda c: c._idle_since, default=self)
        if victim is self:
            log.warning(
                "connection cap %d reached with every connection busy: closing a new one", connection_cap()
            )
        victim.transport.close()


def create_worker_app() -> Any:
    """The app factory each server process calls; a process started by uvicorn's supervisor
    first ties its life to the supervisor's."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    from api.http.hosts import homes_from_env
    from api.http.ledgers import homes_app

    app = homes_app(homes_from_env())  # one ledger's app, or several behind a dispatcher by host
    send_everything_as_json()  # in JSON format, every logger through one JSON handler
    limit_every_handler(RepeatLimit())  # after the app has installed its logging configuration
    return app


def metrics_folder() -> tuple[Path, bool]:
    """``PROMETHEUS_MULTIPROC_DIR``, emptied of an earlier run's values, or a fresh folder
    (True: made here, to be removed after); set in the environment before any worker process
    imports prometheus-client."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="rural-ledger-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    os.environ["RURAL_LEDGER_SERVING"] = "1"  # api.service.metrics: these processes use it
    return folder, not given


def run(host: str, port: int, workers: int, log_level: str) -> None:
    import uvicorn

    log_format()  # an unknown format stops the start here, in one line
    folder, made_here = metrics_folder()
    raise_open_file_limit()
    try:
        _serve(uvicorn, host, port, workers, log_level)
    finally:
        if made_here:
            shutil.rmtree(folder, ignore_errors=True)


def _serve(uvicorn: Any, host: str, port: int, workers: int, log_level: str) -> None:
    uvicorn.run(
        "api.http.server:create_worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=with_format(log_config()),
        access_log=False,
        http="api.http.server:GuardedH11Protocol",
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_TIMEOUT,
    )
