"""Running an audit: an export stream (a bundle on disk, or a live server) through the log
checks (``ledger.verify``) and the rules' replay (``contracts.audit``), with each record's own
checks and its signature made ahead in worker processes, then the state digest compared with
the server's.

The pipeline: the main process cuts the stream into chunks of ``CHUNK`` records (with the
lines that follow them), learns the keys their payloads announce and sends each chunk's
record lines to a worker with the public keys its records name (``ledger.checks_ahead``).
Up to ``AHEAD`` chunks per worker are out at once; the oldest one's answers back, the main
process makes the checks that follow the log in order (``LogVerifier.feed_checked``: seq,
entry ids, clock, tree, nodes, checkpoints) and replays its records, so that replay and
checks ahead run at once on different cores. A record the worker found wrong is checked again
by the main process in full (``LogVerifier.feed``), which names what is wrong exactly as a
verifier without workers would.

Memory: the replayed state and the entry ids are on disk (``api.audit.disk_state``) unless
``in_memory``; the main process holds the chunks out, never the whole log.
"""

from __future__ import annotations

import asyncio
import binascii
import multiprocessing
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from api.audit.disk_state import DiskState
from api.audit.workers import check_ahead_measured, yield_to_the_replay
from api.service.collector import collect_less_often
from contracts.audit import AuditReplay, MemoryState
from contracts.digest import (
    StateDifference,
    bucket_rows,
    first_bucket_difference,
    first_row_difference,
    first_table_difference,
)
from contracts.rulebook import PROJECTION_MODELS
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.checks_ahead import ChecksAhead, check_ahead
from ledger.entry import SignedEntry, parse_time
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import CompactRange, leaf_hash
from ledger.proofs import verify_consistency
from ledger.stream import RECORD_PREFIX, parse_line
from ledger.verify import (
    AuditFailure,
    CheckedRecord,
    LogVerifier,
    UnusableInput,
    VerifiedRecord,
    Witnessing,
)
from ledger.witness import CosignerVerifier

CHUNK = 1024
AHEAD = 2  # chunks out per worker
READ_SIZE = 1 << 20
Progress = Callable[[int, int], None]  # (records verified, records expected)
_RECORD_TAIL = b',"recorded_at":"'


def audit_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for the checks ahead (spawned: they import only ``ledger``), one per
    core by default, a little less urgent than this process (``WORKER_NICENESS``)."""
    return ProcessPoolExecutor(
        workers or os.cpu_count() or 2,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=yield_to_the_replay,
    )


class _Stopped(Exception):
    """A record failed its checks or its replay: the audit stops there, whatever was read
    beyond it."""

    def __init__(self, failure: AuditFailure | UnusableInput) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass
class _Chunk:
    """Lines from a record line on, in stream order; its record lines are checked ahead as
    records ``first_seq ..`` of ``origin``."""

    first_seq: int
    origin: str
    lines: list[bytes] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    docs: list[Any] = field(default_factory=list)  # each record decoded, or None
    keys: dict[str, bytes] = field(default_factory=dict)
    checks: Any = None  # ChecksAhead, or the future of one


@dataclass
class AuditOutcome:
    """What an audit found. ``status``: intact, tampered or unusable."""

    source: str
    status: str = "intact"
    origin: str | None = None
    size: int = 0
    checkpoint_size: int = 0
    checkpoint_note: str = ""
    failure: AuditFailure | None = None
    unusable: str | None = None
    state_digest: str | None = None
    server_digest: str | None = None  # "match", "differs", or why it was not compared
    difference: StateDifference | None = None
    witnessed_size: int | None = None
    witnessed_by: tuple[str, ...] = ()
    witnesses_required: int = 0
    seconds: float = 0.0
    records_checked: int = 0
    peak_rss_mb: float | None = None  # the verifying process's, when measured
    workers_peak_rss_mb: float | None = None  # the largest worker process's, when measured
    # The rule versions the log was admitted under: [{"version", "from_seq", "to_seq"}, ...].
    rule_versions: list[dict[str, int]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"intact": 0, "tampered": 1}.get(self.status, 2)

    def as_json(self) -> dict[str, Any]:
        f = self.failure
        return {
            "source": self.source,
            "status": self.status,
            "origin": self.origin,
            "size": self.size,
            "checkpoint_size": self.checkpoint_size,
            "failure": None
            if f is None
            else {"code": f.code, "seq": f.seq, "first_seq": f.first_seq, "reason": f.reason},
            "unusable": self.unusable,
            "state_digest": self.state_digest,
            "server_digest": self.server_digest,
            "difference": None
            if self.difference is None
            else {
                "table": self.difference.table,
                "key": self.difference.key,
                "reason": self.difference.reason,
            },
            "witnesses": {
                "required": self.witnesses_required,
                "witnessed_size": self.witnessed_size,
                "by": list(self.witnessed_by),
            },
            "records_checked": self.records_checked,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_checked / self.seconds) if self.seconds > 0 else None,
            "peak_rss_mb": self.peak_rss_mb,
            "workers_peak_rss_mb": self.workers_peak_rss_mb,
            "rule_versions": self.rule_versions,
        }


@dataclass
class Auditor:
    """One audit's state across the streams it reads (a live server may need more than one:
    it keeps appending while we read). ``close`` removes its state on disk."""

    operator: NoteVerifier
    pool: Executor | None = None
    progress: Progress | None = None
    witnesses: tuple[CosignerVerifier, ...] = ()
    min_witnesses: int = 0
    expect: Checkpoint | None = None
    in_memory: bool = False  # the replayed state and entry ids in memory, not on disk
    log: LogVerifier = field(init=False)
    replay: AuditReplay = field(init=False)
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    resumed_from: int = 0  # records checked by the earlier audit whose state was restored
    workers_peak_kib: dict[int, int] = field(default_factory=dict)  # worker pid -> its peak RSS

    def __post_init__(self) -> None:
        collect_less_often()  # a replay makes short-lived containers by the hundred a record
        witnessing = Witnessing(self.min_witnesses, self.witnesses) if self.witnesses else None
        self.log = LogVerifier(None, self.operator, witnessing=witnessing, expect=self.expect)
        if self.in_memory:
            self.replay = AuditReplay(MemoryState())
        else:
            disk = DiskState()
            self.replay = AuditReplay(disk)
            self.log.entry_ids = disk.entry_ids

    def close(self) -> None:
        if isinstance(self.replay.memory, DiskState):
            self.replay.memory.close()

    async def read(self, lines: AsyncIterator[bytes]) -> None:
        """Check one export stream. Raises ``AuditFailure`` (the first bad seq found, replay
        failures first since they name the exact record) or ``UnusableInput``."""
        await self.read_batches(_one_by_one(lines))

    async def read_batches(self, batches: AsyncIterator[list[bytes]]) -> None:
        """``read`` of a stream given as lists of lines."""
        loop = asyncio.get_running_loop()
        out: deque[_Chunk] = deque()
        chunk: _Chunk | None = None
        next_seq = self.log.size
        limit = AHEAD * max(self.workers, 1) if self.pool is not None else 1
        try:
            try:
                async for batch in batches:
                    for raw in batch:
                        if chunk is None:
                            if not out and not raw.startswith(RECORD_PREFIX):
                                self._feed(raw)  # the header, before any record
                                next_seq = self.log.size
                                continue
                            chunk = _Chunk(next_seq, self.log.header.origin if self.log.header else "")
                        elif len(chunk.bodies) >= CHUNK and raw.startswith(RECORD_PREFIX):
                            next_seq += len(chunk.bodies)
                            out.append(self._dispatch(loop, chunk))
                            chunk = _Chunk(next_seq, chunk.origin)
                            while len(out) > limit:
                                await self._take(out.popleft())
                        chunk.lines.append(raw)
                        if raw.startswith(RECORD_PREFIX):
                            self._learn(chunk, raw)
            except (AuditFailure, UnusableInput):
                # The stream stopped: what was read before it is checked and replayed first,
                # and a failure there names an earlier line.
                if chunk is not None:
                    out.append(self._dispatch(loop, chunk))
                while out:
                    await self._take(out.popleft())
                raise
            if chunk is not None:
                out.append(self._dispatch(loop, chunk))
            while out:
                await self._take(out.popleft())
            self.log.finish()
        except _Stopped as stop:
            raise stop.failure from None
        finally:
            for pending in out:
                if isinstance(pending.checks, asyncio.Future):
                    pending.checks.cancel()

    def _feed(self, raw: bytes) -> VerifiedRecord | None:
        try:
            return self.log.feed(parse_line(raw))
        except MalformedError as e:
            raise UnusableInput(str(e)) from e

    def _learn(self, chunk: _Chunk, body: bytes) -> None:
        """Decode a record as it is read: the keys its payload announces, the public key it
        names for the check ahead. Nothing here is trusted: a record that is not what it seems
        fails its checks, and a wrong key named only fails the check ahead."""
        chunk.bodies.append(body)
        try:
            doc = msgspec.json.decode(body)
            entry = doc["entry"]
            key_id = entry["key"]
        except (msgspec.DecodeError, KeyError, TypeError):
            chunk.docs.append(None)
            return
        chunk.docs.append(doc)
        if isinstance(entry, dict):
            self.replay.announce(entry.get("kind"), entry.get("payload"))
        if isinstance(key_id, str) and key_id not in chunk.keys:
            public_key = self.replay.public_key(key_id)
            if public_key is not None:
                chunk.keys[key_id] = public_key

    def _dispatch(self, loop: asyncio.AbstractEventLoop, chunk: _Chunk) -> _Chunk:
        args = (chunk.origin, chunk.first_seq, chunk.bodies, chunk.keys)
        if self.pool is None:
            chunk.checks = check_ahead(*args)
        else:
            chunk.checks = loop.run_in_executor(self.pool, check_ahead_measured, *args)
        return chunk

    async def _take(self, chunk: _Chunk) -> None:
        """The chunk's log checks in stream order, then its replay; raises the first
        failure, a replay failure before the log's (it names an earlier record)."""
        if self.pool is None:
            checks: ChecksAhead = chunk.checks
        else:
            checks, pid, peak_kib = await chunk.checks
            self.workers_peak_kib[pid] = max(peak_kib, self.workers_peak_kib.get(pid, 0))
        records, checked, failure = self._check_in_order(chunk, checks)
        try:
            self.replay.apply_all(records, checked)
        except AuditFailure as f:
            raise _Stopped(f) from f
        if self.progress:
            self.progress(self.replay.size, self.log.header.size if self.log.header else 0)
        if failure is not None:
            raise _Stopped(failure) from failure

    def _check_in_order(
        self, chunk: _Chunk, checks: ChecksAhead
    ) -> tuple[list[VerifiedRecord], dict[int, bytes], AuditFailure | UnusableInput | None]:
        log = self.log
        header = log.header
        usable = header is not None and header.origin == chunk.origin and log.size == chunk.first_seq
        passed = checks.passed if usable else 0
        ids_new = passed > 0 and log.entry_ids.add_all(checks.entry_ids, chunk.first_seq)
        records: list[VerifiedRecord] = []
        checked: dict[int, bytes] = {}
        j = 0
        try:
            for raw in chunk.lines:
                if raw.startswith(RECORD_PREFIX):
                    doc = chunk.docs[j]
                    if j < passed and doc is not None:
                        record = log.feed_checked(_checked_record(chunk, checks, j, doc), id_is_new=ids_new)
                        if checks.signatures[j]:
                            checked[record.seq] = chunk.keys[record.signed.key_id]
                    else:
                        record = self._feed(raw)  # type: ignore[assignment]  # a record line
                    records.append(record)
                    j += 1
                elif not log.feed_node_line(raw):
                    self._feed(raw)
        except (AuditFailure, UnusableInput) as e:
            return records, checked, e
        return records, checked, None

    def outcome(self, source: str) -> AuditOutcome:
        out = AuditOutcome(
            source,
            origin=self.log.origin,
            size=self.log.size,
            records_checked=self.replay.size - self.resumed_from,
            rule_versions=self.replay.versions_used(),
        )
        if self.log.checkpoint is not None:
            out.checkpoint_size = self.log.checkpoint.size
            out.checkpoint_note = self.log.checkpoint_note
        w = self.log.witnessing
        if w is not None:
            out.witnesses_required = w.required
            out.witnessed_size = w.best_size or None
            out.witnessed_by = w.best_by
        return out


def _checked_record(chunk: _Chunk, checks: ChecksAhead, j: int, doc: Any) -> CheckedRecord:
    """The record ``check_ahead`` passed, from what the main process decoded of it: since its
    bytes are its canonical form, the entry's bytes are the span before its recorded_at."""
    body = chunk.bodies[j]
    entry_bytes = body[len(RECORD_PREFIX) : body.rindex(_RECORD_TAIL)]
    sig = doc["sig"]
    signed = SignedEntry(doc["entry"], entry_bytes, sig, binascii.a2b_base64(sig))
    recorded_at = doc["recorded_at"]
    return CheckedRecord(
        chunk.first_seq + j,
        recorded_at,
        signed,
        checks.leaves[j],
        checks.entry_ids[j],
        parse_time(recorded_at),
    )


async def _one_by_one(lines: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    async for line in lines:
        yield [line]


async def bundle_batches(path: Path) -> AsyncIterator[list[bytes]]:
    """The lines of a bundle's export stream (without their newlines), read ``READ_SIZE``
    bytes at a time."""
    stream = path / "ledger.jsonl" if path.is_dir() else path
    try:
        f = stream.open("rb")
    except OSError as e:
        raise UnusableInput(f"cannot read the bundle {stream}: {e}") from e
    with f:
        rest = b""
        while block := f.read(READ_SIZE):
            *lines, rest = (rest + block).split(b"\n")
            yield lines
        if rest:
            yield [rest]


async def bundle_lines(path: Path) -> AsyncIterator[bytes]:
    """The lines of a bundle's export stream (``path`` is the folder or the .jsonl file)."""
    stream = path / "ledger.jsonl" if path.is_dir() else path
    try:
        f = stream.open("rb")
    except OSError as e:
        raise UnusableInput(f"cannot read the bundle {stream}: {e}") from e
    with f:
        for line in f:
            yield line.rstrip(b"\n")


async def http_lines(http: httpx.AsyncClient, after: int) -> AsyncIterator[bytes]:
    """The lines of ``GET /v1/export?after=``, as bytes exactly as sent."""
    try:
        async with http.stream("GET", "/v1/export", params={"after": after}) as response:
            if response.status_code != 200:
                await response.aread()
                raise UnusableInput(f"GET /v1/export answered {response.status_code}: {response.text[:300]}")
            pending = b""
            async for piece in response.aiter_bytes():
                pending += piece
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line
            if pending:
                yield pending
    except httpx.HTTPError as e:
        raise UnusableInput(f"cannot read the export from the server: {e}") from e


async def skip_records(lines: AsyncIterator[bytes], saved: Checkpoint) -> AsyncIterator[bytes]:
    """A bundle's stream from record ``saved.size`` on, as if exported with ``after`` just
    before it. The records before are not replayed again (the audit that saved the state did
    that), only hashed: their tree must still give the saved checkpoint, or the log has been
    rewritten since (a split view)."""
    tree, count, passed, first = CompactRange(), saved.size, False, True
    async for raw in lines:
        if passed:
            yield raw
        elif first:  # the header: the verifier checks it
            first = False
            try:
                header = msgspec.json.decode(raw)
                header["after"] = count - 1
                yield msgspec.json.encode(header)
            except (msgspec.DecodeError, TypeError):
                yield raw  # not a header: the verifier says so
        elif raw.startswith(RECORD_PREFIX):
            if tree.size == count:
                passed = True
                yield raw
                continue
            tree.append(leaf_hash(raw))
            if tree.size == count and tree.root() != saved.root_hash:
                raise AuditFailure(
                    "log.split_view",
                    f"the checkpoint saved earlier has root "
                    f"{saved.root_hash.hex()} at size {count}, these records give "
                    f"{tree.root().hex()}: the log has been rewritten since",
                    seq=count - 1,
                )
        elif raw.startswith(b'{"end"'):
            if tree.size < count:
                raise AuditFailure(
                    "log.split_view",
                    f"the log has {tree.size} records, fewer than the {count} of "
                    "the checkpoint saved earlier: it has been truncated",
                    seq=tree.size,
                )
            yield raw
        # else: a node or checkpoint line of a skipped record


async def audit_bundle(path: Path, auditor: Auditor) -> AuditOutcome:
    started = time.perf_counter()
    try:
        if auditor.log.size and auditor.log.checkpoint is not None:
            await auditor.read(skip_records(bundle_lines(path), auditor.log.checkpoint))
        else:
            await auditor.read_batches(bundle_batches(path))
        outcome = auditor.outcome(str(path))
        outcome.state_digest = auditor.replay.digest().digest.hex()
        outcome.server_digest = "not compared: offline bundle"
    except (AuditFailure, UnusableInput) as e:
        outcome = _failed(auditor, str(path), e)
    _require_witnesses(auditor, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


MAX_CATCH_UP = 5


async def audit_server(http: httpx.AsyncClient, auditor: Auditor, source: str) -> AuditOutcome:
    """Audit a live server: its export, then its state digest. While the server appends,
    the audit reads what was added and tries again, a few times at most."""
    started = time.perf_counter()
    try:
        since = auditor.log.checkpoint if auditor.log.size else None
        if since is not None:
            await _check_consistency(http, since, auditor.operator)
        await auditor.read(http_lines(http, auditor.log.size - 1))
        digest = auditor.replay.digest()
        outcome = auditor.outcome(source)
        outcome.state_digest = digest.digest.hex()
        for _ in range(MAX_CATCH_UP):
            theirs = await _get_json(http, "/v1/state-digest")
            if theirs.get("size") == auditor.log.size:
                await _compare_state(http, auditor, outcome, theirs)
                break
            if not isinstance(theirs.get("size"), int) or theirs["size"] < auditor.log.size:
                raise UnusableInput(
                    f"the server's state is of size {theirs.get('size')!r}, "
                    f"its export reached {auditor.log.size}"
                )
            auditor.log.resume()
            await auditor.read(http_lines(http, auditor.log.size - 1))
            digest = auditor.replay.digest()
            outcome = auditor.outcome(source)
            outcome.state_digest = digest.digest.hex()
        else:
            outcome.server_digest = "not compared: the server kept appending"
    except (AuditFailure, UnusableInput) as e:
        outcome = _failed(auditor, source, e)
    _require_witnesses(auditor, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _check_consistency(http: httpx.AsyncClient, since: Checkpoint, operator: NoteVerifier) -> None:
    """Before an incremental audit: the server's latest checkpoint must extend the saved one,
    by the consistency proof it serves; otherwise the log was rewritten (a split view)."""
    r = await http.get("/v1/checkpoint")
    if r.status_code != 200:
        raise UnusableInput(f"GET /v1/checkpoint answered {r.status_code}")
    try:
        latest = open_checkpoint(r.text, operator, origin=since.origin)
    except (IntegrityError, MalformedError) as e:
        raise AuditFailure("checkpoint.signature", f"the latest checkpoint: {e}") from e
    if latest.size < since.size:
        raise AuditFailure(
            "log.split_view",
            f"the log has {latest.size} records, fewer than the {since.size} of "
            "the checkpoint saved earlier: it has been truncated",
            seq=latest.size,
        )
    doc = await _get_json(http, "/v1/proofs/consistency", **{"from": since.size, "to": latest.size})
    try:
        verify_consistency(
            since.size,
            latest.size,
            [bytes.fromhex(h) for h in doc["proof"]],
            since.root_hash,
            latest.root_hash,
        )
    except (IntegrityError, MalformedError, KeyError, ValueError) as e:
        raise AuditFailure(
            "log.split_view",
            f"the latest checkpoint (size {latest.size}) does not extend the one "
            f"saved earlier (size {since.size}): {e}",
            seq=since.size - 1,
        ) from e


def _failed(auditor: Auditor, source: str, e: Exception) -> AuditOutcome:
    outcome = auditor.outcome(source)
    if isinstance(e, AuditFailure):
        outcome.status, outcome.failure = "tampered", e
    else:
        outcome.status, outcome.unusable = "unusable", str(e)
    return outcome


def _require_witnesses(auditor: Auditor, outcome: AuditOutcome) -> None:
    if outcome.status != "intact" or not auditor.min_witnesses:
        return
    if not outcome.witnessed_size:
        outcome.status = "tampered"
        outcome.failure = AuditFailure(
            "witness.insufficient",
            f"no checkpoint carries cosignatures by {auditor.min_witnesses} of the "
            f"{len(auditor.witnesses)} known witnesses: a split view cannot be ruled out",
        )


async def _get_json(http: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    try:
        r = await http.get(path, params=params)
    except httpx.HTTPError as e:
        raise UnusableInput(f"GET {path} failed: {e}") from e
    if r.status_code != 200:
        raise UnusableInput(f"GET {path} answered {r.status_code}: {r.text[:300]}")
    doc = r.json()
    if not isinstance(doc, dict):
        raise UnusableInput(f"GET {path} did not answer a JSON object")
    return doc


async def _compare_state(
    http: httpx.AsyncClient, auditor: Auditor, outcome: AuditOutcome, theirs: dict[str, Any]
) -> None:
    """Compare the replayed state with the server's projections; name the first difference."""
    mine = auditor.replay.digest()
    if theirs.get("digest") == mine.digest.hex():
        outcome.server_digest = "match"
        return
    outcome.server_digest = "differs"
    outcome.status = "tampered"
    table = first_table_difference(mine, theirs)
    if table is None or table not in mine.tables:
        outcome.difference = StateDifference(
            table or "?", None, "the server has a table the rules do not know"
        )
        return
    table_doc = await _get_json(http, "/v1/state-digest", table=table)
    bucket = first_bucket_difference(mine.tables[table], table_doc.get("buckets") or [])
    if bucket is None:
        outcome.difference = StateDifference(table, None, "row counts differ")
        return
    rows_doc = await _get_json(http, "/v1/state-digest", table=table, bucket=bucket)
    model = next(m for m in PROJECTION_MODELS if m.__table__.name == table)  # type: ignore[attr-defined]
    own = bucket_rows(model, auditor.replay.memory.rows_of(model), bucket)
    outcome.difference = first_row_difference(table, own, rows_doc.get("rows") or []) or StateDifference(
        table, None, "the table digests differ, the rows do not"
    )
