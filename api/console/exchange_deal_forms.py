"""The deal page's forms, from the close to the certificate, each offered only at its stage:
the award (``exchange.awarded``, prefilled with the winner and price the rules' ranking gives)
or the failure (``exchange.failed``) once bidding is over; the contract (``exchange.contract_signed``)
after the award; the payment (``exchange.payment_confirmed``, prefilled with what is due: the
deal less the winner's deposit plus the buyer's fee) once contracted; the transaction
certificate (``exchange.certificate_issued``) once paid; a default (``exchange.defaulted``) while
one can be shown; and each losing bidder's deposit refund (``exchange.deposit_refunded``) once
the outcome is recorded. The rules check every one again; a refusal is shown beside its field.
"""

from __future__ import annotations

from typing import Any

from api.console.acting import FormRefusal
from api.console.exchange_bidding_forms import amount_of, bidder_field, bidder_of, reference_hash
from api.console.exchange_bidding_reads import BiddingView
from api.console.forms import Filled, Form, FormField
from api.console.vouchers_pages_reads import yuan
from contracts.exchange.tables import Listing, ListingBidder
from contracts.registry import china_date

KINDS = {
    "award": "exchange.awarded",
    "fail": "exchange.failed",
    "contract": "exchange.contract_signed",
    "payment": "exchange.payment_confirmed",
    "default": "exchange.defaulted",
    "refund": "exchange.deposit_refunded",
    "certificate": "exchange.certificate_issued",
}
# The reasons a deposit is forfeited, by the listing's status when each can be shown.
DEFAULT_REASONS = {
    "announced": ("withdrawal_after_qualification", "no_valid_quote_sole_bidder"),
    "awarded": ("refused_confirmation", "refused_contract"),
    "contracted": ("non_payment",),
}


def default_reasons(view: BiddingView) -> tuple[str, ...]:
    """The forfeit reasons the listing's stage can show today: a refused contract or a missed
    payment only once its due day has passed (by the China date of the ledger's clock)."""
    listing, today = view.listing, china_date(view.now)
    due = {"refused_contract": listing.contract_due, "non_payment": listing.payment_due}

    def showable(reason: str) -> bool:
        day = due.get(reason, today)
        return reason not in due or (day is not None and today > day)

    return tuple(r for r in DEFAULT_REASONS.get(listing.status, ()) if showable(r))


def deal_path(listing: Listing, act: str) -> str:
    return f"/console/exchange/listings/{listing.id}/deal/{act}"


def winner_of(view: BiddingView) -> ListingBidder | None:
    number = view.listing.winner
    return next((b for b in view.bidders if b.number == number), None)


def payment_due(view: BiddingView) -> int | None:
    """What the winner pays in: the deal less its deposit (credited) plus the buyer's fee."""
    listing, winner = view.listing, winner_of(view)
    if winner is None or listing.value_fen is None or listing.buyer_fee_fen is None:
        return None
    return listing.value_fen - winner.deposit_fen + listing.buyer_fee_fen


def refundable(view: BiddingView) -> list[ListingBidder]:
    """The deposits still held that are not the winner's, once the outcome is recorded."""
    if view.listing.status == "announced":
        return []
    return [b for b in view.bidders if b.deposit == "held" and b.number != view.listing.winner]


def defaulters(view: BiddingView) -> list[ListingBidder]:
    if view.listing.status == "announced":
        return [b for b in view.bidders if b.deposit == "held"]
    winner = winner_of(view)
    return [winner] if winner is not None and winner.deposit == "held" else []


def hash_field(name: str, label: str, hint: str) -> FormField:
    return FormField(name, label, hint=hint, placeholder="0123…cdef（64 位）")


def deal_form(view: BiddingView, act: str) -> Form:
    listing = view.listing
    unit = f"exchange_bidding.amount.{listing.price_unit}"
    fields: tuple[FormField, ...]
    if act == "award":
        fields = (
            bidder_field(act, view.ranked, "exchange_deal.award.bidder"),
            FormField("award.amount_yuan", unit, hint="exchange_deal.award.amount_hint"),
        )
    elif act == "fail":
        fields = ()
    elif act == "contract":
        fields = (
            hash_field("contract.contract", "exchange_deal.contract.document", "exchange_deal.hash_hint"),
        )
    elif act == "payment":
        fields = (
            FormField(
                "payment.amount_yuan",
                "exchange_deal.payment.amount",
                hint="exchange_deal.payment.amount_hint",
            ),
            FormField(
                "payment.bank_reference",
                "exchange_deal.bank_reference",
                hint="exchange_deal.bank_reference_hint",
            ),
        )
    elif act == "default":
        reasons = default_reasons(view) if listing.status != "announced" else DEFAULT_REASONS["announced"]
        fields = (
            bidder_field(act, defaulters(view)),
            FormField(
                "default.reason",
                "exchange_deal.default.reason",
                input="select",
                choices=tuple((r, f"exchange_deal.reason.{r}") for r in reasons),
            ),
            hash_field("default.document", "exchange_deal.default.document", "exchange_deal.hash_hint"),
        )
    elif act == "refund":
        fields = (
            bidder_field(act, refundable(view)),
            FormField(
                "refund.bank_reference",
                "exchange_deal.bank_reference",
                hint="exchange_deal.refund.reference_hint",
            ),
        )
    else:  # certificate
        fields = (
            FormField(
                "certificate.certificate_no",
                "exchange_deal.certificate.number",
                hint="exchange_deal.certificate.hint",
            ),
        )
    return Form(KINDS[act], fields, deal_path(listing, act), submit_label=f"exchange_deal.{act}.submit")


def offered(view: BiddingView) -> tuple[str, ...]:
    """The acts the listing's stage offers, in the order the page shows them."""
    listing, stage = view.listing, view.phase
    acts: list[str] = []
    if stage == "closed":
        acts.append("award" if view.ranked else "fail")
    elif listing.status == "awarded":
        acts.append("contract")
    elif listing.status == "contracted":
        acts.append("payment")
    elif listing.status == "paid":
        acts.append("certificate")
    if refundable(view):
        acts.append("refund")
    # A bidder's withdrawal (or a sole bidder's silence) is shown only once bidding is over.
    showable = listing.status != "announced" or stage == "closed"
    if listing.held_at is None and defaulters(view) and default_reasons(view) and showable:
        acts.append("default")
    return tuple(acts)


def opened_deal_forms(view: BiddingView) -> dict[str, Filled]:
    """The stage's forms as first opened, prefilled with what the ledger already says."""
    listing, forms = view.listing, {}
    for act in offered(view):
        initial: dict[str, str] = {}
        if act == "award":
            best = view.ranked[0]
            initial = {"award.bidder": str(best.number), "award.amount_yuan": yuan(best.best_fen)}
        elif act == "payment":
            due = payment_due(view)
            initial = {"payment.amount_yuan": "" if due is None else yuan(due)}
        elif act == "certificate":
            initial = {"certificate.certificate_no": f"JY-{listing.id}"[:64]}
        forms[act] = deal_form(view, act).opened(**initial)
    return forms


def deal_payload(listing: Listing, act: str, filled: Filled) -> dict[str, Any] | FormRefusal:
    """The payload of a deal act from its form, or the refusal of what was typed."""
    refusal = filled.missing()
    if refusal is not None:
        return refusal
    payload: dict[str, Any] = {"listing": listing.id}
    if act in ("award", "default", "refund"):
        number = bidder_of(filled, act)
        if isinstance(number, FormRefusal):
            return number
        payload["bidder"] = number
    if act in ("award", "payment"):
        amount = amount_of(filled, act)
        if isinstance(amount, FormRefusal):
            return amount
        payload["amount_fen"] = amount
    if act in ("payment", "refund"):
        reference = reference_hash(filled[f"{act}.bank_reference"], f"{act}.bank_reference")
        if isinstance(reference, FormRefusal):
            return reference
        payload["bank_reference"] = reference
    if act == "contract":
        payload["contract"] = filled["contract.contract"]
    if act == "default":
        payload |= {"reason": filled["default.reason"], "document": filled["default.document"]}
    if act == "certificate":
        payload["certificate_no"] = filled["certificate.certificate_no"]
    return payload
