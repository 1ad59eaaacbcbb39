"""A listing's bidder registration (``/console/exchange/listings/{listing}/bidders/new``,
``exchange.bidder_registered``: a natural person by party id, or an entity by its name, unified
social credit code and type, with the application's document hash and, for land, the proof of
agricultural capacity) and a registered bidder's deposit received
(``/console/exchange/listings/{listing}/deposit``, ``exchange.deposit_received``, on the
listing's page). The rule qualifies the bidder (members only, the holder's own household, the
cap, a defaulter barred) and numbers it 竞买人 N; its refusal is shown beside the field.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.exchange_desk import ROLE, exchange_page, fen_of, listing_path, own_listing
from api.console.exchange_listing import refused_here
from api.console.exchange_listing_acts import act_forms
from api.console.exchange_reads import bidders
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import SignedIn
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from contracts.exchange.tables import Listing

REGISTERED = "exchange.bidder_registered"
ENTITY_TYPES = ("cooperative", "family_farm", "company", "other")


def bidder_form(listing_id: str) -> Form:
    f = FormField
    return Form(
        REGISTERED,
        (
            f(
                "bidder.type",
                "exchange.bidder.type",
                input="select",
                choices=(("party", "exchange.bidder.kind.party"), ("entity", "exchange.bidder.kind.entity")),
            ),
            f("bidder.party", "exchange.bidder.party", required=False, hint="exchange.bidder.party_hint"),
            f("bidder.name", "exchange.bidder.name", required=False, hint="exchange.bidder.entity_hint"),
            f("bidder.credit_code", "exchange.bidder.credit_code", required=False),
            f(
                "bidder.entity_type",
                "exchange.bidder.entity_type",
                input="select",
                required=False,
                choices=tuple((v, f"exchange.entity_type.{v}") for v in ENTITY_TYPES),
            ),
            f("application", "exchange.bidder.application", hint="exchange.act.document_hint"),
            f(
                "agricultural_capacity",
                "exchange.bidder.capacity",
                required=False,
                hint="exchange.bidder.capacity_hint",
            ),
        ),
        listing_path(listing_id, "bidders", "new"),
        submit_label="exchange.bidder.submit",
    )


def bidder_payload(listing: Listing, filled: Filled) -> dict[str, Any] | FormRefusal:
    """The registration's payload from what was typed, or the first field left empty."""
    kind = filled["bidder.type"]
    needed = (
        ("bidder.party",) if kind == "party" else ("bidder.name", "bidder.credit_code", "bidder.entity_type")
    )
    for name in needed:
        if not filled[name]:
            return FormRefusal("form.required", f"{name} is required", name)
    bidder: dict[str, Any] = (
        {"type": "party", "party": filled["bidder.party"]}
        if kind == "party"
        else {
            "type": kind,
            "name": filled["bidder.name"],
            "credit_code": filled["bidder.credit_code"],
            "entity_type": filled["bidder.entity_type"],
        }
    )
    payload: dict[str, Any] = {"listing": listing.id, "bidder": bidder, "application": filled["application"]}
    if filled["agricultural_capacity"]:
        payload["agricultural_capacity"] = filled["agricultural_capacity"]
    return payload


def _page(
    request: Request[Any, Any, Any], console: SignedIn, listing: Listing, form: Filled, status_code: int = 200
) -> Response[Any]:
    return exchange_page(
        request, console, "exchange_bidder_new.html", status_code=status_code, listing=listing, form=form
    )


@get(listing_path("{listing:str}", "bidders", "new"), opt=ROLE, **CONSOLE)
async def new_bidder(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, listing: Id
) -> Response[Any]:
    """The registration form of a bidder for the centre's listing."""
    found = await own_listing(session, console, listing)
    form = bidder_form(found.id).opened(**{"bidder.type": "party"})
    return _page(request, console, found, noticed(request, form))


@post(listing_path("{listing:str}", "bidders", "new"), opt=ROLE, **CONSOLE)
async def register_bidder(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, listing: Id
) -> Response[Any]:
    """Register and qualify the bidder; back to the listing's page, or the refusal here."""
    found = await own_listing(session, console, listing)
    filled = bidder_form(found.id).filled(await request.form())
    refusal = filled.missing()
    payload = bidder_payload(found, filled) if refusal is None else refusal
    if not isinstance(payload, FormRefusal):
        result = await submit(request, console, REGISTERED, payload, filled.entry_id)
        if not isinstance(result, FormRefusal):
            return Redirect(listing_path(found.id) + f"?recorded={result['seq']}#bidders", status_code=303)
        payload = result
    return _page(request, console, found, filled.refused(payload), status_code=422)


@post(listing_path("{listing:str}", "deposit"), opt=ROLE, **CONSOLE)
async def deposit_received(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """A registered bidder's deposit received in the centre's account (amount in yuan, the bank
    reference's hash); back to the listing's page, or the refusal there."""
    found = await own_listing(session, console, listing)
    waiting = [b for b in await bidders(session, found.id) if b.deposit == "none"]
    form = act_forms(found.id, waiting)["deposit"]
    filled = form.filled(await request.form())
    refusal = filled.missing()
    number = filled["bidder"]
    amount = fen_of(filled["amount_fen"])
    if refusal is None and not (number.isascii() and number.isdigit() and len(number) <= 6):
        refusal = FormRefusal("form.not_a_number", "bidder is not a number", "bidder")
    if refusal is None and amount is None:
        refusal = FormRefusal("form.not_an_amount", "amount_fen is not an amount in yuan", "amount_fen")
    if refusal is None and amount is not None:
        payload = {
            "listing": found.id,
            "bidder": int(number),
            "amount_fen": amount,
            "bank_reference": filled["bank_reference"],
        }
        result = await submit(request, console, form.kind, payload, filled.entry_id)
        if not isinstance(result, FormRefusal):
            return Redirect(listing_path(found.id) + f"?recorded={result['seq']}#bidders", status_code=303)
        refusal = result
    assert refusal is not None  # every way here set one
    return await refused_here(request, console, session, service, found, "deposit", filled, refusal)


ROUTES: list[Any] = [new_bidder, register_bidder, deposit_received]
