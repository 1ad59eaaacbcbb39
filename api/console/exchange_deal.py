"""The deal page (``/console/exchange/listings/{listing}/deal``): from the close to the
transaction certificate (交易鉴证书). It shows the bidders in the order the rules award them, the
deal as the ledger holds it (winner, price, value, fees, what is due and by when, each deposit),
and only the acts the listing's stage offers (``exchange_deal_forms.offered``); once certified,
the right as it moved in the registry and the printed certificate (``exchange_deal_print``).

An act recorded answers 303 back to the page (``?recorded=seq`` says what was recorded), so a
reload records nothing and the same form submitted twice records once; a refusal re-shows the
page 422 with the refusal beside its field and what was typed kept. Only the centre that runs
the listing sees it (``own_listing``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.exchange_bidding import Act, act_of_form, helpers, load, recorded_on, with_notice
from api.console.exchange_bidding_reads import BiddingView, recorded_step
from api.console.exchange_deal_forms import (
    KINDS,
    deal_form,
    deal_payload,
    opened_deal_forms,
    payment_due,
    refundable,
    winner_of,
)
from api.console.exchange_deal_print import ROUTES as PRINT
from api.console.exchange_desk import ROLE, exchange_page
from api.console.forms import Filled
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from contracts.land import ManagementTransfer
from ledger.errors import Category

DEAL = "/console/exchange/listings/{listing:str}/deal"


async def moved(session: AsyncSession, view: BiddingView) -> ManagementTransfer | None:
    """A certified lease's transfer as the land register holds it now."""
    if view.listing.status != "certified" or view.listing.right_type != "land_management":
        return None
    return await session.get(ManagementTransfer, f"exchange:{view.listing.id}")


async def deal_context(session: AsyncSession, view: BiddingView, forms: dict[str, Filled]) -> dict[str, Any]:
    return {
        **helpers(view),
        "forms": forms,
        "winner": winner_of(view),
        "due": payment_due(view),
        "refundable": refundable(view),
        "transfer": await moved(session, view),
    }


@get(DEAL, opt=ROLE, **CONSOLE)
async def deal_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, listing: Id
) -> Response[Any]:
    """The deal as it stands, with the forms of its stage."""
    view = await load(session, service, console, listing)
    forms = with_notice(request, opened_deal_forms(view))
    recorded = await recorded_step(session, listing, request.query_params.get("recorded"))
    context = await deal_context(session, view, forms)
    return exchange_page(request, console, "exchange_deal.html", recorded=recorded, **context)


@post(DEAL + "/{act:str}", opt=ROLE, **CONSOLE)
async def deal_act(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    listing: Id,
    act: Act,
) -> Response[Any]:
    """Record the award, the failure, the contract, the payment, a default, a refund or the
    certificate."""
    if act not in KINDS:
        raise ConsoleRefusal("console.not_found", f"no deal act {act[:32]}", Category.NOT_FOUND)
    view = await load(session, service, console, listing)
    filled = deal_form(view, act).filled(await request.form())
    payload = deal_payload(view.listing, act, filled)
    result = await act_of_form(request, console, act, KINDS[act], payload, filled)
    if not isinstance(result, FormRefusal):
        return recorded_on(listing, "deal", result)
    forms = opened_deal_forms(view)
    forms[act] = filled.refused(result)
    context = await deal_context(session, view, forms)
    return exchange_page(request, console, "exchange_deal.html", status_code=422, recorded=None, **context)


ROUTES: list[Any] = [deal_page, deal_act, *PRINT]
