"""The listing wizard (``/console/exchange/listings/new``): 1. the holder, found by id (a
household, a party or a village collective in the centre's county); 2. the rights the ledger
says that holder holds (those already under an open listing shown, not offered); 3. the
priority holders the ledger knows for the right chosen; 4. the terms; then a summary of what
will be signed, and the signature (``exchange.listed``, the centre's key, naming the user).

Steps 1-3 are links and a GET form (no script needed); the terms are posted once to review
(``stage=review``: nothing is signed, the summary is shown) and once more to sign. A refusal,
the console's (a value it cannot read) or the rule's, re-shows the terms (422) with it beside
its field and what was typed kept. The entry id and the listing number are made when the form
opens, so a double submit records once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.exchange_desk import LISTINGS, ROLE, exchange_page, listing_path
from api.console.exchange_listing_form import initial, listed_payload, listing_form
from api.console.exchange_reads_priority import priority_of
from api.console.exchange_reads_rights import HeldRight, Holder, find_holder, held_rights
from api.console.forms import Filled, noticed, submit
from api.console.guard import SignedIn
from api.http.dependencies import Db, Service, Session
from api.http.routes.paging import ID_PATTERN
from api.reads.policy import committed_state, policy_in_force
from contracts.calendar import WorkingDays
from contracts.registry import china_date

NEW = LISTINGS + "new"
_TOKEN = re.compile(r"^(land|homestead|quota|shares|asset):[A-Za-z0-9._:-]{1,200}$")


def _clean(value: str | None, pattern: str = ID_PATTERN) -> str:
    text = (value or "").strip()[:200]
    return text if re.fullmatch(pattern, text) else ""


async def announcement(db: Db, exchange: str, today: date) -> dict[str, Any]:
    """The county's numbers the terms are judged by, for the hints: the notice in working days
    and the day it ends (bidding opens after it), the deposit range, the increment, the
    priority model, the longest run."""

    def read(conn: Any) -> dict[str, Any]:
        numbers = {k: v.value for k, v in policy_in_force(conn, exchange).numbers.items()}
        days = int(numbers["listing_notice_working_days"])
        ends = WorkingDays(committed_state(conn), exchange).after(today, days)
        return {**numbers, "announce_ends": ends}

    return await db.run_sync(read)


async def wizard(
    session: Session, db: Db, service: Service, console: SignedIn, holder_id: str, token: str
) -> dict[str, Any]:
    """The wizard's steps as far as the query takes them."""
    exchange = console.user.org_id
    today = china_date(service.appender.clock())
    context: dict[str, Any] = {
        "holder_id": holder_id,
        "token": token,
        "today": today,
        "holder": None,
        "rights": [],
        "offered": [],
        "chosen": None,
        "priority": None,
    }
    context["policy"] = await announcement(db, exchange, today)
    if not holder_id:
        return context
    holder = await find_holder(session, exchange, holder_id)
    context["holder"] = holder
    if holder is None:
        return context
    rights = await held_rights(session, holder, today)
    context["rights"] = rights
    offered = [r for r in rights if r.offered]
    context["offered"] = offered
    chosen = next((r for r in offered if r.token == token), None)
    context["chosen"] = chosen
    if chosen is not None:
        context["priority"] = await priority_of(session, chosen, holder, today)
    return context


def form_of(context: dict[str, Any], right_type: str) -> Any:
    offered: list[HeldRight] = context.get("offered") or []
    return listing_form(right_type, [(r.token, r.token) for r in offered])


def right_type_of(token: str) -> str:
    return {
        "land": "land_management",
        "homestead": "homestead",
        "quota": "land_quota",
        "shares": "shares",
        "asset": "collective_asset",
    }.get(token.partition(":")[0], "other")


@get(NEW, opt=ROLE, **CONSOLE)
async def new_listing(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, db: Db, service: Service
) -> Response[Any]:
    """The wizard's steps 1-4: holder, rights held, priority holders, the terms form."""
    holder_id = _clean(request.query_params.get("holder"))
    token = _clean(request.query_params.get("right"), _TOKEN.pattern)
    context = await wizard(session, db, service, console, holder_id, token)
    chosen: HeldRight | None = context.get("chosen")
    form = None
    if chosen is not None and context["holder"] is not None:
        holder: Holder = context["holder"]
        values = initial(
            holder.id,
            chosen.token,
            chosen.type,
            [code for code, _ in chosen.parcels],
            context["today"],
            context["policy"]["announce_ends"] + timedelta(days=1),
            chosen.term_end,
        )
        form = noticed(request, form_of(context, chosen.type).opened(**values))
    return exchange_page(request, console, "exchange_new.html", form=form, **context)


@post(NEW, opt=ROLE, **CONSOLE)
async def review_or_sign(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, db: Db, service: Service
) -> Response[Any]:
    """``stage=review``: the summary of what will be signed (nothing recorded); ``stage=sign``:
    the listing signed and recorded, then its page; ``stage=edit``: the terms again."""
    data = await request.form()
    holder_id = _clean(data.get("holder") if isinstance(data.get("holder"), str) else "")
    token = data.get("right")
    token = token.strip()[:200] if isinstance(token, str) else ""
    context = await wizard(session, db, service, console, holder_id, token)
    filled: Filled = form_of(context, right_type_of(token)).filled(data)
    stage = filled["stage"]
    payload = listed_payload(filled)
    held = {r.token for r in context.get("rights") or []}
    if context["holder"] is None:
        payload = FormRefusal("exchange.unknown_holder", f"no holder {holder_id} here")
    elif token not in held and not isinstance(payload, FormRefusal):
        # Only a right the ledger says the holder holds goes to the rule (which checks it again).
        payload = FormRefusal("exchange.not_holders_right", f"{holder_id} does not hold {token}", "right")
    if stage == "edit":
        filled = replace(filled, values={**filled.values, "stage": "review"})
        return exchange_page(request, console, "exchange_new.html", form=filled, **context)
    if isinstance(payload, FormRefusal):
        return _refused(request, console, context, filled, payload)
    if stage != "sign":
        signing = replace(filled, values={**filled.values, "stage": "sign"})
        return exchange_page(
            request, console, "exchange_new_review.html", form=signing, payload=payload, **context
        )
    result = await submit(request, console, "exchange.listed", payload, filled.entry_id)
    if isinstance(result, FormRefusal):
        return _refused(request, console, context, filled, result)
    return Redirect(listing_path(payload["listing"]) + f"?recorded={result['seq']}", status_code=303)


def _refused(
    request: Request[Any, Any, Any],
    console: SignedIn,
    context: dict[str, Any],
    filled: Filled,
    refusal: FormRefusal,
) -> Response[Any]:
    back = replace(filled, values={**filled.values, "stage": "review"}).refused(refusal)
    return exchange_page(request, console, "exchange_new.html", status_code=422, form=back, **context)


ROUTES: list[Any] = [new_listing, review_or_sign]
