"""The collective clerk's pages (role ``collective_clerk``), under ``/console/collective``:
the households and one household with its members; registering a person (their personal
fields beside ``party.registered``) and a household; admitting a member by the meeting's vote
with the notice shown as a countdown, and confirming them after it; the land, homestead and
share registers (read-only); a person found by name or by ID number (through the blind index).
Every list shows 50 rows a page (``collective_paging``); the forms offer at most 100 people.

Every page reads only the signed-in clerk's collective; a household of another collective, or
one that does not exist, is refused alike (403 ``console.forbidden``), and the guard refuses
other roles and sends anonymous visitors to sign in. A form refused shows again with what was
typed and the refusal beside its field; one recorded answers 303 to the page that shows it
(so a reload posts nothing).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console import collective_reads as reads
from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.collective_forms import (
    CONFIRM,
    PERSON,
    Unfit,
    admission_form,
    admission_payload,
    household_form,
    household_payload,
    household_refusal,
    opened_household,
    opened_person,
    person_entry,
    refusal_here,
)
from api.console.collective_paging import offset, page_number, paged
from api.console.desk import desk_page
from api.console.forms import Filled, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.http.dependencies import Db, Service
from api.http.routes.paging import Id
from contracts.identifiers import InvalidIdentifier, validate_resident_id
from contracts.parties import blind_index
from contracts.registry import china_date

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


def _page(request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any) -> Response[Any]:
    return desk_page(request, console, template, NAV, **context)


def _form_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, filled: Filled, **context: Any
) -> Response[Any]:
    filled = noticed(request, filled)
    status = 200 if filled.refusal is None else 422
    return _page(request, console, template, status_code=status, form=filled, **context)


async def _done(db: Db) -> None:
    await db.rollback()  # the reads' transaction: nothing to keep


@get(f"{BASE}/", **CLERK)
async def household_list(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The collective's households, newest first, a page at a time."""
    rows = await reads.households(db, console.user.org_id, offset(page_number(request)), reads.PAGE_LIMIT)
    await _done(db)
    shown, pager = paged(request, rows)
    return _page(request, console, "collective_households.html", households=shown, pager=pager)


@get(f"{BASE}/households/{{household_id:str}}", **CLERK)
async def household_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, household_id: Id
) -> Response[Any]:
    """One household of this collective and its members (with names). Another collective's
    household and one that does not exist are refused alike (403), so ids cannot be probed."""
    row = await reads.household(db, console.user.org_id, household_id)
    if row is None or row.collective_id != console.user.org_id:
        await _done(db)
        raise ConsoleRefusal("console.forbidden", "this collective has no such household")
    members = await reads.household_members(db, household_id)
    await _done(db)
    return _page(
        request,
        console,
        "collective_household.html",
        household=row,
        members=members,
        done=request.query_params.get("done"),
    )


async def _people_choices(
    db: Db, org: str, *, homeless_only: bool = False, unadmitted: bool = False
) -> list[tuple[str, str]]:
    people = await reads.choices(db, org, homeless=homeless_only, unadmitted=unadmitted)
    return [(p.party_id, p.label) for p in people]


@get(f"{BASE}/households/new", **CLERK)
async def household_new(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = household_form(await _people_choices(db, console.user.org_id, homeless_only=True))
    await _done(db)
    return _form_page(request, console, "collective_household_new.html", opened_household(form))


@post(f"{BASE}/households/new", **CLERK)
async def household_register(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = household_form(await _people_choices(db, console.user.org_id, homeless_only=True))
    await _done(db)
    filled = form.filled(await request.form())
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
    return _form_page(request, console, "collective_household_new.html", filled.refused(refusal))


@get(f"{BASE}/people/new", **CLERK)
async def person_new(request: Request[Any, Any, Any], console: SignedIn) -> Response[Any]:
    return _form_page(request, console, "collective_person_new.html", opened_person())


@post(f"{BASE}/people/new", **CLERK)
async def person_register(
    request: Request[Any, Any, Any], console: SignedIn, service: Service
) -> Response[Any]:
    filled = PERSON.filled(await request.form())
    refusal = filled.missing()
    if refusal is None:
        try:
            payload, personal = person_entry(
                filled, service.blind_secret, china_date(service.appender.clock())
            )
        except Unfit as e:
            refusal = e.refusal
        else:
            result = await submit(
                request, console, PERSON.kind, payload, filled.entry_id, beside={"personal": personal}
            )
            if not isinstance(result, FormRefusal):
                return Redirect(
                    f"{BASE}/people?done={result['seq']}&party={payload['party']}", status_code=303
                )
            refusal = refusal_here(result)
    return _form_page(request, console, "collective_person_new.html", filled.refused(refusal))


@get(f"{BASE}/people", **CLERK)
async def people_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service
) -> Response[Any]:
    """This collective's people; ``q`` finds them by name, or by ID number through the blind
    index (the number itself is looked up only as its index)."""
    q = (request.query_params.get("q") or "").strip()[:64]
    org = console.user.org_id
    by_id = False
    if q:
        candidate = q.upper()
        try:
            validate_resident_id(candidate, china_date(service.appender.clock()))
            by_id = True
        except InvalidIdentifier:
            by_id = False
        if by_id:
            found = await reads.find(db, org, blind=blind_index(service.blind_secret, candidate))
        else:
            found = await reads.find(db, org, name=q)
    else:
        found = await reads.people(db, org, offset(page_number(request)), reads.PAGE_LIMIT)
    await _done(db)
    found, pager = paged(request, found)
    return _page(
        request,
        console,
        "collective_people.html",
        q=q,
        by_id=by_id,
        people=found,
        pager=pager,
        done=request.query_params.get("done"),
        party=request.query_params.get("party"),
    )


async def _admission(db: Db, org: str) -> Any:
    people = await _people_choices(db, org, unadmitted=True)
    households = [(h.id, h.head_name or h.id) for h in await reads.households(db, org, 0, 2 * reads.CHOICES)]
    return admission_form(people, households)


@get(f"{BASE}/members/admit", **CLERK)
async def admission_new(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = await _admission(db, console.user.org_id)
    await _done(db)
    party = request.query_params.get("party") or ""
    return _form_page(
        request,
        console,
        "collective_admit.html",
        form.opened(party=party, **{"decision.meeting": "members_assembly"}),
    )


@post(f"{BASE}/members/admit", **CLERK)
async def admission_submit(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = await _admission(db, console.user.org_id)
    await _done(db)
    filled = form.filled(await request.form())
    refusal = filled.missing()
    if refusal is None:
        try:
            payload = admission_payload(filled)
        except Unfit as e:
            refusal = e.refusal
        else:
            result = await submit(request, console, form.kind, payload, filled.entry_id)
            if not isinstance(result, FormRefusal):
                return Redirect(f"{BASE}/members?done={result['seq']}", status_code=303)
            refusal = refusal_here(result)
    return _form_page(request, console, "collective_admit.html", filled.refused(refusal))


async def _members_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, refused: Any = None
) -> Response[Any]:
    rows, pager = paged(
        request, await reads.memberships(db, console.user.org_id, offset(page_number(request)))
    )
    await _done(db)
    today = china_date(service.appender.clock())
    confirms = {r.party_id: CONFIRM.opened(party=r.party_id) for r in rows if r.status == "in_notice"}
    if refused is not None:
        confirms[refused.values["party"]] = refused
    return _page(
        request,
        console,
        "collective_members.html",
        status_code=422 if refused is not None else 200,
        members=rows,
        pager=pager,
        today=today,
        confirms=confirms,
        done=request.query_params.get("done"),
    )


@get(f"{BASE}/members", **CLERK)
async def members_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service
) -> Response[Any]:
    """The collective's memberships; those in notice with the days still to run, and a
    confirm button once it is over."""
    return await _members_page(request, console, db, service)


@post(f"{BASE}/members/confirm", **CLERK)
async def member_confirm(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service
) -> Response[Any]:
    filled = CONFIRM.filled(await request.form())
    result = await submit(request, console, CONFIRM.kind, {"party": filled["party"]}, filled.entry_id)
    if not isinstance(result, FormRefusal):
        return Redirect(f"{BASE}/members?done={result['seq']}", status_code=303)
    return await _members_page(request, console, db, service, filled.refused(result))


@get(f"{BASE}/registers", **CLERK)
async def registers_page(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The land contracts, homesteads and share holdings of this collective (read-only)."""
    skips = {name: offset(page_number(request, name)) for name in REGISTERS}
    registers = await reads.registers(db, console.user.org_id, skips)
    await _done(db)
    shown: dict[str, Any] = {}
    for name in REGISTERS:
        shown[name], shown[name + "_pager"] = paged(request, registers[name], name)
    return _page(request, console, "collective_registers.html", **shown)


ROUTES: list[Any] = [
    household_list,
    household_new,
    household_register,
    household_page,
    person_new,
    person_register,
    people_page,
    admission_new,
    admission_submit,
    members_page,
    member_confirm,
    registers_page,
]
