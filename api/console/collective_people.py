"""The collective clerk's people and memberships (under ``/console/collective``): registering
a person (their personal fields beside ``party.registered``), the people found by name or by ID
number (through the blind index), admitting a member by the meeting's vote with the notice
shown as a countdown, and confirming them after it. A form refused shows again with what was
typed and the refusal beside its field; one recorded answers 303 to the page that shows it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console import collective_reads as reads
from api.console.acting import FormRefusal
from api.console.collective_documents import Unfit
from api.console.collective_forms import (
    CONFIRM,
    PERSON,
    admission_form,
    admission_payload,
    opened_person,
    person_entry,
    refusal_here,
)
from api.console.collective_paging import offset, page_number, paged
from api.console.collective_routes import (
    BASE,
    CLERK,
    clerk_page,
    form_page,
    people_choices,
    posted_values,
    reads_over,
)
from api.console.forms import submit
from api.console.guard import SignedIn
from api.http.dependencies import Db, Service
from contracts.identifiers import InvalidIdentifier, validate_resident_id
from contracts.parties import blind_index
from contracts.registry import china_date


@get(f"{BASE}/people/new", **CLERK)
async def person_new(request: Request[Any, Any, Any], console: SignedIn) -> Response[Any]:
    return form_page(request, console, "collective_person_new.html", opened_person())


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
    return form_page(request, console, "collective_person_new.html", filled.refused(refusal))


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
    await reads_over(db)
    found, pager = paged(request, found)
    return clerk_page(
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


async def _admission(db: Db, org: str, data: Any = None) -> Any:
    """The admission form; for a submit (``data``), offering the person and household it names
    when they are this collective's own (only what is offered is taken from a select)."""
    posted = posted_values(data, "party") if data is not None else []
    people = await people_choices(db, org, unadmitted=True, posted=posted)
    households = [(h.id, h.head_name or h.id) for h in await reads.households(db, org, 0, 2 * reads.CHOICES)]
    asked = posted_values(data, "household") if data is not None else []
    if asked and asked[0] not in {h for h, _ in households}:
        row = await reads.household(db, org, asked[0])
        if row is not None and row.collective_id == org:
            households.append((row.id, row.id))
    return admission_form(people, households)


@get(f"{BASE}/members/admit", **CLERK)
async def admission_new(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    form = await _admission(db, console.user.org_id)
    await reads_over(db)
    party = request.query_params.get("party") or ""
    return form_page(
        request,
        console,
        "collective_admit.html",
        form.opened(party=party, **{"decision.meeting": "members_assembly"}),
    )


@post(f"{BASE}/members/admit", **CLERK)
async def admission_submit(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    data = await request.form()
    form = await _admission(db, console.user.org_id, data)
    await reads_over(db)
    filled = form.filled(data)
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
    return form_page(request, console, "collective_admit.html", filled.refused(refusal))


async def members_view(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, refused: Any = None
) -> Response[Any]:
    rows, pager = paged(
        request, await reads.memberships(db, console.user.org_id, offset(page_number(request)))
    )
    await reads_over(db)
    today = china_date(service.appender.clock())
    confirms = {r.party_id: CONFIRM.opened(party=r.party_id) for r in rows if r.status == "in_notice"}
    if refused is not None:
        confirms[refused.values["party"]] = refused
    return clerk_page(
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
    return await members_view(request, console, db, service)


@post(f"{BASE}/members/confirm", **CLERK)
async def member_confirm(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service
) -> Response[Any]:
    filled = CONFIRM.filled(await request.form())
    result = await submit(request, console, CONFIRM.kind, {"party": filled["party"]}, filled.entry_id)
    if not isinstance(result, FormRefusal):
        return Redirect(f"{BASE}/members?done={result['seq']}", status_code=303)
    return await members_view(request, console, db, service, filled.refused(result))


ROUTES: list[Any] = [
    person_new,
    person_register,
    people_page,
    admission_new,
    admission_submit,
    members_page,
    member_confirm,
]
