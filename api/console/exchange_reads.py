"""What the exchange desk's listing pages read: the centre's own listings, newest first, a
page at a time (with the high bid and the countdown to the next moment by the ledger's clock),
and one listing's timeline of entries and its bidders with their registration details (for
the centre's own staff only: ``own_listing`` has checked the listing is theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.exchange_board import phase, right_terms
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from ledger.entry import parse_time

PAGE = 50  # listings on a page


@dataclass(frozen=True)
class Row:
    """A listing as the list shows it."""

    listing: Listing
    phase: str | None
    next_moment: str | None  # opens | closes | None
    seconds: int | None  # to the next moment

    @property
    def terms(self) -> dict[str, Any]:
        return right_terms(self.listing)


def next_moment(listing: Listing, now: datetime) -> tuple[str | None, int | None]:
    """The next moment of an announced listing by the clock (bidding opens, or closes) and the
    seconds to it; none for a held listing (its clock is stopped) or one past its close."""
    stage = phase(listing, now)
    if stage == "announcement":
        return "opens", int((parse_time(listing.opens_at) - now).total_seconds())
    if stage == "bidding":
        return "closes", int((parse_time(listing.closes_at) - now).total_seconds())
    return None, None


def row_of(listing: Listing, now: datetime) -> Row:
    moment, seconds = next_moment(listing, now)
    return Row(listing, phase(listing, now), moment, seconds)


async def own_listings(
    session: AsyncSession, exchange_id: str, now: datetime, after: int | None
) -> tuple[list[Row], int | None]:
    """A page of the centre's listings, newest first (by the seq that listed them), after the
    seq ``after`` of the previous page; and the cursor of the next page, if any."""
    query = select(Listing).where(Listing.exchange_id == exchange_id)
    if after is not None:
        query = query.where(col(Listing.listed_seq) < after)
    rows = list((await session.exec(query.order_by(col(Listing.listed_seq).desc()).limit(PAGE + 1))).all())
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return [row_of(x, now) for x in rows], rows[-1].listed_seq if more else None


async def timeline(session: AsyncSession, listing_id: str) -> list[ListingStep]:
    """Every entry that acted on the listing, in seq order."""
    rows = await session.exec(
        select(ListingStep).where(ListingStep.listing_id == listing_id).order_by(col(ListingStep.seq))
    )
    return list(rows.all())


async def bidders(session: AsyncSession, listing_id: str) -> list[ListingBidder]:
    """The listing's registered bidders by number, with what the centre holds on each."""
    rows = await session.exec(
        select(ListingBidder)
        .where(ListingBidder.listing_id == listing_id)
        .order_by(col(ListingBidder.number))
    )
    return list(rows.all())
