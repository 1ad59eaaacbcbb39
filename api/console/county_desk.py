"""What every page of the county officer's desk shares: the role, the one navigation of the
desk (home, policy, calendar, price schedules, vouchers, issuance, the pool, land quotas,
monitoring), the user's own county, the form values read as whole numbers, amounts, dates or
JSON (a value that is not one is a refusal beside its field, never a 500), a quota or voucher
looked up as the user's county's own, a form offered to its kind's signer only, and recording a
form's act with the page it answers.

A county officer is a user of the county itself or of its housing authority: the rules say which
of the two signs each act (``SIGNERS``); a page offers a form only to the organisation that signs
it and says plainly who does otherwise. What the other one posts anyway is refused by the rule.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any, Protocol, TypeVar

import msgspec
from litestar import Request, Response

from api.console.acting import FormRefusal
from api.console.county_reads import org_type
from api.console.desk import desk_page
from api.console.forms import Filled, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.console.vouchers_pages_reads import county_of, fen_of, yuan
from api.http.dependencies import Session
from ledger.errors import Category

ROLE = for_roles("county_officer")
HOME = "/console/county/"
VOUCHERS = "/console/vouchers/"
NAV = (
    (HOME, "county.nav.home"),
    (HOME + "policy", "county.nav.policy"),
    (HOME + "calendar", "county.nav.calendar"),
    (VOUCHERS + "schedules", "voucher.nav.schedules"),
    (VOUCHERS, "voucher.nav.list"),
    (VOUCHERS + "issue", "voucher.nav.issue"),
    (HOME + "pool", "county.nav.pool"),
    (HOME + "quotas", "county.nav.quotas"),
    (HOME + "monitoring", "county.nav.monitoring"),
)
# Which organisation type signs each kind the desk records (the rules' ``signed_by``).
SIGNERS = {
    "policy.set": ("county",),
    "calendar.declared": ("county",),
    "voucher.prices_published": ("county",),
    "voucher.developer_admitted": ("county",),
    "voucher.project_registered": ("county",),
    "voucher.developer_left": ("county",),
    "quota.project_approved": ("county",),
    "quota.accepted": ("county",),
    "quota.confirmed": ("county",),
    "quota.used": ("county",),
    "voucher.issued": ("housing_authority",),
    "voucher.cash_compensated": ("housing_authority",),
    "voucher.settled": ("housing_authority",),
    "voucher.expired": ("county", "housing_authority"),
}
MAX_DIGITS = 15  # a whole number typed: beyond this it is no county's figure (and beyond JSON's)
SAFE_INT = 2**53
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OfCounty(Protocol):
    """A projection row of one county (a land quota, a voucher)."""

    county_id: str


Row = TypeVar("Row", bound=OfCounty)


def county_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any
) -> Response[Any]:
    return desk_page(request, console, template, NAV, yuan=yuan, **context)


async def own_county(session: Session, console: SignedIn) -> str:
    """The county of the user's organisation (itself, or the housing authority's parent)."""
    county = await county_of(session, console.user.org_id)
    if county is None:
        raise ConsoleRefusal("console.forbidden", f"{console.user.org_id} is of no county")
    return county


async def of_own_county(session: Session, console: SignedIn, table: type[Row], row_id: str, what: str) -> Row:
    """The row ``row_id`` of ``table`` (a land quota, a voucher): 404 when there is none, 403
    ``console.forbidden`` when it is of another county than the user's."""
    county = await own_county(session, console)
    row = await session.get(table, row_id)
    if row is None:
        raise ConsoleRefusal("console.not_found", f"no {what} {row_id}", Category.NOT_FOUND)
    if row.county_id != county:
        raise ConsoleRefusal("console.forbidden", f"{what} {row_id} is of another county")
    return row


def signs(org_type: str | None, kind: str) -> bool:
    return org_type in SIGNERS.get(kind, ())


async def offered(
    request: Request[Any, Any, Any], session: Session, console: SignedIn, form: Filled | None
) -> Filled | None:
    """The form as the page shows it: a refused one always (what another organisation posted is
    answered too); else only to the organisation that signs its kind, with the custody notice."""
    if form is None or form.refusal is not None:
        return form
    if not signs(await org_type(session, console.user.org_id), form.form.kind):
        return None
    return noticed(request, form)


def unfit(code: str, name: str, message: str) -> FormRefusal:
    return FormRefusal(code, message, name)


def whole(filled: Filled, name: str) -> int | FormRefusal:
    text = filled[name].replace(",", "")
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return unfit("form.not_a_number", name, f"{name}: {filled[name]!r} is not a whole number")
    return int(text)


def fen(filled: Filled, name: str) -> int | FormRefusal:
    """An amount typed in yuan, in fen."""
    found = fen_of(filled[name])
    if found is None:
        return unfit("form.not_an_amount", name, f"{name}: {filled[name]!r} is not an amount in yuan")
    return found


def day(filled: Filled, name: str) -> str | FormRefusal:
    try:
        return date.fromisoformat(filled[name]).isoformat()
    except ValueError:
        return unfit("form.not_a_date", name, f"{name}: {filled[name]!r} is not a date")


def days(filled: Filled, name: str) -> list[str] | FormRefusal:
    """Dates typed one per line or separated by commas or spaces (``2027-01-01``)."""
    out = []
    for token in re.split(r"[\s,，、;；]+", filled[name]):
        if not token:
            continue
        try:
            if not _DATE.fullmatch(token):
                raise ValueError(token)
            out.append(date.fromisoformat(token).isoformat())
        except ValueError:
            return unfit("form.not_a_date", name, f"{name}: {token!r} is not a date")
    return out


MAX_NESTING = 64  # brackets a typed policy value may hold (the deepest policy value has 3 levels)


def json_value(filled: Filled, name: str) -> Any:
    """A value typed as JSON (``7``, ``[[12, 500]]``, ``{"suburb": 166}``, ``"tie"``); a bare
    word is taken as a string. A number beyond 2^53 is refused here (JSON's safe integers)."""
    text = filled[name]
    if text.count("[") + text.count("{") > MAX_NESTING:  # deeper than any policy value
        return unfit("form.not_json", name, f"{name}: nested deeper than {MAX_NESTING} levels")
    try:
        value = msgspec.json.decode(text.encode())
    except msgspec.DecodeError:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
            return text
        return unfit("form.not_json", name, f"{name}: {text!r} is not a value")

    def fits(v: Any) -> bool:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return True
        if isinstance(v, int):
            return -SAFE_INT < v < SAFE_INT
        if isinstance(v, float):
            return False
        if isinstance(v, list):
            return all(fits(x) for x in v)
        return isinstance(v, dict) and all(fits(x) for x in v.values())

    if not fits(value):
        return unfit("form.not_json", name, f"{name}: {text!r} holds a number that is not a whole safe one")
    return value


async def record(
    request: Request[Any, Any, Any], console: SignedIn, filled: Filled, payload: dict[str, Any]
) -> dict[str, Any] | FormRefusal:
    """Record the form's kind with ``payload`` (after a field left empty or a value typed that
    is not one: the first refusal among the payload's values, beside its field)."""
    refusal = filled.missing()
    if refusal is not None:
        return refusal
    for value in payload.values():
        if isinstance(value, FormRefusal):
            return value
    result = await submit(request, console, filled.form.kind, payload, filled.entry_id)
    hidden = [f for f in filled.form.fields if f.input == "hidden"]
    if isinstance(result, FormRefusal) and any(f.concerns(result.field) for f in hidden):
        # A hidden field (a computed amount) is not shown: its refusal is said above the form.
        return replace(result, field=None)
    return result


def done(
    request: Request[Any, Any, Any], console: SignedIn, receipt: dict[str, Any], kind: str, back: str
) -> Response[Any]:
    """The page after an act was recorded: what and under which seq, and the way back."""
    return county_page(request, console, "county_done.html", receipt=receipt, kind=kind, back=back)
