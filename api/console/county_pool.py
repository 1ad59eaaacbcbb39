"""The county's developer pool (``/console/county/pool``): the developers admitted (and those
that left), each with its registered projects, a page at a time; and the county's three acts on
it, each a form on the page: admitting one of its developers (``voucher.developer_admitted``),
registering a pool developer's project by its presale permit (``voucher.project_registered``)
and taking a developer out (``voucher.developer_left``). The rules decide who may be admitted,
which permit is taken, who is in the pool; their refusals show beside the field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import HOME, ROLE, county_page, done, own_county, record, signs
from api.console.county_reads import county_developers, org_type, pool
from api.console.forms import Filled, Form, FormField, noticed
from api.console.guard import SignedIn
from api.http.dependencies import Session
from api.http.routes.paging import After

PATH = HOME + "pool"
ADMIT, PROJECT, LEAVE = "voucher.developer_admitted", "voucher.project_registered", "voucher.developer_left"
# The three forms share a page: the admit and leave forms' fields carry a prefix so that every
# field's HTML id is the page's only one; the payload takes the name after it.
ADMIT_FORM = Form(
    ADMIT, (FormField("admit.developer", "county.pool.developer"),), PATH + "/admit", "county.pool.admit"
)
PROJECT_FORM = Form(
    PROJECT,
    (
        FormField("project", "county.pool.project", hint="voucher.issue.voucher_hint"),
        FormField("developer", "county.pool.developer"),
        FormField("presale_permit", "county.pool.permit", hint="county.pool.permit_hint"),
        FormField("area_code", "county.pool.area_code", hint="county.pool.area_code_hint"),
    ),
    PATH + "/projects",
    "county.pool.register",
)
LEAVE_FORM = Form(
    LEAVE, (FormField("leave.developer", "county.pool.developer"),), PATH + "/leave", "county.pool.leave"
)
FORMS = {ADMIT: ADMIT_FORM, PROJECT: PROJECT_FORM, LEAVE: LEAVE_FORM}


async def pool_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    after: str | None = None,
    refused: Filled | None = None,
) -> Response[Any]:
    county = await own_county(session, console)
    page = await pool(session, county, after)
    forms: dict[str, Filled] = {}
    if refused is not None or signs(await org_type(session, console.user.org_id), ADMIT):
        for kind, form in FORMS.items():
            opened = refused if refused is not None and refused.form.kind == kind else form.opened()
            forms[kind] = noticed(request, opened)
    return county_page(
        request,
        console,
        "county_pool.html",
        status_code=422 if refused is not None else 200,
        county=county,
        page=page,
        after=after,
        developers=await county_developers(session, county),
        forms=forms,
    )


@get(PATH, opt=ROLE, **CONSOLE)
async def pool_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, after: After = None
) -> Response[Any]:
    """The pool's developers and projects, and the forms acting on it."""
    return await pool_view(request, console, session, after)


async def act(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, kind: str
) -> Response[Any]:
    form = FORMS[kind]
    filled = form.filled(await request.form())
    prefix = {ADMIT: "admit.", LEAVE: "leave."}.get(kind, "")
    payload = {f.name.removeprefix(prefix): filled[f.name] for f in form.fields}
    result = await record(request, console, filled, payload)
    if isinstance(result, FormRefusal):
        if prefix and result.field is not None and not result.field.startswith(prefix):
            result = replace(result, field=prefix + result.field)
        return await pool_view(request, console, session, refused=filled.refused(result))
    return done(request, console, result, kind, PATH)


@post(PATH + "/admit", opt=ROLE, **CONSOLE)
async def admit(request: Request[Any, Any, Any], console: SignedIn, session: Session) -> Response[Any]:
    """Admit one of the county's developers to its voucher pool."""
    return await act(request, console, session, ADMIT)


@post(PATH + "/projects", opt=ROLE, **CONSOLE)
async def register_project(
    request: Request[Any, Any, Any], console: SignedIn, session: Session
) -> Response[Any]:
    """Register a pool developer's project by its presale permit and where it lies."""
    return await act(request, console, session, PROJECT)


@post(PATH + "/leave", opt=ROLE, **CONSOLE)
async def leave(request: Request[Any, Any, Any], console: SignedIn, session: Session) -> Response[Any]:
    """Take a developer out of the pool: it redeems nothing after this."""
    return await act(request, console, session, LEAVE)


ROUTES: list[Any] = [pool_page, admit, register_project, leave]
