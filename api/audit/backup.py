"""Backups: one ledger of the database in one file that ``restore`` can put back, verified.

The ledger is the one the engine's connections are opened for (``rural_ledger.ledger``), and
only its rows are read: every read names it, since row-level security does not restrict the
owner's connections a backup reads on.
Its rows are written without their ledger number (``ledger_id``, the ledger row's ``id``):
that number is the ledger's place in one database, and a restore gives it the next free one in
another, which may hold other ledgers (moving a county to its own cluster).

A backup is a gzipped tar archive holding::

    bundle/          the export bundle (``api.audit.export``): the log as its export stream,
                     with every checkpoint and its cosignatures, the operator's verifier key
    rows.jsonl       the rows kept beside the log, one ``{"table", "row"}`` object a line:
                     the ledger's own row, witness cosignatures with the witnesses' keys,
                     personal data, notes, console users and the organisation keys they hold
                     (sealed under the key-encryption key)
    backup.json      format, origin, size, schema revision, and each file's SHA-256

Everything else is rebuilt by ``restore`` from the log: the projection tables and their
history, by replaying the rules; the Merkle nodes, by hashing. Sessions and request nonces
are not kept (they expire). Secrets are never in a backup (the operator key, the blind-index
key, the key-encryption key: keep those as files, ``docs/operations.md``); personal data is,
so a backup is as confidential as the database.

A table this module does not know makes ``backup`` refuse, rather than leave it out unseen.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.audit.export import write_bundle
from contracts.digest import table_name
from contracts.rulebook import PROJECTION_MODELS
from ledger.errors import Category, Rejection
from ledger.schema import CURRENT_LEDGER

FORMAT = "rural-ledger/backup/v1"
LOG_TABLES = ("records", "merkle_nodes", "checkpoints")  # in the bundle
BESIDE_TABLES = (  # in rows.jsonl, restored in this order
    "ledger_meta",
    "witness_cosignatures",
    "personal_data",
    "entry_notes",
    "console_users",
    "console_org_keys",
)
LEDGER_NUMBER = {"ledger_meta": "id"}  # the column holding the ledger's number; else ledger_id
NOT_KEPT = ("console_sessions", "request_nonces", "alembic_version")
REBUILT = ("projection_history", *sorted(table_name(m) for m in PROJECTION_MODELS))
MEMBERS = ("backup.json", "rows.jsonl", *(f"bundle/{n}" for n in ("ledger.jsonl", "manifest.json")))
OPTIONAL_MEMBERS = ("bundle/operator.pub", "bundle/checkpoint")


class BackupRefused(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("backup.refused", message, category=Category.CONFLICT)


@dataclass(frozen=True)
class BackupWritten:
    file: Path
    origin: str
    size: int
    rows: dict[str, int]
    bytes: int


def _tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        ).scalars()
    )


def _revision(conn: Connection) -> str | None:
    if conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar():
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None


def _rows(conn: Connection, out: Any) -> tuple[dict[str, int], str | None]:
    """Write the rows kept beside the log to ``out``, in one snapshot; the schema revision."""
    unknown = sorted(set(_tables(conn)) - {*LOG_TABLES, *BESIDE_TABLES, *NOT_KEPT, *REBUILT})
    if unknown:
        raise BackupRefused(f"tables a backup does not know: {', '.join(unknown)}; update api.audit.backup")
    counts: dict[str, int] = {}
    for table in BESIDE_TABLES:
        counts[table] = 0
        number = LEDGER_NUMBER.get(table, "ledger_id")
        # Rows as PostgreSQL's own JSON (bytea as \x hex, times in ISO 8601): read back by
        # json_populate_recordset into the same types. The ledger's rows only, on a connection
        # no row-level security restricts, and without the ledger's number.
        result = conn.execution_options(yield_per=2000).execute(
            text(f"SELECT row_to_json(t)::text FROM {table} t WHERE t.{number} = {CURRENT_LEDGER}")
        )  # names from the lists above
        for (found,) in result:
            row = json.loads(found)
            del row[number]
            out.write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
            counts[table] += 1
    return counts, _revision(conn)


def file_sha256(path: Path) -> str:
    """A file's SHA-256 (hex), read a MiB at a time: the backup's sums, checked by restore."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


async def write_backup(engine: AsyncEngine, file: Path) -> BackupWritten:
    """Write a backup of ``engine``'s ledger (the one its connections are opened for) to
    ``file`` (refused if it exists); the file is made beside its place and renamed into it
    whole, mode 0600."""
    if file.exists():
        raise FileExistsError(f"{file} exists; a backup is never overwritten")
    with tempfile.TemporaryDirectory(prefix="rural-ledger-backup-") as scratch:
        folder = Path(scratch)
        written = await write_bundle(engine, folder / "bundle")
        rows_path = folder / "rows.jsonl"
        with rows_path.open("w", encoding="utf-8") as out:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ")
                counts, revision = await conn.run_sync(_rows, out)
        # Rows written after the bundle's snapshot name nothing beyond it that restore needs:
        # a cosignature or note of a later record is dropped there (restore says how many).
        files = {name: file_sha256(folder / name) for name in MEMBERS if name != "backup.json"}
        manifest = {
            "format": FORMAT,
            "origin": written.origin,
            "size": written.size,
            "schema_revision": revision,
            "rows": counts,
            "files": files,
        }
        (folder / "backup.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        # A partial file of this run's own (mode 0600), on disk before it takes the name: a
        # crash leaves either no backup or a whole one, never a name on a torn file.
        fd, partial_name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".partial")
        partial = Path(partial_name)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                    for name in (*MEMBERS, *OPTIONAL_MEMBERS):
                        if (folder / name).exists():
                            tar.add(folder / name, arcname=name, recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            # link, unlike rename, refuses a name that exists, in one step: a file made there
            # since the check above (another backup, anything) is never replaced.
            os.link(partial, file)
        finally:
            partial.unlink(missing_ok=True)
        _fsync_folder(file.parent)  # the new name itself on disk
    return BackupWritten(file, written.origin, written.size, counts, file.stat().st_size)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
