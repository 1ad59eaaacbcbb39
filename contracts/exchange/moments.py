"""The moments of a listing that the ledger's clock is checked against: when bidding is over,
until when a priority holder may still match the final high bid, and so when the outcome is
decided (an award or a failure may be recorded only from then on: nobody can close early)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts.calendar import WorkingDays
from contracts.exchange.common import at
from contracts.exchange.outcome import ranking
from contracts.exchange.tables import Listing, ListingBidder
from contracts.policy import Policy
from contracts.state import State

CHINA_STANDARD_TIME = timedelta(hours=8)


def with_deposit(bidders: list[ListingBidder]) -> list[ListingBidder]:
    return [b for b in bidders if b.deposit != "none"]


def is_agreement(listing: Listing, bidders: list[ListingBidder]) -> bool:
    """Only one qualified bidder paid the deposit (registration closes when bidding opens): the
    deal is by agreement, one quote at or above the reserve."""
    return len(with_deposit(bidders)) == 1


def bidding_over(listing: Listing, bidders: list[ListingBidder], policy: Policy) -> datetime:
    """When the bids are all in: the (extended) close; with in-auction matching, not before the
    last response window ends; for sealed quotes, when all are opened or the opening time ends;
    by agreement, at the sole bidder's quote."""
    closes = at(listing.closes_at)
    if is_agreement(listing, bidders):
        sole = with_deposit(bidders)[0]
        return at(listing.high_at) if sole.best_fen is not None and listing.high_at else closes
    if listing.method == "sealed":
        sealed = [b for b in bidders if b.sealed is not None and b.deposit == "held"]
        if sealed and all(b.best_fen is not None for b in sealed):
            return max(closes, at(listing.high_at)) if listing.high_at else closes
        return closes + timedelta(minutes=policy.sealed_opening_minutes)
    if listing.priority_model == "in_auction_match" and listing.match_until is not None:
        return max(closes, at(listing.match_until))
    return closes


def post_close_matching(listing: Listing) -> bool:
    """Whether priority holders match the final high bid after the close: the post-close model,
    and in-auction matching on sealed quotes (there is no auction to match in)."""
    return listing.priority_model == "post_close_match" or (
        listing.priority_model == "in_auction_match" and listing.method == "sealed"
    )


def match_deadline(state: State, listing: Listing, over: datetime, policy: Policy) -> date:
    """The last day a priority holder may match the final high bid."""
    return WorkingDays(state, listing.exchange_id).after(
        (over + CHINA_STANDARD_TIME).date(), policy.priority_match_working_days
    )


def decided(
    state: State, listing: Listing, bidders: list[ListingBidder], policy: Policy, now: datetime
) -> bool:
    """Whether the outcome can be recorded at ``now``."""
    over = bidding_over(listing, bidders, policy)
    if now < over:
        return False
    if not post_close_matching(listing) or is_agreement(listing, bidders):
        return True
    final = ranking(listing, [b for b in bidders if not b.matched])
    waiting = [
        b
        for b in bidders
        if b.priority and not b.matched and b.deposit == "held" and b.bidder not in listing.barred
    ]
    if not final or final[0].priority or not [b for b in waiting if b.number != final[0].number]:
        return True
    return (now + CHINA_STANDARD_TIME).date() > match_deadline(state, listing, over, policy)
