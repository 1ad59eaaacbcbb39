"""The county's policy numbers and its working-day calendar (``/console/county/policy``,
``/console/county/calendar``).

The policy page shows every number in force with its default and the ``policy.set`` record
that last set it, the county's ``policy.set`` records a page at a time (newest first: who set
what, when), and a form setting one number (``policy.set``: the value typed as JSON, checked by
the rule against the policy's shape). The calendar page shows a year's declared calendar as
month grids (holidays, weekend days worked, weekends) and a form declaring a year
(``calendar.declared``, a later declaration of the year replacing it). Both acts are the
county's own: a housing authority's officer sees the pages read-only.
"""

from __future__ import annotations

import calendar as months
from dataclasses import replace
from datetime import date
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import (
    HOME,
    ROLE,
    county_page,
    days,
    done,
    json_value,
    offered,
    own_county,
    record,
    whole,
)
from api.console.county_reads import calendars, policy_records
from api.console.forms import Filled, Form, FormField
from api.console.guard import SignedIn
from api.http.dependencies import Db, Service, Session
from api.http.routes.paging import MAX_SEQ
from api.reads.policy import policy_in_force
from contracts.policy import Policy
from contracts.registry import china_date

POLICY = "policy.set"
CALENDAR = "calendar.declared"
POLICY_FORM = Form(
    POLICY,
    (
        FormField(
            "name",
            "county.policy.name",
            input="select",
            choices=tuple((n, "county.policy.n." + n) for n in Policy.__struct_fields__),
        ),
        FormField("value", "county.policy.value", hint="county.policy.value_hint"),
    ),
    HOME + "policy",
    submit_label="county.policy.submit",
)
CALENDAR_FORM = Form(
    CALENDAR,
    (
        FormField("year", "county.calendar.year", input="number"),
        FormField("holidays", "county.calendar.holidays", input="textarea", required=False),
        FormField(
            "working_weekend_days",
            "county.calendar.worked",
            input="textarea",
            required=False,
            hint="county.calendar.days_hint",
        ),
    ),
    HOME + "calendar",
    submit_label="county.calendar.submit",
)
Year = Parameter(ge=2000, le=2200, required=False)
Before = Parameter(ge=1, le=MAX_SEQ, required=False)


def shown(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def policy_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    db: Db,
    form: Filled | None,
    before: int | None = None,
    status_code: int = 200,
) -> Response[Any]:
    county = await own_county(session, console)
    in_force = await db.run_sync(policy_in_force, county)
    history, older = await policy_records(session, county, before)
    form = await offered(request, session, console, form)
    return county_page(
        request,
        console,
        "county_policy.html",
        status_code=status_code,
        county=county,
        numbers=in_force.numbers,
        shown=shown,
        history=history,
        older=older,
        form=form,
    )


@get(HOME + "policy", opt=ROLE, **CONSOLE)
async def policy_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    db: Db,
    before: int | None = Before,
) -> Response[Any]:
    """The county's policy numbers in force, its policy.set records, the form setting one."""
    return await policy_view(request, console, session, db, POLICY_FORM.opened(), before)


@post(HOME + "policy", opt=ROLE, **CONSOLE)
async def set_policy(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, db: Db
) -> Response[Any]:
    """Set one policy number: the rule checks the name and the value's shape and bounds."""
    filled = POLICY_FORM.filled(await request.form())
    value = json_value(filled, "value")
    result: dict[str, Any] | FormRefusal = (
        value
        if isinstance(value, FormRefusal)
        else await record(request, console, filled, {"numbers": {filled["name"]: value}})
    )
    if isinstance(result, FormRefusal):
        if result.field is not None and result.field.startswith("numbers"):
            result = replace(result, field="value")
        return await policy_view(request, console, session, db, filled.refused(result), status_code=422)
    return done(request, console, result, POLICY, HOME + "policy")


def month_grids(year: int) -> list[tuple[int, list[list[date | None]]]]:
    """Each month of ``year`` as weeks from Monday, days of other months left empty."""
    cal = months.Calendar(firstweekday=0)
    return [
        (m, [[d if d.month == m else None for d in week] for week in cal.monthdatescalendar(year, m)])
        for m in range(1, 13)
    ]


async def calendar_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    year: int,
    form: Filled | None,
    status_code: int = 200,
) -> Response[Any]:
    county = await own_county(session, console)
    declared = await calendars(session, county)
    row = declared.get(year)
    form = await offered(request, session, console, form)
    return county_page(
        request,
        console,
        "county_calendar.html",
        status_code=status_code,
        year=year,
        row=row,
        holidays=set(row.holidays) if row else set(),
        worked=set(row.working_weekend_days) if row else set(),
        years=sorted(declared),
        grids=month_grids(year),
        form=form,
    )


@get(HOME + "calendar", opt=ROLE, **CONSOLE)
async def calendar_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    year: int | None = Year,
) -> Response[Any]:
    """A year's declared working-day calendar as month grids, and the form declaring it."""
    year = year or china_date(service.appender.clock()).year
    county = await own_county(session, console)
    row = (await calendars(session, county)).get(year)
    form = CALENDAR_FORM.opened(
        year=str(year),
        holidays="\n".join(row.holidays) if row else "",
        working_weekend_days="\n".join(row.working_weekend_days) if row else "",
    )
    return await calendar_view(request, console, session, year, form)


@post(HOME + "calendar", opt=ROLE, **CONSOLE)
async def declare_calendar(
    request: Request[Any, Any, Any], console: SignedIn, session: Session
) -> Response[Any]:
    """Declare a year's holidays and weekend days worked (调休); the rule checks them."""
    filled = CALENDAR_FORM.filled(await request.form())
    year = whole(filled, "year")
    payload = {
        "year": year,
        "holidays": days(filled, "holidays"),
        "working_weekend_days": days(filled, "working_weekend_days"),
    }
    result = await record(request, console, filled, payload)
    if isinstance(result, FormRefusal):
        shown_year = year if isinstance(year, int) and 2000 <= year <= 2200 else 2000
        return await calendar_view(request, console, session, shown_year, filled.refused(result), 422)
    return done(request, console, result, CALENDAR, f"{HOME}calendar?year={year}")


ROUTES: list[Any] = [policy_page, set_policy, calendar_page, declare_calendar]
