"""The priority holders the ledger knows for a right the listing wizard offers (step 3): the
collective's members in force, under equal conditions, and the sitting tenant of the parcels,
as ``contracts.exchange.rights`` derives them when the listing is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.exchange_reads_rights import HeldRight, Holder
from contracts.households import HouseholdMember
from contracts.membership import IN_FORCE, Membership

PRIORITY_SHOWN = 200  # members listed on the page at most (the count is always shown)


@dataclass
class Priority:
    """The priority holders of a right: the collective whose members in force have priority,
    those members (party ids, at most ``PRIORITY_SHOWN``) and their count, the sitting tenant."""

    collective: str | None
    members: list[str] = field(default_factory=list)
    count: int = 0
    tenant: str | None = None


async def priority_of(session: AsyncSession, right: HeldRight, holder: Holder, today: date) -> Priority:
    """Who has priority for ``right`` per the registry (``contracts.exchange.rights``): for land
    management and a collective asset, the collective's members in force; for land, also the
    sitting tenant (the transfer of its parcels running now that ends last). The holder's own
    household is left out (it does not bid for its own right). Shares and a homestead go to
    members only (no priority over others); a land quota has none."""
    if right.type not in ("land_management", "collective_asset"):
        return Priority(None)
    query = (
        select(Membership.party_id)
        .where(Membership.collective_id == right.collective_id)
        .where(col(Membership.status).in_(IN_FORCE))
        .where(Membership.party_id != holder.id)
    )
    if holder.household_id is not None:
        own = select(HouseholdMember.party_id).where(HouseholdMember.household_id == holder.household_id)
        query = query.where(col(Membership.party_id).not_in(own))
    members = (await session.exec(query.order_by(col(Membership.party_id)))).all()
    tenant = None
    running = [(t, end) for t, end in right.tenants if end >= today]
    if running:
        tenant = max(running, key=lambda x: x[1])[0]
    return Priority(right.collective_id, list(members[:PRIORITY_SHOWN]), len(members), tenant)
