"""What a verification page carries for the browser to check on its own: the record exactly as
the ledger stores it, its inclusion proof in the latest checkpoint's tree, that checkpoint's
signed note, and the operator's verifier key, which the page also shows so that an auditor can
compare it with the one they hold. Nothing here is trusted by the page's verdict: the script
recomputes the leaf hash, the root and the signature from these bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import msgspec
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.render import script_json
from api.reads.evidence import Snapshot, snapshot
from ledger import store, stored_proofs
from ledger.checkpoint import NoteVerifier

# A seq as a reader types it: a decimal without a sign or leading zeros, within the ledger's range.
SEQ_TEXT = re.compile(r"0|[1-9][0-9]{0,15}")
# A certificate number as the registry, the exchange and the county assign them: a code of
# ASCII letters, digits and separators, nothing else.
CERTIFICATE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


@dataclass(frozen=True)
class OperatorKey:
    """The operator's checkpoint key as the page shows it: the verifier key string (C2SP
    signed-note form), its name and its 4-byte key hash."""

    text: str
    name: str
    key_hash: str

    @classmethod
    def of(cls, verifier: NoteVerifier) -> OperatorKey:
        return cls(str(verifier), verifier.name, verifier.key_hash.hex())


@dataclass(frozen=True)
class RecordEvidence:
    """One record and how to check it: ``record`` is its four hashed fields as stored."""

    record: dict[str, Any]
    leaf_hash: str
    proof: list[str]
    snapshot: Snapshot

    @property
    def seq(self) -> int:
        return int(self.record["seq"])

    def embedded(self, key: OperatorKey) -> Markup:
        """The evidence as JSON for a ``<script type=application/json>`` element."""
        return script_json(
            {
                "seq": self.seq,
                "leaf_hash": self.leaf_hash,
                "inclusion_proof": self.proof,
                "checkpoint": self.snapshot.json(),
                "operator_key": key.text,
            }
        )


def pretty_record(record: dict[str, Any]) -> str:
    """The record for a reader to look at and edit; the script canonicalises it again (RFC 8785)
    before hashing, so the layout does not matter."""
    return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True)


async def record_evidence(db: AsyncConnection, seq: int) -> RecordEvidence | None:
    """The record at ``seq`` with its proof in the latest checkpoint's tree; None when no
    checkpoint covers such a record."""
    snap = await snapshot(db)
    if seq >= snap.size:
        return None
    rows = await db.run_sync(store.read_records, seq - 1, 1)
    if not rows or rows[0].seq != seq:
        return None
    proof = await db.run_sync(stored_proofs.inclusion_proof, seq, snap.size)
    record: dict[str, Any] = msgspec.json.decode(rows[0].body)
    return RecordEvidence(record, rows[0].leaf_hash.hex(), [h.hex() for h in proof], snap)
