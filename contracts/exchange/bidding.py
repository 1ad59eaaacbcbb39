"""Bidders and bids: ``exchange.bidder_registered`` (registration and qualification by the
exchange), ``exchange.deposit_received`` (no bid without both), ``exchange.bid`` (a rising
auction's bid, or the sole bidder's quote by agreement), ``exchange.quote_sealed`` and
``exchange.quote_opened`` (a single sealed quote, committed in the window and opened after it,
so the public log shows no amount before the close), and ``exchange.priority_matched`` (a
priority holder matching a bid, in the models that let it). A bid, a match and a sealed quote
are signed by the listing's exchange centre on the bidder's behalf, or by a bidding entity the
centre registered, with its own key, for itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec

from contracts.errors import RuleViolation
from contracts.exchange.common import (
    EXCHANGE_VERSION,
    LISTING_EXCHANGE,
    BidderNo,
    Fen,
    ListingId,
    PositiveFen,
    at,
    bidder_of,
    bidders_of,
    listing_of,
    listing_reads,
    now,
    policy_of,
    step,
    within_value_cap,
)
from contracts.exchange.moments import bidding_over, is_agreement, match_deadline
from contracts.exchange.outcome import ranking
from contracts.exchange.rights import Bidder, qualify
from contracts.exchange.tables import Listing, ListingBidder
from contracts.households import HouseholdMember
from contracts.membership import Membership
from contracts.orgs import Org
from contracts.parties import Sha256Hex
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make
from ledger.canonical import canonical_bytes
from ledger.entry import format_time
from ledger.errors import Category

Salt = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32,128}$")]

# A bid, a priority match and a sealed quote (sealed and opened) are the bidder's own acts: the
# listing's exchange centre signs them on the bidder's behalf, or a bidding entity the centre
# registered signs its own (``_listing_for_bidder``).
BIDDER_OR_EXCHANGE = Signers(
    ("exchange_center", "bidding_entity"),
    "the exchange centre that made the listing, on the bidder's behalf, or a bidding entity it"
    " registered, for itself",
)


class BidderRegistered(Payload, frozen=True):
    listing: ListingId
    bidder: Bidder
    application: Sha256Hex
    agricultural_capacity: Sha256Hex | None = None


class DepositReceived(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    amount_fen: Fen
    bank_reference: Sha256Hex


class BidPlaced(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    amount_fen: PositiveFen


class QuoteSealed(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    commitment: Sha256Hex


class QuoteOpened(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    amount_fen: PositiveFen
    salt: Salt


def quote_commitment(listing: str, bidder: int, amount_fen: int, salt: str) -> str:
    """What a sealed quote commits to: SHA-256 of the canonical JSON of the quote and a salt."""
    body = {"amount_fen": amount_fen, "bidder": bidder, "listing": listing, "salt": salt}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def _registration_reads(p: BidderRegistered, rec: RecordContext) -> list[Any]:
    hints: list[Any] = list(listing_reads(p.listing))
    party = getattr(p.bidder, "party", None)
    if party is not None:
        hints += [(Membership, (party,)), (HouseholdMember, (party,))]
    return hints


def _open_listing(state: State, rec: RecordContext, listing_id: str) -> Listing:
    return _still_open(listing_of(state, rec, listing_id))


def _still_open(listing: Listing) -> Listing:
    if listing.status != "announced":
        raise RuleViolation("exchange.listing_not_open", f"listing {listing.id} is {listing.status}")
    if listing.held_at is not None:
        raise RuleViolation("exchange.listing_held", f"listing {listing.id} is held for a dispute")
    return listing


def _bidders_reads(p: BidPlaced | QuoteSealed | QuoteOpened, rec: RecordContext) -> list[Any]:
    return [*listing_reads(p.listing), (Org, (rec.actor,))]


def _listing_for_bidder(state: State, rec: RecordContext, listing_id: str, number: int) -> Listing:
    """The open listing of an act by 竞买人 ``number``, signed by the listing's exchange centre or
    by a bidding entity that centre registered, for itself: the bidder must be an entity
    registered under the signer's own unified social credit code."""
    listing = state.get(Listing, listing_id)
    entity = state.get(Org, rec.actor) if listing is not None and listing.exchange_id != rec.actor else None
    if listing is None or entity is None or entity.type != "bidding_entity":
        return _open_listing(state, rec, listing_id)  # the exchange's own act, or its refusal
    if entity.parent_id != listing.exchange_id:
        raise RuleViolation(
            "exchange.not_listing_exchange",
            f"listing {listing_id} is run by {listing.exchange_id}, which did not register {entity.id}",
            category=Category.FORBIDDEN,
        )
    b = bidder_of(state, listing, number)
    if b.bidder_kind != "entity" or entity.credit_code is None or b.bidder != entity.credit_code:
        raise RuleViolation(
            "exchange.not_the_bidder",
            f"{entity.id} bids for itself, not for 竞买人 {b.number}",
            category=Category.FORBIDDEN,
        )
    return _still_open(listing)


@rule(
    "exchange.bidder_registered",
    BidderRegistered,
    prefetch=_registration_reads,
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def register_bidder(state: State, rec: RecordContext, p: BidderRegistered) -> list[Change]:
    """The exchange registers and qualifies a bidder for a listing during its announcement; the
    bidder is 竞买人 N in public, and a priority holder if the registry says so."""
    listing = _open_listing(state, rec, p.listing)
    if now(rec) >= at(listing.opens_at):
        raise RuleViolation("exchange.registration_closed", f"registration closed at {listing.opens_at}")
    q = qualify(state, listing, p.bidder, p.agricultural_capacity)
    if q.bidder in listing.barred:
        raise RuleViolation("exchange.bidder_barred", "a defaulter is barred from the relisting")
    if any(b.bidder == q.bidder for b in bidders_of(state, listing.id)):
        raise RuleViolation("exchange.already_registered", "the bidder is registered for this listing")
    number = listing.bidders + 1
    row = make(
        ListingBidder,
        listing_id=listing.id,
        number=number,
        bidder=q.bidder,
        bidder_kind=q.kind,
        bidder_name=q.name,
        household_id=q.household_id,
        priority=q.priority,
        registered_seq=rec.seq,
    )
    return [Put(row), Put(listing.model_copy(update={"bidders": number})), step(rec, listing.id, number)]


@rule(
    "exchange.deposit_received",
    DepositReceived,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def receive_deposit(state: State, rec: RecordContext, p: DepositReceived) -> list[Change]:
    """The centre's settlement account received a registered bidder's deposit (bank reference hash)."""
    listing = _open_listing(state, rec, p.listing)
    b = bidder_of(state, listing, p.bidder)
    if now(rec) >= at(listing.opens_at):
        raise RuleViolation("exchange.registration_closed", f"deposits closed at {listing.opens_at}")
    if b.deposit != "none":
        raise RuleViolation("exchange.deposit_exists", f"竞买人 {b.number}'s deposit was received")
    if p.amount_fen != listing.deposit_fen:
        raise RuleViolation("exchange.wrong_deposit", f"the deposit is {listing.deposit_fen} fen")
    row = b.model_copy(
        update={
            "deposit": "held",
            "deposit_fen": p.amount_fen,
            "deposit_ref": p.bank_reference,
            "deposit_seq": rec.seq,
        }
    )
    return [Put(row), step(rec, listing.id, b.number, p.amount_fen)]


def _bidding_bidder(state: State, listing: Listing, number: int) -> ListingBidder:
    b = bidder_of(state, listing, number)
    if b.bidder in listing.barred:
        raise RuleViolation("exchange.bidder_barred", "a defaulter is barred from the relisting")
    if b.deposit != "held":
        raise RuleViolation("exchange.no_deposit", f"竞买人 {b.number} has no deposit held")
    return b


def in_window(listing: Listing, rec: RecordContext) -> datetime:
    """The record's time, if it is inside the listing's bidding window (opens <= t < closes)."""
    t = now(rec)
    if t < at(listing.opens_at):
        raise RuleViolation("exchange.bidding_not_open", f"bidding opens at {listing.opens_at}")
    if t >= at(listing.closes_at):
        raise RuleViolation("exchange.bidding_closed", f"bidding closed at {listing.closes_at}")
    return t


def standing(listing: Listing, bidders: list[ListingBidder], changed: ListingBidder) -> dict[str, Any]:
    """The listing's high bid after ``changed``'s act."""
    rows = [changed if b.number == changed.number else b for b in bidders]
    top = ranking(listing, rows)
    if not top:
        return {}
    best = top[0]
    return {"high_bidder": best.number, "high_fen": best.best_fen, "high_priority": best.priority}


@rule(
    "exchange.bid",
    BidPlaced,
    prefetch=_bidders_reads,
    signed_by=BIDDER_OR_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def place_bid(state: State, rec: RecordContext, p: BidPlaced) -> list[Change]:
    """A bid in a rising auction (at least the reserve and the high bid plus the increment; a late
    bid moves the close), or the sole qualified bidder's one quote by agreement."""
    listing = _listing_for_bidder(state, rec, p.listing, p.bidder)
    b = _bidding_bidder(state, listing, p.bidder)
    t = in_window(listing, rec)
    bidders = bidders_of(state, listing.id)
    agreement = is_agreement(listing, bidders)
    if listing.method == "sealed" and not agreement:
        raise RuleViolation(
            "exchange.sealed_listing", "this listing takes sealed quotes (exchange.quote_sealed)"
        )
    if p.amount_fen < listing.reserve_fen:
        raise RuleViolation("exchange.bid_below_reserve", f"the reserve is {listing.reserve_fen} fen")
    within_value_cap(listing, p.amount_fen)
    update: dict[str, Any] = {"bids": listing.bids + 1, "high_at": rec.recorded_at}
    if agreement:
        if b.best_fen is not None:
            raise RuleViolation("exchange.single_quote_only", "the sole bidder gives one quote")
    else:
        high = listing.high_fen
        equal_ok = (
            listing.priority_model == "tie" and b.priority and p.amount_fen == high and b.best_fen != high
        )
        if high is not None and not equal_ok and p.amount_fen < high + listing.increment_fen:
            raise RuleViolation(
                "exchange.bid_below_increment",
                f"a bid is at least the high bid {high} plus the increment {listing.increment_fen} fen",
            )
        closes = at(listing.closes_at)
        extension = timedelta(minutes=listing.extension_minutes)
        if t >= closes - extension:
            update["closes_at"] = format_time(t + extension)
        if listing.priority_model == "in_auction_match":
            minutes = policy_of(state, listing).priority_response_minutes
            update["match_until"] = None if b.priority else format_time(t + timedelta(minutes=minutes))
    row = b.model_copy(update={"best_fen": p.amount_fen, "best_seq": rec.seq, "matched": False})
    if listing.first_bid_seq is None:
        update["first_bid_seq"] = rec.seq
    update.update(standing(listing, bidders, row))
    return [Put(row), Put(listing.model_copy(update=update)), step(rec, listing.id, b.number, p.amount_fen)]


@rule(
    "exchange.priority_matched",
    BidPlaced,
    prefetch=_bidders_reads,
    signed_by=BIDDER_OR_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def match_bid(state: State, rec: RecordContext, p: BidPlaced) -> list[Change]:
    """A priority holder matches a bid and then ranks above it: another bidder's bid within the
    response window (in-auction matching), or the final high bid before the deadline (post-close
    matching).

    On a sealed listing in-auction matching is post-close matching: there is no auction to
    match in."""
    listing = _listing_for_bidder(state, rec, p.listing, p.bidder)
    b = _bidding_bidder(state, listing, p.bidder)
    if not b.priority:
        raise RuleViolation("exchange.no_priority", f"竞买人 {b.number} holds no priority right")
    bidders = bidders_of(state, listing.id)
    if listing.priority_model == "tie":
        raise RuleViolation(
            "exchange.priority_model_other",
            "under tie priority a priority holder bids the equal amount instead",
        )
    if is_agreement(listing, bidders):
        raise RuleViolation("exchange.nothing_to_match", "a sole bidder has no bid to match")
    t = now(rec)
    update: dict[str, Any] = {"bids": listing.bids + 1}
    if listing.priority_model == "in_auction_match" and listing.method == "auction":
        if t < at(listing.opens_at):
            raise RuleViolation("exchange.bidding_not_open", f"bidding opens at {listing.opens_at}")
        if listing.high_fen is None or listing.high_priority:
            raise RuleViolation("exchange.nothing_to_match", "the high bid is not another bidder's")
        if listing.match_until is None or t >= at(listing.match_until):
            raise RuleViolation("exchange.match_window_over", "the response window after the bid is over")
        if p.amount_fen != listing.high_fen:
            raise RuleViolation(
                "exchange.match_not_equal", f"a match equals the high bid, {listing.high_fen} fen"
            )
        update["match_until"] = None
        update["high_at"] = rec.recorded_at
        closes, extension = at(listing.closes_at), timedelta(minutes=listing.extension_minutes)
        if closes - extension <= t < closes:
            update["closes_at"] = format_time(t + extension)
    else:
        # A match after the close leaves high_at alone: on sealed quotes it is when the last
        # quote was opened, the moment the deadline to match counts from for every holder.
        policy = policy_of(state, listing)
        over = bidding_over(listing, bidders, policy)
        if t < over:
            raise RuleViolation(
                "exchange.not_closed", f"the final high bid is known after {format_time(over)}"
            )
        if rec.local_date > match_deadline(state, listing, over, policy):
            raise RuleViolation(
                "exchange.match_window_over", "the deadline to match the final high bid passed"
            )
        if b.matched:
            raise RuleViolation("exchange.already_matched", f"竞买人 {b.number} matched already")
        final = ranking(listing, [x for x in bidders if not x.matched])
        if not final or final[0].priority or final[0].number == b.number:
            raise RuleViolation("exchange.nothing_to_match", "the final high bid is not another bidder's")
        if p.amount_fen != final[0].best_fen:
            raise RuleViolation(
                "exchange.match_not_equal", f"a match equals the final high bid, {final[0].best_fen} fen"
            )
    row = b.model_copy(update={"best_fen": p.amount_fen, "best_seq": rec.seq, "matched": True})
    update.update(standing(listing, bidders, row))
    return [Put(row), Put(listing.model_copy(update=update)), step(rec, listing.id, b.number, p.amount_fen)]


@rule(
    "exchange.quote_sealed",
    QuoteSealed,
    prefetch=_bidders_reads,
    signed_by=BIDDER_OR_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def seal_quote(state: State, rec: RecordContext, p: QuoteSealed) -> list[Change]:
    """A bidder's single sealed quote (一次性报价), committed inside the window: only its hash is on
    the log until it is opened."""
    listing = _listing_for_bidder(state, rec, p.listing, p.bidder)
    b = _bidding_bidder(state, listing, p.bidder)
    if listing.method != "sealed":
        raise RuleViolation("exchange.not_sealed", "this listing is a rising auction (exchange.bid)")
    in_window(listing, rec)
    if is_agreement(listing, bidders_of(state, listing.id)):
        raise RuleViolation("exchange.agreement_quote", "the sole bidder quotes openly (exchange.bid)")
    if b.sealed is not None:
        raise RuleViolation("exchange.already_quoted", f"竞买人 {b.number} has quoted")
    row = b.model_copy(update={"sealed": p.commitment, "sealed_seq": rec.seq})
    update: dict[str, Any] = {"bids": listing.bids + 1}
    if listing.first_bid_seq is None:
        update["first_bid_seq"] = rec.seq
    return [Put(row), Put(listing.model_copy(update=update)), step(rec, listing.id, b.number)]


@rule(
    "exchange.quote_opened",
    QuoteOpened,
    prefetch=_bidders_reads,
    signed_by=BIDDER_OR_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def open_quote(state: State, rec: RecordContext, p: QuoteOpened) -> list[Change]:
    """A sealed quote is opened after the window: amount and salt must give its commitment, and
    the amount reach the reserve."""
    listing = _listing_for_bidder(state, rec, p.listing, p.bidder)
    b = _bidding_bidder(state, listing, p.bidder)
    t, closes = now(rec), at(listing.closes_at)
    minutes = policy_of(state, listing).sealed_opening_minutes
    if t < closes:
        raise RuleViolation("exchange.quotes_not_due", f"quotes are opened after {listing.closes_at}")
    if t >= closes + timedelta(minutes=minutes):
        raise RuleViolation(
            "exchange.opening_over", f"quotes are opened within {minutes} minutes of the close"
        )
    if b.sealed is None:
        raise RuleViolation("exchange.no_sealed_quote", f"竞买人 {b.number} sealed no quote")
    if b.best_fen is not None:
        raise RuleViolation("exchange.already_opened", f"竞买人 {b.number}'s quote is open")
    if quote_commitment(listing.id, b.number, p.amount_fen, p.salt) != b.sealed:
        raise RuleViolation(
            "exchange.commitment_mismatch", "amount and salt do not give the sealed commitment"
        )
    if p.amount_fen < listing.reserve_fen:
        raise RuleViolation("exchange.bid_below_reserve", f"the reserve is {listing.reserve_fen} fen")
    within_value_cap(listing, p.amount_fen)
    row = b.model_copy(update={"best_fen": p.amount_fen, "best_seq": b.sealed_seq})
    update: dict[str, Any] = {
        "high_at": rec.recorded_at,
        **standing(listing, bidders_of(state, listing.id), row),
    }
    return [Put(row), Put(listing.model_copy(update=update)), step(rec, listing.id, b.number, p.amount_fen)]


RULES = (register_bidder, receive_deposit, place_bid, match_bid, seal_quote, open_quote)
