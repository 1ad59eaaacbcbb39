"""What every exchange act does first: find its listing, check the signer runs it, read the
ledger's clock, and record itself as a step of the listing."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from contracts.land import ContractId
from contracts.policy import Policy, policy_for
from contracts.registry import RecordContext, Signers
from contracts.state import Put, State, Where, make
from ledger.entry import RFC3339_UTC, format_time, parse_time
from ledger.errors import Category

ListingId = ContractId
BidderNo = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**13)]
PositiveFen = Annotated[int, msgspec.Meta(ge=1, le=10**13)]
Instant = Annotated[str, msgspec.Meta(pattern=RFC3339_UTC.pattern)]

EXCHANGE_VERSION = 3  # the rule version that brings the exchange and the working-day calendar

# Every exchange kind is signed by the exchange centre that made the listing (a bidder's own acts
# may also be signed by the bidding entity itself: ``contracts.exchange.bidding``).
LISTING_EXCHANGE = Signers(("exchange_center",), "the exchange centre that made the listing")


def listing_reads(listing_id: str) -> list[tuple[type, tuple[str]] | Where]:
    """Prefetch hints for an act on a listing: the listing and its bidders."""
    return [(Listing, (listing_id,)), Where(ListingBidder, "listing_id", listing_id)]


def listing_of(state: State, rec: RecordContext, listing_id: str) -> Listing:
    listing = state.get(Listing, listing_id)
    if listing is None:
        raise RuleViolation(
            "exchange.unknown_listing", f"no listing {listing_id}", category=Category.NOT_FOUND
        )
    if listing.exchange_id != rec.actor:
        raise RuleViolation(
            "exchange.not_listing_exchange",
            f"listing {listing_id} is run by {listing.exchange_id}",
            category=Category.FORBIDDEN,
        )
    return listing


def not_held(listing: Listing) -> None:
    if listing.held_at is not None:
        raise RuleViolation("exchange.listing_held", f"listing {listing.id} is held for a dispute")


def bidder_of(state: State, listing: Listing, number: int) -> ListingBidder:
    b = state.get(ListingBidder, listing.id, number)
    if b is None:
        raise RuleViolation("exchange.unknown_bidder", f"no 竞买人 {number} on listing {listing.id}")
    return b


def bidders_of(state: State, listing_id: str) -> list[ListingBidder]:
    return state.find(ListingBidder, listing_id=listing_id)


def now(rec: RecordContext) -> datetime:
    return parse_time(rec.recorded_at)


def at(text: str) -> datetime:
    return parse_time(text)


def instant(text: str, what: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as e:
        raise RuleViolation("payload.invalid", f"{what}: {e}", category=Category.INVALID) from e


def later(text: str, minutes: int) -> str:
    return format_time(parse_time(text) + timedelta(minutes=minutes))


def step(rec: RecordContext, listing_id: str, bidder: int | None = None, amount: int | None = None) -> Put:
    return Put(
        make(
            ListingStep,
            listing_id=listing_id,
            seq=rec.seq,
            kind=rec.kind,
            at=rec.recorded_at,
            bidder=bidder,
            amount_fen=amount,
        )
    )


def lottery_seed(rec: RecordContext, listing_id: str) -> str:
    """The seed of a listing's lottery: fixed by its listing entry (the entry id is signed)."""
    return hashlib.sha256(f"rural-ledger lottery:{listing_id}:{rec.entry_id}".encode()).hexdigest()


def policy_of(state: State, listing: Listing) -> Policy:
    return policy_for(state, listing.exchange_id)


def max_listing_days(policy: Policy) -> timedelta:
    """How long a listing may run (the county's number, read as at most ten years: a larger
    one means no limit a calendar can hold)."""
    return timedelta(days=min(policy.listing_max_days, 3660))


def within_value_cap(listing: Listing, amount_fen: int) -> None:
    """Refuse an amount whose whole deal would exceed the largest deal the ledger records."""
    from contracts.exchange.outcome import MAX_DEAL_FEN, deal_value

    if deal_value(listing, amount_fen) > MAX_DEAL_FEN:
        raise RuleViolation(
            "exchange.value_too_large", f"the deal at {amount_fen} fen would exceed {MAX_DEAL_FEN} fen"
        )
