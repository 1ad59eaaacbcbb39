"""The clerk's dividends (分红): declaring one (``dividend.declared``) out of distributable income
in two steps — the amounts typed are first shown as each holder's payout, computed by the
rule's own split (``contracts.dividends.payouts``, largest remainder, to the fen) over the
holdings as they stand, and only the confirmed preview is signed (the rule computes it again
from the holdings at its record) — and each dividend's statement (分红明细表), a print view
with the holders' names (for the collective's own clerks only) and the QR code of the record's
verification link, a page of holders at a time.

The members' resolution to distribute is a document: the log records its SHA-256, its number,
date and remark travel beside the entry as its note.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from markupsafe import Markup

from api.console import collective_share_reads as reads
from api.console.acting import FormRefusal
from api.console.collective_documents import (
    Unfit,
    beside_note,
    document_fields,
    document_hash,
    document_note,
    visible,
)
from api.console.collective_paging import PAGE_ROWS, offset, page_number, paged
from api.console.collective_routes import CLERK, NAV, form_page
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, submit
from api.console.guard import SignedIn
from api.console.vouchers_pages_reads import fen_of, yuan
from api.http.dependencies import Db
from api.http.routes.paging import Seq
from api.reads.printed_page import verification_qr, verify_path
from contracts.dividends import payouts

BASE = "/console/collective/dividends"
AMOUNTS = (
    FormField("dividend", "collective.dividend.id", "hidden"),
    FormField("distributable", "collective.dividend.distributable", hint="collective.assets.yuan_hint"),
    FormField("amount", "collective.dividend.amount", hint="collective.assets.yuan_hint"),
)
# Step one: the amounts and the resolution (its scan may be uploaded); step two: the same,
# carried in hidden fields, with the entry id made when the preview was shown.
PREVIEW = Form(
    "dividend.declared",
    (*AMOUNTS, *document_fields("resolution", "collective.dividend.resolution")),
    f"{BASE}/preview",
    "collective.dividend.preview_submit",
)
DECLARE = Form(
    "dividend.declared",
    tuple(
        FormField(name, "collective.dividend.id", "hidden", required=False)
        for name in (
            "dividend",
            "distributable",
            "amount",
            "resolution.sha256",
            "note",
            "resolution.number",
            "resolution.date",
        )
    ),
    BASE,
    "collective.dividend.declare_submit",
)


def _amounts(filled: Filled) -> tuple[int, int]:
    distributable, amount = fen_of(filled["distributable"]), fen_of(filled["amount"])
    if distributable is None:
        raise Unfit(FormRefusal("form.not_an_amount", "an amount in yuan", "distributable"))
    if amount is None:
        raise Unfit(FormRefusal("form.not_an_amount", "an amount in yuan", "amount"))
    return distributable, amount


async def _list_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, form: Filled, **context: Any
) -> Response[Any]:
    found = await reads.dividends(db, console.user.org_id)
    scheme = await reads.scheme(db, console.user.org_id)
    await db.rollback()
    return form_page(
        request,
        console,
        "collective_dividends.html",
        form,
        dividends=found,
        scheme=scheme,
        yuan=yuan,
        done=request.query_params.get("done"),
        **context,
    )


@get(BASE, **CLERK)
async def dividends_page(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The dividends declared, each with its statement, and the form of a new one."""
    return await _list_page(request, console, db, PREVIEW.opened(dividend=f"FH-{uuid.uuid4().hex[:12]}"))


@post(BASE + "/preview", **CLERK)
async def dividend_preview(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """Each holder's payout of the amounts typed, before anything is signed."""
    data = await request.form()
    filled = PREVIEW.filled(data)
    refusal = filled.missing()
    if refusal is None:
        try:
            distributable, amount = _amounts(filled)
            if amount > distributable:
                raise Unfit(FormRefusal("dividend.over_distributable", "over the distributable", "amount"))
            digest = await document_hash(filled, data, "resolution")
            document_note(filled, "resolution", "分红决议")
        except Unfit as e:
            refusal = e.refusal
        else:
            org = console.user.org_id
            split = payouts(amount, await reads.unit_holdings(db, org))
            top = sorted(split, key=lambda h: (-split[h], h))[:PAGE_ROWS]
            named = await reads.names(db, org, top)
            await db.rollback()
            values = {name: filled[name] for name in ("dividend", "distributable", "amount", "note")}
            values.update({k: filled[k] for k in ("resolution.number", "resolution.date")})
            confirm = DECLARE.opened(**values, **{"resolution.sha256": digest})
            return desk_page(
                request,
                console,
                "collective_dividend_preview.html",
                NAV,
                form=confirm,
                amount=amount,
                distributable=distributable,
                holders=len(split),
                paid=sum(split.values()),
                rows=[(h, named.get(h), split[h]) for h in top],
                yuan=yuan,
            )
    return await _list_page(request, console, db, filled.refused(visible(refusal, PREVIEW)))


@post(BASE, **CLERK)
async def dividend_declare(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """Sign the declaration shown in the preview (the rule splits it again, to the fen)."""
    data = await request.form()
    filled = DECLARE.filled(data)
    try:
        distributable, amount = _amounts(filled)
        resolution = await document_hash(filled, data, "resolution")
        note = document_note(filled, "resolution", "分红决议")
    except Unfit as e:
        refusal: FormRefusal = e.refusal
    else:
        payload = {
            "dividend": filled["dividend"],
            "distributable_fen": distributable,
            "amount_fen": amount,
            "resolution": resolution,
        }
        result = await submit(
            request, console, DECLARE.kind, payload, filled.entry_id, beside=beside_note(note)
        )
        if not isinstance(result, FormRefusal):
            return Redirect(f"{BASE}/{result['seq']}?done={result['seq']}", status_code=303)
        refusal = result
    # Shown on the first step's form, with what was typed kept.
    again = PREVIEW.filled({**{k: filled[k] for k in filled.values}, "entry_id": filled.entry_id})
    return await _list_page(request, console, db, again.refused(visible(refusal, PREVIEW)))


@get(BASE + "/{seq:int}", **CLERK)
async def dividend_statement(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, seq: Seq
) -> Response[Any]:
    """The statement of the dividend declared at record ``seq``: every holder's units and payout
    (a page of holders at a time), printable, with the QR code of the record's verification."""
    org = console.user.org_id
    found = await reads.dividend(db, org, seq) if 0 <= seq < 2**63 else None
    if found is None:
        await db.rollback()
        return desk_page(request, console, "collective_dividend.html", NAV, status_code=404, dividend=None)
    ordered = sorted(found.payouts.items(), key=lambda item: item[0])
    start = offset(page_number(request))
    window = ordered[start : start + PAGE_ROWS + 1]
    named = await reads.names(db, org, [h for h, _ in window])
    await db.rollback()
    shown, pager = paged(request, window)
    verify = str(request.base_url).rstrip("/") + verify_path(seq)
    return desk_page(
        request,
        console,
        "collective_dividend.html",
        NAV,
        dividend=found,
        rows=[(h, named.get(h), units, fen) for h, (units, fen) in shown],
        pager=pager,
        qr=Markup(verification_qr(verify)),
        yuan=yuan,
        done=request.query_params.get("done"),
    )


ROUTES: list[Any] = [dividends_page, dividend_preview, dividend_declare, dividend_statement]
