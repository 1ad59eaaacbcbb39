"""The verifier's side of the rules: records replayed through ``admit``, the same code the
appender runs, with the state digest at the end.

Signatures are the costly part of a replay, and a pure fact about (public key, message,
signature): ``signature_work`` names the check for a record as soon as the record's key is
known, so a caller can run the checks ahead in other processes and hand the verdict back in
``AuditReplay.apply``. Whether that key may sign at that seq (registered, not revoked,
the actor's) is still decided by ``admit`` against the replayed key history.

The replayed state is a ``ReplayedState``: in memory (``MemoryState``, the default) or kept
by the caller elsewhere (the auditor keeps it on disk), under the same ``StagedState`` overlay.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import SQLModel

from contracts.digest import DigestBuilder, StateDigest
from contracts.engine import Decodings, admit
from contracts.errors import RuleViolation
from contracts.orgs import OrgKey
from contracts.rulebook import PROJECTION_MODELS, VERSION_BEFORE_ADOPTION, RulesInForce, version_in_force
from contracts.state import Key, MemoryReader, StagedState, StateReader
from ledger.entry import SignedEntry
from ledger.signing import PUBLIC_KEY_SIZE, entry_message, key_id_of
from ledger.verify import AuditFailure, VerifiedRecord

# Entry kinds whose payload carries public keys, and the fields that hold them.
KEY_FIELDS = {"org.registered": "public_keys", "key.added": "public_key"}
# How many announced keys are remembered apart from the replayed state, at least: enough for
# the records read ahead of the replay, whose keys the replayed state does not hold yet.
RECENT_KEYS = 1 << 14

SignatureCheck = tuple[bytes, bytes, bytes]  # (public key, signature, message)


class ReplayedState(StateReader, Protocol):
    """Committed replayed state: what ``StagedState`` reads, plus what the replay writes and
    what the digest and the state file read."""

    def apply(self, changes: Mapping[type[SQLModel], Mapping[Key, SQLModel | None]]) -> None: ...

    def rows_of(self, model: type[SQLModel]) -> Iterable[SQLModel]: ...

    def digest(self) -> StateDigest: ...


class MemoryState(MemoryReader):
    """The replayed state in dictionaries (``MemoryReader``): small logs and tests."""

    def rows_of(self, model: type[SQLModel]) -> Iterable[SQLModel]:
        return self.tables.get(model, {}).values()

    def digest(self) -> StateDigest:
        builder = DigestBuilder(PROJECTION_MODELS)
        for model in PROJECTION_MODELS:
            builder.add_all(model, self.rows_of(model))
        return builder.finish()


@dataclass
class AuditReplay:
    """State rebuilt record by record from seq ``start`` (0 unless restored from a save)."""

    memory: ReplayedState = field(default_factory=MemoryState)
    size: int = 0
    # key id -> public key, for keys payloads announced lately (never stale: a key id is the
    # hash of its key), in two generations of at most RECENT_KEYS each; older keys are looked
    # up in the replayed state. Says nothing about whether the key may sign.
    public_keys: dict[str, bytes] = field(default_factory=dict)
    _older_keys: dict[str, bytes] = field(default_factory=dict)
    # (rule version, the seq it is in force from), in log order: version 1 until an adoption.
    versions: list[tuple[int, int]] = field(default_factory=lambda: [(VERSION_BEFORE_ADOPTION, 0)])

    def learn_keys(self, signed: SignedEntry) -> None:
        """Remember the public keys ``signed``'s payload announces (before it is applied)."""
        self.announce(signed.kind, signed.payload)

    def announce(self, kind: Any, payload: Any) -> None:
        """``learn_keys`` for an entry's kind and payload as decoded, unchecked: what is not a
        32-byte key in base64 is passed over (the rule refuses it when the record is applied),
        and a key learnt that no rule registers signs nothing (``admit`` asks the key history)."""
        field_name = KEY_FIELDS.get(kind) if isinstance(kind, str) else None
        if field_name is None or not isinstance(payload, dict):
            return
        value = payload.get(field_name)
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str) or len(text) != 44:
                continue
            try:
                raw = binascii.a2b_base64(text, strict_mode=True)
            except (binascii.Error, ValueError):
                continue
            if len(raw) == PUBLIC_KEY_SIZE:
                self._remember(key_id_of(raw), raw)

    def _remember(self, key_id: str, public_key: bytes) -> None:
        if len(self.public_keys) >= RECENT_KEYS:
            self._older_keys, self.public_keys = self.public_keys, {}
        self.public_keys[key_id] = public_key

    def public_key(self, key_id: str) -> bytes | None:
        """The public key of ``key_id``, when a payload announced it: lately, or in a record
        replayed (the key history)."""
        found = self.public_keys.get(key_id) or self._older_keys.get(key_id)
        if found is not None:
            return found
        row = self.memory.load(OrgKey, (key_id,))
        if row is None:
            return None
        try:
            raw = base64.b64decode(row.public_key, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != PUBLIC_KEY_SIZE:
            return None
        self._remember(key_id, raw)
        return raw

    def signature_work(self, signed: SignedEntry) -> SignatureCheck | None:
        """The signature check for ``signed``, when its key id's public key is known."""
        public_key = self.public_key(signed.key_id)
        if public_key is None:
            return None
        return public_key, signed.signature, entry_message(signed.entry_bytes)

    def apply(self, record: VerifiedRecord, checked_key: bytes | None = None) -> None:
        """Admit ``record`` as the service would have, under the rule version in force at its
        seq; ``AuditFailure`` with the rule's code. ``checked_key``: the public key a check made
        ahead found the record's signature valid for (see ``signature_work``)."""
        self.apply_all([record], {record.seq: checked_key} if checked_key else {})

    def apply_all(self, records: Sequence[VerifiedRecord], checked: Mapping[int, bytes]) -> None:
        """``apply`` each of ``records`` in turn (``checked``: seq -> ``checked_key``), their
        changes staged together and written to the replayed state once, as the appender stages
        a batch. On ``AuditFailure`` the records before the failing one are applied."""
        staged = StagedState(self.memory)
        decodings = Decodings()
        try:
            for record in records:
                self._admit(staged, record, checked.get(record.seq), decodings)
        finally:
            self.memory.apply(staged.drain())

    def _admit(
        self, staged: StagedState, record: VerifiedRecord, checked_key: bytes | None, decodings: Decodings
    ) -> None:
        if record.seq != self.size:
            raise AuditFailure(
                "record.out_of_place", f"replay expected seq {self.size}, found {record.seq}", seq=record.seq
            )
        try:
            admitted = admit(
                staged,
                record.signed,
                record.seq,
                record.recorded_at,
                checked_key=checked_key,
                decodings=decodings,
            )
        except RuleViolation as v:
            raise AuditFailure(
                v.code, f"the service should have refused this record: {v.message}", seq=record.seq
            ) from v
        # Only a change of the rules' row changes the version in force (an adoption).
        if any(type(c.row) is RulesInForce for c in admitted.changes):
            version = version_in_force(staged)
            if version != self.versions[-1][0]:  # the new version from its own seq
                self.versions.append((version, record.seq))
        self.size += 1

    def versions_used(self) -> list[dict[str, int]]:
        """Which rule versions the log used: each with its first and last seq."""
        spans = [(v, start) for v, start in self.versions if start < self.size]
        return [
            {
                "version": v,
                "from_seq": start,
                "to_seq": (spans[i + 1][1] if i + 1 < len(spans) else self.size) - 1,
            }
            for i, (v, start) in enumerate(spans)
        ]

    def digest(self) -> StateDigest:
        return self.memory.digest()
