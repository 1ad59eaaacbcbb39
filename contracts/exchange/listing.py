"""Listing (挂牌公告) and what happens to a listing as a whole: ``exchange.listed`` (a new listing
or a relisting of a failed one; from rule version 4 of a confirmed land quota too),
``exchange.extended`` (no bidder by the end of the announcement), ``exchange.withdrawn``
(before the first bid), ``exchange.held`` and ``exchange.hold_lifted`` (a dispute pauses the
listing; lifting it moves every moment still ahead by the time it was held).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated, Literal

import msgspec

from contracts.calendar import WorkingDays
from contracts.errors import RuleViolation
from contracts.exchange.common import (
    EXCHANGE_VERSION,
    LISTING_EXCHANGE,
    Fen,
    Instant,
    ListingId,
    PositiveFen,
    at,
    bidders_of,
    instant,
    listing_of,
    listing_reads,
    lottery_seed,
    max_listing_days,
    not_held,
    now,
    policy_of,
    step,
    within_value_cap,
)
from contracts.exchange.moments import decided
from contracts.exchange.outcome import deal_value
from contracts.exchange.rights import (
    LandQuotaRight,
    ListedRight,
    Right,
    RightV4,
    listable,
    listable_v4,
    not_listed_twice,
    require_jurisdiction,
)
from contracts.exchange.tables import OPEN, Listing
from contracts.land import LandContract, ManagementTransfer, Parcel
from contracts.orgs import Org, township_of
from contracts.parties import Sha256Hex
from contracts.policy import county_of, policy_for
from contracts.quotas.tables import LandQuota, quota_key
from contracts.registry import Payload, RecordContext, rule
from contracts.state import Change, Put, State, Where, make
from contracts.vouchers.terms import VOUCHER_VERSION
from ledger.entry import format_time
from ledger.errors import Category

CHINA_STANDARD_TIME = timedelta(hours=8)


class Qualifications(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    members_only: bool = False
    agricultural_capacity: bool = False
    entity_types: Annotated[
        list[Literal["cooperative", "family_farm", "company", "other"]], msgspec.Meta(max_length=4)
    ] = []


class Listed(Payload, frozen=True):
    listing: ListingId
    right: Right
    consent: Sha256Hex  # the holder's written consent; for a collective asset, the meeting's decision
    reserve_fen: PositiveFen
    price_unit: Literal["per_mu_year", "total"]
    increment_fen: PositiveFen
    deposit_fen: Fen
    method: Literal["auction", "sealed"]
    bidding_opens_at: Instant
    bidding_closes_at: Instant
    qualifications: Qualifications = Qualifications()
    relisting_of: ListingId | None = None


class ListedV4(Listed, frozen=True):
    """``Listed`` from rule version 4: the right may also be a confirmed land quota."""

    right: RightV4  # type: ignore[assignment]  # a wider union: every version-3 right and more


class ListingAct(Payload, frozen=True):
    listing: ListingId


class Withdrawn(Payload, frozen=True):
    listing: ListingId
    reason: Literal["holder_request", "right_in_question", "other"]
    document: Sha256Hex


class Held(Payload, frozen=True):
    listing: ListingId
    reason: Literal["ownership_dispute", "court_order", "other"]
    document: Sha256Hex


class HoldLifted(Payload, frozen=True):
    listing: ListingId
    document: Sha256Hex


def _right_reads(p: Listed | ListedV4) -> list[tuple[type, tuple[str, ...]] | Where]:
    hints: list[tuple[type, tuple[str, ...]] | Where] = [(Listing, (p.listing,))]
    contract = getattr(p.right, "contract", None)
    if contract is not None:
        hints += [(LandContract, (contract,)), Where(ManagementTransfer, "contract_id", contract)]
        hints += [(Parcel, (code,)) for code in getattr(p.right, "parcels", ())]
    if p.relisting_of:
        hints.append((Listing, (p.relisting_of,)))
    return hints


@rule(
    "exchange.listed",
    Listed,
    prefetch=lambda p, rec: _right_reads(p),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def list_right(state: State, rec: RecordContext, p: Listed) -> list[Change]:
    """An exchange centre announces a listing (挂牌公告) of a right on the holder's written consent:
    reserve, increment, deposit, method, bidding window and qualifications.

    The priority holders are derived from the registry, not claimed."""
    _new_listing(state, rec, p.listing)
    return _announce(state, rec, p, listable(state, rec, p.right))


def _new_listing(state: State, rec: RecordContext, listing_id: str) -> None:
    if state.get(Listing, listing_id) is not None:
        raise RuleViolation("exchange.listing_exists", f"listing {listing_id} exists")
    exchange = state.get(Org, rec.actor)
    if exchange is None or exchange.type != "exchange_center":
        raise RuleViolation(
            "exchange.not_an_exchange", f"{rec.actor} is not an exchange centre", category=Category.FORBIDDEN
        )


def _announce(state: State, rec: RecordContext, p: Listed | ListedV4, right: ListedRight) -> list[Change]:
    """The listing of ``right``, found listable: every check after the right's own, and the row."""
    require_jurisdiction(state, rec.actor, right.collective_id)
    previous = _relisting(state, rec, p, right)
    not_listed_twice(state, right, ignore=p.relisting_of)
    policy = policy_for(state, rec.actor)
    if p.price_unit == "per_mu_year" and right.type != "land_management":
        raise RuleViolation("exchange.bad_price_unit", "a price per 亩 per year is for land only")
    if p.increment_fen < policy.bid_increment_fen:
        raise RuleViolation(
            "exchange.increment_too_small",
            f"the county's smallest increment is {policy.bid_increment_fen} fen",
        )
    opens, closes = (
        instant(p.bidding_opens_at, "bidding_opens_at"),
        instant(p.bidding_closes_at, "bidding_closes_at"),
    )
    announce_ends = WorkingDays(state, rec.actor).after(rec.local_date, policy.listing_notice_working_days)
    if (opens + CHINA_STANDARD_TIME).date() <= announce_ends:
        raise RuleViolation(
            "exchange.announcement_too_short",
            f"the announcement runs {policy.listing_notice_working_days} working days, to {announce_ends}; "
            "bidding opens after it",
        )
    if not opens < closes:
        raise RuleViolation("exchange.bad_window", "the bidding window closes after it opens")
    if (closes + CHINA_STANDARD_TIME).date() > rec.local_date + max_listing_days(policy):
        raise RuleViolation(
            "exchange.announcement_too_long", f"a listing runs at most {policy.listing_max_days} days"
        )
    row = make(
        Listing,
        id=p.listing,
        exchange_id=rec.actor,
        county_id=county_of(state, rec.actor) or rec.actor,
        township_id=township_of(state, right.collective_id),
        collective_id=right.collective_id,
        right_type=right.type,
        right_key=right.key,
        right=msgspec.to_builtins(p.right),
        holder=right.holder,
        consent=p.consent,
        quantity=right.quantity,
        term_start=right.term_start,
        term_end=right.term_end,
        reserve_fen=p.reserve_fen,
        price_unit=p.price_unit,
        increment_fen=p.increment_fen,
        deposit_fen=p.deposit_fen,
        method=p.method,
        priority_model=policy.priority_model,
        qualifications=msgspec.to_builtins(p.qualifications),
        priority_collective=right.priority_collective,
        priority_tenant=right.priority_tenant,
        lottery_seed=lottery_seed(rec, p.listing),
        listed_seq=rec.seq,
        listed_on=rec.local_date,
        announce_ends=announce_ends,
        opens_at=format_time(opens),
        closes_at=format_time(closes),
        extension_minutes=policy.late_bid_extension_minutes,
        status="announced",
        round=previous.round + 1 if previous else 1,
        relisting_of=p.relisting_of,
        barred=list(previous.barred) if previous else [],
    )
    within_value_cap(row, p.reserve_fen)
    value = deal_value(row, p.reserve_fen)
    if (
        not policy.exchange_deposit_min_bp * value
        <= p.deposit_fen * 10_000
        <= policy.exchange_deposit_max_bp * value
    ):
        raise RuleViolation(
            "exchange.bad_deposit",
            f"the deposit is {policy.exchange_deposit_min_bp / 100:g}% to "
            f"{policy.exchange_deposit_max_bp / 100:g}% "
            f"of the deal at the reserve ({value} fen)",
        )
    changes: list[Change] = [Put(row), step(rec, p.listing, amount=p.reserve_fen)]
    if previous is not None:
        changes.append(Put(previous.model_copy(update={"relisted_as": p.listing})))
    return changes


def _right_reads_v4(p: ListedV4) -> list[tuple[type, tuple[str, ...]] | Where]:
    hints = _right_reads(p)
    if isinstance(p.right, LandQuotaRight):
        hints += [(LandQuota, (p.right.quota,)), Where(Listing, "right_key", quota_key(p.right.quota))]
    return hints


@rule(
    "exchange.listed",
    ListedV4,
    prefetch=lambda p, rec: _right_reads_v4(p),
    signed_by=LISTING_EXCHANGE,
    version=VOUCHER_VERSION,
)
def list_right_v4(state: State, rec: RecordContext, p: ListedV4) -> list[Change]:
    """Version 4: a confirmed land quota (地票) is listed too, by its holder, whole (its m²), for a
    total price, with no priority holder; any other right as version 3 lists it."""
    _new_listing(state, rec, p.listing)
    return _announce(state, rec, p, listable_v4(state, rec, p.right))


def _relisting(state: State, rec: RecordContext, p: Listed | ListedV4, right: ListedRight) -> Listing | None:
    if p.relisting_of is None:
        return None
    previous = state.get(Listing, p.relisting_of)
    if previous is None or previous.exchange_id != rec.actor:
        raise RuleViolation("exchange.unknown_listing", f"no listing {p.relisting_of} of this exchange")
    if previous.status != "failed" or previous.relisted_as is not None:
        raise RuleViolation(
            "exchange.not_relistable",
            f"only a failed listing is relisted, once; {previous.id} is {previous.status}",
        )
    same = {k: v for k, v in previous.right.items() if k not in ("term_start", "term_end")}
    if previous.right_key != right.key or same != {
        k: v for k, v in msgspec.to_builtins(p.right).items() if k not in ("term_start", "term_end")
    }:
        raise RuleViolation("exchange.not_relistable", "a relisting lists the same right (its term may move)")
    step_bp = policy_for(state, rec.actor).relist_reserve_step_bp
    if p.reserve_fen * 10_000 < previous.reserve_fen * (10_000 - step_bp):
        raise RuleViolation(
            "exchange.reserve_cut_too_deep",
            f"a relisting lowers the reserve by at most {step_bp / 100:g}% of {previous.reserve_fen} fen",
        )
    return previous


@rule(
    "exchange.extended",
    ListingAct,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def extend_listing(state: State, rec: RecordContext, p: ListingAct) -> list[Change]:
    """No bidder with a deposit by the end of the announcement: the announcement is extended by
    the county's cycle of working days, the bidding window with it."""
    listing = listing_of(state, rec, p.listing)
    _announced(listing)
    not_held(listing)  # a hold freezes the announcement too; lifting it moves the moments ahead
    if now(rec) < at(listing.opens_at):
        raise RuleViolation(
            "exchange.announcement_running", f"the announcement runs until {listing.opens_at}"
        )
    if any(b.deposit != "none" for b in bidders_of(state, listing.id)):
        raise RuleViolation(
            "exchange.has_bidders", "a bidder registered and paid the deposit: bidding goes ahead"
        )
    policy = policy_of(state, listing)
    ends, shift = _extension(state, rec, listing)
    if not can_extend(state, rec, listing):
        raise RuleViolation(
            "exchange.announcement_too_long",
            f"a listing runs at most {policy.listing_max_days} days: it fails instead",
        )
    closes = at(listing.closes_at) + shift
    row = listing.model_copy(
        update={
            "announce_ends": ends,
            "opens_at": format_time(at(listing.opens_at) + shift),
            "closes_at": format_time(closes),
            "extensions": listing.extensions + 1,
        }
    )
    return [Put(row), step(rec, listing.id)]


def _extension(state: State, rec: RecordContext, listing: Listing) -> tuple[date, timedelta]:
    """The announcement's new end after one more cycle, and how far the window moves."""
    start = max(listing.announce_ends, rec.local_date)
    cycle = policy_of(state, listing).no_bidder_extension_working_days
    ends = WorkingDays(state, listing.exchange_id).after(start, cycle)
    return ends, timedelta(days=(ends - listing.announce_ends).days)


def can_extend(state: State, rec: RecordContext, listing: Listing) -> bool:
    """Whether one more announcement cycle keeps the listing within the county's longest run."""
    _, shift = _extension(state, rec, listing)
    closes = at(listing.closes_at) + shift
    return (closes + CHINA_STANDARD_TIME).date() <= listing.listed_on + max_listing_days(
        policy_of(state, listing)
    )


def _announced(listing: Listing) -> None:
    if listing.status != "announced":
        raise RuleViolation("exchange.listing_not_open", f"listing {listing.id} is {listing.status}")


@rule(
    "exchange.withdrawn",
    Withdrawn,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def withdraw_listing(state: State, rec: RecordContext, p: Withdrawn) -> list[Change]:
    """A listing is withdrawn before its first bid or quote; deposits are then refunded."""
    listing = listing_of(state, rec, p.listing)
    _announced(listing)
    if listing.first_bid_seq is not None:
        raise RuleViolation(
            "exchange.has_bids", f"listing {listing.id} has bids: it can no longer be withdrawn"
        )
    # The deposits are refunded within the county's working days of the withdrawal.
    due = WorkingDays(state, listing.exchange_id).after(
        rec.local_date, policy_of(state, listing).refund_working_days
    )
    update = {"status": "withdrawn", "ended_seq": rec.seq, "held_at": None, "refunds_due": due}
    return [Put(listing.model_copy(update=update)), step(rec, listing.id)]


@rule(
    "exchange.held",
    Held,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def hold_listing(state: State, rec: RecordContext, p: Held) -> list[Change]:
    """A dispute over the right holds the listing: nothing moves on it until the hold is lifted."""
    listing = listing_of(state, rec, p.listing)
    if listing.status not in OPEN:
        raise RuleViolation("exchange.listing_not_open", f"listing {listing.id} is {listing.status}")
    if listing.held_at is not None:
        raise RuleViolation("exchange.already_held", f"listing {listing.id} is held since {listing.held_at}")
    return [
        Put(listing.model_copy(update={"held_at": rec.recorded_at, "hold_document": p.document})),
        step(rec, listing.id),
    ]


@rule(
    "exchange.hold_lifted",
    HoldLifted,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def lift_hold(state: State, rec: RecordContext, p: HoldLifted) -> list[Change]:
    """The dispute is resolved: the listing resumes, and every moment of it still ahead when it
    was held (the window, its close, the response window, the deadlines) moves by the time held."""
    listing = listing_of(state, rec, p.listing)
    if listing.held_at is None:
        raise RuleViolation("exchange.not_held", f"listing {listing.id} is not held")
    held_at = at(listing.held_at)
    shift = now(rec) - held_at
    # Dates move by the whole days held (rounded down), times by the exact time held: a moment
    # that was after a date stays after it.
    days = timedelta(days=math.floor(shift / timedelta(days=1)))
    held_on = (held_at + CHINA_STANDARD_TIME).date()
    update: dict[str, object] = {"held_at": None, "hold_document": None}
    for name in ("opens_at", "closes_at", "match_until"):
        value = getattr(listing, name)
        if value is not None and at(value) > held_at:
            update[name] = format_time(at(value) + shift)
    if (
        listing.status == "announced"
        and at(listing.closes_at) <= held_at
        and not decided(state, listing, bidders_of(state, listing.id), policy_of(state, listing), held_at)
    ):
        # Held after the close while quotes were still to be opened or priority holders could
        # still match: the end of the opening time and the deadline to match count from the close
        # and from the last opening, so those move too (both stay in the past).
        for name in ("closes_at", "high_at"):
            value = getattr(listing, name)
            if value is not None:
                update[name] = format_time(at(value) + shift)
    for name in ("announce_ends", "contract_due", "payment_due", "refunds_due"):
        value = getattr(listing, name)
        if value is not None and value >= held_on:
            update[name] = value + days
    return [Put(listing.model_copy(update=update)), step(rec, listing.id)]


RULES = (list_right, list_right_v4, extend_listing, withdraw_listing, hold_listing, lift_hold)
