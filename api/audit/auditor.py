"""Running an audit: an export stream (a bundle on disk, or a live server) through the log
checks (``ledger.verify``) and the rules' replay (``contracts.audit``), with entry signatures
checked ahead in worker processes, then the state digest compared with the server's.

The pipeline, per chunk of records: the main process checks chunk k+1's bytes, tree and
checkpoints and sends its signatures to the workers, then takes chunk k's verdicts and replays
chunk k, so that replay and signature checks run at once on different cores. Memory holds the
replayed state, the entry ids and at most two chunks in flight: never the whole log.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from contracts.audit import AuditReplay
from contracts.digest import (
    StateDifference,
    bucket_rows,
    first_bucket_difference,
    first_row_difference,
    first_table_difference,
)
from contracts.rulebook import PROJECTION_MODELS
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import CompactRange, leaf_hash
from ledger.proofs import verify_consistency
from ledger.signing import verify_batch
from ledger.stream import RECORD_PREFIX, parse_line
from ledger.verify import (
    AuditFailure,
    LogVerifier,
    UnusableInput,
    VerifiedRecord,
    Witnessing,
)
from ledger.witness import CosignerVerifier

CHUNK = 2048
READ_SIZE = 1 << 20
Progress = Callable[[int, int], None]  # (records verified, records expected)


def audit_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for signature checks (spawned: they import only ``ledger``)."""
    return ProcessPoolExecutor(
        workers or os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn")
    )


class _ReplayStopped(Exception):
    """A record failed its replay: the audit stops there, whatever was read beyond it."""

    def __init__(self, failure: AuditFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


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
            "rule_versions": self.rule_versions,
        }


@dataclass
class Auditor:
    """One audit's state across the streams it reads (a live server may need more than one:
    it keeps appending while we read)."""

    operator: NoteVerifier
    pool: Executor | None = None
    progress: Progress | None = None
    witnesses: tuple[CosignerVerifier, ...] = ()
    min_witnesses: int = 0
    expect: Checkpoint | None = None
    log: LogVerifier = field(init=False)
    replay: AuditReplay = field(default_factory=AuditReplay)
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    resumed_from: int = 0  # records checked by the earlier audit whose state was restored

    def __post_init__(self) -> None:
        witnessing = Witnessing(self.min_witnesses, self.witnesses) if self.witnesses else None
        self.log = LogVerifier(None, self.operator, witnessing=witnessing, expect=self.expect)

    async def read(self, lines: AsyncIterator[bytes]) -> None:
        """Check one export stream. Raises ``AuditFailure`` (the first bad seq found, replay
        failures first since they name the exact record) or ``UnusableInput``."""
        loop = asyncio.get_running_loop()
        in_flight: tuple[list[VerifiedRecord], list[Any]] | None = None
        chunk: list[VerifiedRecord] = []
        expected = 0
        stopped: Exception | None = None
        try:
            async for raw in lines:
                try:
                    record = self.log.feed(parse_line(raw))
                except MalformedError as e:
                    raise UnusableInput(str(e)) from e
                if self.log.header is not None and not expected:
                    expected = self.log.header.size
                if record is None:
                    continue
                self.replay.learn_keys(record.signed)
                chunk.append(record)
                if len(chunk) >= CHUNK:
                    previous, in_flight = in_flight, self._dispatch(loop, chunk)
                    chunk = []
                    if previous is not None:
                        await self._replay(*previous)
                    if self.progress:
                        self.progress(self.replay.size, expected)
            self.log.finish()
        except (AuditFailure, UnusableInput) as e:
            stopped = e  # a log check failed; a replay failure escapes as _ReplayStopped
        except _ReplayStopped as r:
            raise r.failure from None
        # Replay what was read before the stop: a rule failure there names an earlier seq.
        try:
            if in_flight is not None:
                await self._replay(*in_flight)
            if chunk:
                await self._replay(*self._dispatch(loop, chunk))
        except _ReplayStopped as r:
            raise r.failure from None
        if self.progress:
            self.progress(self.replay.size, expected)
        if stopped is not None:
            raise stopped

    def _dispatch(
        self, loop: asyncio.AbstractEventLoop, chunk: list[VerifiedRecord]
    ) -> tuple[list[VerifiedRecord], list[Any]]:
        if self.pool is None:
            return chunk, []
        checks = [(r, w) for r in chunk if (w := self.replay.signature_work(r.signed)) is not None]
        step = -(-len(checks) // self.workers) or 1
        parts = [checks[i : i + step] for i in range(0, len(checks), step)]
        futures = [
            (part, loop.run_in_executor(self.pool, verify_batch, [w for _, w in part])) for part in parts
        ]
        return chunk, futures

    async def _replay(self, chunk: list[VerifiedRecord], futures: list[Any]) -> None:
        checked: dict[int, bytes] = {}  # seq -> the key its signature was found valid for
        for part, future in futures:
            for (record, work), ok in zip(part, await future, strict=True):
                if ok:
                    checked[record.seq] = work[0]
        try:
            for record in chunk:
                self.replay.apply(record, checked.get(record.seq))
        except AuditFailure as f:
            raise _ReplayStopped(f) from f

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
        lines = bundle_lines(path)
        if auditor.log.size and auditor.log.checkpoint is not None:
            lines = skip_records(lines, auditor.log.checkpoint)
        await auditor.read(lines)
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
    own = bucket_rows(model, auditor.replay.memory.tables.get(model, {}).values(), bucket)
    outcome.difference = first_row_difference(table, own, rows_doc.get("rows") or []) or StateDifference(
        table, None, "the table digests differ, the rows do not"
    )
