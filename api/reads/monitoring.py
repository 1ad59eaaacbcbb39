"""Monitoring counts (信息管理系统) for a county, township or village, as of any seq, with the
same figures for each child organisation (a county's townships, a township's villages).

Figures so far: members by status; people settled in town (membership status "settled in
town, rights retained"); households settled in town (those with a whole-household transfer
filing certificate, 整户); the contracted land area and homestead area those households
retain; counts of households, active land contracts and their area, held and withdrawn
homesteads. Shares, exchange volume and vouchers join when those areas exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.evidence import Snapshot, snapshot
from api.reads.history import rows_as_of
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.households import Household
from contracts.land import LandContract, Parcel
from contracts.membership import Membership
from contracts.orgs import Org
from ledger.errors import Category, Rejection

REGIONS = ("county", "township", "village_collective")


@dataclass
class Figures:
    members_by_status: Counter[str] = field(default_factory=Counter)
    people_settled_in_town: int = 0
    households: int = 0
    households_settled_in_town: int = 0
    transfer_filings: Counter[str] = field(default_factory=Counter)  # by scope
    land_contracts: int = 0
    land_area_m2: int = 0
    homesteads_held: int = 0
    homesteads_withdrawn: int = 0
    homestead_area_m2: int = 0
    settled_retained_land_area_m2: int = 0
    settled_retained_homestead_area_m2: int = 0

    def add(self, other: Figures) -> None:
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def json(self) -> dict[str, Any]:
        return {
            name: dict(sorted(value.items())) if isinstance(value, Counter) else value
            for name, value in vars(self).items()
        }


def total(parts: Iterable[Figures]) -> Figures:
    out = Figures()
    for part in parts:
        out.add(part)
    return out


async def village_figures(conn: AsyncConnection, villages: list[str], as_of: int) -> dict[str, Figures]:
    """The figures of each village, from the state as of ``as_of``."""
    figures = {v: Figures() for v in villages}
    where = {"collective_id": villages}
    for m in await rows_as_of(conn, Membership, as_of, where=where):
        figures[m.row.collective_id].members_by_status[m.row.status] += 1
        figures[m.row.collective_id].people_settled_in_town += m.row.status == "settled_in_town"
    settled: set[str] = set()
    for c in await rows_as_of(conn, Certificate, as_of, where={**where, "kind": "transfer_filing"}):
        figures[c.row.collective_id].transfer_filings[c.row.scope] += 1
        if c.row.scope == "household":
            settled.add(c.row.household_id)
    for h in await rows_as_of(conn, Household, as_of, where=where):
        figures[h.row.collective_id].households += h.row.status == "active"
        figures[h.row.collective_id].households_settled_in_town += h.row.id in settled
    contracts = {
        v.row.id: v.row
        for v in await rows_as_of(conn, LandContract, as_of, where=where)
        if v.row.status == "active"
    }
    for c in contracts.values():
        figures[c.collective_id].land_contracts += 1
    for p in await rows_as_of(conn, Parcel, as_of, where={"contract_id": list(contracts)}):
        contract = contracts[p.row.contract_id]
        figures[contract.collective_id].land_area_m2 += p.row.area_m2
        if contract.household_id in settled:
            figures[contract.collective_id].settled_retained_land_area_m2 += p.row.area_m2
    for v in await rows_as_of(conn, Homestead, as_of, where=where):
        f, h = figures[v.row.collective_id], v.row
        if h.status == "held":
            f.homesteads_held += 1
            f.homestead_area_m2 += h.area_m2
            if h.household_id in settled:
                f.settled_retained_homestead_area_m2 += h.area_m2
        else:
            f.homesteads_withdrawn += 1
    return figures


def _org_json(org: Org) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "type": org.type, "area_code": org.area_code}


@dataclass(frozen=True, slots=True)
class Scope:
    """A region monitored as of a seq: the organisation, and each child organisation it is
    reported by with the villages under that child (none for a village itself)."""

    snap: Snapshot
    as_of: int
    org: Org
    parts: list[tuple[Org, list[str]]]


async def scope_of(conn: AsyncConnection, org_id: str, requested: int | None) -> Scope:
    """``org_id`` as of seq ``requested``, with its townships (a county's) or villages (a
    township's); the caller checks the organisation is of a type it reports on."""
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    orgs = {v.row.id: v.row for v in await rows_as_of(conn, Org, as_of)}
    org = orgs.get(org_id)
    if org is None:
        raise Rejection(
            "org.not_found", f"no organisation {org_id} as of seq {as_of}", category=Category.NOT_FOUND
        )

    def children(parent: str, kind: str) -> list[Org]:
        return sorted(
            (o for o in orgs.values() if o.parent_id == parent and o.type == kind), key=lambda o: o.id
        )

    parts: list[tuple[Org, list[str]]] = []
    if org.type == "county":
        parts = [
            (t, [v.id for v in children(t.id, "village_collective")]) for t in children(org.id, "township")
        ]
    elif org.type == "township":
        parts = [(v, [v.id]) for v in children(org.id, "village_collective")]
    return Scope(snap, as_of, org, parts)


async def monitoring_counts(conn: AsyncConnection, org_id: str, requested: int | None) -> dict[str, Any]:
    scope = await scope_of(conn, org_id, requested)
    snap, as_of, org, parts = scope.snap, scope.as_of, scope.org, scope.parts
    if org.type not in REGIONS:
        raise Rejection(
            "monitoring.not_a_region",
            f"{org_id} is a {org.type}; monitoring covers {', '.join(REGIONS)}",
            category=Category.INVALID,
        )
    villages = [org.id] if org.type == "village_collective" else [v for _, vs in parts for v in vs]
    figures = await village_figures(conn, villages, as_of)
    return {
        "org": _org_json(org),
        "as_of": as_of,
        "checkpoint": snap.json(),
        "figures": total(figures.values()).json(),
        "children": [
            {"org": _org_json(child), "figures": total(figures[v] for v in vs).json()} for child, vs in parts
        ],
    }
