"""The county's land quotas (增减挂钩节余指标 / 地票, ``/console/county/quotas``): a page at a
time, by status; one quota's page with its steps so far and the county's act at its stage, only
there: approving the reclamation project (``quota.project_approved``, applied), the joint
acceptance with the area measured (``quota.accepted``, approved), confirming the quota as
measured (``quota.confirmed``, accepted) and landing a traded quota in a city zone
(``quota.used``, traded). A quota confirmed waits for the exchange; one used is done.

Another county's quota is ``console.forbidden``; an unknown one ``console.not_found``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter, PathParameter

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.county_desk import (
    HOME,
    ROLE,
    county_page,
    done,
    of_own_county,
    offered,
    own_county,
    record,
    whole,
)
from api.console.county_reads import quotas
from api.console.forms import Filled, Form, FormField
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Session
from api.http.routes.paging import After, Id
from api.reads.exchange_board import area_mu
from contracts.quotas.tables import STATUSES, LandQuota
from ledger.errors import Category

PATH = HOME + "quotas"
Act = Annotated[str, PathParameter(max_length=32, description="the county's act at the quota's stage")]
Status = Parameter(pattern="^(" + "|".join(STATUSES) + ")$", required=False)


def stage_form(quota: str, kind: str, *fields: FormField, label: str) -> Form:
    return Form(kind, fields, f"{PATH}/{quota}/{kind.removeprefix('quota.')}", submit_label=label)


def form_at(q: LandQuota) -> Form | None:
    """The county's act at the quota's stage, or None (it waits for another, or is done)."""
    if q.status == "applied":
        document = FormField("project_document", "county.quota.project_document", hint="county.hash_hint")
        return stage_form(q.id, "quota.project_approved", document, label="county.quota.approve")
    if q.status == "approved":
        return stage_form(
            q.id,
            "quota.accepted",
            FormField("measured_m2", "county.quota.measured_m2", input="number"),
            FormField("acceptance_document", "county.quota.acceptance_document", hint="county.hash_hint"),
            label="county.quota.accept",
        )
    if q.status == "accepted":
        area = FormField(
            "quota_m2", "county.quota.quota_m2", input="number", hint="county.quota.quota_m2_hint"
        )
        return stage_form(q.id, "quota.confirmed", area, label="county.quota.confirm")
    if q.status == "traded":
        zone = FormField("zone", "county.quota.zone", hint="county.quota.zone_hint")
        approval = FormField("approval", "county.quota.approval", hint="county.hash_hint")
        return stage_form(q.id, "quota.used", zone, approval, label="county.quota.use")
    return None


ACTS = {"project_approved": "applied", "accepted": "approved", "confirmed": "accepted", "used": "traded"}
NUMBERS = ("measured_m2", "quota_m2")


@get(PATH, opt=ROLE, **CONSOLE)
async def quotas_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    status: str | None = Status,
    after: After = None,
) -> Response[Any]:
    """The county's land quotas, 50 a page, of one status when asked."""
    county = await own_county(session, console)
    rows, more = await quotas(session, county, status, after)
    return county_page(
        request,
        console,
        "county_quotas.html",
        rows=rows,
        more=more,
        status=status,
        statuses=STATUSES,
        area_mu=area_mu,
    )


async def county_quota(session: Session, console: SignedIn, quota_id: str) -> LandQuota:
    return await of_own_county(session, console, LandQuota, quota_id, "land quota")


async def quota_view(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    q: LandQuota,
    refused: Filled | None = None,
) -> Response[Any]:
    form: Filled | None = refused
    found = form_at(q)
    if form is None and found is not None:
        initial = {"quota_m2": str(q.measured_m2)} if q.measured_m2 is not None else {}
        form = await offered(request, session, console, found.opened(**initial))
    return county_page(
        request,
        console,
        "county_quota.html",
        status_code=422 if refused is not None else 200,
        q=q,
        form=form,
        waiting=found is None,
        area_mu=area_mu,
    )


@get(PATH + "/{quota_id:str}", opt=ROLE, **CONSOLE)
async def quota_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, quota_id: Id
) -> Response[Any]:
    """One quota: where it stands, its steps, and the county's act at its stage."""
    return await quota_view(request, console, session, await county_quota(session, console, quota_id))


@post(PATH + "/{quota_id:str}/{act:str}", opt=ROLE, **CONSOLE)
async def quota_act(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, quota_id: Id, act: Act
) -> Response[Any]:
    """The county's act at the quota's stage; an act of another stage is the rule's refusal."""
    q = await county_quota(session, console, quota_id)
    if act not in ACTS:
        raise ConsoleRefusal("console.not_found", f"no act {act!r} on a land quota", Category.NOT_FOUND)
    # The form of the act asked for, as it is at its own stage (the rule judges the stage).
    form = form_at(q.model_copy(update={"status": ACTS[act]}))
    assert form is not None
    filled = form.filled(await request.form())
    payload: dict[str, Any] = {"quota": q.id}
    for f in form.fields:
        payload[f.name] = whole(filled, f.name) if f.name in NUMBERS else filled[f.name]
    result = await record(request, console, filled, payload)
    if isinstance(result, FormRefusal):
        return await quota_view(request, console, session, q, filled.refused(result))
    return done(request, console, result, form.kind, f"{PATH}/{q.id}")


ROUTES: list[Any] = [quotas_page, quota_page, quota_act]
