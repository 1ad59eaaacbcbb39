"""A certificate of this collective printed for the household it names (``/console/collective/
certificates/{seq}``, the issuing record's seq): the persons by name with their membership
status, the rights and share holdings it lists, its validity, and the QR code of the record's
verification link (``/verify/{seq}``). The public printed page (``/v1/certificates/{id}/print``)
names persons by party id only; this one is the collective's own, for its clerks alone.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from markupsafe import Markup
from sqlalchemy import text

from api.console.collective_routes import CLERK, NAV
from api.console.desk import desk_page
from api.console.guard import SignedIn
from api.http.dependencies import Db
from api.http.routes.paging import Seq
from api.reads.printed_page import verification_qr, verify_path

_CERTIFICATE = text(
    """SELECT c.id, c.kind, c.scope, c.household_id, c.persons, c.rights, c.issued_seq, c.valid_until,
              c.issuer_id, c.membership_certificate, o.name AS collective_name
       FROM certificates c LEFT JOIN orgs o ON o.id = c.collective_id
       WHERE c.collective_id = :c AND c.issued_seq = :s"""
)
_PERSONS = text(
    """SELECT pd.party_id, pd.name, pd.sex, pd.birth_date, m.status, hm.relation
       FROM personal_data pd
       LEFT JOIN memberships m ON m.party_id = pd.party_id AND m.collective_id = :c
       LEFT JOIN household_members hm ON hm.party_id = pd.party_id
       WHERE pd.party_id = ANY(:p) ORDER BY hm.joined_seq NULLS LAST, pd.party_id"""
)


@get("/console/collective/certificates/{seq:int}", **CLERK)
async def certificate_print(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, seq: Seq
) -> Response[Any]:
    """The certificate issued at record ``seq`` over this collective, printable, with names."""
    org = console.user.org_id
    found = (await db.execute(_CERTIFICATE, {"c": org, "s": seq})).one_or_none() if 0 <= seq < 2**63 else None
    persons = []
    if found is not None:
        persons = list((await db.execute(_PERSONS, {"c": org, "p": list(found.persons)})).all())
    await db.rollback()
    if found is None:
        return desk_page(request, console, "collective_certificate_print.html", NAV, status_code=404, c=None)
    verify = str(request.base_url).rstrip("/") + verify_path(seq)
    return desk_page(
        request,
        console,
        "collective_certificate_print.html",
        NAV,
        c=found,
        persons=persons,
        shares=found.rights.get("shares", {}),
        qr=Markup(verification_qr(verify)),
    )


ROUTES: list[Any] = [certificate_print]
