"""The small forms of a listing's page: extend (no bidder by the end of the announcement),
withdraw (before the first bid), hold for a dispute and lift the hold, and a bidder's deposit
received. Each is an entry kind signed by the centre; the rule decides whether the act may
be taken now, and its refusal is shown beside the field it concerns."""

from __future__ import annotations

from typing import Any

from api.console.exchange_desk import listing_path
from api.console.forms import Filled, Form, FormField
from contracts.exchange.tables import Listing, ListingBidder

DOCUMENT_HINT = "exchange.act.document_hint"


def _choices(prefix: str, *values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, f"{prefix}.{v}") for v in values)


def act_forms(listing_id: str, waiting: list[ListingBidder]) -> dict[str, Form]:
    """The forms of the listing's acts, by name (the last part of the path each posts to)."""
    path = listing_path(listing_id)
    document = FormField("document", "exchange.act.document", hint=DOCUMENT_HINT)
    return {
        "extend": Form("exchange.extended", (), path + "/extend", submit_label="exchange.act.extend"),
        "withdraw": Form(
            "exchange.withdrawn",
            (
                FormField(
                    "reason",
                    "exchange.act.reason",
                    input="select",
                    choices=_choices(
                        "exchange.withdraw_reason", "holder_request", "right_in_question", "other"
                    ),
                ),
                document,
            ),
            path + "/withdraw",
            submit_label="exchange.act.withdraw",
        ),
        "hold": Form(
            "exchange.held",
            (
                FormField(
                    "reason",
                    "exchange.act.reason",
                    input="select",
                    choices=_choices("exchange.hold_reason", "ownership_dispute", "court_order", "other"),
                ),
                document,
            ),
            path + "/hold",
            submit_label="exchange.act.hold",
        ),
        "lift": Form("exchange.hold_lifted", (document,), path + "/lift", submit_label="exchange.act.lift"),
        "deposit": Form(
            "exchange.deposit_received",
            (
                FormField(
                    "bidder",
                    "exchange.deposit.bidder",
                    input="select",
                    choices=tuple((str(b.number), f"竞买人 {b.number}") for b in waiting),
                ),
                FormField("amount_fen", "exchange.deposit.amount", hint="exchange.new.yuan_hint"),
                FormField(
                    "bank_reference", "exchange.deposit.reference", hint="exchange.deposit.reference_hint"
                ),
            ),
            path + "/deposit",
            submit_label="exchange.deposit.submit",
        ),
    }


def opened_forms(listing: Listing, forms: dict[str, Form], amount: str) -> dict[str, Filled]:
    """Every act form as first opened (a new entry id each); the deposit at the listing's."""
    opened = {name: form.opened() for name, form in forms.items()}
    opened["deposit"] = forms["deposit"].opened(amount_fen=amount)
    return opened


def act_payload(name: str, listing_id: str, filled: Filled) -> dict[str, Any]:
    """The payload of act ``name`` on the listing, from what was typed."""
    payload: dict[str, Any] = {"listing": listing_id}
    if name in ("withdraw", "hold"):
        payload["reason"] = filled["reason"]
    if name in ("withdraw", "hold", "lift"):
        payload["document"] = filled["document"]
    return payload
