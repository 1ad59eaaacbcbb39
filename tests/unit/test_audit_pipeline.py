"""The audit's pipeline (chunks checked ahead, in worker processes or not, then the checks in
order and the replay) gives the verdict of the plain sequential verifier, ``LogVerifier.feed``
of each line and ``AuditReplay.apply`` of each record, for an intact log and for each kind of
damage: the same status, failure code and seq, or the same reason it is unusable, and the same
state digest. Chunks of three records, so that damage falls at and across their edges."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.audit import auditor as auditor_module
from api.audit.auditor import Auditor, audit_bundle
from contracts.audit import AuditReplay, MemoryState
from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.entry import Record, format_time, parse_time
from ledger.errors import MalformedError
from ledger.merkle import CompactRange, leaf_hash
from ledger.stream import Header, checkpoint_line, end_line, header_line, node_line, parse_line
from ledger.verify import AuditFailure, LogVerifier, UnusableInput
from tests.unit.contracts.harness import ORIGIN
from tests.unit.contracts.situations import prepared

SIGNER = NoteSigner.from_string(generate_signer(ORIGIN)[0])
Records = list[dict[str, Any]]
Lines = list[bytes]


def log_records() -> Records:
    s = prepared("household.split")
    s.example()
    return [dict(r) for r in s.h.records]


def stream(records: Records, *, every: int = 4, signer: NoteSigner = SIGNER) -> Lines:
    """The export of ``records``, each record's stored nodes after it, a checkpoint every
    ``every`` records and at the end."""
    lines = [header_line(Header(ORIGIN, str(SIGNER.verifier()), -1, len(records), True))]
    tree = CompactRange()
    for r in records:
        body = Record.make(r["seq"], r["recorded_at"], r["entry"], r["sig"]).body
        lines.append(body)
        tree.append(leaf_hash(body), lambda lv, ix, h: lines.append(node_line(lv, ix, h)))
        if tree.size % every == 0 or tree.size == len(records):
            lines.append(
                checkpoint_line(
                    tree.size, sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
                )
            )
    lines.append(end_line(len(records)))
    return [line.rstrip(b"\n") for line in lines]


def record_lines(lines: Lines) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith(b'{"entry":')]


def node_lines(lines: Lines) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith(b'{"hash":')]


# Damage to the records (the stream then built from them, nodes and checkpoints matching).


def reused_entry(records: Records) -> Records:
    copy = dict(records[3], seq=len(records), recorded_at=records[-1]["recorded_at"])
    return [*records, copy]


def clock_back(records: Records) -> Records:
    earlier = parse_time(records[6]["recorded_at"]) - timedelta(seconds=1)
    records[7] = dict(records[7], recorded_at=format_time(earlier))
    return records


def bad_signature(records: Records) -> Records:
    sig = records[5]["sig"]
    records[5] = dict(records[5], sig=("B" if sig[0] == "A" else "A") + sig[1:])
    return records


def changed_payload(records: Records) -> Records:
    entry = dict(records[6]["entry"])
    entry["signed_at"] = entry["signed_at"][:-2] + "9Z"
    records[6] = dict(records[6], entry=entry)
    return records


RECORD_DAMAGE: dict[str, Callable[[Records], Records]] = {
    "intact": lambda r: r,
    "reused entry id": reused_entry,
    "clock going back": clock_back,
    "bad signature": bad_signature,
    "entry changed, resealed": changed_payload,
}


# Damage to the lines of a good stream.


def without(i: int) -> Callable[[Lines], Lines]:
    return lambda lines: lines[:i] + lines[i + 1 :]


def swapped(lines: Lines) -> Lines:
    a, b = record_lines(lines)[4:6]
    lines[a], lines[b] = lines[b], lines[a]
    return lines


def node_twice(lines: Lines) -> Lines:
    i = node_lines(lines)[9]
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]]


def node_changed(lines: Lines) -> Lines:
    i = node_lines(lines)[10]
    lines[i] = lines[i].replace(lines[i][9:11], b"00" if lines[i][9:11] != b"00" else b"11")
    return lines


def node_spaced(lines: Lines) -> Lines:
    i = node_lines(lines)[8]
    lines[i] = lines[i].replace(b",", b", ")  # the same node, not in node_line's exact form
    return lines


def not_canonical(lines: Lines) -> Lines:
    i = record_lines(lines)[8]
    lines[i] = lines[i].replace(b'{"entry":', b'{"entry": ', 1)
    return lines


def record_torn(lines: Lines) -> Lines:
    i = record_lines(lines)[2]
    lines[i] = lines[i][:-30]
    return lines


def wrong_checkpoint(lines: Lines) -> Lines:
    other = NoteSigner.from_string(generate_signer(ORIGIN)[0])
    i = next(i for i, line in enumerate(lines) if line.startswith(b'{"checkpoint":'))
    size = parse_line(lines[i]).size  # type: ignore[union-attr]
    lines[i] = checkpoint_line(size, sign_checkpoint(Checkpoint(ORIGIN, size, b"\0" * 32), other)).rstrip(
        b"\n"
    )
    return lines


def after_the_end(lines: Lines) -> Lines:
    return [*lines, lines[record_lines(lines)[1]]]


LINE_DAMAGE: dict[str, Callable[[Lines], Lines]] = {
    "record deleted": lambda lines: without(record_lines(lines)[5])(lines),
    "records swapped": swapped,
    "node twice": node_twice,
    "node missing": lambda lines: without(node_lines(lines)[7])(lines),
    "node changed": node_changed,
    "node written otherwise": node_spaced,
    "record not canonical": not_canonical,
    "record torn": record_torn,
    "checkpoint by another key": wrong_checkpoint,
    "end missing": lambda lines: lines[:-1],
    "a record after the end": after_the_end,
    "header missing": lambda lines: lines[1:],
}


def reference(lines: Lines) -> tuple[Any, ...]:
    """The plain verifier: every line fed in order, the records replayed one by one after;
    a replay failure before the log's first failure is the one named."""
    log = LogVerifier(None, SIGNER.verifier())
    records, stopped = [], None
    try:
        for raw in lines:
            try:
                record = log.feed(parse_line(raw))
            except MalformedError as e:
                if isinstance(e, UnusableInput):
                    raise
                raise UnusableInput(str(e)) from e
            if record is not None:
                records.append(record)
        log.finish()
    except (AuditFailure, UnusableInput) as e:
        stopped = e
    replay = AuditReplay(MemoryState())
    try:
        for record in records:
            replay.apply(record)
    except AuditFailure as f:
        return verdict(f)
    if stopped is not None:
        return verdict(stopped)
    return ("intact", replay.digest().digest.hex())


def verdict(e: Exception | None) -> tuple[Any, ...]:
    if isinstance(e, AuditFailure):
        return ("tampered", e.code, e.seq)
    return ("unusable", str(e))


async def audited(lines: Lines, folder: Path, pool: Any) -> tuple[Any, ...]:
    folder.mkdir()
    (folder / "ledger.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    auditor = Auditor(SIGNER.verifier(), pool=pool, workers=2)
    try:
        outcome = await audit_bundle(folder, auditor)
    finally:
        auditor.close()
    if outcome.status == "intact":
        return ("intact", outcome.state_digest)
    return verdict(outcome.failure) if outcome.failure else ("unusable", outcome.unusable)


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as workers:
        yield workers


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditor_module, "CHUNK", 3)


INTACT = {"intact", "node written otherwise"}  # the same node and hash, spaced otherwise
CASES = [(name, damage, None) for name, damage in RECORD_DAMAGE.items()] + [
    (name, None, damage) for name, damage in LINE_DAMAGE.items()
]


@pytest.mark.parametrize(("name", "to_records", "to_lines"), CASES, ids=[c[0] for c in CASES])
async def test_the_pipeline_gives_the_plain_verifiers_verdict(
    name: str, to_records: Any, to_lines: Any, tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    records = (to_records or (lambda r: r))(log_records())
    lines = (to_lines or (lambda lines: lines))(stream(records))
    expected = reference(lines)
    assert (expected[0] == "intact") == (name in INTACT), expected
    assert await audited(lines, tmp_path / "inline", None) == expected
    assert await audited(lines, tmp_path / "workers", pool) == expected
