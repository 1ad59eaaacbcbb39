"""``rural-ledger receipt check FILE``: a receipt checked offline, with nothing but the operator
key: the checkpoint's signature, and the inclusion proof of the record's leaf against it.

Exit 0 when it checks, 1 when it does not (a signature, a checkpoint or a proof that fails:
evidence of a ledger that lied, or of a receipt changed since), 2 when the file does not have
a receipt's shape or no operator key is known.
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any

import msgspec

from api.cli.options import add_operator_key_option, operator_verifier, read_json_object
from api.client import check_receipt
from ledger.checkpoint import Checkpoint, NoteVerifier
from ledger.errors import IntegrityError, MalformedError

Hash = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What ``POST /v1/entries`` answers for a stored entry (other fields are ignored)."""

    seq: Annotated[int, msgspec.Meta(ge=0)]
    leaf_hash: Hash
    checkpoint: str
    inclusion_proof: list[Hash]


def parse_receipt(value: Any) -> Receipt:
    """A receipt, or the ``receipt`` beside a result such as ``person register`` prints."""
    if isinstance(value, dict) and isinstance(value.get("receipt"), dict):
        value = value["receipt"]
    try:
        return msgspec.convert(value, Receipt)
    except msgspec.ValidationError as e:
        raise MalformedError(f"not a receipt: {e}") from e


def check(receipt: Receipt, verifier: NoteVerifier) -> Checkpoint:
    """The receipt's checkpoint, once its signature by ``verifier`` (for the ledger it names)
    and the inclusion proof are checked; ``IntegrityError`` when either fails, a checkpoint
    note that does not parse and a proof of the wrong length or for a seq beyond the tree
    included: the receipt has the shape of one, and what it claims is false."""
    try:
        return check_receipt(msgspec.to_builtins(receipt), verifier, verifier.name)
    except (IntegrityError, MalformedError) as e:
        raise IntegrityError(f"the receipt does not check: {e}") from e


def checked_line(receipt: Receipt, checkpoint: Checkpoint) -> str:
    return (
        f"receipt checked: seq {receipt.seq} is in {checkpoint.origin} at tree size {checkpoint.size}, "
        "checkpoint signed by the operator key"
    )


def cmd_receipt_check(args: argparse.Namespace) -> int:
    receipt = parse_receipt(read_json_object(args.file, "receipt"))
    print(checked_line(receipt, check(receipt, operator_verifier(args))))
    return 0


def add_receipt_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("receipt", help="check a receipt offline: `receipt check FILE`")
    acts = p.add_subparsers(dest="act", required=True)
    c = acts.add_parser("check", help="check a receipt's checkpoint signature and inclusion proof")
    c.add_argument("file", metavar="FILE", help="the receipt (JSON, as `submit` prints it), or - for stdin")
    add_operator_key_option(c)
    c.set_defaults(fn=cmd_receipt_check)
