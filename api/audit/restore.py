"""Restore a backup (``api.audit.backup``) of one ledger into a database, only once it verifies.

The target may be empty or hold other ledgers (a county moved to a cluster of its own, or
beside others): the ledger is added with the next free number there, and every row restored
is that ledger's; the other ledgers are neither read nor changed. A database that already holds
a ledger of the backup's origin is refused (``RestoreRefused``).

1. The archive's files are taken out into a scratch folder (only the names a backup holds,
   regular files only) and checked against the SHA-256 its ``backup.json`` lists.
2. The bundle is audited as ``rural-ledger verify`` audits one (every leaf, root, signature
   and rule), against the operator key the operator holds (never the one in the backup) and
   against a checkpoint known to be right: one given (``--checkpoint``), which the log must
   pass through, or the latest the known witnesses cosigned. Nothing is written before this
   passes: a backup that fails it leaves the target as it was.
3. In one transaction: the migrations, the ledger's row (its number: the next free one), the
   log's tables from the verified stream (Merkle nodes recomputed, not read), the projection
   tables and their history by the same rules code the appender runs, the rows kept beside the
   log (each person's fields checked against the commitment in their record); then the
   start-up self-check and the state digest, which must equal the audit's. Any failure rolls
   all of it back. Past the ledger's row the transaction acts as the service's role, for the
   new ledger only (``rural_ledger.ledger`` set for the transaction): row-level security keeps
   the rules' reads, the projections' upserts and deletes and the checks to its rows, and new
   rows take its number from the ``ledger_id`` default.

Backups made before many ledgers shared a database (rows with no ``ledger_id``, the ledger's
row with ``id`` 1), or whose rows name their ledger's number, restore too: a number in the
backup is only checked to be the ledger row's own, never kept.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.audit.auditor import Auditor, AuditOutcome, audit_bundle
from api.audit.backup import BESIDE_TABLES, FORMAT, MEMBERS, OPTIONAL_MEMBERS, file_sha256
from api.service.migrate import MIGRATION_LOCK_KEY, alembic_config
from api.service.projections import ProjectionBackend
from contracts.digest import DigestBuilder, table_name
from contracts.identifiers import normalise_resident_id
from contracts.parties import personal_commitment
from contracts.rulebook import PROJECTION_MODELS
from ledger import store
from ledger.appender import Submission
from ledger.checkpoint import Note, NoteVerifier, parse_note
from ledger.ddl import SERVICE_ROLE
from ledger.errors import Category, IntegrityError, MalformedError, Rejection
from ledger.merkle import CompactRange, NodeID, leaf_hash
from ledger.schema import LEDGER_SETTING
from ledger.self_check import self_check
from ledger.stream import CheckpointLine, RecordLine, parse_line
from ledger.verify import LogVerifier, VerifiedRecord

MAX_MEMBER_BYTES = 1 << 40
ROWS_CHUNK = 1000


class RestoreRefused(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("restore.refused", message, category=Category.CONFLICT)


@dataclass
class Restored:
    outcome: AuditOutcome
    rows: dict[str, int]


def unpack(file: Path, into: Path) -> dict[str, Any]:
    """Take a backup's files out of ``file`` into ``into``; its manifest, each file checked."""
    wanted = {*MEMBERS, *OPTIONAL_MEMBERS}
    try:
        with tarfile.open(file, mode="r:gz") as tar:
            for member in tar:
                if member.name not in wanted or not member.isfile() or member.size > MAX_MEMBER_BYTES:
                    raise MalformedError(f"not a backup: unexpected member {member.name!r} in {file}")
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise MalformedError(f"not a backup archive: {file}: {e}") from e
    missing = [m for m in MEMBERS if not (into / m).is_file()]
    if missing:
        raise MalformedError(f"not a backup: {file} lacks {', '.join(missing)}")
    manifest = json.loads((into / "backup.json").read_text())
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MalformedError(f"not a backup of format {FORMAT}")
    for name, digest in (manifest.get("files") or {}).items():
        if name in MEMBERS and file_sha256(into / name) != digest:
            raise IntegrityError(f"the backup's {name} does not match the SHA-256 its backup.json lists")
    return manifest


async def verify_backup(folder: Path, auditor: Auditor) -> AuditOutcome:
    """The audit of the unpacked backup's bundle (step 2)."""
    return await audit_bundle(folder / "bundle", auditor)


def _keyed_tables(conn: Connection) -> list[str]:
    """The tables whose rows belong to a ledger (a ``ledger_id`` column)."""
    return list(
        conn.execute(
            text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND column_name = 'ledger_id' ORDER BY table_name"
            )
        ).scalars()
    )


def _columns(conn: Connection, table: str) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = :t ORDER BY ordinal_position"
            ),
            {"t": table},
        ).scalars()
    )


def add_ledger(conn: Connection, row: dict[str, Any]) -> int:
    """Add the backup's ledger to the target (on the owner's connection, migrated): its number,
    the next free one. Refused if the target holds a ledger of this origin, or any row under
    the number it gets (rows no ledger owns: a database to look at before restoring into it)."""
    origin = row["origin"]
    if origin in store.ledger_ids(conn):
        raise RestoreRefused(
            f"the target database already holds the ledger {origin}; restore it only where it is not"
        )
    number = store.write_meta(
        conn, store.LedgerMeta(origin, row["operator_key"]), datetime.fromisoformat(row["created_at"])
    )
    for table in _keyed_tables(conn):  # names from the catalogue
        query = text(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE ledger_id = :n)")
        if conn.execute(query, {"n": number}).scalar():
            raise RestoreRefused(f"the target database holds rows of no ledger (number {number}) in {table}")
    return number


def _lines(folder: Path) -> Iterator[bytes]:
    with (folder / "bundle" / "ledger.jsonl").open("rb") as f:
        for line in f:
            yield line.rstrip(b"\n")


def _rows(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with (folder / "rows.jsonl").open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc.get("table") not in BESIDE_TABLES or not isinstance(doc.get("row"), dict):
                raise MalformedError("rows.jsonl holds a line that is not a known table's row")
            yield doc["table"], doc["row"]


def ledger_row(folder: Path) -> dict[str, Any]:
    """The backup's one ledger row (``ledger_meta``); a backup holds one ledger."""
    found = [row for table, row in _rows(folder) if table == "ledger_meta"]
    if len(found) != 1:
        raise MalformedError(f"a backup holds one ledger's row; this one holds {len(found)}")
    row = found[0]
    if not all(isinstance(row.get(c), str) for c in ("origin", "operator_key", "created_at")):
        raise MalformedError("the backup's ledger row lacks its origin, operator key or time")
    return row


def _operator_note(note: str, operator: NoteVerifier) -> str:
    """A checkpoint note as the ledger stores it: its body and the operator's signature,
    without the witnesses' cosignature lines the export adds."""
    parsed = parse_note(note)
    own = tuple(s for s in parsed.signatures if (s.name, s.key_hash) == (operator.name, operator.key_hash))
    return Note(parsed.body, own).text()


class LogWriter:
    """The verified stream written into the target, one original batch (records up to their
    checkpoint) at a time, with its projection changes."""

    def __init__(self, conn: Connection, operator: NoteVerifier) -> None:
        self.conn = conn
        self.operator = operator
        self.tree = CompactRange()
        self.rules = ProjectionBackend()
        self.pending: list[tuple[VerifiedRecord, bytes]] = []

    def record(self, record: VerifiedRecord, body: bytes) -> None:
        self.pending.append((record, body))

    def checkpoint(self, line: CheckpointLine) -> None:
        nodes: dict[NodeID, bytes] = {}
        rows = []
        batch = self.rules.begin(self.conn, False)
        batch.prepare([Submission(r.signed) for r, _ in self.pending])
        for record, body in self.pending:
            leaf = leaf_hash(body)
            self.tree.append(leaf, lambda level, index, h: nodes.__setitem__(NodeID(level, index), h))
            at = datetime.fromisoformat(record.recorded_at)
            rows.append(
                (record.seq, record.signed.id, record.signed.kind, record.signed.actor, at, body, leaf)
            )
            batch.admit(Submission(record.signed), record.seq, record.recorded_at)
        store.insert_rows(self.conn, "records", store.RECORD_COLUMNS, rows)
        store.copy_nodes(self.conn, nodes)
        batch.flush(self.conn)
        self.rules.committed(batch)
        at = rows[-1][4]
        note = _operator_note(line.note, self.operator)
        store.write_checkpoint(self.conn, store.StoredCheckpoint(line.size, self.tree.root(), note), at)
        self.pending = []


def _migrate(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def write_restore(
    conn: Connection, folder: Path, operator: NoteVerifier, origin: str, digest: str
) -> dict[str, int]:
    """Step 3, inside the caller's transaction (the owner's connection, opened for no ledger),
    for the audited ledger ``origin``; the rows restored per table beside the log."""
    _migrate(conn)
    row = ledger_row(folder)
    if row["origin"] != origin or row["operator_key"] != str(operator):
        raise RestoreRefused("the backup's ledger row does not name this ledger and operator key")
    number = add_ledger(conn, row)
    # From here on, for the transaction only: the new ledger's connection, as the service's
    # role, which row-level security keeps to that ledger's rows (the rules' reads, their
    # upserts and deletes of projection rows, the checks below) and whose new rows take its
    # number from the column defaults.
    conn.execute(text("SELECT set_config(:setting, :n, true)"), {"setting": LEDGER_SETTING, "n": str(number)})
    conn.execute(text(f"SET LOCAL ROLE {SERVICE_ROLE}"))
    verifier = LogVerifier(None, operator)
    writer = LogWriter(conn, operator)
    for raw in _lines(folder):
        line = parse_line(raw)
        record = verifier.feed(line)
        if record is not None:
            assert isinstance(line, RecordLine)
            writer.record(record, line.body)
        elif isinstance(line, CheckpointLine):
            writer.checkpoint(line)
    verifier.finish()
    counts = _write_rows(conn, folder, writer.tree.size, row.get("id"))
    _check_personal_data(conn)
    meta = store.read_meta(conn)
    if meta is None or meta.operator_key != str(operator) or meta.origin != verifier.origin:
        raise RestoreRefused("the backup's ledger row does not name this ledger and operator key")
    self_check(conn, operator)
    builder = DigestBuilder(PROJECTION_MODELS)
    for model in PROJECTION_MODELS:
        found: Any = conn.execute(
            text(f"SELECT * FROM {table_name(model)} WHERE {store.OF_LEDGER}")
        ).mappings()
        builder.add_all(model, found)
    if builder.finish().digest.hex() != digest:
        raise IntegrityError("the restored projection tables do not give the audit's state digest")
    return counts


def _check_personal_data(conn: Connection) -> None:
    """Each person's fields restored must open the commitment their party's record holds (the
    log's, just replayed): personal data is not signed, but it cannot be swapped for another's."""
    rows = conn.execute(
        text(
            "SELECT d.party_id, d.name, d.id_number, d.sex, d.birth_date, d.phone, d.salt, p.commitment "
            "FROM personal_data d LEFT JOIN parties p ON p.ledger_id = d.ledger_id AND p.id = d.party_id "
            f"WHERE d.{store.OF_LEDGER}"
        )
    ).all()
    for r in rows:
        fields = {
            "name": r.name,
            "id_number": normalise_resident_id(r.id_number),
            "sex": r.sex,
            "birth_date": r.birth_date.isoformat(),
            "phone": r.phone,
        }
        try:
            opened = personal_commitment(fields, bytes.fromhex(r.salt))
        except ValueError:
            opened = ""
        if r.commitment is None or opened != r.commitment:
            raise IntegrityError(
                f"the backup's personal data of party {r.party_id} does not open its record's commitment"
            )


def _write_rows(conn: Connection, folder: Path, size: int, number: Any) -> dict[str, int]:
    """The rows beside the log (the ledger's row is in already), as the restored ledger's:
    a ``ledger_id`` a row carries (an older backup's) must be ``number``, the ledger row's own
    ``id`` there, and is dropped, so that the column's default, the connection's ledger, fills
    it. Only the columns the rows name are inserted: json_populate_recordset gives NULL for a
    column a row lacks, which would override a default."""
    counts = dict.fromkeys(BESIDE_TABLES, 0)
    chunk: dict[str, list[dict[str, Any]]] = {t: [] for t in BESIDE_TABLES}
    for table, row in _rows(folder):
        if table == "ledger_meta":
            continue
        if row.pop("ledger_id", number) != number:
            raise MalformedError(f"the backup's {table} holds a row of another ledger than its own")
        if table == "witness_cosignatures" and int(row.get("size", 0)) > size:
            continue  # a cosignature of a checkpoint newer than the backup's log
        chunk[table].append(row)
    for table in BESIDE_TABLES:
        rows = chunk[table]
        named = {c for r in rows for c in r}
        columns = ", ".join(f'"{c}"' for c in _columns(conn, table) if c in named and c != "ledger_id")
        for start in range(0, len(rows), ROWS_CHUNK):
            conn.execute(
                text(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM "
                    f"json_populate_recordset(NULL::{table}, CAST(:rows AS json))"
                ),
                {"rows": json.dumps(rows[start : start + ROWS_CHUNK], ensure_ascii=False)},
            )
        counts[table] = len(rows)
    return counts


async def restore_verified(engine: AsyncEngine, folder: Path, auditor: Auditor) -> Restored:
    """Audit the unpacked backup in ``folder``; if intact, add its ledger to ``engine``'s
    database in one transaction. ``engine``'s connections must be the owner's, and are best
    opened for no ledger (``make_engine(..., service_role=False, ledger=NO_LEDGER)``): a
    database holding several ledgers refuses a connection that names none. The outcome says
    why nothing was written when it is not intact.

    ``auditor`` must anchor the backup to something known to be right, a checkpoint it is
    expected to pass through or at least one witness's cosignature, else ``MalformedError``:
    a backup that is only self-consistent may be anyone's."""
    if auditor.expect is None and auditor.min_witnesses < 1:
        raise MalformedError("a restore needs an expected checkpoint or at least one required witness")
    outcome = await verify_backup(folder, auditor)
    if outcome.status != "intact" or outcome.state_digest is None or outcome.origin is None:
        return Restored(outcome, {})
    async with engine.begin() as conn:
        counts = await conn.run_sync(
            write_restore, folder, auditor.operator, outcome.origin, outcome.state_digest
        )
    return Restored(outcome, counts)
