"""``rural-ledger proof SEQ --out FILE``: a record's offline proof file (C2SP tlog-proof), and
``rural-ledger verify-proof FILE --record RECORD.json``: check one with no network.

``proof`` fetches ``GET /v1/proofs/offline`` and the record from the service (``--url``),
checks the file against the operator key before writing it, and writes the record beside it
(``--record-out``, default ``FILE.record.json``). ``verify-proof`` needs nothing but the two
files and the keys: the operator's signature on the checkpoint, the record's leaf under its
root at the file's index, and a cosignature by every ``--witness-key`` (or
``--min-witnesses`` of them). Exit 0 when it holds; 1 when it does not (a changed byte, a
record not in the log, a missing cosignature); 2 when a file or key cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from api.cli.options import DEFAULT_URL, URL_ENV, add_operator_key_option, operator_verifier
from api.cli.verify import read_key
from ledger.canonical import canonical_bytes
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import leaf_hash
from ledger.proof_file import ProvenRecord, parse_proof, verify_proof
from ledger.witness import CosignerVerifier

RECORD_FIELDS = ("seq", "recorded_at", "entry", "sig")


def record_leaf(record: Any) -> tuple[int, bytes]:
    """A record's seq and leaf hash, from its JSON (``leaf_hash`` and other extras ignored)."""
    if not isinstance(record, dict) or any(f not in record for f in RECORD_FIELDS):
        raise MalformedError(f"a record is a JSON object with {', '.join(RECORD_FIELDS)}")
    seq = record["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise MalformedError(f"a record's seq is a non-negative integer, found {seq!r}")
    return seq, leaf_hash(canonical_bytes({f: record[f] for f in RECORD_FIELDS}))


def check_proof_file(
    proof_text: bytes,
    record: Any,
    args: argparse.Namespace,
) -> ProvenRecord:
    """``IntegrityError`` when the proof does not hold for ``record``, ``MalformedError`` for
    unusable keys (a malformed proof file is a proof that does not hold)."""
    operator = operator_verifier(args)
    witnesses = [CosignerVerifier.from_string(read_key(k)) for k in args.witness_key]
    try:
        proof = parse_proof(proof_text)
        seq, leaf = record_leaf(record)
    except MalformedError as e:
        raise IntegrityError(f"not a proof of this record: {e}") from e
    if seq != proof.index:
        raise IntegrityError(f"the proof is for record {proof.index}, the record is {seq}")
    return verify_proof(proof, leaf, operator, witnesses, args.min_witnesses)


def cmd_verify_proof(args: argparse.Namespace) -> int:
    try:
        proof_text = Path(args.file).read_bytes()
        record_text = Path(args.record).read_bytes()
    except OSError as e:
        print(f"rural-ledger verify-proof: {e}", file=sys.stderr)
        return 2
    try:
        record = json.loads(record_text)
    except ValueError:
        record = None  # a record that is not JSON is not the record proven
    try:
        proven = check_proof_file(proof_text, record, args)
    except IntegrityError as e:
        print(f"rural-ledger verify-proof: does not hold: {e}")
        return 1
    except MalformedError as e:
        print(f"rural-ledger verify-proof: {e}", file=sys.stderr)
        return 2
    cp = proven.checkpoint
    print(f"rural-ledger verify-proof: holds: record {proven.index} is in {cp.origin} at size {cp.size}")
    for c in proven.witnessed_by:
        print(f"  cosigned by  {c.name} at {c.timestamp}")
    return 0


async def fetch(url: str, seq: int, size: int | None) -> tuple[bytes, Any]:
    params = {"seq": seq} if size is None else {"seq": seq, "size": size}
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=60) as http:
        r = await http.get("/v1/proofs/offline", params=params)
        if r.status_code != 200:
            raise MalformedError(f"the service answered {r.status_code}: {r.text[:300]}")
        rec = await http.get(f"/v1/entries/{seq}")
        if rec.status_code != 200:
            raise MalformedError(f"the service answered {rec.status_code} for record {seq}: {rec.text[:300]}")
        return r.content, rec.json()


def cmd_proof(args: argparse.Namespace) -> int:
    out = Path(args.out)
    record_out = Path(args.record_out) if args.record_out else out.with_name(out.name + ".record.json")
    try:
        proof_text, record = asyncio.run(fetch(args.url, args.seq, args.size))
        proven = check_proof_file(proof_text, record, args)
    except (MalformedError, httpx.HTTPError) as e:
        print(f"rural-ledger proof: {e}", file=sys.stderr)
        return 2
    except IntegrityError as e:
        print(f"rural-ledger proof: the service's proof does not hold: {e}", file=sys.stderr)
        return 1
    out.write_bytes(proof_text)
    record_out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
    cp = proven.checkpoint
    names = ", ".join(c.name for c in proven.witnessed_by) or "none checked"
    print(f"proof file   {out} (record {args.seq} under size {cp.size}; cosigned by {names})")
    print(f"record       {record_out}")
    return 0


def add_proof_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("proof", help="write a record's offline proof file (C2SP tlog-proof)")
    p.add_argument("seq", type=int, metavar="SEQ")
    p.add_argument("--out", required=True, metavar="FILE", help="the proof file (.tlog-proof)")
    p.add_argument("--record-out", metavar="FILE", help="the record's JSON (default FILE.record.json)")
    p.add_argument("--size", type=int, help="the checkpoint's size (default: the best witnessed)")
    p.add_argument("--url", default=os.environ.get(URL_ENV, DEFAULT_URL), help="the ledger service")
    _policy_options(p)
    p.set_defaults(fn=cmd_proof)

    v = sub.add_parser("verify-proof", help="check an offline proof file with no network")
    v.add_argument("file", metavar="FILE", help="the proof file")
    v.add_argument("--record", required=True, metavar="RECORD.json", help="the record it proves")
    _policy_options(v)
    v.set_defaults(fn=cmd_verify_proof)


def _policy_options(p: argparse.ArgumentParser) -> None:
    add_operator_key_option(p)
    p.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="VKEY_OR_FILE",
        help="a witness that must cosign",
    )
    p.add_argument("--min-witnesses", type=int, help="how many of them (default: all)")
