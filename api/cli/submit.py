"""``rural-ledger submit KIND --as ORG --payload FILE|-``: sign a payload with the
organisation's key file, submit it to the ledger service, print the receipt and check it offline.

The receipt (JSON, as the service answered it) goes to standard output, so that
``> receipt.json`` keeps it for ``rural-ledger receipt check``; what was stored and checked goes
to standard error. Exit 0 when the entry is stored and its receipt checks, 1 when the ledger
refused it (its problem's stable code and detail are printed; nothing was stored) or the
receipt does not check, 2 when the input cannot be used (no key file, a payload that is not a
JSON object, no operator key, no service answering).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.cli.options import (
    add_acting_options,
    operator_verifier,
    print_json,
    read_json_object,
    refused,
    run_act,
    signing_key,
)
from api.cli.receipt import check, checked_line, parse_receipt
from api.client import LedgerClient, SubmitError
from ledger.checkpoint import NoteVerifier
from ledger.signing import KeyFile


async def sign_and_submit(
    url: str, origin: str, key: KeyFile, kind: str, payload: dict[str, Any], note: str | None
) -> dict[str, Any]:
    async with LedgerClient(url, origin=origin) as client:
        item = await client.sign(key, kind, payload)
        if note is not None:
            item["note"] = note
        return await client.submit(item)


def print_checked(receipt_json: dict[str, Any], verifier: NoteVerifier) -> None:
    """Print the receipt, then check it: a receipt that does not check raises, after it was shown."""
    print_json(receipt_json)
    receipt = parse_receipt(receipt_json)
    print(checked_line(receipt, check(receipt, verifier)), file=sys.stderr)


def cmd_submit(args: argparse.Namespace) -> int:
    verifier = operator_verifier(args)
    key = signing_key(args)
    payload = read_json_object(args.payload, "payload")
    try:
        receipt = run_act(
            args.url, sign_and_submit(args.url, verifier.name, key, args.kind, payload, args.note)
        )
    except SubmitError as e:
        return refused("submit", e)
    print(f"stored: {args.kind} signed by {key.org} at seq {receipt.get('seq')}", file=sys.stderr)
    print_checked(receipt, verifier)
    return 0


def add_submit_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "submit", help="sign a payload as an organisation, submit it, print and check the receipt"
    )
    p.add_argument("kind", metavar="KIND", help="the entry kind (see `rural-ledger kinds`)")
    p.add_argument(
        "--payload", required=True, metavar="FILE", help="the payload, a JSON object (- for stdin)"
    )
    p.add_argument("--note", help="a free-text note kept beside the entry, off the log (erasable)")
    add_acting_options(p)
    p.set_defaults(fn=cmd_submit)
