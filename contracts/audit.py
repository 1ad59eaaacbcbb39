"""The verifier's side of the rules: records replayed in memory through ``admit``, the same
code the appender runs, with the state digest at the end.

Signatures are the costly part of a replay, and a pure fact about (public key, message,
signature): ``signature_work`` names the check for a record as soon as the record's key is
known, so a caller can run the checks ahead in other processes and hand the verdict back in
``AuditReplay.apply``. Whether that key may sign at that seq (registered, not revoked,
the actor's) is still decided by ``admit`` against the replayed key history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.digest import DigestBuilder, StateDigest
from contracts.engine import admit
from contracts.errors import RuleViolation
from contracts.rulebook import PROJECTION_MODELS, VERSION_BEFORE_ADOPTION, version_in_force
from contracts.state import MemoryReader, StagedState
from ledger.entry import SignedEntry
from ledger.signing import PUBLIC_KEY_SIZE, decode_b64, entry_message, key_id_of
from ledger.verify import AuditFailure, VerifiedRecord

# Entry kinds whose payload carries public keys, and the fields that hold them.
KEY_FIELDS = {"org.registered": "public_keys", "key.added": "public_key"}

SignatureCheck = tuple[bytes, bytes, bytes]  # (public key, signature, message)


@dataclass
class AuditReplay:
    """State rebuilt record by record from seq ``start`` (0 unless restored from a save)."""

    memory: MemoryReader = field(default_factory=MemoryReader)
    size: int = 0
    # key id -> public key, for every key a payload has announced so far (never stale: a key
    # id is the hash of its key). Says nothing about whether the key may sign.
    public_keys: dict[str, bytes] = field(default_factory=dict)
    # (rule version, the seq it is in force from), in log order: version 1 until an adoption.
    versions: list[tuple[int, int]] = field(default_factory=lambda: [(VERSION_BEFORE_ADOPTION, 0)])

    def learn_keys(self, signed: SignedEntry) -> None:
        """Remember the public keys ``signed``'s payload announces (before it is applied)."""
        field_name = KEY_FIELDS.get(signed.kind)
        if field_name is None:
            return
        value = signed.payload.get(field_name)
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue  # the rule refuses it when the record is applied
            try:
                raw = decode_b64(text, size=PUBLIC_KEY_SIZE, what="public key")
            except (ValueError, TypeError):
                continue  # the rule refuses it when the record is applied
            self.public_keys[key_id_of(raw)] = raw

    def signature_work(self, signed: SignedEntry) -> SignatureCheck | None:
        """The signature check for ``signed``, when its key id's public key is known."""
        public_key = self.public_keys.get(signed.key_id)
        if public_key is None:
            return None
        return public_key, signed.signature, entry_message(signed.entry_bytes)

    def apply(self, record: VerifiedRecord, checked_key: bytes | None = None) -> None:
        """Admit ``record`` as the service would have, under the rule version in force at its
        seq; ``AuditFailure`` with the rule's code. ``checked_key``: the public key a check made
        ahead found the record's signature valid for (see ``signature_work``)."""
        if record.seq != self.size:
            raise AuditFailure(
                "record.out_of_place", f"replay expected seq {self.size}, found {record.seq}", seq=record.seq
            )
        staged = StagedState(self.memory)
        try:
            admit(staged, record.signed, record.seq, record.recorded_at, checked_key=checked_key)
        except RuleViolation as v:
            raise AuditFailure(
                v.code, f"the service should have refused this record: {v.message}", seq=record.seq
            ) from v
        self.memory.apply(staged.drain())
        version = version_in_force(StagedState(self.memory))
        if version != self.versions[-1][0]:  # an adoption: the new version from its own seq
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
        builder = DigestBuilder(PROJECTION_MODELS)
        for model in PROJECTION_MODELS:
            builder.add_all(model, self.memory.tables.get(model, {}).values())
        return builder.finish()
