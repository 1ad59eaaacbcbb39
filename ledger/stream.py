"""The export stream: a ledger as JSON lines, the same over HTTP and in a bundle on disk.

One line per item, in log order, so that a verifier can check it as it reads, in O(1) memory
besides the state it rebuilds:

- the header ``{"rural_ledger_export": 1, "origin", "operator_key", "after", "size", "nodes"}``:
  the stream carries records ``after + 1 .. size - 1``;
- each record's exact canonical bytes (RFC 8785, no newline inside: JCS escapes control
  characters), which begin with ``{"entry":``;
- after a record, when ``nodes`` is true, one ``{"hash", "node": [level, index]}`` line for
  every complete subtree that record finishes, as the server stores it (level 0 is the leaf);
- after the record that makes the tree ``size`` leaves, the checkpoint of that size
  ``{"checkpoint": NOTE, "size"}``, its note carrying any witness cosignature lines;
- the trailer ``{"end": size}``, so that a cut-off stream is told from a short ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from ledger.errors import MalformedError

FORMAT_VERSION = 1
RECORD_PREFIX = b'{"entry":'

_ENCODER = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class Header:
    origin: str
    operator_key: str
    after: int  # the stream starts at record after + 1
    size: int  # the tree size of the last checkpoint in the stream
    nodes: bool  # whether stored Merkle nodes follow their records


@dataclass(frozen=True, slots=True)
class RecordLine:
    body: bytes


@dataclass(frozen=True, slots=True)
class NodeLine:
    level: int
    index: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class CheckpointLine:
    size: int
    note: str


@dataclass(frozen=True, slots=True)
class End:
    size: int


Line = Header | RecordLine | NodeLine | CheckpointLine | End


def header_line(header: Header) -> bytes:
    return (
        _ENCODER.encode(
            {
                "rural_ledger_export": FORMAT_VERSION,
                "origin": header.origin,
                "operator_key": header.operator_key,
                "after": header.after,
                "size": header.size,
                "nodes": header.nodes,
            }
        )
        + b"\n"
    )


def record_line(body: bytes) -> bytes:
    return body + b"\n"


def node_line(level: int, index: int, h: bytes) -> bytes:
    return b'{"hash":"%s","node":[%d,%d]}\n' % (h.hex().encode(), level, index)


def checkpoint_line(size: int, note: str) -> bytes:
    return _ENCODER.encode({"checkpoint": note, "size": size}) + b"\n"


def end_line(size: int) -> bytes:
    return _ENCODER.encode({"end": size}) + b"\n"


def parse_line(raw: bytes) -> Line:
    """One line of the stream (without its newline). Raises ``MalformedError`` naming what is
    wrong; a record line is returned as its bytes, unchecked (the verifier checks it)."""
    if raw.startswith(RECORD_PREFIX):
        return RecordLine(raw)
    try:
        doc: Any = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise MalformedError(f"export line is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise MalformedError("export line is not a JSON object")
    try:
        if "node" in doc:
            level, index = doc["node"]
            h = bytes.fromhex(doc["hash"])
            if len(h) != 32 or not (_nat(level) and _nat(index)):
                raise ValueError("node hash must be 32 bytes, level and index naturals")
            return NodeLine(level, index, h)
        if "checkpoint" in doc:
            if not (isinstance(doc["checkpoint"], str) and _nat(doc["size"])):
                raise ValueError("checkpoint must be a note and a size")
            return CheckpointLine(doc["size"], doc["checkpoint"])
        if "end" in doc:
            if not _nat(doc["end"]):
                raise ValueError("end must be a size")
            return End(doc["end"])
        if "rural_ledger_export" in doc:
            if doc["rural_ledger_export"] != FORMAT_VERSION:
                raise ValueError(f"unsupported export format {doc['rural_ledger_export']!r}")
            header = Header(doc["origin"], doc["operator_key"], doc["after"], doc["size"], doc["nodes"])
            if not (
                isinstance(header.origin, str)
                and isinstance(header.operator_key, str)
                and type(header.after) is int
                and header.after >= -1
                and _nat(header.size)
                and isinstance(header.nodes, bool)
            ):
                raise ValueError("header fields have the wrong types")
            return header
    except (KeyError, ValueError, TypeError) as e:
        raise MalformedError(f"export line is malformed: {e}") from e
    raise MalformedError(f"export line of unknown kind: {sorted(doc)}")


def _nat(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
