"""What a verifier checks of a run of records ahead, in worker processes: everything that
depends only on each record's bytes (``ledger.verify.check_record``) and its signature under
a public key the caller names, so that the main process is left with the checks that follow
the log in order.

The answers are plain lists (leaf hashes, entry ids) and one bytes object of signature
verdicts, so that sending them back costs little next to the checks. The worker reports only
where the first record that fails is, never why: the verifier checks that record again
itself, which says exactly what is wrong, in its own order of checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.signing import entry_message, verify_signature
from ledger.verify import AuditFailure, CheckedRecord, check_record


@dataclass(frozen=True, slots=True)
class ChecksAhead:
    """The answers for records ``first_seq ..``: the first ``len(leaves)`` of them passed
    ``check_record`` (the one after them, if any, did not); for each its leaf hash, its entry
    id and a signature verdict (1: valid under the key named for its key id, 0: invalid or no
    key named)."""

    first_seq: int
    leaves: list[bytes]
    entry_ids: list[int]
    signatures: bytes

    @property
    def passed(self) -> int:
        return len(self.leaves)


def check_ahead(origin: str, first_seq: int, bodies: list[bytes], keys: dict[str, bytes]) -> ChecksAhead:
    """Check record lines ``bodies`` as records ``first_seq, first_seq + 1, ..`` of ledger
    ``origin``, their signatures under ``keys`` (key id -> public key), up to the first that
    fails ``check_record``. Runs in worker processes (spawned: keep the imports to ``ledger``)."""
    leaves: list[bytes] = []
    ids: list[int] = []
    verdicts = bytearray()
    for i, body in enumerate(bodies):
        try:
            record = check_record(body, first_seq + i, origin)
        except AuditFailure:
            break
        except Exception:  # the verifier meets it again itself, and raises it
            break
        leaves.append(record.leaf)
        ids.append(record.entry_id)
        verdicts.append(_signature_valid(record, keys))
    return ChecksAhead(first_seq, leaves, ids, bytes(verdicts))


def _signature_valid(record: CheckedRecord, keys: dict[str, bytes]) -> int:
    signed = record.signed
    public_key = keys.get(signed.key_id)
    if public_key is None:
        return 0
    return int(verify_signature(public_key, signed.signature, entry_message(signed.entry_bytes)))
