"""The developer's pages (``/console/developer/...``): its redemptions of house vouchers (房票)
and the settlement the county paid on each, stage by stage; a voucher a holder presents, looked
up by its id; and redeeming part of it against a purchase contract for a flat in one of its
projects (amounts typed in yuan, recorded in fen).

Served to users of role ``developer`` only, for their own developer: the redemptions listed are
its own, and a presented voucher is shown only when it is of the county whose pool the developer
is in (``presented``); holders appear by their pseudonymous party ids, never by name.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, amounts_in_fen, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.console.vouchers_pages_reads import developer_pool, developer_redemptions, presented, yuan
from api.http.dependencies import Session
from api.http.routes.paging import ID_PATTERN, Id
from contracts.vouchers.arithmetic import stage_amounts
from contracts.vouchers.tables import PoolProject, Voucher

ROLE = for_roles("developer")
HOME = "/console/developer/"
LOOKUP = HOME + "vouchers"
NAV = ((HOME, "developer.nav.redemptions"), (LOOKUP, "developer.nav.lookup"))
REDEEM = "voucher.redeemed"
MONEY_FIELDS = {"amount_fen": "amount_yuan", "price_fen": "price_yuan"}


def developer_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any
) -> Response[Any]:
    return desk_page(request, console, template, NAV, yuan=yuan, stage_amounts=stage_amounts, **context)


def redeem_form(voucher: Voucher, projects: list[PoolProject]) -> Form:
    return Form(
        REDEEM,
        (
            FormField("redemption", "developer.redeem.redemption", hint="developer.redeem.redemption_hint"),
            FormField(
                "holder",
                "developer.redeem.holder",
                input="select",
                choices=tuple((h, h) for h in voucher.holders),
            ),
            FormField(
                "project",
                "developer.redeem.project",
                input="select",
                choices=tuple((p.id, p.id) for p in projects),
            ),
            FormField("unit", "developer.redeem.unit", placeholder="1-101"),
            FormField(
                "purchase_contract", "developer.redeem.contract", hint="developer.redeem.contract_hint"
            ),
            FormField("price_yuan", "developer.redeem.price"),
            FormField("amount_yuan", "developer.redeem.amount", hint="developer.redeem.amount_hint"),
        ),
        f"{LOOKUP}/{voucher.id}/redeem",
        submit_label="developer.redeem.submit",
    )


def on_form(refusal: FormRefusal) -> FormRefusal:
    """The refusal with the form's field it concerns (a money field is asked for in yuan)."""
    return replace(refusal, field=MONEY_FIELDS.get(refusal.field or "", refusal.field))


@get(HOME, opt=ROLE, **CONSOLE)
async def developer_home(
    request: Request[Any, Any, Any], console: SignedIn, session: Session
) -> Response[Any]:
    """The developer's redemptions, newest first, and the settlement received on each."""
    redemptions = await developer_redemptions(session, console.user.org_id)
    totals = {
        "value_fen": sum(r.value_fen for r in redemptions),
        "settled_fen": sum(r.settled_fen for r in redemptions),
    }
    return developer_page(
        request, console, "developer_redemptions.html", redemptions=redemptions, totals=totals
    )


async def lookup_context(session: Session, console: SignedIn, asked: str) -> dict[str, Any]:
    voucher = None
    if asked and re.fullmatch(ID_PATTERN, asked):
        voucher = await presented(session, console.user.org_id, asked)
    pool, projects = await developer_pool(session, console.user.org_id)
    return {"asked": asked, "voucher": voucher, "pool": pool, "projects": projects}


@get(LOOKUP, opt=ROLE, **CONSOLE)
async def voucher_lookup(
    request: Request[Any, Any, Any], console: SignedIn, session: Session
) -> Response[Any]:
    """A presented voucher, looked up by the id the holder gives, with the redemption form."""
    asked = (request.query_params.get("voucher") or "").strip()[:64]
    context = await lookup_context(session, console, asked)
    form = None
    if context["voucher"] is not None:
        form = noticed(request, redeem_form(context["voucher"], context["projects"]).opened())
    return developer_page(request, console, "developer_voucher.html", form=form, **context)


def redemption_payload(filled: Filled, voucher: str) -> dict[str, Any] | FormRefusal:
    money = amounts_in_fen(filled, MONEY_FIELDS)
    if isinstance(money, FormRefusal):
        return money
    return {
        "redemption": filled["redemption"],
        "voucher": voucher,
        "holder": filled["holder"],
        "project": filled["project"],
        "purchase_contract": filled["purchase_contract"],
        "unit": filled["unit"],
        **money,
    }


@post(LOOKUP + "/{voucher:str}/redeem", opt=ROLE, **CONSOLE)
async def redeem(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, voucher: Id
) -> Response[Any]:
    """Redeem part of a presented voucher; the redemption is shown once recorded, a refusal
    beside the field it concerns with what was typed kept."""
    context = await lookup_context(session, console, voucher)
    if context["voucher"] is None:
        raise ConsoleRefusal("console.forbidden", f"voucher {voucher} is not presented to this developer")
    filled = redeem_form(context["voucher"], context["projects"]).filled(await request.form())
    refusal = filled.missing()
    if refusal is None:
        payload = redemption_payload(filled, voucher)
        if isinstance(payload, FormRefusal):
            refusal = payload
        else:
            result = await submit(request, console, REDEEM, payload, filled.entry_id)
            if not isinstance(result, FormRefusal):
                return developer_page(
                    request, console, "developer_redeemed.html", payload=payload, receipt=result
                )
            refusal = on_form(result)
    return developer_page(
        request,
        console,
        "developer_voucher.html",
        status_code=422,
        form=filled.refused(refusal),
        **context,
    )


ROUTES: list[Any] = [developer_home, voucher_lookup, redeem]
