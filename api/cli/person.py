"""``rural-ledger person register --as ORG --name N --id-number ID --phone P``: a person enters
the ledger as a party.

The command asks the service for the ledger's keyed blind index of the ID number (a signed
request by the organisation's key), computes the commitment to the personal fields with a fresh
salt, signs the ``party.registered`` entry (party id, commitment, blind index: no personal data)
and submits it with the clear fields beside it, which the service checks against the commitment
and keeps apart from the log, erasable. Sex and birth date default to what the ID number says.

Prints ``{"party", "receipt"}`` (JSON) and checks the receipt offline; exit codes as ``submit``.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import date
from typing import Any

from api.cli.options import add_acting_options, operator_verifier, refused, run_act, signing_key
from api.cli.submit import print_checked
from api.client import LedgerClient, Person, SubmitError
from contracts.identifiers import InvalidIdentifier, validate_resident_id
from ledger.errors import MalformedError
from ledger.signing import KeyFile


def person_from(args: argparse.Namespace) -> Person:
    """The person as given, sex and birth date filled in from a valid ID number."""
    try:
        born, sex = validate_resident_id(args.id_number, date.today())
    except InvalidIdentifier as e:
        raise MalformedError(f"--id-number {args.id_number}: {e}") from e
    try:
        party = str(uuid.UUID(args.party)) if args.party else str(uuid.uuid4())
    except ValueError as e:
        raise MalformedError(f"--party {args.party} is not a UUID") from e
    return Person(
        party=party,
        name=args.name,
        id_number=args.id_number.strip().upper(),
        sex=args.sex or sex,
        birth_date=args.birth_date or born.isoformat(),
        phone=args.phone,
    )


async def register(url: str, origin: str, key: KeyFile, person: Person) -> dict[str, Any]:
    async with LedgerClient(url, origin=origin) as client:
        return await client.submit(await client.person_entry(key, person))


def cmd_person_register(args: argparse.Namespace) -> int:
    verifier = operator_verifier(args)
    key = signing_key(args)
    person = person_from(args)
    try:
        receipt = run_act(args.url, register(args.url, verifier.name, key, person))
    except SubmitError as e:
        return refused("person register", e)
    print(f"registered: party {person.party} by {key.org} at seq {receipt.get('seq')}", file=sys.stderr)
    print_checked({"party": person.party, "receipt": receipt}, verifier)
    return 0


def add_person_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("person", help="persons: `person register` (personal data kept off the log)")
    acts = p.add_subparsers(dest="act", required=True)
    r = acts.add_parser(
        "register", help="register a person as a party: blind index, commitment, personal fields beside"
    )
    r.add_argument("--name", required=True)
    r.add_argument("--id-number", required=True, help="the 18-character resident ID number")
    r.add_argument("--phone", required=True)
    r.add_argument("--sex", choices=["M", "F"], help="default: as the ID number says")
    r.add_argument("--birth-date", metavar="YYYY-MM-DD", help="default: as the ID number says")
    r.add_argument("--party", metavar="UUID", help="the party id to register (default: a new one)")
    add_acting_options(r)
    r.set_defaults(fn=cmd_person_register)
