"""``rural-ledger kinds [KIND] [--example]``: the entry-kind catalogue of this installation's
rulebook (``contracts.catalogue``), offline.

Without KIND, a table of every kind in force (its rule's version, who signs it); with KIND,
what it records, who signs it, its payload's JSON Schema and an example; with ``--example``,
only the example payload, as a template to fill in and pass to ``rural-ledger submit``. A
running ledger serves the same catalogue, under the rule version in force there, at
``GET /v1/kinds``.
"""

from __future__ import annotations

import argparse

from api.cli.options import print_json
from contracts.catalogue import KindEntry, catalogue, kind_entry
from contracts.orgs import ORG_TYPES
from contracts.rulebook import RULEBOOK
from ledger.errors import MalformedError


def signers(entry: KindEntry) -> str:
    types = (
        "any organisation"
        if set(entry.signed_by.types) == set(ORG_TYPES)
        else "/".join(entry.signed_by.types)
    )
    role = entry.signed_by.role
    return types if role == types else f"{types}: {role}"


def table(entries: list[KindEntry]) -> str:
    width = max(len(e.kind) for e in entries)
    lines = [f"{'KIND':<{width}}  VERSION  SIGNED BY"]
    lines += [f"{e.kind:<{width}}  {e.version:>7}  {signers(e)}" for e in entries]
    return "\n".join(lines)


def describe(entry: KindEntry) -> None:
    print(f"kind         {entry.kind}  (rule version {entry.version}, area {entry.area})")
    print(f"records      {entry.description}")
    print(f"signed by    {signers(entry)}")
    print("payload schema (JSON Schema 2020-12):")
    print_json(entry.schema)
    print("example payload (rural-ledger kinds KIND --example > payload.json):")
    print_json(entry.example)


def cmd_kinds(args: argparse.Namespace) -> int:
    if args.kind is None:
        if args.example:
            raise MalformedError("--example needs a KIND")
        print(table(catalogue(args.rules_version)))
        return 0
    entry = kind_entry(args.kind, args.rules_version)
    if args.example:
        print_json(entry.example)
    else:
        describe(entry)
    return 0


def add_kinds_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("kinds", help="the entry kinds: who signs each, its payload schema and an example")
    p.add_argument("kind", nargs="?", metavar="KIND", help="one kind: its schema and an example")
    p.add_argument("--example", action="store_true", help="only KIND's example payload (JSON)")
    p.add_argument(
        "--rules-version",
        type=int,
        default=RULEBOOK.current,
        help=f"the rule version (default {RULEBOOK.current}, the current one, which `init` adopts)",
    )
    p.set_defaults(fn=cmd_kinds)
