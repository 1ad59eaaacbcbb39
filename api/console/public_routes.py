"""The public pages (no sign-in): certificate verification.

- ``GET /verify/{seq}``: one record's verification page. The record, its inclusion proof, the
  latest operator-signed checkpoint and the operator's key are embedded; ``verify.js`` checks
  them in the browser with WebCrypto and says 验证通过 or 验证失败 and why. The record is shown in
  an editable box: what is checked is what the box holds.
- ``GET /verify``: paste a record (or a certificate's JSON) to check it the same way, or give a
  certificate number or a seq (``?number=``) to be sent to its record's page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlmodel import select

from api.console.render import page, script_json
from api.console.verify_evidence import (
    CERTIFICATE_NUMBER,
    SEQ_TEXT,
    OperatorKey,
    pretty_record,
    record_evidence,
)
from api.http.dependencies import Db, Service, Session
from api.reads.evidence import snapshot
from api.reads.printed_page import beijing_time, verify_path
from api.service.replica import REPLICA_READS  # a public page: may be read from a replica
from contracts.certificates import Certificate
from contracts.exchange.tables import Listing
from contracts.vouchers.tables import Voucher

PUBLIC_NAV = (("/verify", "nav.verify"), ("/", "nav.ledger_home"))
# The page's answers are public and change with every new checkpoint: not kept by caches. The
# pages load only the service's own script and styles, and fetch only from it.
NO_STORE = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@get("/verify/{seq:str}", include_in_schema=False, name="verify_record", opt=REPLICA_READS)
async def verify_record(
    request: Request[Any, Any, Any], service: Service, db: Db, seq: FromPath[str]
) -> Response[str]:
    if not SEQ_TEXT.fullmatch(seq):
        return page(
            request,
            "verify_missing.html",
            status_code=400,
            headers=NO_STORE,
            nav=PUBLIC_NAV,
            reason_key="verify.bad_seq",
            seq=seq,
        )
    evidence = await record_evidence(db, int(seq))
    if evidence is None:
        return page(
            request,
            "verify_missing.html",
            status_code=404,
            headers=NO_STORE,
            nav=PUBLIC_NAV,
            reason_key="verify.no_record",
            seq=seq,
        )
    key = OperatorKey.of(service.verifier)
    entry = evidence.record["entry"]
    return page(
        request,
        "verify_record.html",
        headers=NO_STORE,
        nav=PUBLIC_NAV,
        title_key="verify.title",
        evidence=evidence,
        entry=entry,
        recorded_at=beijing_time(evidence.record["recorded_at"]),
        record_text=pretty_record(evidence.record),
        embedded=evidence.embedded(key),
        key=key,
        origin=service.origin,
    )


@get("/verify", include_in_schema=False, name="verify_paste")
async def verify_paste(
    request: Request[Any, Any, Any],
    service: Service,
    db: Db,
    session: Session,
    number: FromQuery[str | None] = None,
) -> Response[Any]:
    key = OperatorKey.of(service.verifier)
    snap = await snapshot(db)
    context: dict[str, Any] = {
        "nav": PUBLIC_NAV,
        "title_key": "verify.paste_title",
        "key": key,
        "origin": service.origin,
        "snapshot": snap,
        "embedded": script_json({"checkpoint": snap.json(), "operator_key": key.text}),
        "number": number or "",
        "number_error": None,
    }
    if number is None or number.strip() == "":
        return page(request, "verify_paste.html", headers=NO_STORE, **context)
    number = number.strip()
    if SEQ_TEXT.fullmatch(number):
        return Redirect(verify_path(int(number)), status_code=303)
    if not CERTIFICATE_NUMBER.fullmatch(number):
        context["number_error"] = "verify.bad_number"
        return page(request, "verify_paste.html", status_code=400, headers=NO_STORE, **context)
    seq = await certificate_seq(session, number)
    if seq is None:
        context["number_error"] = "verify.no_certificate"
        return page(request, "verify_paste.html", status_code=404, headers=NO_STORE, **context)
    return Redirect(verify_path(seq), status_code=303)


async def certificate_seq(session: Session, number: str) -> int | None:
    """The seq of the record that issued the certificate numbered ``number``: a registry
    certificate (membership, transfer filing, shares), an exchange's transaction certificate
    (交易鉴证书), or a house voucher; None when there is none."""
    registry = (await session.exec(select(Certificate.issued_seq).where(Certificate.id == number))).first()
    if registry is not None:
        return int(registry)
    deal = (
        await session.exec(select(Listing.certificate_seq).where(Listing.certificate_no == number))
    ).first()
    if deal is not None:
        return int(deal)
    voucher = (await session.exec(select(Voucher.issued_seq).where(Voucher.id == number))).first()
    return None if voucher is None else int(voucher)


ROUTES: list[Any] = [verify_record, verify_paste]
