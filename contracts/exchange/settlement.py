"""From the close to the certificate: ``exchange.awarded`` (成交, the winner and price the rules
compute, nothing else), ``exchange.failed`` (流拍), ``exchange.contract_signed``,
``exchange.defaulted`` (the deposit forfeited for a coded reason, the defaulter barred from
the relisting), ``exchange.payment_confirmed``, ``exchange.deposit_refunded`` and
``exchange.certificate_issued`` (交易鉴证书), which moves the right in the registry (from rule
version 4, a land quota too).

Deposits balance per listing: every deposit received ends refunded, credited toward the price
(the winner's) or forfeited, once; ``ListingBidder.deposit`` holds which.
"""

from __future__ import annotations

from typing import Any, Literal

from contracts.calendar import WorkingDays
from contracts.errors import RuleViolation
from contracts.exchange.common import (
    EXCHANGE_VERSION,
    LISTING_EXCHANGE,
    BidderNo,
    Fen,
    ListingId,
    at,
    bidder_of,
    bidders_of,
    listing_of,
    listing_reads,
    now,
    policy_of,
    step,
)
from contracts.exchange.listing import can_extend
from contracts.exchange.moments import decided, is_agreement
from contracts.exchange.outcome import deal_value, exchange_fee, ranking
from contracts.exchange.rights import move_quota, move_right, seller_exempt
from contracts.exchange.tables import Listing, ListingBidder
from contracts.land import CertificateNo
from contracts.parties import Sha256Hex
from contracts.registry import Payload, RecordContext, revision, rule
from contracts.state import Change, Put, State
from contracts.vouchers.terms import VOUCHER_VERSION

ForfeitReason = Literal[
    "withdrawal_after_qualification",
    "no_valid_quote_sole_bidder",
    "refused_confirmation",
    "refused_contract",
    "non_payment",
]


class Awarded(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    amount_fen: Fen


class Failed(Payload, frozen=True):
    listing: ListingId


class ContractSigned(Payload, frozen=True):
    listing: ListingId
    contract: Sha256Hex


class Defaulted(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    reason: ForfeitReason
    document: Sha256Hex


class PaymentConfirmed(Payload, frozen=True):
    listing: ListingId
    amount_fen: Fen
    bank_reference: Sha256Hex


class DepositRefunded(Payload, frozen=True):
    listing: ListingId
    bidder: BidderNo
    bank_reference: Sha256Hex


class CertificateIssued(Payload, frozen=True):
    listing: ListingId
    certificate_no: CertificateNo


def _status(listing: Listing, *allowed: str) -> None:
    if listing.status not in allowed:
        raise RuleViolation(
            "exchange.wrong_stage", f"listing {listing.id} is {listing.status}, not {' or '.join(allowed)}"
        )
    if listing.held_at is not None:
        raise RuleViolation("exchange.listing_held", f"listing {listing.id} is held for a dispute")


def _decided_listing(
    state: State, rec: RecordContext, listing_id: str
) -> tuple[Listing, list[ListingBidder]]:
    """The listing and its bidders, once its outcome may be recorded (an award or a failure)."""
    listing = listing_of(state, rec, listing_id)
    _status(listing, "announced")
    bidders = bidders_of(state, listing.id)
    if not decided(state, listing, bidders, policy_of(state, listing), now(rec)):
        raise RuleViolation("exchange.not_closed", "bidding, opening or priority matching is still open")
    return listing, bidders


@rule(
    "exchange.awarded",
    Awarded,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def award(state: State, rec: RecordContext, p: Awarded) -> list[Change]:
    """The award (成交): the winner and the price the rules compute from the bids; an award naming
    anyone else, or any other price, is refused."""
    listing, bidders = _decided_listing(state, rec, p.listing)
    policy = policy_of(state, listing)
    order = ranking(listing, bidders)
    if not order:
        raise RuleViolation("exchange.no_valid_bid", "no valid bid: the listing fails (exchange.failed)")
    winner = order[0]
    if p.bidder != winner.number:
        raise RuleViolation("exchange.wrong_winner", f"the rules award 竞买人 {winner.number}")
    if p.amount_fen != winner.best_fen:
        raise RuleViolation(
            "exchange.wrong_price", f"竞买人 {winner.number}'s winning amount is {winner.best_fen} fen"
        )
    value = deal_value(listing, p.amount_fen)
    days = WorkingDays(state, listing.exchange_id)
    update: dict[str, Any] = {
        "status": "awarded",
        "winner": winner.number,
        "price_fen": p.amount_fen,
        "value_fen": value,
        "buyer_fee_fen": exchange_fee(value, policy),
        "seller_fee_fen": 0 if seller_exempt(state, listing) else exchange_fee(value, policy),
        "awarded_on": rec.local_date,
        "contract_due": days.after(rec.local_date, policy.contract_working_days),
        "refunds_due": days.after(rec.local_date, policy.refund_working_days),
        "high_bidder": winner.number,
        "high_fen": winner.best_fen,
        "high_priority": winner.priority,
    }
    return [Put(listing.model_copy(update=update)), step(rec, listing.id, winner.number, p.amount_fen)]


@rule(
    "exchange.failed",
    Failed,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def fail(state: State, rec: RecordContext, p: Failed) -> list[Change]:
    """No valid bid once bidding is over (流拍): the listing fails and may be relisted."""
    listing, bidders = _decided_listing(state, rec, p.listing)
    if ranking(listing, bidders):
        raise RuleViolation("exchange.has_valid_bid", "a valid bid stands: the listing is awarded")
    if (
        not any(b.deposit != "none" for b in bidders)
        and listing.extensions == 0
        and can_extend(state, rec, listing)
    ):
        raise RuleViolation(
            "exchange.extend_instead",
            "no bidder came: the announcement is extended first (exchange.extended)",
        )
    # The deposits are refunded within the county's working days of the failure, as after an award.
    due = WorkingDays(state, listing.exchange_id).after(
        rec.local_date, policy_of(state, listing).refund_working_days
    )
    row = listing.model_copy(update={"status": "failed", "ended_seq": rec.seq, "refunds_due": due})
    return [Put(row), step(rec, listing.id)]


@rule(
    "exchange.contract_signed",
    ContractSigned,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def sign_contract(state: State, rec: RecordContext, p: ContractSigned) -> list[Change]:
    """The winner and the holder sign the transfer contract within the county's working days."""
    listing = listing_of(state, rec, p.listing)
    _status(listing, "awarded")
    assert listing.contract_due is not None
    if rec.local_date > listing.contract_due:
        raise RuleViolation("exchange.contract_overdue", f"the contract was due by {listing.contract_due}")
    policy = policy_of(state, listing)
    due = WorkingDays(state, listing.exchange_id).after(rec.local_date, policy.payment_working_days)
    row = listing.model_copy(
        update={"status": "contracted", "contract_document": p.contract, "payment_due": due}
    )
    return [Put(row), step(rec, listing.id, listing.winner)]


def _may_default(state: State, rec: RecordContext, listing: Listing, number: int, reason: str) -> None:
    is_winner = listing.winner == number and listing.status in ("awarded", "contracted")
    if reason == "withdrawal_after_qualification":
        ok = listing.status == "announced"
    elif reason == "no_valid_quote_sole_bidder":
        bidders = bidders_of(state, listing.id)
        ok = (
            listing.status == "announced"
            and is_agreement(listing, bidders)
            and now(rec) >= at(listing.closes_at)
            and bidder_of(state, listing, number).best_fen is None
        )
    elif reason == "refused_confirmation":
        ok = is_winner and listing.status == "awarded"
    elif reason == "refused_contract":
        ok = (
            is_winner
            and listing.status == "awarded"
            and rec.local_date > (listing.contract_due or rec.local_date)
        )
    else:  # non_payment
        ok = (
            is_winner
            and listing.status == "contracted"
            and rec.local_date > (listing.payment_due or rec.local_date)
        )
    if not ok:
        raise RuleViolation(
            "exchange.default_not_shown", f"the listing's state does not show {reason} by 竞买人 {number}"
        )


@rule(
    "exchange.defaulted",
    Defaulted,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def default(state: State, rec: RecordContext, p: Defaulted) -> list[Change]:
    """A bidder defaults (coded reason): its deposit is forfeited and it is barred from the
    relisting. A defaulting winner's award passes to the runner-up under tie priority, and
    otherwise the listing fails."""
    listing = listing_of(state, rec, p.listing)
    if listing.held_at is not None:
        raise RuleViolation("exchange.listing_held", f"listing {listing.id} is held for a dispute")
    b = bidder_of(state, listing, p.bidder)
    if b.deposit != "held":
        raise RuleViolation("exchange.no_deposit", f"竞买人 {b.number} has no deposit held to forfeit")
    _may_default(state, rec, listing, b.number, p.reason)
    forfeited = b.model_copy(
        update={"deposit": "forfeited", "settled_seq": rec.seq, "forfeit_reason": p.reason}
    )
    update: dict[str, Any] = {"barred": sorted({*listing.barred, b.bidder})}
    rows = [forfeited if x.number == b.number else x for x in bidders_of(state, listing.id)]
    if listing.status == "announced":  # a bidder withdrew during bidding: the high bid is recomputed
        top = ranking(listing.model_copy(update=update), rows)
        update.update(
            {"high_bidder": top[0].number, "high_fen": top[0].best_fen, "high_priority": top[0].priority}
            if top
            else {"high_bidder": None, "high_fen": None, "high_priority": False}
        )
    if listing.winner == b.number:
        runner_up = ranking(listing.model_copy(update=update), rows)
        reopen = listing.priority_model == "tie" and bool(runner_up)
        update.update(
            {
                "status": "announced" if reopen else "failed",
                "ended_seq": None if reopen else rec.seq,
                "winner": None,
                "price_fen": None,
                "value_fen": None,
                "buyer_fee_fen": None,
                "seller_fee_fen": None,
                "awarded_on": None,
                "contract_due": None,
                "contract_document": None,
                "payment_due": None,
            }
        )
        if reopen:  # the runner-up is the high bidder now, not the barred defaulter
            runner = runner_up[0]
            update.update(
                {"high_bidder": runner.number, "high_fen": runner.best_fen, "high_priority": runner.priority}
            )
    return [
        Put(forfeited),
        Put(listing.model_copy(update=update)),
        step(rec, listing.id, b.number, b.deposit_fen),
    ]


@rule(
    "exchange.payment_confirmed",
    PaymentConfirmed,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def confirm_payment(state: State, rec: RecordContext, p: PaymentConfirmed) -> list[Change]:
    """The price reached the centre's settlement account: the price less the winner's deposit
    (credited toward it) plus the buyer's fee."""
    listing = listing_of(state, rec, p.listing)
    if listing.paid_seq is not None:
        raise RuleViolation(
            "exchange.already_settled", f"listing {listing.id} was settled at seq {listing.paid_seq}"
        )
    _status(listing, "contracted")
    assert listing.winner is not None and listing.value_fen is not None and listing.buyer_fee_fen is not None
    winner = bidder_of(state, listing, listing.winner)
    due = listing.value_fen - winner.deposit_fen + listing.buyer_fee_fen
    if p.amount_fen != due:
        raise RuleViolation(
            "exchange.wrong_payment",
            f"due: {listing.value_fen} price − {winner.deposit_fen} deposit "
            f"+ {listing.buyer_fee_fen} fee = {due} fen",
        )
    credited = winner.model_copy(update={"deposit": "credited", "settled_seq": rec.seq})
    row = listing.model_copy(update={"status": "paid", "paid_seq": rec.seq})
    return [Put(credited), Put(row), step(rec, listing.id, winner.number, p.amount_fen)]


@rule(
    "exchange.deposit_refunded",
    DepositRefunded,
    prefetch=lambda p, rec: listing_reads(p.listing),
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
)
def refund_deposit(state: State, rec: RecordContext, p: DepositRefunded) -> list[Change]:
    """A deposit not won with is refunded, once: after the award to a losing bidder, after a
    failure or a withdrawal to every bidder."""
    listing = listing_of(state, rec, p.listing)
    b = bidder_of(state, listing, p.bidder)
    if b.deposit == "refunded":
        raise RuleViolation(
            "exchange.already_refunded", f"竞买人 {b.number}'s deposit was refunded at seq {b.settled_seq}"
        )
    if b.deposit != "held":
        raise RuleViolation("exchange.not_refundable", f"竞买人 {b.number}'s deposit is {b.deposit}")
    if listing.status == "announced":
        raise RuleViolation("exchange.refund_too_early", "deposits are refunded once the outcome is recorded")
    if listing.winner == b.number:
        raise RuleViolation("exchange.winner_deposit", "the winner's deposit counts toward the price")
    row = b.model_copy(update={"deposit": "refunded", "settled_seq": rec.seq})
    return [Put(row), step(rec, listing.id, b.number, b.deposit_fen)]


@rule(
    "exchange.certificate_issued",
    CertificateIssued,
    signed_by=LISTING_EXCHANGE,
    version=EXCHANGE_VERSION,
    prefetch=lambda p, rec: listing_reads(p.listing),
)
def issue_certificate(state: State, rec: RecordContext, p: CertificateIssued) -> list[Change]:
    """The transaction certificate (交易鉴证书): the right moves to the winner in the registry, in
    this one record, exactly once."""
    listing = listing_of(state, rec, p.listing)
    if listing.certificate_seq is not None:
        raise RuleViolation(
            "exchange.already_certified",
            f"listing {listing.id} was certified at seq {listing.certificate_seq}",
        )
    _status(listing, "paid")
    assert listing.winner is not None
    winner = bidder_of(state, listing, listing.winner)
    moved = move_right(state, rec, listing, winner)
    row = listing.model_copy(
        update={
            "status": "certified",
            "certificate_no": p.certificate_no,
            "certificate_seq": rec.seq,
            "ended_seq": rec.seq,
        }
    )
    return [*moved, Put(row), step(rec, listing.id, winner.number, listing.value_fen)]


# The quota a listing names is known only once the listing is read: its row is not prefetched.
@revision(issue_certificate, version=VOUCHER_VERSION, signed_by=LISTING_EXCHANGE)
def issue_certificate_v4(state: State, rec: RecordContext, p: CertificateIssued) -> list[Change]:
    """Version 4: the certificate of a land quota's listing moves the quota to the winner,
    traded at the deal's value; any other right moves as version 3 moves it."""
    changes = list(issue_certificate.apply(state, rec, p))
    listing = state.get(Listing, p.listing)
    assert listing is not None and listing.winner is not None  # version 3 certified it
    if listing.right_type != "land_quota":
        return changes
    return [*move_quota(state, rec, listing, bidder_of(state, listing, listing.winner)), *changes]


RULES = (
    award,
    fail,
    sign_contract,
    default,
    confirm_payment,
    refund_deposit,
    issue_certificate,
    issue_certificate_v4,
)
