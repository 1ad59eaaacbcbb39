"""Retained-rights statements: everything a person or a household holds as of a seq — membership,
household, contracted land with its parcels and management transfers, homestead, certificates —
each item with the seq of the record that established it and that record's inclusion proof in
the latest checkpoint's tree. ``party_facts`` and ``household_facts`` gather a ``Statement``;
the JSON and the printed page (``api.reads.rights_page``) are both made from it.

Read from ``projection_history`` (``api.reads.history``), so a statement is exact at any seq; the
default is the last record the latest checkpoint covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.evidence import Proven, Snapshot, prove, snapshot
from api.reads.history import Version, row_as_of, rows_as_of
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.households import Household, HouseholdMember
from contracts.land import LandContract, ManagementTransfer, Parcel
from contracts.membership import Membership
from contracts.parties import Party
from contracts.shares import ShareHolding, ShareScheme
from ledger.errors import Category, Rejection


@dataclass
class Holdings:
    """A household's rights as of a seq (active contracts, held homestead)."""

    household: Version[Household] | None = None
    members: list[Version[HouseholdMember]] = field(default_factory=list)
    memberships: list[Version[Membership]] = field(default_factory=list)
    contracts: list[Version[LandContract]] = field(default_factory=list)
    parcels: list[Version[Parcel]] = field(default_factory=list)
    transfers: list[Version[ManagementTransfer]] = field(default_factory=list)
    homesteads: list[Version[Homestead]] = field(default_factory=list)
    shares: list[Version[ShareHolding]] = field(default_factory=list)  # units > 0
    schemes: list[Version[ShareScheme]] = field(default_factory=list)  # of the shares' collectives

    def versions(self) -> list[Version[Any]]:
        return [
            *([self.household] if self.household else []),
            *self.members,
            *self.memberships,
            *self.contracts,
            *self.parcels,
            *self.transfers,
            *self.homesteads,
            *self.shares,
            *self.schemes,
        ]


async def holdings(conn: AsyncConnection, household_id: str, as_of: int) -> Holdings:
    found = Holdings(household=await row_as_of(conn, Household, (household_id,), as_of))
    if found.household is None:
        return found
    where = {"household_id": household_id}
    found.members = await rows_as_of(conn, HouseholdMember, as_of, where=where)
    found.memberships = await rows_as_of(
        conn, Membership, as_of, where={"party_id": [m.row.party_id for m in found.members]}
    )
    found.contracts = [
        v for v in await rows_as_of(conn, LandContract, as_of, where=where) if v.row.status == "active"
    ]
    ids = [v.row.id for v in found.contracts]
    found.parcels = await rows_as_of(conn, Parcel, as_of, where={"contract_id": ids})
    found.transfers = await rows_as_of(conn, ManagementTransfer, as_of, where={"contract_id": ids})
    found.homesteads = [
        v for v in await rows_as_of(conn, Homestead, as_of, where=where) if v.row.status == "held"
    ]
    found.shares = [v for v in await rows_as_of(conn, ShareHolding, as_of, where=where) if v.row.units > 0]
    found.schemes = await schemes_of(conn, found.shares, as_of)
    return found


async def schemes_of(
    conn: AsyncConnection, shares: list[Version[ShareHolding]], as_of: int
) -> list[Version[ShareScheme]]:
    collectives = sorted({v.row.collective_id for v in shares})
    return (
        await rows_as_of(conn, ShareScheme, as_of, where={"collective_id": collectives})
        if collectives
        else []
    )


async def own_shares(
    conn: AsyncConnection, h: Holdings, party_id: str, as_of: int
) -> list[Version[ShareHolding]]:
    """The household's holdings and the person's own, wherever recorded (an heir's income
    rights in another collective, say)."""
    own = [
        v for v in await rows_as_of(conn, ShareHolding, as_of, where={"holder": party_id}) if v.row.units > 0
    ]
    seen = {(v.row.collective_id, v.row.holder) for v in h.shares}
    shares = [*h.shares, *(v for v in own if (v.row.collective_id, v.row.holder) not in seen)]
    h.schemes = await schemes_of(conn, shares, as_of)
    return shares


class Claims:
    """Rows as JSON, each with the evidence of the record that left it so."""

    def __init__(self, proven: dict[int, Proven]) -> None:
        self.proven = proven

    def one(self, v: Version[Any] | None) -> dict[str, Any] | None:
        if v is None:
            return None
        return {**v.row.model_dump(mode="json"), "evidence": self.proven[v.seq].json()}

    def all(self, versions: Sequence[Version[Any]]) -> list[dict[str, Any]]:
        return [self.one(v) for v in versions]  # type: ignore[misc]


def land_json(h: Holdings, claims: Claims) -> list[dict[str, Any]]:
    out = []
    for contract in h.contracts:
        parcels = [p for p in h.parcels if p.row.contract_id == contract.row.id]
        out.append(
            {
                **claims.one(contract),  # type: ignore[dict-item]
                "area_m2": sum(p.row.area_m2 for p in parcels),
                "parcels": claims.all(parcels),
                "management_transfers": claims.all(
                    [t for t in h.transfers if t.row.contract_id == contract.row.id]
                ),
            }
        )
    return out


def holdings_json(h: Holdings, claims: Claims) -> dict[str, Any]:
    return {
        "land_contracts": land_json(h, claims),
        "land_area_m2": sum(p.row.area_m2 for p in h.parcels),
        "homestead": claims.one(h.homesteads[0] if h.homesteads else None),
        "homestead_area_m2": sum(v.row.area_m2 for v in h.homesteads),
    }


def _header(snap: Snapshot, as_of: int) -> dict[str, Any]:
    return {"as_of": as_of, "checkpoint": snap.json()}


@dataclass
class Statement:
    """What a statement claims as of a seq, each claim with its record's proof (``proven``,
    by seq) in the snapshot's tree. A person's statement has ``party``, ``membership`` and
    ``member`` (their place in a household), a household's only the holdings."""

    snapshot: Snapshot
    as_of: int
    holdings: Holdings
    certificates: list[Version[Certificate]]
    proven: dict[int, Proven]
    party: Version[Party] | None = None
    membership: Version[Membership] | None = None
    member: Version[HouseholdMember] | None = None


async def party_facts(conn: AsyncConnection, party_id: str, requested: int | None) -> Statement:
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    party = await row_as_of(conn, Party, (party_id,), as_of)
    if party is None:
        raise Rejection(
            "party.not_found", f"no party {party_id} as of seq {as_of}", category=Category.NOT_FOUND
        )
    membership = await row_as_of(conn, Membership, (party_id,), as_of)
    member = await row_as_of(conn, HouseholdMember, (party_id,), as_of)
    h = await holdings(conn, member.row.household_id, as_of) if member else Holdings()
    h.shares = await own_shares(conn, h, party_id, as_of)
    certificates = await rows_as_of(conn, Certificate, as_of, contains={"persons": party_id})
    versions = [party, membership, member, *h.versions(), *certificates]
    proven = await prove(conn, [v.seq for v in versions if v is not None], snap)
    return Statement(snap, as_of, h, certificates, proven, party, membership, member)


async def household_facts(conn: AsyncConnection, household_id: str, requested: int | None) -> Statement:
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    h = await holdings(conn, household_id, as_of)
    if h.household is None:
        raise Rejection(
            "household.not_found",
            f"no household {household_id} as of seq {as_of}",
            category=Category.NOT_FOUND,
        )
    certificates = await rows_as_of(conn, Certificate, as_of, where={"household_id": household_id})
    proven = await prove(conn, [v.seq for v in [*h.versions(), *certificates]], snap)
    return Statement(snap, as_of, h, certificates, proven)


async def party_statement(conn: AsyncConnection, party_id: str, requested: int | None) -> dict[str, Any]:
    s = await party_facts(conn, party_id, requested)
    h, member, claims = s.holdings, s.member, Claims(s.proven)
    return {
        "party": party_id,
        **_header(s.snapshot, s.as_of),
        "registered": claims.one(s.party),
        "membership": claims.one(s.membership),
        "household": None
        if member is None
        else {
            **claims.one(h.household),  # type: ignore[dict-item]
            "relation": member.row.relation,
            "member_since": claims.one(member),
        },
        **holdings_json(h, claims),
        "certificates": claims.all(s.certificates),
    }


async def household_statement(
    conn: AsyncConnection, household_id: str, requested: int | None
) -> dict[str, Any]:
    s = await household_facts(conn, household_id, requested)
    h, claims = s.holdings, Claims(s.proven)
    status = {v.row.party_id: v for v in h.memberships}
    return {
        **_header(s.snapshot, s.as_of),
        "household": claims.one(h.household),
        "members": [
            {
                **claims.one(m),  # type: ignore[dict-item]
                "membership": claims.one(status.get(m.row.party_id)),
            }
            for m in h.members
        ],
        **holdings_json(h, claims),
        "certificates": claims.all(s.certificates),
    }
