"""Prometheus metrics: what the appender did, what the API answered, and what the database
says at scrape time (tree size, replication lag).

Counters and histograms live in this module, one set per process. When ``serve`` runs several
worker processes it sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder) before they start, so
prometheus-client keeps each process's values in that folder and ``/metrics`` adds them up
whichever worker answers. Nothing here carries personal data: labels are route templates,
methods, statuses and refusal codes, all from closed sets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SERVING_ENV = "RURAL_LEDGER_SERVING"  # set by `serve` for its processes; not a setting

# prometheus-client chooses, as it is imported, to keep its values in memory or in files of the
# multi-process folder. Only the processes of `serve` keep them in files: any other command
# (the health check every few seconds, migrate, tiles write) imports this module too, and would
# leave files there for every scrape to read, for ever. So the variable is hidden from the
# library while it is imported by any other process, and put back for `serve` to find.
_hidden = None if os.environ.get(SERVING_ENV) else os.environ.pop(MULTIPROC_ENV, None)
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))
if MULTIPROCESS:  # its files are opened as each metric is made: the folder must exist first
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402
from sqlalchemy import Connection, text  # noqa: E402

from ledger import store  # noqa: E402
from ledger.appender import Appender, Committed, Submission  # noqa: E402

if _hidden is not None:
    os.environ[MULTIPROC_ENV] = _hidden

CONTENT_TYPE = "text/plain; version=0.0.4"  # the framework adds "; charset=utf-8"

APPENDED = Counter("rural_ledger_appended_entries", "Entries appended as new records")
BATCHES = Counter("rural_ledger_append_batches", "Append batches committed (one transaction each)")
BATCH_SIZE = Histogram(
    "rural_ledger_append_batch_size",
    "Submissions per append batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
)
APPEND_SECONDS = Histogram(
    "rural_ledger_append_seconds",
    "Time to admit and commit one append batch (under the writer lock)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REFUSALS = Counter("rural_ledger_refusals", "Refusals answered, by their stable code", ["code"])
HTTP_SECONDS = Histogram(
    "rural_ledger_http_request_seconds",
    "HTTP request duration by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def refused(code: str) -> None:
    """Count one refusal answered with ``code``."""
    REFUSALS.labels(code=code).inc()


def meter_appends(appender: Appender) -> None:
    """Count ``appender``'s batches, their sizes, the records they add and the time each
    takes to commit (its ``commit`` wrapped, for this one object: ``ledger`` knows nothing of
    metrics)."""
    commit = appender.commit

    async def metered(batch: Sequence[Submission]) -> Committed:
        started = time.perf_counter()
        committed = await commit(batch)
        APPEND_SECONDS.observe(time.perf_counter() - started)
        BATCHES.inc()
        BATCH_SIZE.observe(len(batch))
        # Each new record adds its leaf, one level-0 node; a resubmission adds none.
        APPENDED.inc(sum(1 for node in committed.new_nodes if node.level == 0))
        return committed

    appender.commit = metered  # type: ignore[method-assign]


def database_facts(conn: Connection) -> dict[str, Any]:
    """The tree size, and replication lag where the database tells it: on a primary the
    replay lag of each standby (``pg_stat_replication``; its lag columns need ``pg_monitor``),
    on a standby the age of the last replayed transaction. Absent when not known."""
    latest = store.latest_checkpoint(conn)
    facts: dict[str, Any] = {"size": latest.size if latest else 0, "standbys": [], "replay_age": None}
    facts["replay_age"] = replay_age(conn)
    if facts["replay_age"] is None:
        rows = conn.execute(
            text(
                "SELECT application_name, EXTRACT(EPOCH FROM replay_lag), "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"
            )
        ).all()
        facts["standbys"] = [(str(r[0]), r[1], r[2]) for r in rows]
    return facts


def replay_age(conn: Connection) -> float | None:
    """On a standby, the age of the last transaction it replayed; None on a primary (or a
    standby that has replayed nothing yet)."""
    if not conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
        return None
    age = conn.execute(text("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())")).scalar()
    return None if age is None else float(age)


class DatabaseCollector:
    """The facts read from the database for one scrape, as gauges."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts

    def collect(self) -> Any:
        up = GaugeMetricFamily("rural_ledger_database_up", "1 when the scrape could read the database")
        up.add_metric([], 0 if self.facts.get("unreachable") else 1)
        yield up
        if self.facts.get("unreachable"):
            return
        size = GaugeMetricFamily("rural_ledger_tree_size", "Records in the latest signed checkpoint")
        size.add_metric([], self.facts["size"])
        yield size
        lag = GaugeMetricFamily(
            "rural_ledger_replication_lag_seconds",
            "Replay lag of each standby (on the primary), or age of the last replayed transaction "
            "(on a standby)",
            labels=["standby"],
        )
        behind = GaugeMetricFamily(
            "rural_ledger_replication_lag_bytes",
            "WAL bytes each standby has not replayed",
            labels=["standby"],
        )
        for name, seconds, lag_bytes in self.facts["standbys"]:
            if seconds is not None:
                lag.add_metric([name], float(seconds))
            if lag_bytes is not None:
                behind.add_metric([name], float(lag_bytes))
        if self.facts["replay_age"] is not None:
            lag.add_metric(["self"], float(self.facts["replay_age"]))
        if self.facts.get("read_replica_age") is not None:
            lag.add_metric(["read_replica"], float(self.facts["read_replica_age"]))
        if lag.samples:
            yield lag
        if behind.samples:
            yield behind


def exposition(facts: dict[str, Any]) -> bytes:
    """The text exposition of every metric: this process's (or, in multi-process mode, every
    worker's, added up) and the database's."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        counted = generate_latest(REGISTRY)
    facts_registry = CollectorRegistry(auto_describe=False)
    facts_registry.register(DatabaseCollector(facts))
    return counted + generate_latest(facts_registry)
