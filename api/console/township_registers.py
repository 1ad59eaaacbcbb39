"""What a township officer reads of the villages under their township: the villages, and one
village's households (members by pseudonymous party id and membership status, never names),
land contracts, homesteads and certificates, from the projections.

A village is the township's when the ledger registered it under that township (``orgs.parent_id``);
any other village is refused by the pages (``console.forbidden``), so an officer reads only the
registers of their own villages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import literal_column
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.collective_paging import PAGE_ROWS
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.households import Household, HouseholdMember
from contracts.land import LandContract
from contracts.membership import Membership
from contracts.orgs import Org

# Rows of one register read for a page: one more than it shows (whether a next page exists),
# so a large village's register pages and a page stays light.
LIST_LIMIT = PAGE_ROWS + 1


@dataclass(frozen=True)
class VillageRow:
    """A village of the township, with the count of its households."""

    org: Org
    households: int


@dataclass(frozen=True)
class MemberRow:
    party_id: str
    relation: str
    status: str | None  # the membership's status, None when never admitted


@dataclass
class HouseholdFile:
    """One household as the township files it: its members, the rights it holds now, its
    membership certificates (the basis of a filing) and the transfer filings made of it."""

    household: Household
    members: list[MemberRow]
    rights: dict[str, list[str]]
    membership_certificates: list[Certificate] = field(default_factory=list)
    transfer_filings: list[Certificate] = field(default_factory=list)

    def valid_certificates(self, today: date) -> list[Certificate]:
        """Membership certificates still valid today that list every member (a whole-household
        filing must rest on one)."""
        everyone = {m.party_id for m in self.members}
        return [
            c
            for c in self.membership_certificates
            if (c.valid_until is None or today <= c.valid_until) and everyone <= set(c.persons)
        ]

    def individual_bases(self, today: date) -> list[Certificate]:
        """Membership certificates still valid today (an individual filing rests on one that
        lists its person)."""
        return [c for c in self.membership_certificates if c.valid_until is None or today <= c.valid_until]

    def individually_fileable(self, today: date) -> list[str]:
        """The members an individual filing may name: active members (not settled in town
        already) listed on a valid membership certificate (the rule checks both again)."""
        certified = {p for c in self.individual_bases(today) for p in c.persons}
        return [m.party_id for m in self.members if m.status == "active" and m.party_id in certified]


async def villages_of(session: AsyncSession, township_id: str) -> list[VillageRow]:
    villages = list(
        (
            await session.exec(
                select(Org)
                .where(col(Org.parent_id) == township_id, col(Org.type) == "village_collective")
                .order_by(col(Org.id))
            )
        ).all()
    )
    counts: dict[str, int] = {}
    if villages:
        rows = await session.exec(
            select(Household.collective_id, func.count())
            .where(col(Household.collective_id).in_([v.id for v in villages]))
            .group_by(col(Household.collective_id))
        )
        counts = {str(v): int(n) for v, n in rows.all()}
    return [VillageRow(v, counts.get(v.id, 0)) for v in villages]


async def village_of(session: AsyncSession, township_id: str, village_id: str) -> Org | None:
    """The village, when it is one of the township's; else None."""
    org = await session.get(Org, village_id)
    if org is None or org.type != "village_collective" or org.parent_id != township_id:
        return None
    return org


async def village_registers(
    session: AsyncSession, village_id: str, skips: dict[str, int] | None = None
) -> tuple[list[tuple[Household, int]], list[LandContract], list[Homestead], list[Certificate]]:
    """The village's households (each with its member count), land contracts, homesteads and
    certificates: a page of each (``skips``: the rows to skip of ``households``, ``land``,
    ``homesteads``, ``certificates``), ``LIST_LIMIT`` rows at most."""
    skip = skips or {}
    households = (
        await session.exec(
            select(Household, func.count(col(HouseholdMember.party_id)))
            .join(HouseholdMember, col(HouseholdMember.household_id) == col(Household.id), isouter=True)
            .where(col(Household.collective_id) == village_id)
            # The whole key, so that the household's other columns may be selected.
            .group_by(literal_column("households.ledger_id"), col(Household.id))
            .order_by(col(Household.registered_seq), col(Household.id))
            .offset(skip.get("households", 0))
            .limit(LIST_LIMIT)
        )
    ).all()
    contracts = (
        await session.exec(
            select(LandContract)
            .where(col(LandContract.collective_id) == village_id)
            .order_by(col(LandContract.id))
            .offset(skip.get("land", 0))
            .limit(LIST_LIMIT)
        )
    ).all()
    homesteads = (
        await session.exec(
            select(Homestead)
            .where(col(Homestead.collective_id) == village_id)
            .order_by(col(Homestead.id))
            .offset(skip.get("homesteads", 0))
            .limit(LIST_LIMIT)
        )
    ).all()
    certificates = (
        await session.exec(
            select(Certificate)
            .where(col(Certificate.collective_id) == village_id)
            .order_by(col(Certificate.issued_seq), col(Certificate.id))
            .offset(skip.get("certificates", 0))
            .limit(LIST_LIMIT)
        )
    ).all()
    return [(h, int(n)) for h, n in households], list(contracts), list(homesteads), list(certificates)


async def household_file(session: AsyncSession, village_id: str, household_id: str) -> HouseholdFile | None:
    """The household of the village, filed as the township sees it; None when the village has no
    such household."""
    household = await session.get(Household, household_id)
    if household is None or household.collective_id != village_id:
        return None
    members = [
        MemberRow(m.party_id, m.relation, ms.status if ms is not None else None)
        for m, ms in (
            await session.exec(
                select(HouseholdMember, Membership)
                .join(Membership, col(Membership.party_id) == col(HouseholdMember.party_id), isouter=True)
                .where(col(HouseholdMember.household_id) == household_id)
                .order_by(col(HouseholdMember.joined_seq), col(HouseholdMember.party_id))
            )
        ).all()
    ]
    contracts = list(
        (await session.exec(select(LandContract).where(col(LandContract.household_id) == household_id))).all()
    )
    homesteads = list(
        (await session.exec(select(Homestead).where(col(Homestead.household_id) == household_id))).all()
    )
    certificates = list(
        (
            await session.exec(
                select(Certificate)
                .where(col(Certificate.household_id) == household_id)
                .order_by(col(Certificate.issued_seq))
            )
        ).all()
    )
    return HouseholdFile(
        household,
        members,
        # As the rule reckons them (``contracts.certificates.rights_held``), which checks again.
        {
            "land_contracts": sorted(c.id for c in contracts if c.status == "active"),
            "homesteads": sorted(h.id for h in homesteads if h.status == "held"),
        },
        [c for c in certificates if c.kind == "membership"],
        [c for c in certificates if c.kind == "transfer_filing"],
    )
