"""Replaying records through the rules into memory: what the verifier does, and what must
rebuild exactly the projection tables the service holds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contracts.engine import admit
from contracts.state import MemoryReader, StagedState
from ledger.entry import parse_submission


class Replay:
    """State rebuilt record by record; ``apply`` raises the rule's error for a bad record."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.memory = MemoryReader()
        self.size = 0

    def apply(self, record: dict[str, Any]) -> None:
        """Apply the record with the next seq (``record`` is the decoded record object)."""
        if record["seq"] != self.size:
            raise ValueError(f"expected seq {self.size}, found {record['seq']}")
        signed = parse_submission({"entry": record["entry"], "sig": record["sig"]}, self.origin)
        staged = StagedState(self.memory)
        admit(staged, signed, record["seq"], record["recorded_at"])
        self.memory.apply(staged.drain())
        self.size += 1

    def apply_all(self, records: Iterable[dict[str, Any]]) -> Replay:
        for record in records:
            self.apply(record)
        return self
