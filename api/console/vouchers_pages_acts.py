"""The county's acts on its price schedules and on one voucher (``/console/vouchers/...``).

``/console/vouchers/schedules``: the schedules, the one in force today marked, and the county's
form publishing a new one (``voucher.prices_published``: an id, the day it takes effect, a price
in yuan per m² for each zone priced). ``/console/vouchers/{voucher}``: one voucher of the county,
its movements and redemptions, and the acts at its stage: each redemption's next settlement
stage paid to the developer (``voucher.settled``, the housing authority's; the stage's amount
computed and shown, the rule computing it again) and, past its last valid day, its expiry with
the remainder due in cash (``voucher.expired``). Another county's voucher is ``console.forbidden``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post
from sqlmodel import col, select

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import (
    ROLE,
    VOUCHERS,
    county_page,
    done,
    fen,
    of_own_county,
    offered,
    own_county,
    record,
    signs,
)
from api.console.county_reads import org_type
from api.console.forms import Filled, Form, FormField, custody_problem
from api.console.guard import ConsoleRefusal, SignedIn
from api.console.vouchers_pages_reads import county_schedules, schedule_in_force
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from api.reads.vouchers import cash_at_expiry
from contracts.registry import china_date
from contracts.vouchers.arithmetic import stage_amounts
from contracts.vouchers.tables import ACTIVE, Redemption, Voucher, VoucherMovement
from ledger.errors import Category

PUBLISH, SETTLE, EXPIRE = "voucher.prices_published", "voucher.settled", "voucher.expired"
ZONES = ("suburb", "plain", "plain_saline", "hilly_flat", "hilly_slope")
PUBLISH_FORM = Form(
    PUBLISH,
    (
        FormField("schedule", "county.schedule.id", hint="voucher.issue.voucher_hint"),
        FormField("effective_from", "voucher.effective_from", input="date"),
        *(
            FormField(f"prices.{z}", "voucher.zone." + z, required=False, hint="county.schedule.price_hint")
            for z in ZONES
        ),
    ),
    VOUCHERS + "schedules",
    submit_label="county.schedule.publish",
)
MAX_MOVEMENTS = 200  # a voucher's movements: issued, a few redemptions, an end


async def schedules_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    refused: Filled | None = None,
) -> Response[Any]:
    county = await own_county(session, console)
    schedules = await county_schedules(session, county)
    today = china_date(service.appender.clock())
    current = schedule_in_force(schedules, today)
    form = refused if refused is not None else await offered(request, session, console, PUBLISH_FORM.opened())
    return county_page(
        request,
        console,
        "voucher_schedules.html",
        status_code=422 if refused is not None else 200,
        county=county,
        schedules=schedules,
        in_force=current.id if current else None,
        today=today,
        form=form,
    )


@get(VOUCHERS + "schedules", opt=ROLE, **CONSOLE)
async def schedules_list(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """The county's price schedules, by effective date, the one in force today marked."""
    return await schedules_view(request, console, session, service)


@post(VOUCHERS + "schedules", opt=ROLE, **CONSOLE)
async def publish_schedule(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """Publish a price schedule: the prices typed in yuan per m², sent in fen."""
    filled = PUBLISH_FORM.filled(await request.form())
    prices: dict[str, Any] = {}
    refusal: FormRefusal | None = None
    for z in ZONES:
        if filled[f"prices.{z}"]:
            price = fen(filled, f"prices.{z}")
            refusal = refusal or (price if isinstance(price, FormRefusal) else None)
            prices[z] = price
    payload = {"schedule": filled["schedule"], "effective_from": filled["effective_from"], "prices": prices}
    result = refusal or await record(request, console, filled, payload)
    if isinstance(result, FormRefusal):
        if result.field == "prices" or (result.field is None and "`$.prices" in result.message):
            # A price refused names no zone (msgspec says ``$.prices[...]``): beside the first typed.
            typed = [z for z in ZONES if filled[f"prices.{z}"]] or [ZONES[1]]
            result = replace(result, field=f"prices.{typed[0]}")
        return await schedules_view(request, console, session, service, filled.refused(result))
    return done(request, console, result, PUBLISH, VOUCHERS + "schedules")


def settle_form(voucher: str, r: Redemption) -> Form | None:
    """The form paying the redemption's next stage, or None once every stage is paid."""
    due = stage_amounts(r.value_fen, r.stages)
    if r.settled_stages >= len(due):
        return None
    return Form(
        SETTLE,
        (
            FormField("redemption", "county.voucher.redemption", input="hidden"),
            FormField("stage", "county.voucher.stage", input="hidden"),
            FormField("amount_fen", "county.voucher.amount", input="hidden"),
            FormField("payment", "county.voucher.payment", hint="county.hash_hint"),
        ),
        f"{VOUCHERS}{voucher}/settle",
        submit_label="county.voucher.settle",
    )


def expire_form(voucher: str) -> Form:
    return Form(
        EXPIRE,
        (FormField("cash_fen", "county.voucher.cash", input="hidden"),),
        f"{VOUCHERS}{voucher}/expire",
        submit_label="county.voucher.expire",
    )


async def county_voucher(session: Session, console: SignedIn, voucher_id: str) -> Voucher:
    return await of_own_county(session, console, Voucher, voucher_id, "voucher")


async def voucher_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    v: Voucher,
    refused: Filled | None = None,
) -> Response[Any]:
    moves = await session.exec(
        select(VoucherMovement)
        .where(col(VoucherMovement.voucher_id) == v.id)
        .order_by(col(VoucherMovement.seq))
        .limit(MAX_MOVEMENTS)
    )
    found = await session.exec(
        select(Redemption).where(col(Redemption.voucher_id) == v.id).order_by(col(Redemption.redeemed_seq))
    )
    redemptions = list(found.all())
    kind = await org_type(session, console.user.org_id)
    notice = custody_problem(request)
    settles: dict[str, Filled] = {}
    for r in redemptions:
        form = settle_form(v.id, r)
        if form is None or not signs(kind, SETTLE):
            continue
        if refused is not None and refused.form.kind == SETTLE and refused["redemption"] == r.id:
            settles[r.id] = refused
            continue
        stage, amount = stage_amounts(r.value_fen, r.stages)[r.settled_stages]
        settles[r.id] = replace(
            form.opened(redemption=r.id, stage=stage, amount_fen=str(amount)), notice=notice
        )
    today = china_date(service.appender.clock())
    expiry: Filled | None = None
    if refused is not None and refused.form.kind == EXPIRE:
        expiry = refused
    elif v.status == ACTIVE and today > v.valid_until and signs(kind, EXPIRE):
        expiry = replace(expire_form(v.id).opened(cash_fen=str(cash_at_expiry(v))), notice=notice)
    return county_page(
        request,
        console,
        "voucher_detail.html",
        status_code=422 if refused is not None else 200,
        v=v,
        moves=list(moves.all()),
        redemptions=redemptions,
        due={r.id: stage_amounts(r.value_fen, r.stages) for r in redemptions},
        settles=settles,
        expiry=expiry,
        cash=cash_at_expiry(v),
        today=today,
    )


@get(VOUCHERS + "{voucher_id:str}", opt=ROLE, **CONSOLE)
async def voucher_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, voucher_id: Id
) -> Response[Any]:
    """One voucher: its figures, movements, redemptions and the acts at its stage."""
    return await voucher_view(
        request, console, session, service, await county_voucher(session, console, voucher_id)
    )


def _int(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 15 else -1


@post(VOUCHERS + "{voucher_id:str}/settle", opt=ROLE, **CONSOLE)
async def settle(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, voucher_id: Id
) -> Response[Any]:
    """Pay a redemption's next stage to the developer, the amount shown (the rule checks it)."""
    v = await county_voucher(session, console, voucher_id)
    data = await request.form()
    found = await session.get(Redemption, str(data.get("redemption", ""))[:64])
    if found is None or found.voucher_id != v.id:
        raise ConsoleRefusal("console.not_found", "no such redemption of this voucher", Category.NOT_FOUND)
    form = settle_form(v.id, found) or settle_form(v.id, found.model_copy(update={"settled_stages": 0}))
    assert form is not None
    filled = form.filled(data)
    payload = {
        "redemption": found.id,
        "stage": filled["stage"],
        "amount_fen": _int(filled["amount_fen"]),
        "payment": filled["payment"],
    }
    result = await record(request, console, filled, payload)
    if isinstance(result, FormRefusal):
        return await voucher_view(request, console, session, service, v, filled.refused(result))
    return done(request, console, result, SETTLE, f"{VOUCHERS}{v.id}")


@post(VOUCHERS + "{voucher_id:str}/expire", opt=ROLE, **CONSOLE)
async def expire(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service, voucher_id: Id
) -> Response[Any]:
    """Record the voucher's expiry with the cash its remainder is paid in (the rule checks it)."""
    v = await county_voucher(session, console, voucher_id)
    filled = expire_form(v.id).filled(await request.form())
    result = await record(request, console, filled, {"voucher": v.id, "cash_fen": _int(filled["cash_fen"])})
    if isinstance(result, FormRefusal):
        return await voucher_view(request, console, session, service, v, filled.refused(result))
    return done(request, console, result, EXPIRE, f"{VOUCHERS}{v.id}")


ROUTES: list[Any] = [schedules_list, publish_schedule, voucher_page, settle, expire]
