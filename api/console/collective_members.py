"""One admission's page (``/console/collective/members/{party}``): the person, their
membership, the notice counted down, and the acts recorded on it — objections filed during the
notice (``member.objection_filed``) and resolved (``member.objection_resolved``: upheld, the
admission is rejected; dismissed, the notice goes on), and the confirmation
(``member.confirmed``) once the notice is over and no objection is pending.

The page offers each act only when it can apply (an objection during the notice, a resolution
while one is pending, the confirmation after the notice); the rules decide again, and their
refusal is shown beside the field it concerns. An objection and a decision are documents: the
log keeps their SHA-256, the number, date and remark travel beside as the entry's note.

Only this collective's people have a page here: any other party (another collective's, or one
unknown) is refused alike (403 ``console.forbidden``), so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console import collective_member_reads as reads
from api.console.acting import FormRefusal
from api.console.collective_documents import Unfit, beside_note, document_fields, document_hash, document_note
from api.console.collective_routes import CLERK, NAV
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Db, Service
from api.http.routes.paging import Id
from contracts.registry import china_date

BASE = "/console/collective/members"
UPHELD = (("dismissed", "collective.resolution.dismissed"), ("upheld", "collective.resolution.upheld"))


def objection_form(party: str) -> Form:
    return Form(
        "member.objection_filed",
        document_fields("objection", "collective.objection"),
        f"{BASE}/{party}/objection",
        "collective.objection.submit",
    )


def resolution_form(party: str) -> Form:
    return Form(
        "member.objection_resolved",
        (
            FormField("upheld", "collective.resolution.outcome", "select", choices=UPHELD),
            *document_fields("decision", "collective.resolution"),
        ),
        f"{BASE}/{party}/resolution",
        "collective.resolution.submit",
    )


def confirm_form(party: str) -> Form:
    return Form("member.confirmed", (), f"{BASE}/{party}/confirm", "clerk.confirm")


async def _page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    db: Db,
    service: Service,
    party: str,
    refused: Filled | None = None,
) -> Response[Any]:
    org = console.user.org_id
    m = await reads.membership(db, org, party)
    if m is None:
        await db.rollback()
        raise ConsoleRefusal("console.forbidden", f"{party} holds no membership of this collective")
    acts = [reads.Act.of(row) for row in await reads.acts(db, org, party, m.admitted_seq)]
    await db.rollback()
    today = china_date(service.appender.clock())
    forms: dict[str, Filled] = {}
    if m.status == "in_notice" and today <= m.notice_end:
        forms["objection"] = objection_form(party).opened()
    if m.status == "suspended":
        forms["resolution"] = resolution_form(party).opened(upheld="dismissed")
    if m.status == "in_notice" and today > m.notice_end:
        forms["confirm"] = confirm_form(party).opened()
    if refused is not None:
        forms[refused.extra["slot"]] = refused
    forms = {k: noticed(request, f) for k, f in forms.items()}
    return desk_page(
        request,
        console,
        "collective_member.html",
        NAV,
        status_code=422 if refused is not None else 200,
        m=m,
        acts=acts,
        today=today,
        days_left=(m.notice_end - today).days + 1,
        forms=forms,
        done=request.query_params.get("done"),
    )


@get(BASE + "/{party:str}", **CLERK)
async def member_page(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, party: Id
) -> Response[Any]:
    """One admission: the notice counted down, the objections and their resolution, and the
    act that applies now."""
    return await _page(request, console, db, service, party)


async def _documented(
    request: Request[Any, Any, Any],
    console: SignedIn,
    db: Db,
    service: Service,
    party: str,
    form: Form,
    slot: str,
) -> Response[Any]:
    if await reads.membership(db, console.user.org_id, party) is None:
        await db.rollback()
        raise ConsoleRefusal("console.forbidden", f"{party} holds no membership of this collective")
    await db.rollback()
    data = await request.form()
    filled = form.filled(data)
    refusal = filled.missing()
    if refusal is None:
        prefix = "objection" if slot == "objection" else "decision"
        try:
            digest = await document_hash(filled, data, prefix)
            note = document_note(filled, prefix, "异议书" if slot == "objection" else "处理决定")
        except Unfit as e:
            refusal = e.refusal
        else:
            payload: dict[str, Any] = {"party": party}
            if slot == "objection":
                payload["objection"] = digest
            else:
                payload.update(upheld=filled["upheld"] == "upheld", decision=digest)
            result = await submit(
                request, console, form.kind, payload, filled.entry_id, beside=beside_note(note)
            )
            if not isinstance(result, FormRefusal):
                return Redirect(f"{BASE}/{party}?done={result['seq']}", status_code=303)
            refusal = result
    refused = filled.refused(refusal)
    refused.extra["slot"] = slot
    return await _page(request, console, db, service, party, refused)


@post(BASE + "/{party:str}/objection", **CLERK)
async def file_objection(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, party: Id
) -> Response[Any]:
    """An objection filed during the notice: it suspends the admission until resolved."""
    return await _documented(request, console, db, service, party, objection_form(party), "objection")


@post(BASE + "/{party:str}/resolution", **CLERK)
async def resolve_objection(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, party: Id
) -> Response[Any]:
    """The objection resolved by the collective's decision: upheld (rejected) or dismissed."""
    return await _documented(request, console, db, service, party, resolution_form(party), "resolution")


@post(BASE + "/{party:str}/confirm", **CLERK)
async def confirm(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, service: Service, party: Id
) -> Response[Any]:
    """The admission confirmed: the rule refuses it before the notice is over or while an
    objection is pending, and the page shows why."""
    if await reads.membership(db, console.user.org_id, party) is None:
        await db.rollback()
        raise ConsoleRefusal("console.forbidden", f"{party} holds no membership of this collective")
    await db.rollback()
    form = confirm_form(party)
    filled = form.filled(await request.form())
    result = await submit(request, console, form.kind, {"party": party}, filled.entry_id)
    if not isinstance(result, FormRefusal):
        return Redirect(f"{BASE}/{party}?done={result['seq']}", status_code=303)
    refused = filled.refused(result)
    refused.extra["slot"] = "confirm"
    return await _page(request, console, db, service, party, refused)


ROUTES: list[Any] = [member_page, file_objection, resolve_objection, confirm]
