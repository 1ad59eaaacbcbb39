"""The clerk's asset verification (清产核资, ``assets.verified``): the operating assets (quantified
into shares) by class and value, the liabilities, and the resource and non-operating assets
(listed, never quantified), as of a date; the verifications recorded, the current one first.

Every class is from the rule's closed list (``contracts.assets.Category``), never free text;
amounts are typed in yuan and recorded in fen; the audit statement is recorded by its SHA-256.
A later verification supersedes an earlier one (the rule refuses one older than the current).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, get_args

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import text

from api.console.acting import FormRefusal
from api.console.collective_documents import HEX64, visible
from api.console.collective_routes import CLERK, form_page
from api.console.forms import Filled, Form, FormField, submit
from api.console.guard import SignedIn
from api.console.vouchers_pages_reads import fen_of, yuan
from api.http.dependencies import Db
from contracts.assets import Category

BASE = "/console/collective/assets"
CATEGORIES = tuple((c, f"collective.asset.{c}") for c in get_args(Category))
ROWS = {"operating": 5, "resource": 3, "non_operating": 3}
PAYLOAD_LIST = {
    "operating": "operating_assets",
    "resource": "resource_assets",
    "non_operating": "non_operating_assets",
}
# The latest verifications, the current one (superseded by none) first.
_SQL = text(
    """SELECT id, as_of, operating_fen, liabilities_fen, net_operating_fen, details, verified_seq,
              superseded_by
       FROM asset_verifications WHERE collective_id = :c
       ORDER BY superseded_by IS NOT NULL, as_of DESC, verified_seq DESC LIMIT 20"""
)
_AT_ROW = re.compile(r"^(operating_assets|resource_assets|non_operating_assets)\[(\d+)\]")


def _rows() -> list[FormField]:
    fields: list[FormField] = []
    for group, count in ROWS.items():
        for i in range(1, count + 1):
            fields.append(
                FormField(f"{group}{i}.category", f"collective.assets.{group}", "select", False, CATEGORIES)
            )
            amount = "area_m2" if group == "resource" else "value"
            fields.append(FormField(f"{group}{i}.{amount}", f"collective.assets.{amount}", required=False))
    return fields


FORM = Form(
    "assets.verified",
    (
        FormField("verification", "collective.assets.id", "hidden"),
        FormField("as_of", "collective.assets.as_of", "date"),
        *_rows(),
        FormField("liabilities", "collective.assets.liabilities", hint="collective.assets.yuan_hint"),
        FormField(
            "audit_statement",
            "collective.assets.audit",
            required=False,
            hint="collective.document.sha256_hint",
        ),
    ),
    BASE,
    "collective.assets.submit",
)


def _unfit(code: str, field: str, message: str) -> FormRefusal:
    return FormRefusal(code, message, field)


def payload_of(filled: Filled) -> dict[str, Any] | FormRefusal:
    """The ``assets.verified`` payload, or the refusal beside the field that cannot make it."""
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in PAYLOAD_LIST.values()}
    for group, count in ROWS.items():
        for i in range(1, count + 1):
            category = filled[f"{group}{i}.category"]
            amount_field = f"{group}{i}.{'area_m2' if group == 'resource' else 'value'}"
            typed = filled[amount_field]
            if not category and not typed:
                continue
            if not category:
                return _unfit("form.required", f"{group}{i}.category", "a row with an amount needs its class")
            item: dict[str, Any] = {"category": category}
            if group == "resource":
                if typed and not re.fullmatch(r"[0-9]{1,9}", typed):
                    return _unfit("form.not_a_number", amount_field, f"{typed!r} is not a whole number of m²")
                if typed:
                    item["area_m2"] = int(typed)
            elif typed or group == "operating":
                fen = fen_of(typed)
                if fen is None:
                    return _unfit("form.not_an_amount", amount_field, f"{typed!r} is not an amount in yuan")
                item["value_fen"] = fen
            lists[PAYLOAD_LIST[group]].append(item)
    if not lists["operating_assets"]:
        return _unfit("form.required", "operating1.category", "at least one operating asset")
    liabilities = fen_of(filled["liabilities"])
    if liabilities is None:
        return _unfit("form.not_an_amount", "liabilities", "liabilities are an amount in yuan")
    audit = filled["audit_statement"].lower() or "0" * 64
    if not HEX64.match(audit):
        return _unfit("form.bad_hash", "audit_statement", "the audit statement's SHA-256")
    return {
        "verification": filled["verification"],
        "as_of": filled["as_of"],
        "liabilities_fen": liabilities,
        "audit_statement": audit,
        **lists,
    }


def refusal_here(refusal: FormRefusal, payload: dict[str, Any]) -> FormRefusal:
    """A refusal naming ``operating_assets[i]...`` pointed at the row it came from."""
    m = _AT_ROW.match(refusal.field or "")
    if m is None:
        return refusal
    group = {v: k for k, v in PAYLOAD_LIST.items()}[m.group(1)]
    return FormRefusal(refusal.code, refusal.message, f"{group}{int(m.group(2)) + 1}.category")


async def _page(request: Request[Any, Any, Any], console: SignedIn, db: Db, form: Filled) -> Response[Any]:
    rows = (await db.execute(_SQL, {"c": console.user.org_id})).all()
    await db.rollback()
    return form_page(
        request,
        console,
        "collective_assets.html",
        form,
        verifications=rows,
        yuan=yuan,
        done=request.query_params.get("done"),
    )


@get(BASE, **CLERK)
async def assets_page(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The collective's asset verifications (the current one first) and the form of a new one."""
    return await _page(request, console, db, FORM.opened(verification=f"QCHZ-{uuid.uuid4().hex[:12]}"))


@post(BASE, **CLERK)
async def assets_verify(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """Record an asset verification; a refusal beside the row or field it concerns."""
    filled = FORM.filled(await request.form())
    refusal = filled.missing()
    if refusal is None:
        made = payload_of(filled)
        if isinstance(made, FormRefusal):
            refusal = made
        else:
            result = await submit(request, console, FORM.kind, made, filled.entry_id)
            if not isinstance(result, FormRefusal):
                return Redirect(f"{BASE}?done={result['seq']}", status_code=303)
            refusal = refusal_here(result, made)
    return await _page(request, console, db, filled.refused(visible(refusal, FORM)))


ROUTES: list[Any] = [assets_page, assets_verify]
