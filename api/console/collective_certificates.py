"""The clerk's certificates: a household's membership certificate (集体成员资格证明,
``certificate.membership_issued``) listing the confirmed persons chosen and the rights the
household holds, and its share certificate (股权证书, ``shares.certificate_issued``) listing its
holdings; the collective's certificates, a page at a time, each linked to its printed page
(``/v1/certificates/{id}/print``, with the QR code of its ``/verify/{seq}`` link).

The rights and holdings are the ledger's, filled in when the form is submitted (the rule
checks them again and refuses a certificate that claims what is not held); the clerk types the
certificate's number and ticks the persons. A household of another collective, or none, is
refused alike (403).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from api.console import collective_certificate_reads as reads
from api.console.acting import FormRefusal
from api.console.collective_paging import offset, page_number, paged
from api.console.collective_routes import CLERK, NAV
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Db
from api.http.routes.paging import Id

BASE = "/console/collective"
NUMBER = FormField("certificate", "collective.certificate.number", hint="collective.certificate.number_hint")


def membership_form(household: reads.HouseholdRights) -> Form:
    """The number, and one box per confirmed member (labelled by their name)."""
    boxes = tuple(
        FormField(f"person.{m.party_id}", m.name or m.party_id, "checkbox", required=False)
        for m in household.confirmed
    )
    return Form(
        "certificate.membership_issued",
        (NUMBER, *boxes),
        f"{BASE}/households/{household.household_id}/certificate",
        "collective.certificate.submit",
    )


# The share form's number is named apart from the membership form's (one page, distinct ids).
SHARE_NUMBER = "share.certificate"


def share_form(household: str) -> Form:
    return Form(
        "shares.certificate_issued",
        (FormField(SHARE_NUMBER, NUMBER.label, hint=NUMBER.hint),),
        f"{BASE}/households/{household}/share-certificate",
        "collective.share_certificate.submit",
    )


async def _household(db: Db, org: str, household: str) -> reads.HouseholdRights:
    found = await reads.household_rights(db, org, household)
    await db.rollback()
    if found is None:
        raise ConsoleRefusal("console.forbidden", f"household {household} is not this collective's")
    return found


def _page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    household: reads.HouseholdRights,
    membership: Filled | None = None,
    shares: Filled | None = None,
) -> Response[Any]:
    form = membership_form(household)
    opened = form.opened(**{f"person.{m.party_id}": "1" for m in household.confirmed})
    refused = (membership is not None and membership.refusal) or (shares is not None and shares.refusal)
    return desk_page(
        request,
        console,
        "collective_certificate_new.html",
        NAV,
        status_code=422 if refused else 200,
        household=household,
        form=noticed(request, membership or opened),
        share_form=noticed(request, shares or share_form(household.household_id).opened()),
    )


@get(BASE + "/households/{household:str}/certificate", **CLERK)
async def certificate_new(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, household: Id
) -> Response[Any]:
    """The household's certificate forms: the confirmed members, the rights and holdings held."""
    return _page(request, console, await _household(db, console.user.org_id, household))


async def _issue(
    request: Request[Any, Any, Any],
    console: SignedIn,
    found: reads.HouseholdRights,
    filled: Filled,
    refusal: FormRefusal | None,
    payload: dict[str, Any],
    slot: str,
) -> Response[Any]:
    """Record the certificate unless what was typed is already refused: 303 to the certificates,
    or the household's page 422 with the refusal beside its field on the ``slot`` form."""
    if refusal is None:
        result = await submit(request, console, filled.form.kind, payload, filled.entry_id)
        if not isinstance(result, FormRefusal):
            return Redirect(f"{BASE}/certificates?done={result['seq']}", status_code=303)
        # The share certificate's number field has its own name (both forms share the page).
        moved = slot == "shares" and result.field == "certificate"
        refusal = replace(result, field=SHARE_NUMBER) if moved else result
    return _page(request, console, found, **{slot: filled.refused(refusal)})


@post(BASE + "/households/{household:str}/certificate", **CLERK)
async def certificate_issue(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, household: Id
) -> Response[Any]:
    """Issue the membership certificate for the ticked persons and the rights held."""
    found = await _household(db, console.user.org_id, household)
    filled = membership_form(found).filled(await request.form())
    refusal = filled.missing()
    persons = [m.party_id for m in found.confirmed if filled[f"person.{m.party_id}"]]
    if refusal is None and not persons:
        refusal = FormRefusal("collective.certificate.no_person", "tick at least one confirmed member")
    payload = {
        "certificate": filled["certificate"],
        "household": household,
        "persons": persons,
        "rights": found.rights,
    }
    return await _issue(request, console, found, filled, refusal, payload, "membership")


@post(BASE + "/households/{household:str}/share-certificate", **CLERK)
async def share_certificate_issue(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, household: Id
) -> Response[Any]:
    """Issue the household's share certificate for the holdings the ledger holds."""
    found = await _household(db, console.user.org_id, household)
    filled = share_form(household).filled(await request.form())
    refusal = filled.missing()
    if refusal is None and not found.holdings:
        refusal = FormRefusal("collective.share_certificate.no_shares", "the household holds no shares")
    payload = {"certificate": filled[SHARE_NUMBER], "household": household, "holdings": found.holdings}
    return await _issue(request, console, found, filled, refusal, payload, "shares")


@get(BASE + "/certificates", **CLERK)
async def certificate_list(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The certificates issued by or over this collective, newest first, each with its print."""
    rows = await reads.certificates(db, console.user.org_id, offset(page_number(request)))
    await db.rollback()
    shown, pager = paged(request, rows)
    return desk_page(
        request,
        console,
        "collective_certificates.html",
        NAV,
        certificates=shown,
        pager=pager,
        done=request.query_params.get("done"),
    )


ROUTES: list[Any] = [certificate_new, certificate_issue, share_certificate_issue, certificate_list]
