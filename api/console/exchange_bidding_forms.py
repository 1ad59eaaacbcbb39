"""The live bidding page's forms, each an entry the exchange centre signs on a bidder's behalf:
a bid (``exchange.bid``), a priority holder's match (``exchange.priority_matched``), a sealed
quote (``exchange.quote_sealed``) and its opening (``exchange.quote_opened``); and what the
bidding and deal pages share: a bidder chosen by its number, an amount typed in yuan (recorded
in fen, in the listing's unit), a bank reference recorded by its hash, and the refusals' words.

Each form's fields are named under its act (``bid.amount_yuan``), so that two forms on one
page never share an element id; ``on_form`` puts a refusal of the payload's field (``amount_fen``)
beside the form's own (``bid.amount_yuan``).

A sealed quote's amount never reaches the log before the opening: the page computes the
commitment (``contracts.exchange.bidding.quote_commitment``) from the amount and a random salt
made when the form opens, and shows both once, for the bidder to keep; the opening form takes
them again. Every check of an amount or a bidder beyond its form is the rules'.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import replace
from typing import Any

from api.console.acting import FormRefusal
from api.console.exchange_bidding_reads import BiddingView, bidder_text
from api.console.forms import Filled, Form, FormField, refusal_key
from api.console.render import catalogue
from api.console.vouchers_pages_reads import fen_of, yuan
from contracts.exchange.bidding import quote_commitment
from contracts.exchange.tables import Listing, ListingBidder

BID = "exchange.bid"
MATCH = "exchange.priority_matched"
SEAL = "exchange.quote_sealed"
OPEN = "exchange.quote_opened"
MONEY = {"amount_fen": "amount_yuan"}  # the payload's fen, typed in yuan in this field
SALT = re.compile(r"^[0-9a-f]{32,128}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_BIDDER = 100_000  # as the rules' BidderNo
MAX_REFERENCE = 100
OWN_REFUSALS = "exchange_deal.refusal."


def exchange_refusal_key(refusal: FormRefusal) -> str:
    """The phrase of a refusal on these pages: this desk's own words for the exchange's codes
    (``exchange_deal.refusal.<code>``), else the console's."""
    key = OWN_REFUSALS + refusal.code
    return key if key in catalogue("zh") else refusal_key(refusal)


def on_form(refusal: FormRefusal, act: str) -> FormRefusal:
    """A refusal of a payload field belongs beside the ``act`` form's field for it (the amount
    typed in yuan for ``amount_fen``)."""
    if refusal.field is None:
        return refusal
    return replace(refusal, field=f"{act}.{MONEY.get(refusal.field, refusal.field)}")


def bidder_label(b: ListingBidder) -> str:
    priority = " ★" if b.priority else ""
    return f"竞买人 {b.number} · {bidder_text(b)}{priority}"


def bidder_field(act: str, bidders: list[ListingBidder], label: str = "exchange_bidding.bidder") -> FormField:
    choices = tuple((str(b.number), bidder_label(b)) for b in bidders)
    return FormField(f"{act}.bidder", label, input="select", choices=choices)


def amount_field(act: str, listing: Listing, hint: str | None = "exchange_bidding.amount_hint") -> FormField:
    return FormField(f"{act}.amount_yuan", f"exchange_bidding.amount.{listing.price_unit}", hint=hint)


def salt_field(act: str) -> FormField:
    return FormField(f"{act}.salt", "exchange_bidding.salt", hint=f"exchange_bidding.{act}.salt_hint")


def bidding_path(listing: Listing, act: str) -> str:
    return f"/console/exchange/listings/{listing.id}/bidding/{act}"


def bid_form(view: BiddingView) -> Form:
    return Form(
        BID,
        (bidder_field("bid", view.able), amount_field("bid", view.listing)),
        bidding_path(view.listing, "bid"),
        submit_label="exchange_bidding.bid.submit",
    )


def match_form(view: BiddingView) -> Form:
    return Form(
        MATCH,
        (
            bidder_field("match", view.priority_holders, "exchange_bidding.match.bidder"),
            amount_field("match", view.listing, "exchange_bidding.match.amount_hint"),
        ),
        bidding_path(view.listing, "match"),
        submit_label="exchange_bidding.match.submit",
    )


def seal_form(view: BiddingView) -> Form:
    waiting = [b for b in view.able if b.sealed is None]
    return Form(
        SEAL,
        (
            bidder_field("seal", waiting),
            amount_field("seal", view.listing, "exchange_bidding.seal.amount_hint"),
            salt_field("seal"),
        ),
        bidding_path(view.listing, "seal"),
        submit_label="exchange_bidding.seal.submit",
    )


def open_form(view: BiddingView) -> Form:
    sealed = [b for b in view.able if b.sealed is not None and b.best_fen is None]
    return Form(
        OPEN,
        (
            bidder_field("open", sealed),
            amount_field("open", view.listing, None),
            salt_field("open"),
        ),
        bidding_path(view.listing, "open"),
        submit_label="exchange_bidding.open.submit",
    )


def opened_forms(view: BiddingView) -> dict[str, Filled]:
    """The forms the listing's stage offers, as first opened (a match prefilled with the high
    bid it would equal; a sealed quote with a new random salt)."""
    forms: dict[str, Filled] = {}
    listing, stage = view.listing, view.phase
    high = "" if listing.high_fen is None else yuan(listing.high_fen)
    if stage == "bidding" and view.able:
        if view.sealed:
            forms["seal"] = seal_form(view).opened(**{"seal.salt": secrets.token_hex(16)})
        else:
            forms["bid"] = bid_form(view).opened()
    if stage == "closed" and view.sealed and any(b.sealed and b.best_fen is None for b in view.able):
        forms["open"] = open_form(view).opened()
    matching = listing.priority_model != "tie" and not view.agreement and view.priority_holders
    if matching and stage in ("bidding", "closed"):
        in_auction = listing.priority_model == "in_auction_match" and not view.post_close_matching
        if (in_auction and view.match_in is not None) or (view.post_close_matching and stage == "closed"):
            forms["match"] = match_form(view).opened(**{"match.amount_yuan": high})
    return forms


def form_of(view: BiddingView, act: str) -> Form:
    return {"bid": bid_form, "match": match_form, "seal": seal_form, "open": open_form}[act](view)


def bidder_of(filled: Filled, act: str) -> int | FormRefusal:
    name = f"{act}.bidder"
    text = filled[name]
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not 1 <= int(text) <= MAX_BIDDER:
        return FormRefusal("form.not_a_number", "bidder is not a bidder's number", name)
    return int(text)


def amount_of(filled: Filled, act: str) -> int | FormRefusal:
    name = f"{act}.amount_yuan"
    fen = fen_of(filled[name])
    if fen is None:
        return FormRefusal("form.not_an_amount", f"{name} is not an amount in yuan", name)
    return fen


def salt_of(filled: Filled, act: str) -> str | FormRefusal:
    salt = filled[f"{act}.salt"]
    if not SALT.match(salt):
        return FormRefusal(
            "exchange_deal.bad_salt", "the salt is 32 to 128 lowercase hex digits", f"{act}.salt"
        )
    return salt


def reference_hash(text: str, name: str) -> str | FormRefusal:
    """A bank reference as the ledger keeps it: its SHA-256 (a reference already given as a
    SHA-256 is kept as it is); plain printable text, at most 100 characters."""
    if not text or len(text) > MAX_REFERENCE or CONTROL.search(text):
        return FormRefusal("exchange_deal.bad_reference", f"{name} is not a bank reference", name)
    return text if HEX64.match(text) else hashlib.sha256(text.encode()).hexdigest()


def bidding_payload(listing: Listing, act: str, filled: Filled) -> dict[str, Any] | FormRefusal:
    """The payload of a bidding act from its form, or the refusal of what was typed."""
    refusal = filled.missing()
    if refusal is not None:
        return refusal
    number, amount = bidder_of(filled, act), amount_of(filled, act)
    if isinstance(number, FormRefusal):
        return number
    if isinstance(amount, FormRefusal):
        return amount
    payload: dict[str, Any] = {"listing": listing.id, "bidder": number}
    if act in ("bid", "match"):
        return {**payload, "amount_fen": amount}
    salt = salt_of(filled, act)
    if isinstance(salt, FormRefusal):
        return salt
    if act == "seal":
        return {**payload, "commitment": quote_commitment(listing.id, number, amount, salt)}
    return {**payload, "amount_fen": amount, "salt": salt}


KINDS = {"bid": BID, "match": MATCH, "seal": SEAL, "open": OPEN}
