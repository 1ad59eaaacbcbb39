"""The collective clerk's first pages (role ``collective_clerk``), under ``/console/collective``,
and what every page of the desk shares (``CLERK``, ``NAV``, ``clerk_page``, ``form_page``): the
households and one household with its members, registering a household, and the land,
homestead and share registers (read-only); the people and the memberships are
``collective_people``'s. Every list shows 50 rows a page (``collective_paging``); the forms
offer at most 100 people.

Every page reads only the signed-in clerk's collective; a household of another collective, or
one that does not exist, is refused alike (403 ``console.forbidden``), and the guard refuses
other roles and sends anonymous visitors to sign in. A form refused shows again with what was
typed and the refusal beside its field; one recorded answers 303 to the page that shows it
(so a reload posts nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console import collective_reads as reads
from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.collective_documents import Unfit
from api.console.collective_forms import (
    MEMBER_ROWS,
    household_form,
    household_payload,
    household_refusal,
    opened_household,
)
from api.console.collective_paging import offset, page_number, paged
from api.console.desk import desk_page
from api.console.forms import Filled, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.http.dependencies import Db
from api.http.routes.paging import Id

BASE = "/console/collective"
CLERK: dict[str, Any] = {**CONSOLE, "opt": for_roles("collective_clerk")}
NAV = (
    (f"{BASE}/", "clerk.nav.households"),
    (f"{BASE}/people", "clerk.nav.people"),
    (f"{BASE}/members", "clerk.nav.members"),
    (f"{BASE}/registers", "clerk.nav.registers"),
    (f"{BASE}/certificates", "collective.nav.certificates"),
    (f"{BASE}/assets", "collective.nav.assets"),
    (f"{BASE}/shares", "collective.nav.shares"),
    (f"{BASE}/dividends", "collective.nav.dividends"),
)


REGISTERS = ("land", "homesteads", "shares")  # each register paged by its own parameter


def clerk_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any
) -> Response[Any]:
    """A page of the clerk's desk, with its navigation."""
    return desk_page(request, console, template, NAV, **context)


def form_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, filled: Filled, **context: Any
) -> Response[Any]:
    """A form's page: 422 when re-shown with a refusal, else with the custody notice if any."""
    filled = noticed(request, filled)
    status = 200 if filled.refusal is None else 422
    return clerk_page(request, console, template, status_code=status, form=filled, **context)


async def reads_over(db: Db) -> None:
    await db.rollback()  # the reads' transaction: nothing to keep


@get(f"{BASE}/", **CLERK)
async def household_list(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The collective's households, newest first, a page at a time."""
    rows = await reads.households(db, console.user.org_id, offset(page_number(request)), reads.PAGE_LIMIT)
    await reads_over(db)
    shown, pager = paged(request, rows)
    return clerk_page(request, console, "collective_households.html", households=shown, pager=pager)


@get(f"{BASE}/households/{{household_id:str}}", **CLERK)
async def household_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, household_id: Id
) -> Response[Any]:
    """One household of this collective and its members (with names). Another collective's
    household and one that does not exist are refused alike (403), so ids cannot be probed."""
    row = await reads.household(db, console.user.org_id, household_id)
    if row is None or row.collective_id != console.user.org_id:
        await reads_over(db)
        raise ConsoleRefusal("console.forbidden", "this collective has no such household")
    members = await reads.household_members(db, household_id)
    await reads_over(db)
    return clerk_page(
        request,
        console,
        "collective_household.html",
        household=row,
        members=members,
        done=request.query_params.get("done"),
    )


async def people_choices(
    db: Db, org: str, *, homeless_only: bool = False, unadmitted: bool = False, posted: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The people a form offers (``reads.choices``); on a submit, with the ones it names."""
    people = await reads.choices(db, org, homeless=homeless_only, unadmitted=unadmitted, posted=posted)
    return [(p.party_id, p.label) for p in people]


def posted_values(data: Any, *names: str) -> list[str]:
    """What a submitted form holds in ``names`` (strings only, at most 64 characters each)."""
    values = (data.get(n) for n in names)
    return [v[:64] for v in values if isinstance(v, str) and v]


@get(f"{BASE}/households/new", **CLERK)
async def household_new(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = household_form(await people_choices(db, console.user.org_id, homeless_only=True))
    await reads_over(db)
    return form_page(request, console, "collective_household_new.html", opened_household(form))


@post(f"{BASE}/households/new", **CLERK)
async def household_register(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    data = await request.form()
    named = posted_values(data, "head", *(f"member{i}" for i in range(1, MEMBER_ROWS + 1)))
    form = household_form(await people_choices(db, console.user.org_id, homeless_only=True, posted=named))
    await reads_over(db)
    filled = form.filled(data)
    refusal = filled.missing()
    if refusal is None:
        try:
            payload, rows = household_payload(filled)
        except Unfit as e:
            refusal = e.refusal
        else:
            result = await submit(request, console, form.kind, payload, filled.entry_id)
            if not isinstance(result, FormRefusal):
                return Redirect(
                    f"{BASE}/households/{payload['household']}?done={result['seq']}", status_code=303
                )
            refusal = household_refusal(result, rows)
    return form_page(request, console, "collective_household_new.html", filled.refused(refusal))


@get(f"{BASE}/registers", **CLERK)
async def registers_page(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The land contracts, homesteads and share holdings of this collective (read-only)."""
    skips = {name: offset(page_number(request, name)) for name in REGISTERS}
    registers = await reads.registers(db, console.user.org_id, skips)
    await reads_over(db)
    shown: dict[str, Any] = {}
    for name in REGISTERS:
        shown[name], shown[name + "_pager"] = paged(request, registers[name], name)
    return clerk_page(request, console, "collective_registers.html", **shown)


ROUTES: list[Any] = [
    household_list,
    household_new,
    household_register,
    household_page,
    registers_page,
]
