"""What ``verify --save`` keeps beside the saved checkpoint so that ``verify --since`` can
check only what was added since: the compact range of the tree, the entry ids seen, the
last record's recorded_at, the public keys announced lately (not read back: the replayed key
history holds those that may sign), and the replayed state.

``CHECKPOINT_FILE`` is the signed note (any signed-note tool reads it); ``CHECKPOINT_FILE.state``
is JSON lines: a header, then the entry ids (hex, a thousand a line), then one line per row.
The auditor keeps both files; ``--since`` checks that the saved tree gives the saved, operator
signed, checkpoint before trusting the rest.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import msgspec

from contracts.audit import AuditReplay
from contracts.digest import RowNormaliser, row_from_values
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import key_of
from ledger.checkpoint import Checkpoint
from ledger.entry import format_time, parse_time
from ledger.merkle import CompactRange
from ledger.verify import LogVerifier, UnusableInput

FORMAT = "rural-ledger/audit-state/v1"
IDS_PER_LINE = 1000
ROWS_APPLIED = 10_000  # rows restored are handed to the replayed state this many at a time
_encode = msgspec.json.Encoder().encode


def state_path(checkpoint_file: Path) -> Path:
    return checkpoint_file.with_name(checkpoint_file.name + ".state")


def save_state(checkpoint_file: Path, note: str, log: LogVerifier, replay: AuditReplay) -> None:
    """Write the note and its state (write, fsync, rename: a crash leaves the old pair or a
    stray ``.partial``, never a state that does not match its note)."""
    path = state_path(checkpoint_file)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as f:
        f.write(
            _encode(
                {
                    "format": FORMAT,
                    "origin": log.origin,
                    "size": log.size,
                    "compact": [h.hex() for h in log.tree.hashes],
                    "public_keys": {k: base64.b64encode(v).decode() for k, v in replay.public_keys.items()},
                    "rule_versions": [list(v) for v in replay.versions],
                    "last_recorded_at": format_time(log.last_recorded_at) if log.last_recorded_at else None,
                }
            )
            + b"\n"
        )
        ids: list[str] = []
        for x in log.entry_ids.ascending():
            ids.append(format(x, "032x"))
            if len(ids) == IDS_PER_LINE:
                f.write(_encode({"ids": ids}) + b"\n")
                ids = []
        if ids:
            f.write(_encode({"ids": ids}) + b"\n")
        for model in PROJECTION_MODELS:
            normaliser = RowNormaliser(model)
            for row in replay.memory.rows_of(model):
                f.write(_encode({"table": normaliser.table, "row": normaliser.values(row)}) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    partial.rename(path)
    checkpoint_file.write_text(note)


def load_state(checkpoint_file: Path, saved: Checkpoint, log: LogVerifier, replay: AuditReplay) -> bool:
    """Restore a saved state into ``log`` and ``replay``; False when there is none (then the
    audit starts from record 0). ``saved`` is the note's checkpoint, already verified."""
    path = state_path(checkpoint_file)
    if not path.exists():
        return False
    models = {RowNormaliser(m).table: m for m in PROJECTION_MODELS}
    with path.open("rb") as f:
        header: dict[str, Any] = msgspec.json.decode(f.readline())
        if header.get("format") != FORMAT or header.get("size") != saved.size:
            raise UnusableInput(f"{path} is not the state of the checkpoint of size {saved.size}")
        tree = CompactRange(saved.size, [bytes.fromhex(h) for h in header["compact"]])
        if tree.root() != saved.root_hash:
            raise UnusableInput(f"{path}: the saved tree does not give the saved checkpoint")
        log.tree, log.checkpoint, log.origin = tree, saved, saved.origin
        last = header.get("last_recorded_at")  # absent from states saved before it was kept
        log.last_recorded_at = parse_time(last) if last else None
        # The saved public keys are not read back: the keys that may sign are in the replayed
        # key history, where the checks ahead find them.
        replay.versions = [(int(v), int(seq)) for v, seq in header.get("rule_versions") or [(1, 0)]]
        staged: dict[Any, dict[Any, Any]] = {}
        rows = 0
        for line in f:
            doc = msgspec.json.decode(line)
            if "ids" in doc:
                log.entry_ids.update(int(x, 16) for x in doc["ids"])
                continue
            model = models[doc["table"]]
            row = row_from_values(model, doc["row"])
            staged.setdefault(model, {})[key_of(row)] = row
            rows += 1
            if rows % ROWS_APPLIED == 0:
                replay.memory.apply(staged)
                staged = {}
        replay.memory.apply(staged)
        replay.size = saved.size
    return True
