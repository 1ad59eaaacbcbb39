"""The township officer's pages (``/console/township/...``): the villages under the township and
their registers, read-only and a page at a time, and one household's file, where the officer
issues its whole-household transfer filing certificate (转移备案证书), or an individual one for
one of its members, on a membership certificate still valid; the printed certificate (with its
QR code) is linked once it is recorded.

Only users of role ``township_officer`` are served, and only for the villages registered under
their own township: another township's village, and a household the village does not have
(whether it exists elsewhere or nowhere), are ``console.forbidden`` alike (403), so that a
household's id cannot be probed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post

from api.console.acting import FormRefusal
from api.console.auth_routes import CONSOLE
from api.console.collective_paging import offset, page_number, paged
from api.console.desk import desk_page
from api.console.forms import Filled, Form, FormField, noticed, submit
from api.console.guard import ConsoleRefusal, SignedIn, for_roles
from api.console.township_registers import household_file, village_of, village_registers, villages_of
from api.http.dependencies import Service, Session
from api.http.routes.paging import Id
from contracts.registry import china_date

ROLE = for_roles("township_officer")
HOME = "/console/township/"
NAV = ((HOME, "township.nav.villages"),)
FILING = "certificate.transfer_filed"
# The individual form's fields are named under ``individual.`` (its payload path prefixed), so
# that they do not share the page's HTML ids with the whole-household form's.
IND = "individual."
REGISTERS = ("households", "land", "homesteads", "certificates")  # each paged by its own parameter


def township_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, **context: Any
) -> Response[Any]:
    return desk_page(request, console, template, NAV, **context)


def filing_form(village: str, household: str, certificates: list[str]) -> Form:
    """The whole-household transfer filing form: the certificate's number and the membership
    certificate it rests on; the persons (every member) and the rights retained (all the
    household holds) are the ledger's, filled in when it is submitted."""
    return Form(
        FILING,
        (
            FormField("certificate", "township.filing.certificate", hint="township.filing.certificate_hint"),
            FormField(
                "membership_certificate",
                "township.filing.basis",
                input="select",
                choices=tuple((c, c) for c in certificates),
            ),
        ),
        f"{HOME}villages/{village}/households/{household}",
        submit_label="township.filing.submit",
    )


def individual_form(village: str, household: str, persons: list[str], certificates: list[str]) -> Form:
    """The individual transfer filing form: one member (an active member on a valid
    membership certificate), the certificate's number and the membership certificate it rests
    on; the rights retained are the household's, filled in from the ledger when submitted."""
    return Form(
        FILING,
        (
            FormField(
                f"{IND}persons",
                "township.individual.person",
                input="select",
                choices=tuple((p, p) for p in persons),
            ),
            FormField(
                f"{IND}certificate", "township.filing.certificate", hint="township.filing.certificate_hint"
            ),
            FormField(
                f"{IND}membership_certificate",
                "township.filing.basis",
                input="select",
                choices=tuple((c, c) for c in certificates),
            ),
        ),
        f"{HOME}villages/{village}/households/{household}/individual",
        submit_label="township.individual.submit",
    )


def not_ours(village: str) -> ConsoleRefusal:
    return ConsoleRefusal("console.forbidden", f"village {village} is not under this township")


@get(HOME, opt=ROLE, **CONSOLE)
async def township_home(
    request: Request[Any, Any, Any], console: SignedIn, session: Session
) -> Response[Any]:
    """The villages under the officer's township, with their households' count."""
    villages = await villages_of(session, console.user.org_id)
    return township_page(request, console, "township_villages.html", villages=villages)


@get(HOME + "villages/{village:str}", opt=ROLE, **CONSOLE)
async def village_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, village: Id
) -> Response[Any]:
    """One village's registers: households, land contracts, homesteads, certificates."""
    org = await village_of(session, console.user.org_id, village)
    if org is None:
        raise not_ours(village)
    skips = {name: offset(page_number(request, name)) for name in REGISTERS}
    registers: dict[str, Sequence[Any]] = dict(
        zip(REGISTERS, await village_registers(session, village, skips), strict=True)
    )
    shown: dict[str, Any] = {}
    for name in REGISTERS:
        shown[name], shown[name + "_pager"] = paged(request, registers[name], name)
    return township_page(
        request,
        console,
        "township_village.html",
        village=org,
        households=shown["households"],
        contracts=shown["land"],
        homesteads=shown["homesteads"],
        certificates=shown["certificates"],
        pagers=shown,
    )


async def household_context(
    session: Session, service: Service, console: SignedIn, village: str, household: str
) -> dict[str, Any]:
    org = await village_of(session, console.user.org_id, village)
    if org is None:
        raise not_ours(village)
    found = await household_file(session, village, household)
    if found is None:
        raise ConsoleRefusal("console.forbidden", f"village {village} has no household {household}")
    today = china_date(service.appender.clock())
    return {
        "village": org,
        "file": found,
        "valid": found.valid_certificates(today),
        "bases": found.individual_bases(today),
        "fileable": found.individually_fileable(today),
        "today": today,
    }


def _whole(village: str, household: str, context: dict[str, Any]) -> Form:
    return filing_form(village, household, [c.id for c in context["valid"]])


def _individual(village: str, household: str, context: dict[str, Any]) -> Form:
    return individual_form(village, household, context["fileable"], [c.id for c in context["bases"]])


@get(HOME + "villages/{village:str}/households/{household:str}", opt=ROLE, **CONSOLE)
async def household_page(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    village: Id,
    household: Id,
) -> Response[Any]:
    """One household of a village: members (by party id), rights held, certificates."""
    context = await household_context(session, service, console, village, household)
    form = noticed(request, _whole(village, household, context).opened())
    individual = noticed(request, _individual(village, household, context).opened())
    return township_page(
        request, console, "township_household.html", form=form, individual=individual, **context
    )


async def record_filing(
    request: Request[Any, Any, Any],
    console: SignedIn,
    context: dict[str, Any],
    filled: Filled,
    payload: dict[str, Any],
) -> Response[Any]:
    """Record a filing certificate (``payload``'s scope: the whole household or one member):
    the page linking its printed certificate, or the household page 422 with the refusal beside
    its field on the form posted (the other one as first opened)."""
    village, household = payload["village"], payload["household"]
    individual = payload["scope"] == "individual"
    refusal = filled.missing()
    if refusal is None:
        result = await submit(request, console, FILING, payload, filled.entry_id)
        if not isinstance(result, FormRefusal):
            return township_page(
                request,
                console,
                "township_filed.html",
                village=context["village"],
                certificate=payload["certificate"],
                receipt=result,
            )
        # The individual form's fields are the payload's names under its prefix.
        refusal = replace(result, field=IND + result.field) if individual and result.field else result
    forms = {
        "form": _whole(village, household, context).opened(),
        "individual": _individual(village, household, context).opened(),
    }
    forms["individual" if individual else "form"] = filled.refused(refusal)
    return township_page(request, console, "township_household.html", status_code=422, **forms, **context)


@post(HOME + "villages/{village:str}/households/{household:str}", opt=ROLE, **CONSOLE)
async def file_transfer(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    village: Id,
    household: Id,
) -> Response[Any]:
    """Issue the household's whole-household transfer filing certificate; the printed
    certificate is linked once it is recorded; a refusal is shown beside its field."""
    context = await household_context(session, service, console, village, household)
    filled = _whole(village, household, context).filled(await request.form())
    payload = {
        "certificate": filled["certificate"],
        "village": village,
        "scope": "household",
        "household": household,
        "persons": [m.party_id for m in context["file"].members],
        "membership_certificate": filled["membership_certificate"],
        "rights": context["file"].rights,
    }
    return await record_filing(request, console, context, filled, payload)


@post(HOME + "villages/{village:str}/households/{household:str}/individual", opt=ROLE, **CONSOLE)
async def file_individual(
    request: Request[Any, Any, Any],
    console: SignedIn,
    session: Session,
    service: Service,
    village: Id,
    household: Id,
) -> Response[Any]:
    """Issue one member's individual transfer filing certificate (``scope`` individual, the
    one person, the household's rights as the ledger holds them); a refusal beside its field."""
    context = await household_context(session, service, console, village, household)
    filled = _individual(village, household, context).filled(await request.form())
    payload = {
        "certificate": filled[IND + "certificate"],
        "village": village,
        "scope": "individual",
        "household": household,
        "persons": [filled[IND + "persons"]],
        "membership_certificate": filled[IND + "membership_certificate"],
        "rights": context["file"].rights,
    }
    return await record_filing(request, console, context, filled, payload)


ROUTES: list[Any] = [township_home, village_page, household_page, file_transfer, file_individual]
