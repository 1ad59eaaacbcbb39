"""Cash instead of a voucher (``POST /console/vouchers/cash``): the housing authority pays the
household of a homestead given up the face computed on the issuance page (area × the zone's
price in force + the appraised house) in cash, with the bank's payment advice
(``voucher.cash_compensated``). The rule computes the amount again, refuses a household that
chose a voucher at its withdrawal, and one compensated already: one voucher or cash, never both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, post

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import ROLE, VOUCHERS, done, record
from api.console.guard import SignedIn
from api.console.vouchers_pages import CASH, CASH_FORM, as_int, issue_form, preview, voucher_page
from api.console.vouchers_pages_reads import yuan
from api.http.dependencies import Service, Session

PREFIX = "cash."


@post(VOUCHERS + "cash", opt=ROLE, **CONSOLE)
async def compensate_in_cash(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, service: Service
) -> Response[Any]:
    """Pay the household in cash the amount shown; refused beside the field it concerns."""
    filled = CASH_FORM.filled(await request.form())
    appraisal_fen = as_int(filled[PREFIX + "appraisal_fen"])
    context = await preview(session, service, console, filled[PREFIX + "homestead"], yuan(appraisal_fen))
    payload = {
        "homestead": filled[PREFIX + "homestead"],
        "schedule": filled[PREFIX + "schedule"],
        "appraisal": filled[PREFIX + "appraisal"],
        "appraisal_fen": appraisal_fen,
        "amount_fen": as_int(filled[PREFIX + "amount_fen"]),
        "payment": filled[PREFIX + "payment"],
    }
    result = await record(request, console, filled, payload)
    if not isinstance(result, FormRefusal):
        return done(request, console, result, CASH, VOUCHERS)
    if result.field is not None and not result.field.startswith(PREFIX):
        result = replace(result, field=PREFIX + result.field)
    form = issue_form(context) if "face_fen" in context else None
    return voucher_page(
        request,
        console,
        "voucher_issue.html",
        status_code=422,
        **context,
        form=form,
        cash=filled.refused(result),
    )


ROUTES: list[Any] = [compensate_in_cash]
