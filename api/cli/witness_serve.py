"""``rural-ledger witness serve``: run a witness (C2SP tlog-witness) for the logs it trusts.

Trust is configured by log key: ``--log VKEY`` or ``--operator-key VKEY`` (the origin is the
key's name, as a ledger's operator key is named after its origin) or ``--log ORIGIN=VKEY``, and
``--logs FILE`` with one ``VKEY`` or ``ORIGIN VKEY`` per line (``#`` starts a comment). The
witness's own key is its key file (``--key``, made with ``--name`` when missing), its state a
SQLite file (``--state``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from api.cli.verify import read_key
from api.cli.witness import load_or_create_key
from api.witness.server import Witness, witness_app
from api.witness.state import WitnessState
from ledger.checkpoint import NoteVerifier
from ledger.errors import MalformedError


def trusted_logs(keys: Iterable[str], files: Iterable[str]) -> dict[str, list[NoteVerifier]]:
    """Origin -> log keys, from ``--log`` values and ``--logs`` files; ``MalformedError`` names
    the first bad one."""
    specs = list(keys)
    for name in files:
        for line in Path(name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                specs.append(" ".join(line.split()))
    trusted: dict[str, list[NoteVerifier]] = {}
    for spec in specs:
        origin, sep, key = spec.partition(" ")
        if not sep:
            origin, sep, key = spec.partition("=") if "=" in spec.split("+", 1)[0] else ("", "", spec)
        verifier = NoteVerifier.from_string(read_key(key))
        trusted.setdefault(origin or verifier.name, []).append(verifier)
    if not trusted:
        raise MalformedError("a witness needs at least one log: give --log VKEY or --logs FILE")
    return trusted


def make_witness(key: str, name: str | None, state: str | None, logs: list[str], files: list[str]) -> Witness:
    signer = load_or_create_key(Path(key), name)
    state_path = Path(state) if state else Path(key).with_suffix(".witness.db")
    return Witness(signer, trusted_logs(logs, files), WitnessState(state_path))


def cmd_witness_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if not args.key:
        print("rural-ledger witness serve: give --key FILE (the witness's key file)", file=sys.stderr)
        return 2
    try:
        logs = [*args.log, *([args.operator_key] if args.operator_key else [])]
        witness = make_witness(args.key, args.name, args.state, logs, args.logs)
    except (MalformedError, OSError) as e:
        print(f"rural-ledger witness serve: {e}", file=sys.stderr)
        return 2
    print(f"witness      {witness.signer.verifier()}", flush=True)
    for origin in sorted(witness.trusted):
        print(f"follows      {origin}", flush=True)
    print(f"add-checkpoint http://{args.host}:{args.port}/add-checkpoint", flush=True)
    uvicorn.run(witness_app(witness), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def add_serve_options(w: argparse.ArgumentParser) -> None:
    g = w.add_argument_group("witness serve")
    g.add_argument("--log", action="append", default=[], metavar="[ORIGIN=]VKEY", help="a log to witness")
    g.add_argument("--logs", action="append", default=[], metavar="FILE", help="logs to witness, one a line")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=8100)
    g.add_argument("--log-level", default="info")
