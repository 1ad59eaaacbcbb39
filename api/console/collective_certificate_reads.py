"""What the clerk's certificate pages read: one household's confirmed members (with names: the
household is this collective's), the rights it holds now as the rules reckon them
(``contracts.certificates.rights_held``: active land contracts, held homesteads), its share
holdings (``contracts.shares.household_holdings``), and the collective's certificates, a page
at a time. Each query names the collective; none reads another's rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.collective_reads import PAGE_LIMIT

IN_FORCE = ("active", "settled_in_town")  # contracts.membership.IN_FORCE


@dataclass(frozen=True)
class HouseholdRights:
    """A household of this collective as a certificate lists it."""

    household_id: str
    members: Sequence[Row[Any]]  # party_id, name, relation, status
    rights: dict[str, list[str]]
    holdings: dict[str, int]

    @property
    def names(self) -> dict[str, str | None]:
        return {m.party_id: m.name for m in self.members}

    @property
    def confirmed(self) -> list[Row[Any]]:
        return [m for m in self.members if m.status in IN_FORCE]


async def _rows(db: AsyncConnection, sql: str, **params: Any) -> Sequence[Row[Any]]:
    return (await db.execute(text(sql), params)).all()


async def household_rights(db: AsyncConnection, collective: str, household: str) -> HouseholdRights | None:
    """The household's members, rights and holdings; None when it is not this collective's."""
    found = await _rows(
        db, "SELECT id FROM households WHERE id = :h AND collective_id = :c", h=household, c=collective
    )
    if not found:
        return None
    members = await _rows(
        db,
        """SELECT hm.party_id, hm.relation, pd.name, m.status
           FROM household_members hm
           LEFT JOIN personal_data pd ON pd.party_id = hm.party_id
           LEFT JOIN memberships m ON m.party_id = hm.party_id AND m.collective_id = :c
           WHERE hm.household_id = :h ORDER BY hm.joined_seq, hm.party_id""",
        h=household,
        c=collective,
    )
    land = await _rows(
        db,
        "SELECT id FROM land_contracts WHERE household_id = :h AND status = 'active' ORDER BY id",
        h=household,
    )
    homesteads = await _rows(
        db, "SELECT id FROM homesteads WHERE household_id = :h AND status = 'held' ORDER BY id", h=household
    )
    holdings = await _rows(
        db,
        """SELECT holder, units FROM share_holdings
           WHERE household_id = :h AND collective_id = :c AND units > 0 ORDER BY holder""",
        h=household,
        c=collective,
    )
    return HouseholdRights(
        household,
        members,
        {"land_contracts": [r.id for r in land], "homesteads": [r.id for r in homesteads]},
        {r.holder: int(r.units) for r in holdings},
    )


async def certificates(db: AsyncConnection, collective: str, skip: int) -> Sequence[Row[Any]]:
    """The certificates issued by or over this collective, newest first, a page of them."""
    return await _rows(
        db,
        """SELECT c.id, c.kind, c.scope, c.household_id, c.persons, c.issued_seq, c.valid_until,
                  pd.name AS head_name
           FROM certificates c
           LEFT JOIN households h ON h.id = c.household_id
           LEFT JOIN personal_data pd ON pd.party_id = h.head_party
           WHERE c.collective_id = :c ORDER BY c.issued_seq DESC, c.id LIMIT :n OFFSET :o""",
        c=collective,
        n=PAGE_LIMIT,
        o=skip,
    )
