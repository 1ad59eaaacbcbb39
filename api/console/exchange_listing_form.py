"""The listing wizard's terms form (``exchange.listed``): its fields for the right chosen, the
values it opens with, and the payload built from what was typed.

Every field is named by the payload path it fills (``right.term_end``, ``deposit_fen``), so a
refusal of the rule naming that path, or a code ``acting.FIELD_OF_CODE`` points there, is shown
beside it. Amounts are typed in yuan and recorded in fen; the bidding window is typed in China
time and recorded in UTC. The console checks only that a value can be read (an amount, a
time, a date); whether the right is held, the term, the window, the deposit and the
increment are the rule's to judge.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from api.console.acting import FormRefusal
from api.console.exchange_desk import LISTINGS
from api.console.forms import Filled, Form, FormField, amounts_in_fen
from ledger.entry import format_time

LISTED = "exchange.listed"
CST = timedelta(hours=8)
_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YUAN_FIELDS = ("reserve_fen", "increment_fen", "deposit_fen")
TIME_FIELDS = ("bidding_opens_at", "bidding_closes_at")


def _choice(prefix: str, *values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v, f"{prefix}.{v}") for v in values)


def listing_form(right_type: str, rights: list[tuple[str, str]]) -> Form:
    """The terms form for a right of ``right_type``; ``rights`` the held rights offered
    (token, label)."""
    f = FormField
    fields = [
        f("stage", "exchange.new.stage", input="hidden"),
        f("holder", "exchange.new.holder", input="hidden"),
        f("listing", "exchange.listing.id", hint="exchange.new.listing_hint"),
        f("right", "exchange.new.right", input="select", choices=tuple(rights)),
    ]
    if right_type == "land_management":
        fields += [
            f("right.parcels", "exchange.new.parcels", hint="exchange.new.parcels_hint"),
            f(
                "right.mode",
                "exchange.new.mode",
                input="select",
                choices=_choice("exchange.mode", "lease", "subcontract", "shares"),
            ),
        ]
    if right_type == "shares":
        fields.append(f("right.units", "exchange.new.units", input="number"))
    if right_type == "collective_asset":
        fields.append(f("right.asset", "exchange.new.asset", hint="exchange.new.asset_hint"))
    if right_type in ("land_management", "collective_asset"):
        fields += [
            f("right.term_start", "exchange.new.term_start", input="date"),
            f("right.term_end", "exchange.new.term_end", input="date", hint="exchange.new.term_end_hint"),
        ]
    units = ("per_mu_year", "total") if right_type == "land_management" else ("total",)
    fields += [
        f("consent", "exchange.new.consent", hint="exchange.new.consent_hint"),
        f("price_unit", "exchange.new.price_unit", input="select", choices=_choice("exchange.unit", *units)),
        f("reserve_fen", "exchange.new.reserve", hint="exchange.new.yuan_hint"),
        f("increment_fen", "exchange.new.increment", hint="exchange.new.increment_hint"),
        f("deposit_fen", "exchange.new.deposit", hint="exchange.new.deposit_hint"),
        f(
            "method",
            "exchange.new.method",
            input="select",
            choices=_choice("exchange.method", "auction", "sealed"),
        ),
        f("bidding_opens_at", "exchange.new.opens", input="datetime-local", hint="exchange.new.opens_hint"),
        f("bidding_closes_at", "exchange.new.closes", input="datetime-local"),
        f("qualifications.members_only", "exchange.new.members_only", input="checkbox", required=False),
        f(
            "qualifications.agricultural_capacity",
            "exchange.new.agricultural_capacity",
            input="checkbox",
            required=False,
        ),
    ]
    return Form(LISTED, tuple(fields), LISTINGS + "new", submit_label="exchange.new.review")


def new_listing_id(today: date) -> str:
    """A listing number as the centre writes them: GP-<date>-<4 hex>, made when the form opens."""
    return f"GP-{today:%Y%m%d}-{secrets.token_hex(2).upper()}"


def initial(
    holder: str,
    token: str,
    right_type: str,
    parcels: list[str],
    today: date,
    opens: date,
    term_end: date | None,
) -> dict[str, str]:
    """What the terms form opens with: the listing number, the right, all its free parcels,
    a term from the day after bidding to the contract's end (at most 5 years), bidding from
    09:00 to 11:00 China time on the first day after the announcement."""
    start = opens + timedelta(days=30)
    end = min(term_end, date(start.year + 5, 12, 31)) if term_end else date(start.year + 5, 12, 31)
    values = {
        "stage": "review",
        "holder": holder,
        "listing": new_listing_id(today),
        "right": token,
        "right.parcels": ", ".join(parcels),
        "right.mode": "lease",
        "right.term_start": start.isoformat(),
        "right.term_end": end.isoformat(),
        "price_unit": "per_mu_year" if right_type == "land_management" else "total",
        "method": "auction",
        "bidding_opens_at": f"{opens.isoformat()}T09:00",
        "bidding_closes_at": f"{opens.isoformat()}T11:00",
    }
    if right_type == "land_management":
        values["qualifications.agricultural_capacity"] = "1"
    return values


def local_time(text: str) -> str | None:
    """A China time typed (``2026-12-20T09:00``) as the UTC instant the ledger records."""
    m = _LOCAL_TIME.match(text)
    if m is None:
        return None
    try:
        y, mo, d, h, mi = (int(g) for g in m.groups())
        t = datetime(y, mo, d, h, mi, tzinfo=UTC) - CST  # typed in China time
    except (ValueError, OverflowError):  # no such day, or before year 1
        return None
    return format_time(t)


def _right(filled: Filled, token: str) -> dict[str, Any] | FormRefusal:
    kind, _, rest = token.partition(":")
    if kind == "land":
        parcels = [p for p in re.split(r"[\s,，;；]+", filled["right.parcels"]) if p]
        return {
            "type": "land_management",
            "contract": rest,
            "parcels": parcels,
            "mode": filled["right.mode"],
            "term_start": filled["right.term_start"],
            "term_end": filled["right.term_end"],
            "agricultural_use": True,
        }
    if kind == "homestead":
        return {"type": "homestead", "homestead": rest}
    if kind == "quota":
        return {"type": "land_quota", "quota": rest}
    if kind == "shares":
        collective, _, holder = rest.partition(":")
        units = filled["right.units"]
        if not (units.isascii() and units.isdigit()) or len(units) > 13:
            return FormRefusal("form.not_a_number", "units is not a whole number", "right.units")
        return {"type": "shares", "collective": collective, "holder": holder, "units": int(units)}
    if kind == "asset":
        collective, _, category = rest.partition(":")
        return {
            "type": "collective_asset",
            "collective": collective,
            "asset": filled["right.asset"],
            "category": category,
            "term_start": filled["right.term_start"],
            "term_end": filled["right.term_end"],
        }
    return FormRefusal("exchange.not_a_right", f"{token!r} names no right", "right")


def listed_payload(filled: Filled) -> dict[str, Any] | FormRefusal:
    """The ``exchange.listed`` payload of what was typed, or the refusal of a value that cannot
    be read (beside its field)."""
    missing = filled.missing()
    if missing is not None:
        return missing
    right = _right(filled, filled["right"])
    if isinstance(right, FormRefusal):
        return right
    for name in ("right.term_start", "right.term_end"):
        if name in filled.values and not _DATE.match(filled[name]):
            return FormRefusal("form.not_a_date", f"{name} is not a date", name)
    amounts = amounts_in_fen(filled, {name: name for name in YUAN_FIELDS})
    if isinstance(amounts, FormRefusal):
        return amounts
    times: dict[str, str] = {}
    for name in TIME_FIELDS:
        t = local_time(filled[name])
        if t is None:
            return FormRefusal("exchange.not_a_time", f"{name} is not a time", name)
        times[name] = t
    return {
        "listing": filled["listing"],
        "right": right,
        "consent": filled["consent"],
        "price_unit": filled["price_unit"],
        "method": filled["method"],
        **amounts,
        **times,
        "qualifications": {
            "members_only": bool(filled["qualifications.members_only"]),
            "agricultural_capacity": bool(filled["qualifications.agricultural_capacity"]),
        },
    }
