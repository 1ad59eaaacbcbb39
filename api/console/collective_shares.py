"""The clerk's share register (股权登记簿): the scheme, the holdings by holder a page at a time
(with the names of the collective's own people), and, made by the clerk on the holder's
behalf, a transfer of a holder's shares to another member (``shares.transferred``) or their
buy-back by the collective (``shares.bought_back``, paid exit).

A transfer or a buy-back is the farmer's act, not the collective's: the collective signs it only on the
holder's written consent (the transfer agreement the holder signed). The form therefore takes
that consent document: the log records its SHA-256 as the entry's ``agreement`` (typed, or
hashed from the uploaded scan), and its number, date and any remark travel beside the entry as
its note, off the log. The rules decide the rest (members only, the holder cap, pledged units).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

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
from api.console.collective_paging import offset, page_number, paged
from api.console.collective_routes import CLERK, NAV
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn
from api.console.vouchers_pages_reads import fen_of
from api.http.dependencies import Db

BASE = "/console/collective/shares"
MAX_UNITS = 10**12  # contracts.shares.PositiveUnits
EXIT = "exit."  # the buy-back form's fields' prefix


def transfer_form(choices: list[tuple[str, str]]) -> Form:
    return Form(
        "shares.transferred",
        (
            FormField("holder", "collective.shares.holder", "hidden"),
            FormField("to", "collective.shares.to", "select", choices=tuple(choices)),
            FormField("units", "collective.shares.units", "number"),
            FormField("price", "collective.shares.price", hint="collective.assets.yuan_hint"),
            *document_fields("consent", "collective.consent"),
        ),
        f"{BASE}/transfer",
        "collective.shares.transfer_submit",
    )


def buyback_form() -> Form:
    """A paid exit (有偿退出): the collective buys the holder's units back, on their consent.
    Its fields are named under ``exit.`` (apart from the transfer's, on the same page)."""
    return Form(
        "shares.bought_back",
        (
            FormField("holder", "collective.shares.holder", "hidden"),
            FormField(f"{EXIT}units", "collective.shares.units", "number"),
            FormField(f"{EXIT}price", "collective.shares.price", hint="collective.assets.yuan_hint"),
            *document_fields(f"{EXIT}consent", "collective.consent", note=f"{EXIT}note"),
        ),
        f"{BASE}/buyback",
        "collective.shares.buyback_submit",
    )


@get(BASE, **CLERK)
async def share_register(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The share scheme and the holdings, a page at a time, each holder's transfer linked."""
    org = console.user.org_id
    found = await reads.scheme(db, org)
    rows = await reads.holdings(db, org, offset(page_number(request)))
    await db.rollback()
    shown, pager = paged(request, rows)
    return desk_page(
        request,
        console,
        "collective_shares.html",
        NAV,
        scheme=found,
        holdings=shown,
        pager=pager,
        done=request.query_params.get("done"),
    )


async def _transfer_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    db: Db,
    holder: str,
    filled: Filled | None,
    buyback: Filled | None = None,
) -> Response[Any]:
    org = console.user.org_id
    held = await reads.holding(db, org, holder) if holder else None
    if held is None:
        await db.rollback()
        raise ConsoleRefusal("console.forbidden", f"{holder!r} holds no shares of this collective")
    members = await reads.members_in_force(db, org)
    await db.rollback()
    choices = [(m.party_id, f"{m.name}（…{m.tail}）" if m.name else m.party_id) for m in members]
    choices = [c for c in choices if c[0] != holder]
    form = filled or transfer_form(choices).opened(holder=holder)
    exit_form = buyback or buyback_form().opened(holder=holder)
    form, exit_form = noticed(request, form), noticed(request, exit_form)
    return desk_page(
        request,
        console,
        "collective_share_transfer.html",
        NAV,
        status_code=422 if form.refusal or exit_form.refusal else 200,
        held=held,
        form=form,
        buyback=exit_form,
    )


@get(BASE + "/transfer", **CLERK)
async def transfer_new(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The transfer form of one holder (``?holder=``): to whom, how many units, the price and
    the holder's consent document."""
    holder = (request.query_params.get("holder") or "")[:64]
    return await _transfer_page(request, console, db, holder, None)


def _units(typed: str, field: str) -> int:
    if not typed.isascii() or not typed.isdigit() or len(typed) > 13 or not 1 <= int(typed) <= MAX_UNITS:
        raise Unfit(FormRefusal("form.not_a_number", "units must be a whole number of units", field))
    return int(typed)


async def _consented(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, form_of: Any, to_field: bool
) -> Response[Any]:
    at = "" if to_field else EXIT  # the form's fields' prefix
    """Record the holder's act on their consent: the units, the price in yuan and the consent
    document (its hash on the log, its number, date and remark beside it as the note)."""
    data = await request.form()
    holder = data.get("holder")
    holder = holder[:64] if isinstance(holder, str) else ""
    org = console.user.org_id
    if await reads.holding(db, org, holder) is None:
        await db.rollback()
        raise ConsoleRefusal("console.forbidden", f"{holder!r} holds no shares of this collective")
    members = await reads.members_in_force(db, org)
    await db.rollback()
    form: Form = form_of([(m.party_id, m.name or m.party_id) for m in members if m.party_id != holder])
    filled = form.filled(data)
    refusal = filled.missing()
    if refusal is None:
        try:
            units = _units(filled[at + "units"], at + "units")
            price = fen_of(filled[at + "price"])
            if price is None:
                raise Unfit(FormRefusal("form.not_an_amount", "the price is an amount in yuan", at + "price"))
            agreement = await document_hash(filled, data, at + "consent")
            note = document_note(filled, at + "consent", "同意书", note=at + "note")
        except Unfit as e:
            refusal = e.refusal
        else:
            payload: dict[str, Any] = {
                "holder": holder,
                "units": units,
                "price_fen": price,
                "agreement": agreement,
            }
            if to_field:
                payload["to"] = filled["to"]
            result = await submit(
                request, console, form.kind, payload, filled.entry_id, beside=beside_note(note)
            )
            if not isinstance(result, FormRefusal):
                return Redirect(f"{BASE}?done={result['seq']}", status_code=303)
            field = result.field if to_field or result.field in (None, "holder") else at + result.field
            refusal = replace(result, field=field)
    refusal = visible(refusal, form)
    if to_field:
        return await _transfer_page(request, console, db, holder, filled.refused(refusal))
    return await _transfer_page(request, console, db, holder, None, filled.refused(refusal))


@post(BASE + "/transfer", **CLERK)
async def transfer(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """Record the transfer to another member on the holder's consent."""
    return await _consented(request, console, db, transfer_form, True)


@post(BASE + "/buyback", **CLERK)
async def buy_back(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """Record the collective's buy-back of the holder's units (paid exit) on their consent;
    the rule keeps it within the annual cap."""
    return await _consented(request, console, db, lambda _: buyback_form(), False)


ROUTES: list[Any] = [share_register, transfer_new, transfer, buy_back]
