"""What the voucher pages read: the county an organisation belongs to, a county's vouchers and
price schedules, a homestead given up with what its voucher's face would be, and a developer's
redemptions and the vouchers presented to it, from the projections.

Money is integer fen throughout; the pages show it in yuan (``yuan``) and read it in yuan
(``fen_of``), never through floating point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.homesteads import Homestead
from contracts.households import HouseholdMember
from contracts.orgs import Org
from contracts.vouchers.arithmetic import face_value
from contracts.vouchers.tables import PoolDeveloper, PoolProject, PriceSchedule, Redemption, Voucher

LIST_LIMIT = 200
PAGE = 50  # vouchers on a page of the county's list
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,10})(?:\.([0-9]{1,2}))?$")


def yuan(fen: int | None) -> str:
    """``1234567`` fen as ``12,345.67`` (yuan)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def fen_of(text: str) -> int | None:
    """An amount typed in yuan (``12345.6``, ``12,345.67``) in fen; None when it is not one."""
    m = _YUAN.match(text.strip().replace(",", "").replace("，", ""))
    if m is None:
        return None
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


async def county_of(session: AsyncSession, org_id: str) -> str | None:
    """The county an organisation belongs to (itself, for a county), up its parents."""
    current: str | None = org_id
    for _ in range(16):
        org = await session.get(Org, current) if current else None
        if org is None:
            return None
        if org.type == "county":
            return org.id
        current = org.parent_id
    return None


async def county_vouchers(
    session: AsyncSession, county: str, before: int | None = None
) -> tuple[list[Voucher], int | None]:
    """A page of the county's vouchers, newest first, issued before seq ``before``; and the
    ``before`` of the next page (None: no more). A split's children share their issuing seq, so
    a page never ends inside one seq: it takes the whole of its last seq's vouchers."""
    query = select(Voucher).where(col(Voucher.county_id) == county)
    if before is not None:
        query = query.where(col(Voucher.issued_seq) < before)
    rows = list(
        (
            await session.exec(
                query.order_by(col(Voucher.issued_seq).desc(), col(Voucher.id)).limit(PAGE + 1)
            )
        ).all()
    )
    if len(rows) <= PAGE:
        return rows, None
    last = rows[PAGE - 1].issued_seq
    same = await session.exec(
        select(Voucher)
        .where(col(Voucher.county_id) == county, col(Voucher.issued_seq) == last)
        .order_by(col(Voucher.id))
    )
    kept = [v for v in rows if v.issued_seq > last] + list(same.all())
    return kept, last


def schedule_in_force(schedules: list[PriceSchedule], today: date) -> PriceSchedule | None:
    """As ``contracts.vouchers.schedules.schedule_in_force``: the latest effective on or before today."""
    standing = [s for s in schedules if s.effective_from <= today]
    return max(standing, key=lambda s: s.effective_from) if standing else None


async def county_schedules(session: AsyncSession, county: str) -> list[PriceSchedule]:
    rows = await session.exec(
        select(PriceSchedule)
        .where(col(PriceSchedule.county_id) == county)
        .order_by(col(PriceSchedule.effective_from))
    )
    return list(rows.all())


@dataclass(frozen=True)
class GivenUp:
    """A homestead of the county and what its voucher would be: the household's members (the
    holders to choose from), the schedule in force and the face for an appraised value."""

    homestead: Homestead
    members: list[str]
    schedule: PriceSchedule | None

    @property
    def price_fen_per_m2(self) -> int | None:
        if self.schedule is None or self.homestead.zone not in self.schedule.prices:
            return None
        return int(self.schedule.prices[self.homestead.zone])

    def face_fen(self, appraisal_fen: int | None) -> int | None:
        """The face the rule will compute (``contracts.vouchers.arithmetic.face_value``)."""
        if appraisal_fen is None or self.schedule is None or self.price_fen_per_m2 is None:
            return None
        return face_value(self.homestead.area_m2, self.schedule.prices, self.homestead.zone, appraisal_fen)


async def given_up(session: AsyncSession, county: str, homestead_id: str, today: date) -> GivenUp | None:
    """The homestead, when it lies in ``county``; None otherwise."""
    h = await session.get(Homestead, homestead_id)
    if h is None or await county_of(session, h.collective_id) != county:
        return None
    members = await session.exec(
        select(HouseholdMember.party_id)
        .where(col(HouseholdMember.household_id) == h.household_id)
        .order_by(col(HouseholdMember.joined_seq), col(HouseholdMember.party_id))
    )
    schedule = schedule_in_force(await county_schedules(session, county), today)
    return GivenUp(h, [str(m) for m in members.all()], schedule)


async def developer_pool(
    session: AsyncSession, developer: str
) -> tuple[PoolDeveloper | None, list[PoolProject]]:
    """The developer's place in a county's pool and its projects."""
    pool = await session.get(PoolDeveloper, developer)
    projects = await session.exec(
        select(PoolProject).where(col(PoolProject.developer_id) == developer).order_by(col(PoolProject.id))
    )
    return pool, list(projects.all())


async def presented(session: AsyncSession, developer: str, voucher_id: str) -> Voucher | None:
    """A voucher a holder presents to the developer: shown only when it is of the county whose
    pool the developer is in (a developer sees no other county's vouchers)."""
    pool = await session.get(PoolDeveloper, developer)
    v = await session.get(Voucher, voucher_id)
    if v is None or pool is None or v.county_id != pool.county_id:
        return None
    return v


async def developer_redemptions(session: AsyncSession, developer: str) -> list[Redemption]:
    """What the developer redeemed, newest first, with how far each is settled."""
    rows = await session.exec(
        select(Redemption)
        .where(col(Redemption.developer_id) == developer)
        .order_by(col(Redemption.redeemed_seq).desc())
        .limit(LIST_LIMIT)
    )
    return list(rows.all())
