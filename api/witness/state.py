"""The witness's state: per origin, the latest checkpoint it cosigned, in SQLite.

Storage contract: ``advance`` reads the origin's row, decides and writes the new row in one
``BEGIN IMMEDIATE`` transaction (SQLite's write lock, held across processes), committed with
``synchronous=FULL`` before the caller cosigns. So two requests cannot interleave between the
check and the update (the rollback race the spec warns of), and a crash at any line leaves
either the old row or the new one: a cosignature is only ever made for a size already on disk,
and the stored size never goes back. Refused requests that may show a log misbehaving (a bad
proof, another root at the same size) are kept in ``evidence``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ledger.checkpoint import Checkpoint
from ledger.witness_protocol import Cosigned, WitnessRefusal

SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    size TEXT NOT NULL,          -- decimal: a tree size may reach 2**64 - 1
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    at INTEGER NOT NULL,
    origin TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    request BLOB NOT NULL
);
"""
EVIDENCE_CODES = {"witness.bad_proof", "witness.root_mismatch"}


class WitnessState:
    """One SQLite file; safe to share between threads of one process and between processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def latest(self, origin: str) -> Cosigned | None:
        with self._lock:
            return self._read(origin)

    def _read(self, origin: str) -> Cosigned | None:
        row = self._db.execute(
            "SELECT size, root_hash, note FROM cosigned WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else Cosigned(int(row[0]), bytes(row[1]), row[2])

    def advance(
        self, origin: str, decide: Callable[[Cosigned | None], Checkpoint], note: str, request: bytes
    ) -> Checkpoint:
        """Run ``decide`` on the origin's state and store the checkpoint it returns, atomically;
        a ``WitnessRefusal`` from ``decide`` stores nothing (but its evidence, if any)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                checkpoint = decide(self._read(origin))
            except WitnessRefusal as refusal:
                if refusal.code in EVIDENCE_CODES:
                    self._db.execute(
                        "INSERT INTO evidence VALUES (?, ?, ?, ?, ?)",
                        (int(time.time()), origin, refusal.code, refusal.message, request),
                    )
                self._db.execute("COMMIT")
                raise
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute(
                    "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                    "size = excluded.size, root_hash = excluded.root_hash, note = excluded.note, "
                    "updated_at = excluded.updated_at",
                    (origin, str(checkpoint.size), checkpoint.root_hash, note, int(time.time())),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return checkpoint

    def evidence(self) -> list[tuple[str, str, bytes]]:
        """Every request kept as evidence: ``(origin, code, request body)``."""
        with self._lock:
            rows = self._db.execute("SELECT origin, code, request FROM evidence ORDER BY rowid").fetchall()
        return [(r[0], r[1], bytes(r[2])) for r in rows]
