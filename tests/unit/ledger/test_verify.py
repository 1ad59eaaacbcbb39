"""The streaming log checks on small in-memory logs: one test per kind of bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, generate_signer, sign_checkpoint
from ledger.entry import Record, build_entry
from ledger.errors import MalformedError
from ledger.merkle import CompactRange, leaf_hash
from ledger.signing import SigningKey
from ledger.stream import (
    Header,
    checkpoint_line,
    end_line,
    header_line,
    node_line,
    parse_line,
    record_line,
)
from ledger.verify import AuditFailure, LogVerifier, UnusableInput

ORIGIN = "test.example/log"
SIGNER = NoteSigner.from_string(generate_signer(ORIGIN)[0])
KEY = SigningKey.from_seed(b"\x01" * 32)


def records(n: int, times: list[str] | None = None) -> list[bytes]:
    """``n`` signed records, recorded at ``times`` (default: all at one time)."""
    out = []
    for seq in range(n):
        entry = build_entry(
            origin=ORIGIN,
            actor="county",
            key_id=KEY.key_id,
            kind="key.added",
            payload={"n": seq},
            entry_id=str(uuid.UUID(int=seq + 1)),
            signed_at="2026-01-01T00:00:00.000000Z",
        )
        recorded_at = times[seq] if times else "2026-01-01T00:00:00.000000Z"
        out.append(Record.make(seq, recorded_at, entry, KEY.sign_entry(entry)).body)
    return out


def stream(
    bodies: list[bytes], *, every: int = 1, nodes: bool = True, signer: NoteSigner = SIGNER
) -> list[bytes]:
    """An export stream of ``bodies`` with a checkpoint every ``every`` records."""
    lines = [header_line(Header(ORIGIN, str(SIGNER.verifier()), -1, len(bodies), nodes))]
    tree = CompactRange()
    for body in bodies:
        lines.append(record_line(body))
        fresh: list[bytes] = []
        tree.append(leaf_hash(body), lambda lv, ix, h, out=fresh: out.append(node_line(lv, ix, h)))
        if nodes:
            lines += fresh
        if tree.size % every == 0 or tree.size == len(bodies):
            note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
            lines.append(checkpoint_line(tree.size, note))
    lines.append(end_line(len(bodies)))
    return [line.rstrip(b"\n") for line in lines]


def run(lines: list[bytes], **kw: object) -> LogVerifier:
    log = LogVerifier(None, SIGNER.verifier(), **kw)  # type: ignore[arg-type]
    for raw in lines:
        log.feed(parse_line(raw))
    log.finish()
    return log


def test_an_intact_stream_passes() -> None:
    log = run(stream(records(9), every=4))
    assert log.size == 9 and log.checkpoint is not None and log.checkpoint.size == 9


def test_a_record_out_of_place() -> None:
    lines = stream(records(5), nodes=False)
    del lines[5:7]  # record 2 and its checkpoint: header, r0, cp1, r1, cp2, r2, cp3, ...
    with pytest.raises(AuditFailure, match=r"record\.out_of_place") as e:
        run(lines)
    assert e.value.seq == 2


def test_a_non_canonical_record() -> None:
    lines = stream(records(2), nodes=False)
    lines[1] = lines[1].replace(b'{"entry":', b'{"entry": ', 1)
    with pytest.raises(AuditFailure, match=r"record\.malformed|record\.not_canonical"):
        run(lines)


def test_a_record_with_a_space_before_a_value_is_not_canonical() -> None:
    lines = stream(records(2), nodes=False)
    lines[1] = lines[1].replace(b'"seq":0', b'"seq": 0')
    with pytest.raises(AuditFailure, match=r"record\.not_canonical"):
        run(lines)


def test_a_reused_entry_id() -> None:
    bodies = records(3)
    bodies[2] = bodies[2].replace(str(uuid.UUID(int=3)).encode(), str(uuid.UUID(int=1)).encode())
    with pytest.raises(AuditFailure, match=r"entry\.duplicate_id") as e:
        run(stream(bodies))
    assert e.value.seq == 2


def test_a_record_recorded_before_the_previous_one() -> None:
    times = ["2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z", "2026-01-01T23:59:59.999999Z"]
    with pytest.raises(AuditFailure, match=r"record\.time_backwards") as e:
        run(stream(records(3, times)))
    assert e.value.seq == 2
    assert "2026-01-01T23:59:59.999999Z is before the previous record's 2026-01-02T00:00:00.000000Z" in str(
        e.value
    )


def test_records_recorded_at_one_time_or_later_pass() -> None:
    times = ["2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000001Z"]
    assert run(stream(records(3, times))).last_recorded_at == datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)


def test_a_resumed_stream_checks_its_first_record_against_the_last_time_seen() -> None:
    with pytest.raises(AuditFailure, match=r"record\.time_backwards") as e:
        run(stream(records(2)), last_recorded_at=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert e.value.seq == 0


def test_a_recorded_at_that_is_no_date() -> None:
    with pytest.raises(AuditFailure, match=r"record\.malformed: recorded_at '2026-13-01T00:00:00Z'") as e:
        run(stream(records(2, ["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z"])))
    assert e.value.seq == 1


def test_a_changed_stored_node() -> None:
    lines = stream(records(4))
    i = next(i for i, line in enumerate(lines) if b'"node":[1,1]' in line)
    lines[i] = b'{"hash":"' + b"00" * 32 + b'","node":[1,1]}'
    with pytest.raises(AuditFailure, match=r"node\.mismatch") as e:
        run(lines)
    assert e.value.seq == 2


def test_a_missing_stored_node() -> None:
    lines = [line for line in stream(records(4)) if b'"node":[2,0]' not in line]
    with pytest.raises(AuditFailure, match=r"node\.missing"):
        run(lines)


def test_a_checkpoint_by_another_key() -> None:
    other = NoteSigner.from_string(generate_signer(ORIGIN)[0])
    with pytest.raises(AuditFailure, match=r"checkpoint\.signature"):
        run(stream(records(2), signer=other))


def test_a_checkpoint_with_a_wrong_root() -> None:
    lines = stream(records(3), nodes=False)
    note = sign_checkpoint(Checkpoint(ORIGIN, 2, b"\x09" * 32), SIGNER)
    lines[4] = checkpoint_line(2, note).rstrip(b"\n")
    with pytest.raises(AuditFailure, match=r"checkpoint\.root_mismatch") as e:
        run(lines)
    assert (e.value.seq, e.value.first_seq) == (1, 1)


def test_a_stream_without_a_final_checkpoint() -> None:
    lines = [
        line
        for line in stream(records(3), every=2, nodes=False)
        if not (b'"checkpoint"' in line and b'"size":3' in line)
    ]
    with pytest.raises(AuditFailure, match=r"checkpoint\.missing"):
        run(lines)


def test_a_cut_off_stream_is_unusable() -> None:
    with pytest.raises(UnusableInput, match=r"without its end line"):
        run(stream(records(3))[:-1])


def test_a_stream_without_header_is_unusable() -> None:
    with pytest.raises(UnusableInput, match=r"header"):
        run(stream(records(3))[1:])


def test_a_stream_of_another_ledger_is_unusable() -> None:
    log = LogVerifier("other.example/log", SIGNER.verifier())
    with pytest.raises(UnusableInput, match=r"not 'other\.example/log'"):
        log.feed(parse_line(stream(records(1))[0]))


def test_a_saved_checkpoint_the_log_no_longer_passes_through() -> None:
    saved = Checkpoint(ORIGIN, 2, b"\x05" * 32)
    with pytest.raises(AuditFailure, match=r"log\.split_view") as e:
        run(stream(records(3)), expect=saved)
    assert e.value.seq == 1


@pytest.mark.parametrize(
    "line",
    [b"{", b"[1]", b'{"what":1}', b'{"node":[1],"hash":"00"}', b'{"checkpoint":3,"size":1}', b'{"end":-1}'],
)
def test_malformed_lines_are_named(line: bytes) -> None:
    with pytest.raises(MalformedError, match=r"export line"):
        parse_line(line)


def test_verifier_key_type() -> None:
    assert isinstance(SIGNER.verifier(), NoteVerifier)
