"""The county officer's voucher pages (``/console/vouchers/...``): the county's price schedules
(the one in force marked), its house vouchers (房票), and issuing a voucher for a withdrawn
homestead, its face computed and shown before it is submitted (area × the zone's price in the
schedule in force + the appraised house); the rule computes it again when it is recorded.

Served to users of role ``county_officer`` (of the county or its housing authority), for their
own county only; only a housing authority's officer can issue (the rule's signer). The pages are
part of the county officer's desk (``api.console.county_desk``: its navigation and its county).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import NAV, ROLE, VOUCHERS, own_county
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import SignedIn
from api.console.vouchers_pages_reads import (
    GivenUp,
    county_vouchers,
    fen_of,
    given_up,
    yuan,
)
from api.http.dependencies import Service, Session
from api.http.routes.paging import ID_PATTERN, MAX_SEQ
from contracts.registry import china_date

HOME = VOUCHERS
Before = Parameter(ge=1, le=MAX_SEQ, required=False)


ISSUE = "voucher.issued"
ISSUE_FORM = Form(
    ISSUE,
    (
        FormField("homestead", "voucher.issue.homestead", input="hidden"),
        FormField("appraisal_fen", "voucher.issue.appraisal_yuan", input="hidden"),
        FormField("face_fen", "voucher.issue.face", input="hidden"),
        FormField("schedule", "voucher.schedule", input="hidden"),
        FormField("voucher", "voucher.issue.voucher", hint="voucher.issue.voucher_hint"),
        FormField("appraisal", "voucher.issue.appraisal", hint="voucher.issue.appraisal_hint"),
    ),
    HOME + "issue",
    submit_label="voucher.issue.submit",
)

# Paying cash instead (``voucher.cash_compensated``, recorded by ``vouchers_pages_cash``): its
# fields carry a prefix, the issuance form sharing the page.
CASH = "voucher.cash_compensated"
CASH_FORM = Form(
    CASH,
    (
        FormField("cash.homestead", "voucher.issue.homestead", input="hidden"),
        FormField("cash.appraisal_fen", "voucher.issue.appraisal_yuan", input="hidden"),
        FormField("cash.amount_fen", "voucher.issue.face", input="hidden"),
        FormField("cash.schedule", "voucher.schedule", input="hidden"),
        FormField("cash.appraisal", "voucher.issue.appraisal", hint="voucher.issue.appraisal_hint"),
        FormField("cash.payment", "county.cash.payment", hint="county.hash_hint"),
    ),
    HOME + "cash",
    submit_label="county.cash.submit",
)


def voucher_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any
) -> Response[Any]:
    return desk_page(request, console, template, NAV, yuan=yuan, **context)


@get(HOME, opt=ROLE, **CONSOLE)
async def vouchers_list(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, before: int | None = Before
) -> Response[Any]:
    """The county's vouchers, newest first, 50 a page: face, used, balance, validity, status."""
    county = await own_county(session, console)
    vouchers, older = await county_vouchers(session, county, before)
    return voucher_page(request, console, "voucher_list.html", county=county, vouchers=vouchers, older=older)


async def preview(
    session: Session, service: Service, console: SignedIn, homestead: str, appraisal: str
) -> dict[str, Any]:
    """The homestead asked for and the face its voucher would have, or why not (an error phrase
    beside the field it concerns): the first step of issuing, before anything is signed."""
    context: dict[str, Any] = {
        "homestead": homestead,
        "appraisal_yuan": appraisal,
        "errors": {},
        "found": None,
        "appraisal_fen": None,
    }
    if not homestead:
        return context
    county = await own_county(session, console)
    found: GivenUp | None = None
    if re.fullmatch(ID_PATTERN, homestead):
        found = await given_up(session, county, homestead, china_date(service.appender.clock()))
    appraisal_fen = fen_of(appraisal)
    if found is None:
        context["errors"]["homestead"] = "voucher.issue.no_homestead"
    elif found.schedule is None:
        context["errors"]["homestead"] = "voucher.issue.no_schedule"
    elif found.price_fen_per_m2 is None:
        context["errors"]["homestead"] = "voucher.issue.zone_not_priced"
    if appraisal_fen is None:
        context["errors"]["appraisal_yuan"] = "voucher.issue.bad_amount"
    context.update(found=found, appraisal_fen=appraisal_fen)
    if not context["errors"] and found is not None and found.schedule is not None:
        context["face_fen"] = found.face_fen(appraisal_fen)
    return context


def cash_form(context: dict[str, Any]) -> Filled:
    """The same homestead compensated in cash instead, for the face computed (the household
    chooses one or the other, never both: the rule refuses the second)."""
    found: GivenUp = context["found"]
    assert found.schedule is not None
    return CASH_FORM.opened(
        **{
            "cash.homestead": found.homestead.id,
            "cash.appraisal_fen": str(context["appraisal_fen"]),
            "cash.amount_fen": str(context["face_fen"]),
            "cash.schedule": found.schedule.id,
        }
    )


def issue_form(context: dict[str, Any]) -> Filled:
    found: GivenUp = context["found"]
    assert found.schedule is not None
    return ISSUE_FORM.opened(
        homestead=found.homestead.id,
        appraisal_fen=str(context["appraisal_fen"]),
        face_fen=str(context["face_fen"]),
        schedule=found.schedule.id,
    )


@get(HOME + "issue", opt=ROLE, **CONSOLE)
async def issue_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """Issuing a voucher: the homestead and the appraised value first, then the face computed
    (shown), and the form that issues it."""
    asked = (request.query_params.get("homestead") or "").strip()[:64]
    appraisal = (request.query_params.get("appraisal_yuan") or "").strip()[:32]
    context = await preview(session, service, console, asked, appraisal)
    form = cash = None
    if "face_fen" in context:
        form, cash = noticed(request, issue_form(context)), cash_form(context)
    return voucher_page(request, console, "voucher_issue.html", form=form, cash=cash, **context)


def as_int(text: str) -> int:
    """A whole number of at most 15 digits as typed (or carried by a hidden field), else -1,
    which the rules refuse (beyond 15 digits no amount of this county is)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 15 else -1


@post(HOME + "issue", opt=ROLE, **CONSOLE)
async def issue_voucher(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """Issue the voucher with the face shown: the holders are the household's members; the
    rule computes the face again from the schedule in force and refuses a different one."""
    filled = ISSUE_FORM.filled(await request.form())
    appraisal_fen = as_int(filled["appraisal_fen"])
    context = await preview(session, service, console, filled["homestead"], yuan(appraisal_fen))
    found: GivenUp | None = context.get("found")
    refusal = filled.missing()
    if refusal is None and found is None:
        refusal = FormRefusal("voucher.no_withdrawal", "the homestead is not found in this county")
    if refusal is None and found is not None:
        payload = {
            "voucher": filled["voucher"],
            "homestead": found.homestead.id,
            "holders": found.members,
            "schedule": filled["schedule"],
            "appraisal": filled["appraisal"],
            "appraisal_fen": appraisal_fen,
            "face_fen": as_int(filled["face_fen"]),
        }
        result = await submit(request, console, ISSUE, payload, filled.entry_id)
        if not isinstance(result, FormRefusal):
            return voucher_page(request, console, "voucher_issued.html", payload=payload, receipt=result)
        refusal = result
    return voucher_page(
        request,
        console,
        "voucher_issue.html",
        status_code=422,
        **{**context, "face_fen": as_int(filled["face_fen"])},
        form=filled.refused(refusal),
    )


ROUTES: list[Any] = [vouchers_list, issue_page, issue_voucher]
