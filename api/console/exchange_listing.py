"""The exchange centre's listings (``/console/exchange/``) and one listing's page
(``/console/exchange/listings/{listing}``): its terms, status and the countdown to its next
moment, the timeline of its entries, its bidders as 竞买人 N with the registration details the
centre holds (for this centre's staff only), their deposits, and the acts of this stage
(extend, withdraw, hold and lift the hold, deposit received) as small forms. The live bidding
and the deal (award to certificate) have their own pages, linked from here.

Only ``exchange_staff`` users are served, and only for their own centre's listings: another
centre's listing is 403 ``console.forbidden``, an unknown one 404.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.exchange_desk import (
    HOME,
    LISTINGS,
    ROLE,
    exchange_page,
    listing_path,
    now_of,
    own_listing,
    yuan,
)
from api.console.exchange_listing_acts import act_forms, act_payload, opened_forms
from api.console.exchange_reads import bidders, own_listings, row_of, timeline
from api.console.forms import Filled, custody_problem, submit
from api.console.guard import SignedIn
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from contracts.exchange.tables import Listing


def seq_param(request: Request[Any, Any, Any], name: str) -> int | None:
    """A seq in the query (``after``, ``recorded``); anything else reads as none, never an error."""
    raw = request.query_params.get(name) or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@get(HOME, opt=ROLE, **CONSOLE)
async def exchange_home(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """The centre's listings, newest first, a page at a time (``?after=`` the last seq shown)."""
    after = seq_param(request, "after")
    rows, more = await own_listings(session, console.user.org_id, now_of(service), after)
    return exchange_page(request, console, "exchange_listings.html", rows=rows, more=more, after=after)


async def listing_context(
    request: Request[Any, Any, Any], session: Session, service: Service, listing: Listing
) -> dict[str, Any]:
    """What the listing's page shows, its act forms opened."""
    people = await bidders(session, listing.id)
    forms = act_forms(listing.id, [b for b in people if b.deposit == "none"])
    return {
        "row": row_of(listing, now_of(service)),
        "listing": listing,
        "steps": await timeline(session, listing.id),
        "bidders": people,
        "forms": opened_forms(listing, forms, yuan(listing.deposit_fen).replace(",", "")),
        "form_defs": forms,
        "notice": custody_problem(request),
        "refused": None,
        "recorded": None,
    }


@get(LISTINGS + "{listing:str}", opt=ROLE, **CONSOLE)
async def listing_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing: Id,
) -> Response[Any]:
    """One listing of the centre: terms, timeline, bidders and deposits, the acts."""
    found = await own_listing(session, console, listing)
    context = await listing_context(request, session, service, found)
    context["recorded"] = seq_param(request, "recorded")
    return exchange_page(request, console, "exchange_listing.html", **context)


async def refused_here(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing: Listing,
    name: str,
    filled: Filled,
    refusal: FormRefusal,
) -> Response[Any]:
    """The listing's page again (422), the form ``name`` with its refusal and what was typed."""
    context = await listing_context(request, session, service, listing)
    context["forms"][name] = filled.refused(refusal)
    context["refused"] = name
    return exchange_page(request, console, "exchange_listing.html", status_code=422, **context)


async def listing_act(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing_id: str,
    name: str,
) -> Response[Any]:
    """Record act ``name`` on the centre's listing; back to its page, or the refusal there."""
    listing = await own_listing(session, console, listing_id)
    form = act_forms(listing.id, [])[name]
    filled = form.filled(await request.form())
    refusal = filled.missing()
    if refusal is None:
        result = await submit(
            request, console, form.kind, act_payload(name, listing.id, filled), filled.entry_id
        )
        if not isinstance(result, FormRefusal):
            return Redirect(listing_path(listing.id) + f"?recorded={result['seq']}", status_code=303)
        refusal = result
    return await refused_here(request, console, session, service, listing, name, filled, refusal)


@post(LISTINGS + "{listing:str}/extend", opt=ROLE, **CONSOLE)
async def extend(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """Extend the announcement by the county's cycle (no bidder with a deposit)."""
    return await listing_act(request, console, session, service, listing, "extend")


@post(LISTINGS + "{listing:str}/withdraw", opt=ROLE, **CONSOLE)
async def withdraw(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """Withdraw the listing (before its first bid), with the reason and its document."""
    return await listing_act(request, console, session, service, listing, "withdraw")


@post(LISTINGS + "{listing:str}/hold", opt=ROLE, **CONSOLE)
async def hold(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """Hold the listing for a dispute over the right."""
    return await listing_act(request, console, session, service, listing, "hold")


@post(LISTINGS + "{listing:str}/lift", opt=ROLE, **CONSOLE)
async def lift(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """Lift the hold: every moment still ahead moves by the time held."""
    return await listing_act(request, console, session, service, listing, "lift")


ROUTES: list[Any] = [exchange_home, listing_page, extend, withdraw, hold, lift]
