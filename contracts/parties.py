"""Parties (persons) and their personal-data commitments: ``party.registered``.

A person enters the ledger as a UUID, a commitment SHA-256(salt || JCS(personal fields)) and a
keyed blind index HMAC-SHA256(operator secret, normalised resident ID number). Names, ID
numbers and phones never enter an entry: they live in an erasable table, checked against the
commitment and the blind index at the API boundary, so replaying the rules never needs them.
The blind index makes one resident ID one party in a ledger; it is keyed because 18-digit IDs
are brute-forced in minutes from an unkeyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.identifiers import normalise_resident_id
from contracts.orgs import ORG_TYPES, Org
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make
from ledger.canonical import canonical_bytes
from ledger.errors import Category

Uuid = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Sha256Hex = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
PERSONAL_FIELDS = ("name", "id_number", "sex", "birth_date", "phone")


class Party(SQLModel, table=True):
    __tablename__ = "parties"
    id: str = Field(primary_key=True)
    commitment: str
    registered_by: str = Field(index=True)
    registered_seq: int = Field(sa_type=BigInteger)


class PartyIdentity(SQLModel, table=True):
    """Blind index -> party: at most one party per resident ID number."""

    __tablename__ = "party_identities"
    blind_index: str = Field(primary_key=True)
    party_id: str


TABLES = (Party, PartyIdentity)


class PartyRegistered(Payload, frozen=True):
    party: Uuid
    commitment: Sha256Hex
    blind_index: Sha256Hex


def personal_commitment(fields: dict[str, str], salt: bytes) -> str:
    """SHA-256(salt || JCS(the five personal fields)), lowercase hex."""
    return hashlib.sha256(salt + canonical_bytes({k: fields[k] for k in PERSONAL_FIELDS})).hexdigest()


def blind_index(secret: bytes, resident_id: str) -> str:
    return hmac.new(secret, normalise_resident_id(resident_id).encode(), hashlib.sha256).hexdigest()


def require_party(state: State, party_id: str) -> Party:
    party = state.get(Party, party_id)
    if party is None:
        raise RuleViolation("party.unknown", f"party {party_id} is not registered")
    return party


class DuplicatePerson(RuleViolation):
    """A resident ID number already registered. The message never names the existing party:
    ``existing_party`` travels beside it, for the API to show only to an organisation that
    governs that person."""

    def __init__(self, existing_party: str) -> None:
        super().__init__(
            "party.duplicate_person",
            "this resident ID number is already registered as another party",
            category=Category.CONFLICT,
        )
        self.existing_party = existing_party


@rule(
    "party.registered",
    PartyRegistered,
    prefetch=lambda p, rec: [(Party, (p.party,)), (PartyIdentity, (p.blind_index,)), (Org, (rec.actor,))],
    signed_by=Signers(ORG_TYPES, "any organisation"),
)
def register_party(state: State, rec: RecordContext, p: PartyRegistered) -> list[Change]:
    """A person enters the ledger as a party: a UUID, a commitment to the personal fields and a keyed
    blind index."""
    if state.get(Party, p.party) is not None:
        raise RuleViolation("party.already_registered", f"party {p.party} is already registered")
    same = state.get(PartyIdentity, p.blind_index)
    if same is not None:
        raise DuplicatePerson(same.party_id)
    return [
        Put(
            make(Party, id=p.party, commitment=p.commitment, registered_by=rec.actor, registered_seq=rec.seq)
        ),
        Put(make(PartyIdentity, blind_index=p.blind_index, party_id=p.party)),
    ]
