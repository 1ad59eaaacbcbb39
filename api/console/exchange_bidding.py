"""The live bidding page (``/console/exchange/listings/{listing}/bidding``): the high bid, the
bidders (竞买人 N), the time left by the service's clock and the bid history, with the forms the
listing's stage offers the centre's staff, each an act on a bidder's behalf: a bid, a priority
holder's match, a sealed quote and its opening.

"Live": ``/bidding/state`` answers the page's state alone (an HTML fragment, never cached), which
the page's small script (``static/exchange_bidding.js``, the service's own) fetches every few
seconds and puts in place, counting the seconds down between; without script the page has a
refresh link, and ``?watch=1`` is the state alone with a meta refresh, for a screen on the wall.

An act recorded answers 303 back to the page, which says what was recorded (``?recorded=seq``),
so a reload records nothing; the same form submitted twice records once (its entry id). A
sealed quote instead answers its receipt page: the amount and salt the bidder keeps to open it.
A refusal re-shows the page 422 with the refusal beside its field and what was typed kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import PathParameter
from litestar.response import Redirect

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE, PRIVATE
from api.console.exchange_bidding_forms import (
    KINDS,
    bidding_payload,
    exchange_refusal_key,
    form_of,
    on_form,
    opened_forms,
)
from api.console.exchange_bidding_reads import BiddingView, bidder_text, bidding_view, recorded_step
from api.console.exchange_desk import ROLE, china_time, exchange_page, listing_path, now_of, own_listing
from api.console.forms import Filled, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from contracts.exchange.tables import Listing
from ledger.entry import format_time
from ledger.errors import Category

BIDDING = "/console/exchange/listings/{listing:str}/bidding"
Act = Annotated[str, PathParameter(pattern=r"^[a-z]{1,16}$")]  # an act's name in a form's path
ACTS = tuple(KINDS)


def helpers(view: BiddingView) -> dict[str, Any]:
    return {
        "view": view,
        "listing": view.listing,
        "bidder_text": bidder_text,
        "clock_text": china_time(format_time(view.now)),
        "refusal_key": exchange_refusal_key,
        "state_path": listing_path(view.listing.id, "bidding", "state"),
    }


async def load(session: Session, service: Service, console: SignedIn, listing_id: str) -> BiddingView:
    listing = await own_listing(session, console, listing_id)
    return await bidding_view(session, listing, now_of(service))


def with_notice(request: Request[Any, Any, Any], forms: dict[str, Filled]) -> dict[str, Filled]:
    return {k: noticed(request, f) for k, f in forms.items()}


@get(BIDDING, opt=ROLE, **CONSOLE)
async def bidding_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """The live bidding page, with the forms of the listing's stage."""
    view = await load(session, service, console, listing)
    recorded = await recorded_step(session, listing, request.query_params.get("recorded"))
    watch = request.query_params.get("watch") == "1"
    forms = {} if watch else with_notice(request, opened_forms(view))
    return exchange_page(
        request,
        console,
        "exchange_bidding.html",
        forms=forms,
        recorded=recorded,
        watch=watch,
        **helpers(view),
    )


@get(BIDDING + "/state", opt=ROLE, **CONSOLE)
async def bidding_state(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """The page's state alone: the fragment the page's script puts in place. Its
    ``X-Bidding-Version`` header tells the script this is the fragment (not a sign-in page a
    lapsed session was sent to) and changes whenever the state does."""
    view = await load(session, service, console, listing)
    response = exchange_page(request, console, "exchange_bidding_state.html", **helpers(view))
    response.headers.update({**PRIVATE, "X-Bidding-Version": view.version()})
    return response


async def act_of_form(
    request: Request[Any, Any, Any],
    console: SignedIn,
    act: str,
    kind: str,
    payload: dict[str, Any] | FormRefusal,
    filled: Filled,
) -> dict[str, Any] | FormRefusal:
    """Record ``kind`` with the ``act`` form's payload under its entry id: the receipt, or the
    refusal to show (a value typed that is not one, or the rule's, beside the form's field)."""
    if isinstance(payload, FormRefusal):
        return payload
    result = await submit(request, console, kind, payload, filled.entry_id)
    return on_form(result, act) if isinstance(result, FormRefusal) else result


def recorded_on(listing: str, page: str, receipt: dict[str, Any]) -> Redirect:
    """303 back to the listing's ``page``, which says what was recorded (a reload records nothing)."""
    return Redirect(f"{listing_path(listing, page)}?recorded={receipt['seq']}", status_code=303)


async def record_act(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing: str,
    act: str,
) -> Response[Any]:
    view = await load(session, service, console, listing)
    filled = form_of(view, act).filled(await request.form())
    payload = bidding_payload(view.listing, act, filled)
    result = await act_of_form(request, console, act, KINDS[act], payload, filled)
    if not isinstance(result, FormRefusal):
        if act == "seal":
            return sealed_receipt(request, console, view.listing, filled, result)
        return recorded_on(listing, "bidding", result)
    forms = opened_forms(view)
    forms[act] = filled.refused(result)
    return exchange_page(
        request,
        console,
        "exchange_bidding.html",
        status_code=422,
        forms=forms,
        recorded=None,
        watch=False,
        **helpers(view),
    )


def sealed_receipt(
    request: Request[Any, Any, Any],
    console: SignedIn,
    listing: Listing,
    filled: Filled,
    receipt: dict[str, Any],
) -> Response[Any]:
    """What the bidder keeps to open the sealed quote: its amount and salt (not on the log)."""
    return exchange_page(
        request,
        console,
        "exchange_bidding_sealed.html",
        listing=listing,
        bidder=filled["seal.bidder"],
        amount=filled["seal.amount_yuan"],
        salt=filled["seal.salt"],
        receipt=receipt,
    )


@post(BIDDING + "/{act:str}", opt=ROLE, **CONSOLE)
async def bidding_act(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing: Id,
    act: Act,
) -> Response[Any]:
    """Record a bid, a match, a sealed quote or its opening on a bidder's behalf."""
    if act not in ACTS:
        raise ConsoleRefusal("console.not_found", f"no bidding act {act[:32]}", Category.NOT_FOUND)
    return await record_act(request, console, session, service, listing, act)


ROUTES: list[Any] = [bidding_page, bidding_state, bidding_act]
