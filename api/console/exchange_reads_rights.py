"""What the listing wizard reads from the ledger's projections: the holder found by id (a
household, a party or a village collective under the exchange centre's county), the rights
that holder really holds, marked when already under an open listing or not listable now (the
priority holders are ``api.console.exchange_reads_priority``'s). The wizard offers only these;
the rule checks them again when the listing is signed (``contracts.exchange.rights.listable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.assets import AssetVerification
from contracts.exchange.tables import OPEN, Listing
from contracts.homesteads import Homestead
from contracts.households import Household, HouseholdMember
from contracts.land import LandContract, ManagementTransfer, Parcel
from contracts.membership import IN_FORCE, Membership
from contracts.orgs import Org
from contracts.parties import Party
from contracts.quotas.tables import LandQuota, quota_key
from contracts.shares import ShareHolding


@dataclass(frozen=True)
class Holder:
    """Who holds rights: ``kind`` household, party or collective, and its collective."""

    kind: str
    id: str
    collective_id: str
    household_id: str | None = None


@dataclass(frozen=True)
class HeldRight:
    """One right the holder holds: ``token`` names it on the wizard's forms (``land:<contract>``,
    ``homestead:<id>``, ``shares:<collective>:<holder>``, ``quota:<id>``,
    ``asset:<collective>:<category>``); ``listed_in`` the open listing it is already under."""

    token: str
    type: str
    collective_id: str
    quantity: int  # m², units, or 1
    parcels: tuple[tuple[str, int], ...] = ()
    term_end: date | None = None
    free_units: int | None = None
    listed_in: str | None = None
    blocked: str | None = None  # why the rules would not list it now (a phrase key's last part)
    tenants: tuple[tuple[str, date], ...] = ()  # (transferee, term end) of transfers running

    @property
    def offered(self) -> bool:
        """Whether the wizard offers it: held, not under an open listing, not blocked."""
        return self.listed_in is None and self.blocked is None


async def under(session: AsyncSession, ancestor: str, org_id: str) -> bool:
    """Whether ``ancestor`` is ``org_id`` or above it."""
    current: str | None = org_id
    for _ in range(16):
        if current is None:
            return False
        if current == ancestor:
            return True
        org = await session.get(Org, current)
        current = org.parent_id if org else None
    return False


async def find_holder(session: AsyncSession, exchange_id: str, holder_id: str) -> Holder | None:
    """The holder ``holder_id`` if it is a household, a registered party or a village collective
    within the exchange centre's jurisdiction (under its parent); else None."""
    exchange = await session.get(Org, exchange_id)
    if exchange is None or exchange.parent_id is None:
        return None
    holder: Holder | None = None
    household = await session.get(Household, holder_id)
    if household is not None:
        holder = Holder("household", household.id, household.collective_id, household.id)
    elif (org := await session.get(Org, holder_id)) is not None and org.type == "village_collective":
        holder = Holder("collective", org.id, org.id)
    elif await session.get(Party, holder_id) is not None:
        m = await session.get(Membership, holder_id)
        link = await session.get(HouseholdMember, holder_id)
        if m is not None:
            holder = Holder("party", holder_id, m.collective_id, link.household_id if link else None)
    if holder is None or not await under(session, exchange.parent_id, holder.collective_id):
        return None
    return holder


async def _open_listing_of(session: AsyncSession, key: str) -> list[Listing]:
    rows = await session.exec(select(Listing).where(Listing.right_key == key))
    return [x for x in rows.all() if x.status in OPEN]


async def _land(session: AsyncSession, today: date, household: str) -> list[HeldRight]:
    rights = []
    contracts = await session.exec(
        select(LandContract)
        .where(LandContract.household_id == household)
        .where(LandContract.status == "active")
        .order_by(col(LandContract.id))
    )
    for c in contracts.all():
        parcels = (await session.exec(select(Parcel).where(Parcel.contract_id == c.id))).all()
        listed = await _open_listing_of(session, f"land:{c.id}")
        busy = {p for x in listed for p in (x.right.get("parcels") or ())}
        transfers = (
            await session.exec(select(ManagementTransfer).where(ManagementTransfer.contract_id == c.id))
        ).all()
        free = tuple(sorted((p.code, p.area_m2) for p in parcels if p.code not in busy))
        rights.append(
            HeldRight(
                f"land:{c.id}",
                "land_management",
                c.collective_id,
                sum(a for _, a in free),
                free,
                c.term_end,
                listed_in=listed[0].id if listed and not free else None,
                tenants=tuple((t.transferee, t.term_end) for t in transfers if t.term_end >= today),
            )
        )
    return rights


async def _all_settled(session: AsyncSession, household_id: str) -> bool:
    """Whether the household's members in force (in its collective) are all settled in town,
    rights retained: only then is its homestead listed (``contracts.exchange.rights``)."""
    household = await session.get(Household, household_id)
    if household is None or household.status != "active":
        return False
    rows = await session.exec(
        select(Membership.status)
        .join(HouseholdMember, col(HouseholdMember.party_id) == col(Membership.party_id))
        .where(HouseholdMember.household_id == household_id)
        .where(Membership.collective_id == household.collective_id)
        .where(col(Membership.status).in_(IN_FORCE))
    )
    statuses = list(rows.all())
    return bool(statuses) and all(x == "settled_in_town" for x in statuses)


async def held_rights(session: AsyncSession, holder: Holder, today: date) -> list[HeldRight]:
    """Every right the ledger says ``holder`` holds now, marked when already under an open
    listing: a household's contracts in force (the parcels not under an open listing) and
    its homestead; a party's shares; a household's or collective's confirmed land quotas; a
    collective's verified operating assets."""
    rights: list[HeldRight] = []
    if holder.kind == "household":
        rights += await _land(session, today, holder.id)
        homes = await session.exec(
            select(Homestead).where(Homestead.household_id == holder.id).where(Homestead.status == "held")
        )
        for h in homes.all():
            listed = await _open_listing_of(session, f"homestead:{h.id}")
            settled = await _all_settled(session, h.household_id)
            rights.append(
                HeldRight(
                    f"homestead:{h.id}",
                    "homestead",
                    h.collective_id,
                    h.area_m2,
                    listed_in=listed[0].id if listed else None,
                    blocked=None if settled else "not_settled",
                )
            )
    if holder.kind == "party":
        holdings = await session.exec(select(ShareHolding).where(ShareHolding.holder == holder.id))
        for s in holdings.all():
            listed = await _open_listing_of(session, f"shares:{s.collective_id}:{s.holder}")
            free = s.units - s.pledged_units - sum(int(x.right.get("units", 0)) for x in listed)
            rights.append(
                HeldRight(
                    f"shares:{s.collective_id}:{s.holder}",
                    "shares",
                    s.collective_id,
                    s.units,
                    free_units=max(free, 0),
                    listed_in=listed[0].id if listed and free <= 0 else None,
                    blocked="no_free_units" if free <= 0 and not listed else None,
                )
            )
    if holder.kind in ("household", "collective"):
        quotas = await session.exec(
            select(LandQuota)
            .where(LandQuota.holder == holder.id)
            .where(LandQuota.status == "confirmed")
            .order_by(col(LandQuota.id))
        )
        for q in quotas.all():
            listed = await _open_listing_of(session, quota_key(q.id))
            token = f"quota:{q.id}"
            rights.append(
                HeldRight(
                    token,
                    "land_quota",
                    q.collective_id,
                    q.quota_m2 or 0,
                    listed_in=listed[0].id if listed else None,
                )
            )
    if holder.kind == "collective":
        rights += await _assets(session, holder.id)
    return rights


async def _assets(session: AsyncSession, collective: str) -> list[HeldRight]:
    verification = (
        await session.exec(
            select(AssetVerification)
            .where(AssetVerification.collective_id == collective)
            .where(col(AssetVerification.superseded_by).is_(None))
        )
    ).first()
    items = (verification.details.get("operating_assets") or []) if verification else []
    categories = sorted({str(a.get("category")) for a in items})
    return [HeldRight(f"asset:{collective}:{c}", "collective_asset", collective, 1) for c in categories]
