"""What the live bidding page and the deal page read about one listing of the user's exchange
centre: its registered bidders, its steps (the bid history, newest first) and where it stands by
the service's clock (the one the rules read): the phase, the seconds left to the close and to a
priority holder's response window, the least the next bid may be, and the bidders in the order
the rules would award them (``contracts.exchange.outcome.ranking``, the rules' own function).

Bidders appear as 竞买人 N with an entity's registered name or a person's pseudonymous party id,
never a person's name: names are the collective's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.exchange_reads import bidders
from api.reads.exchange_board import closes_in_seconds, phase
from contracts.exchange.moments import is_agreement, post_close_matching
from contracts.exchange.outcome import deal_value, ranking
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from ledger.entry import parse_time

HISTORY_LIMIT = 60  # the newest steps shown; the listing's public page has them all


@dataclass(frozen=True)
class BiddingView:
    """One listing as its bidding page shows it, at ``now``."""

    listing: Listing
    bidders: list[ListingBidder]
    steps: list[ListingStep]  # newest first, at most HISTORY_LIMIT
    now: datetime

    @property
    def phase(self) -> str:
        """announcement, bidding, closed or held while announced; else the listing's status."""
        return phase(self.listing, self.now) or self.listing.status

    @property
    def closes_in(self) -> int | None:
        return closes_in_seconds(self.listing, self.now)

    @property
    def opens_in(self) -> int | None:
        if self.phase != "announcement":
            return None
        return int((parse_time(self.listing.opens_at) - self.now).total_seconds())

    @property
    def match_in(self) -> int | None:
        """Seconds left for a priority holder to match the last outside bid (in-auction
        matching), while that window is open."""
        until = self.listing.match_until
        if self.listing.status != "announced" or until is None:
            return None
        left = int((parse_time(until) - self.now).total_seconds())
        return left if left > 0 else None

    @property
    def agreement(self) -> bool:
        """One bidder paid the deposit: one quote by agreement, at least the reserve."""
        return is_agreement(self.listing, self.bidders)

    @property
    def sealed(self) -> bool:
        """Sealed quotes are taken (not by agreement)."""
        return self.listing.method == "sealed" and not self.agreement

    @property
    def post_close_matching(self) -> bool:
        return post_close_matching(self.listing)

    @property
    def minimum_fen(self) -> int:
        """The least the next bid may be: the reserve, or the high bid plus the increment."""
        high = self.listing.high_fen
        if self.agreement or high is None:
            return self.listing.reserve_fen
        return max(self.listing.reserve_fen, high + self.listing.increment_fen)

    @property
    def ranked(self) -> list[ListingBidder]:
        """The bidders with a valid amount in award order (the rules' ranking)."""
        return ranking(self.listing, self.bidders)

    @property
    def priority_holders(self) -> list[ListingBidder]:
        return [b for b in self.able if b.priority]

    @property
    def able(self) -> list[ListingBidder]:
        """Bidders who may act: deposit held, not barred."""
        return [b for b in self.bidders if b.deposit == "held" and b.bidder not in self.listing.barred]

    def value_at(self, amount_fen: int | None) -> int | None:
        """The whole deal at ``amount_fen`` in the listing's unit."""
        return None if amount_fen is None else deal_value(self.listing, amount_fen)

    def version(self) -> str:
        """Changes whenever the page's state does: a new step, or by the clock a new phase or
        the end of a response window."""
        last = self.steps[0].seq if self.steps else self.listing.listed_seq
        window = "match" if self.match_in is not None else "-"
        return f"{last}:{self.phase}:{self.listing.closes_at}:{window}"


def bidder_text(b: ListingBidder) -> str:
    """Who a bidder is, for the centre's staff: an entity's name and credit code, or a
    person's party id (never a name)."""
    if b.bidder_kind == "entity":
        return f"{b.bidder_name or ''} {b.bidder}".strip()
    return b.bidder


async def steps_of(session: AsyncSession, listing_id: str, limit: int = HISTORY_LIMIT) -> list[ListingStep]:
    rows = await session.exec(
        select(ListingStep)
        .where(ListingStep.listing_id == listing_id)
        .order_by(col(ListingStep.seq).desc())
        .limit(limit)
    )
    return list(rows.all())


async def bidding_view(session: AsyncSession, listing: Listing, now: datetime) -> BiddingView:
    return BiddingView(listing, await bidders(session, listing.id), await steps_of(session, listing.id), now)


async def recorded_step(session: AsyncSession, listing_id: str, asked: Any) -> ListingStep | None:
    """The step recorded at seq ``asked`` (a query value) on this listing, if there is one:
    what a page just recorded, said back after its redirect."""
    if not isinstance(asked, str) or not (asked.isascii() and asked.isdigit()) or len(asked) > 18:
        return None
    return await session.get(ListingStep, (listing_id, int(asked)))
