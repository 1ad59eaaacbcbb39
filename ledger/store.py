"""Reading and writing the log's tables on a synchronous SQLAlchemy connection.

The appender calls these inside ``AsyncConnection.run_sync`` (SQLAlchemy bridges them onto
asyncpg), so one transaction holds a whole batch. Storage contract: ``records``,
``merkle_nodes`` and ``checkpoints`` only grow, and a checkpoint of size n is written in the
same transaction as records ``[.., n)`` and every complete-subtree node they finish; a crash
at any point before COMMIT leaves none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text

from ledger.entry import Record
from ledger.errors import IntegrityError
from ledger.merkle import NodeID
from ledger.schema import CURRENT_LEDGER, LEDGER_SETTING, checkpoints, ledger_meta, records

OF_LEDGER = f"ledger_id = {CURRENT_LEDGER}"  # the condition every raw query here adds


@dataclass(frozen=True, slots=True)
class LedgerMeta:
    origin: str
    operator_key: str


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root_hash: bytes
    note: str


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    body: bytes
    leaf_hash: bytes


def lock_writer(conn: Connection) -> None:
    """Take the writer lock of the connection's ledger for the rest of the transaction (and
    so BEGIN it): its ``ledger_meta`` row, locked. One writer per ledger, and writers of other
    ledgers in the same database never wait on it. ``NO KEY UPDATE``: the lock conflicts with
    itself, not with the key-share locks other transactions' reads of the row may take."""
    held = conn.execute(
        select(ledger_meta.c.id).where(ledger_meta.c.id == CURRENT_LEDGER).with_for_update(key_share=True)
    ).first()
    if held is None:
        raise IntegrityError("this connection's ledger is not in ledger_meta")


def read_meta(conn: Connection) -> LedgerMeta | None:
    """The connection's ledger; None on a connection opened for no ledger (a database that
    holds none yet)."""
    if conn.execute(text(f"SELECT current_setting('{LEDGER_SETTING}', true)")).scalar() in (None, ""):
        return None
    row = conn.execute(
        select(ledger_meta.c.origin, ledger_meta.c.operator_key).where(ledger_meta.c.id == CURRENT_LEDGER)
    ).first()
    return LedgerMeta(row.origin, row.operator_key) if row else None


def ledger_ids(conn: Connection) -> dict[str, int]:
    """Every ledger of the database, origin to number (``ledger_meta`` is readable by all)."""
    return {r.origin: r.id for r in conn.execute(select(ledger_meta.c.origin, ledger_meta.c.id))}


def write_meta(conn: Connection, meta: LedgerMeta, at: datetime) -> int:
    """Add a ledger to the database (on the owner's connection); its number, the next free one.
    Two at once: one of them fails on the key, and nothing of it is written."""
    number = int(conn.execute(select(func.coalesce(func.max(ledger_meta.c.id), 0) + 1)).scalar_one())
    conn.execute(
        insert(ledger_meta).values(
            id=number, origin=meta.origin, operator_key=meta.operator_key, created_at=at
        )
    )
    return number


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root_hash, checkpoints.c.note)
        .where(checkpoints.c.ledger_id == CURRENT_LEDGER)
        .order_by(checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return StoredCheckpoint(row.size, row.root_hash, row.note) if row else None


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    row = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root_hash, checkpoints.c.note).where(
            checkpoints.c.ledger_id == CURRENT_LEDGER, checkpoints.c.size == size
        )
    ).first()
    return StoredCheckpoint(row.size, row.root_hash, row.note) if row else None


def record_count(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.max(records.c.seq) + 1, 0)).where(records.c.ledger_id == CURRENT_LEDGER)
        ).scalar_one()
    )


def last_recorded_at(conn: Connection) -> datetime | None:
    """The last record's ``recorded_at``; None while the log is empty."""
    return conn.execute(
        select(records.c.recorded_at)
        .where(records.c.ledger_id == CURRENT_LEDGER)
        .order_by(records.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def read_nodes(conn: Connection, ids: Iterable[NodeID]) -> dict[NodeID, bytes]:
    """Hashes of stored complete subtrees; every id asked for must exist."""
    wanted = set(ids)
    found = find_nodes(conn, wanted)
    if len(found) != len(wanted):
        missing = sorted(i for i in wanted if i not in found)[:3]
        raise IntegrityError(f"merkle nodes missing from storage: {missing}")
    return found


def records_by_entry_id(conn: Connection, entry_ids: Sequence[str]) -> dict[str, StoredRecord]:
    """The stored records of ``entry_ids`` (UUIDs in their canonical lower-case text, as
    entries carry them; the driver parses them), by entry id."""
    if not entry_ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT entry_id, seq, body, leaf_hash FROM records "
            f"WHERE {OF_LEDGER} AND entry_id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ids": list(entry_ids)},
    ).all()
    return {str(r.entry_id): StoredRecord(r.seq, bytes(r.body), bytes(r.leaf_hash)) for r in rows}


def read_records(conn: Connection, after: int, limit: int) -> list[StoredRecord]:
    """Records with seq > ``after`` in order, at most ``limit`` of them."""
    rows = conn.execute(
        select(records.c.seq, records.c.body, records.c.leaf_hash)
        .where(records.c.ledger_id == CURRENT_LEDGER, records.c.seq > after)
        .order_by(records.c.seq)
        .limit(limit)
    ).all()
    return [StoredRecord(r.seq, bytes(r.body), bytes(r.leaf_hash)) for r in rows]


def insert_rows(
    conn: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[object, ...]]
) -> None:
    """INSERT ``rows`` into ``table`` in one statement: each column's values as one array
    (``columns`` names each column and its PostgreSQL type), unnested. Not COPY: PostgreSQL
    refuses COPY FROM into a table under row-level security, as every ledger table is. The
    rows' ``ledger_id`` is the connection's ledger (the column's default)."""
    if not rows:
        return
    conn.execute(
        text(_unnested_insert(table, columns, "c")),
        {f"c{i}": [row[i] for row in rows] for i in range(len(columns))},
    )


def _unnested_insert(table: str, columns: Sequence[tuple[str, str]], prefix: str) -> str:
    """``INSERT INTO table (columns) SELECT * FROM unnest(:{prefix}0, ...)``, one array
    parameter per column, named by ``prefix`` and the column's place."""
    arrays = ", ".join(
        f"CAST(CAST(:{prefix}{i} AS text[]) AS jsonb[])"
        if kind == "jsonb"
        else f"CAST(:{prefix}{i} AS {kind}[])"
        for i, (_, kind) in enumerate(columns)
    )
    names = ", ".join(f'"{name}"' for name, _ in columns)
    return f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"


RECORD_COLUMNS = (
    ("seq", "bigint"),
    ("entry_id", "uuid"),
    ("kind", "text"),
    ("actor", "text"),
    ("recorded_at", "timestamptz"),
    ("body", "bytea"),
    ("leaf_hash", "bytea"),
)
NODE_COLUMNS = (("level", "smallint"), ("idx", "bigint"), ("hash", "bytea"))


def copy_nodes(conn: Connection, nodes: dict[NodeID, bytes]) -> None:
    insert_rows(conn, "merkle_nodes", NODE_COLUMNS, [(n.level, n.index, h) for n, h in nodes.items()])


def write_checkpoint(conn: Connection, cp: StoredCheckpoint, at: datetime) -> None:
    conn.execute(
        insert(checkpoints).values(size=cp.size, root_hash=cp.root_hash, note=cp.note, created_at=at)
    )


# A batch's records, the Merkle nodes they complete and the checkpoint over them, in one
# statement (data-modifying WITH queries, one round trip instead of three): inserts into
# three tables, none of which reads another, so running them as one changes nothing else.
APPEND_BATCH = (
    f"WITH r AS ({_unnested_insert('records', RECORD_COLUMNS, 'r')}), "
    f"n AS ({_unnested_insert('merkle_nodes', NODE_COLUMNS, 'n')}) "
    "INSERT INTO checkpoints (size, root_hash, note, created_at) VALUES (:size, :root_hash, :note, :at)"
)


def append_batch(
    conn: Connection, batch: Sequence[Record], nodes: dict[NodeID, bytes], cp: StoredCheckpoint, at: datetime
) -> None:
    """Write a batch: its records (all recorded at ``at``, the batch's one clock reading), the
    nodes they complete and ``cp``, the checkpoint over them (written at ``at`` too)."""
    entries = [r.entry for r in batch]
    conn.execute(
        text(APPEND_BATCH),
        {
            "r0": [r.seq for r in batch],
            "r1": [e["id"] for e in entries],
            "r2": [e["kind"] for e in entries],
            "r3": [e["actor"] for e in entries],
            "r4": [at] * len(batch),
            "r5": [r.body for r in batch],
            "r6": [r.leaf for r in batch],
            "n0": [n.level for n in nodes],
            "n1": [n.index for n in nodes],
            "n2": list(nodes.values()),
            "size": cp.size,
            "root_hash": cp.root_hash,
            "note": cp.note,
            "at": at,
        },
    )


def read_checkpoints(conn: Connection, after: int, limit: int) -> list[StoredCheckpoint]:
    """Checkpoints with size > ``after``, smallest first."""
    rows = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root_hash, checkpoints.c.note)
        .where(checkpoints.c.ledger_id == CURRENT_LEDGER, checkpoints.c.size > after)
        .order_by(checkpoints.c.size)
        .limit(limit)
    ).all()
    return [StoredCheckpoint(r.size, bytes(r.root_hash), r.note) for r in rows]


# Reads for exports and witnesses.


def find_nodes(conn: Connection, ids: Iterable[NodeID]) -> dict[NodeID, bytes]:
    """Hashes of those of ``ids`` that are stored; unlike ``read_nodes`` a missing node is
    left out, not an error (an export shows what is stored, the verifier judges it)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        text(
            "SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN "
            "unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS w(level, idx) "
            f"ON n.level = w.level AND n.idx = w.idx WHERE n.{OF_LEDGER}"
        ),
        {"levels": [i.level for i in wanted], "idxs": [i.index for i in wanted]},
    ).all()
    return {NodeID(r.level, r.idx): bytes(r.hash) for r in rows}


def read_record_range(conn: Connection, after: int, last: int) -> list[StoredRecord]:
    """Records with ``after < seq <= last``, in order."""
    rows = conn.execute(
        select(records.c.seq, records.c.body, records.c.leaf_hash)
        .where(records.c.ledger_id == CURRENT_LEDGER, records.c.seq > after, records.c.seq <= last)
        .order_by(records.c.seq)
    ).all()
    return [StoredRecord(r.seq, bytes(r.body), bytes(r.leaf_hash)) for r in rows]


def read_checkpoint_range(conn: Connection, after: int, last: int) -> list[StoredCheckpoint]:
    """Checkpoints with ``after < size <= last``, smallest first."""
    rows = conn.execute(
        select(checkpoints.c.size, checkpoints.c.root_hash, checkpoints.c.note)
        .where(
            checkpoints.c.ledger_id == CURRENT_LEDGER, checkpoints.c.size > after, checkpoints.c.size <= last
        )
        .order_by(checkpoints.c.size)
    ).all()
    return [StoredCheckpoint(r.size, bytes(r.root_hash), r.note) for r in rows]


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    size: int
    witness_key: str
    line: str


def cosignatures_for(conn: Connection, sizes: Sequence[int]) -> dict[int, list[StoredCosignature]]:
    """Witness cosignatures held for checkpoints of ``sizes``, by size, oldest first."""
    if not sizes:
        return {}
    rows = conn.execute(
        text(
            "SELECT size, witness_key, line FROM witness_cosignatures "
            f"WHERE {OF_LEDGER} AND size = ANY(CAST(:sizes AS bigint[])) "
            "ORDER BY size, created_at, witness_key"
        ),
        {"sizes": list(sizes)},
    ).all()
    found: dict[int, list[StoredCosignature]] = {}
    for r in rows:
        found.setdefault(r.size, []).append(StoredCosignature(r.size, r.witness_key, r.line))
    return found


def write_cosignature(
    conn: Connection,
    *,
    size: int,
    witness_key: str,
    name: str,
    key_hash: bytes,
    timestamp: int,
    signature: bytes,
    line: str,
    at: datetime,
) -> bool:
    """Keep a witness's cosignature of checkpoint ``size``; False if that witness already
    cosigned that size (the first one stays: the table is append-only)."""
    result = conn.execute(
        text(
            "INSERT INTO witness_cosignatures (size, witness_key, name, key_hash, timestamp, "
            "signature, line, created_at) VALUES (:size, :witness_key, :name, :key_hash, "
            ":timestamp, :signature, :line, :at) ON CONFLICT (ledger_id, size, witness_key) DO NOTHING"
        ),
        {
            "size": size,
            "witness_key": witness_key,
            "name": name,
            "key_hash": key_hash,
            "timestamp": timestamp,
            "signature": signature,
            "line": line,
            "at": at,
        },
    )
    return bool(result.rowcount)
