"""Settlement certificates: membership certificates (集体成员资格证明) and transfer filing
certificates (转移备案证书), as JSON with their record's inclusion proof, and as a printable page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.dependencies import Db, Session
from api.http.problems import ApiProblem
from api.http.routes.paging import (
    ID_PATTERN,
    After,
    AfterSeq,
    Id,
    IdFilter,
    Limit,
    keyset_page,
    where_given,
)
from api.http.wire import from_dict, from_row
from api.http.wire import registry as wire
from api.http.wire.records import ProvenRecord, SignedCheckpoint
from api.reads.certificate_page import CertificateView, render, with_share_details
from api.reads.evidence import entity_history, prove, record_json, snapshot
from api.reads.history import ByKey, rows_as_of
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.land import LandContract, Parcel
from contracts.membership import Membership
from contracts.orgs import Org
from ledger.errors import Category

CertificateKind = Annotated[Literal["membership", "transfer_filing", "shares"] | None, QueryParameter()]
Party = Annotated[str | None, QueryParameter(pattern=ID_PATTERN, description="a person listed on it")]


async def certificate_view(
    db: AsyncConnection, session: AsyncSession, certificate_id: str
) -> CertificateView:
    """The certificate, and the persons' statuses and the rights' details right after the
    record that issued it."""
    cert = await session.get(Certificate, certificate_id)
    if cert is None:
        raise ApiProblem(Category.NOT_FOUND, "certificate.not_found", f"no certificate {certificate_id}")
    issuer = await session.get(Org, cert.issuer_id)
    collective = await session.get(Org, cert.collective_id)
    seq = cert.issued_seq
    snap = await snapshot(db)
    statuses = {
        v.row.party_id: v.row.status
        for v in await rows_as_of(db, Membership, seq, where={"party_id": cert.persons})
    }
    contract_ids: list[str] = cert.rights.get("land_contracts", [])
    parcels = await rows_as_of(db, Parcel, seq, where={"contract_id": contract_ids})
    contracts = [
        (v.row, [p.row for p in parcels if p.row.contract_id == v.row.id])
        for v in await rows_as_of(db, LandContract, seq, where={"id": contract_ids})
    ]
    homesteads = [
        v.row for v in await rows_as_of(db, Homestead, seq, where={"id": cert.rights.get("homesteads", [])})
    ]
    proven = (await prove(db, [seq], snap))[seq]
    return CertificateView(
        cert,
        issuer,
        collective,
        statuses,
        contracts,
        homesteads,
        proven,
        record_json(proven.record)["recorded_at"],
        snap,
    )


async def certificate_json(
    db: AsyncConnection, session: AsyncSession, certificate_id: str
) -> wire.CertificateDetail:
    view = await certificate_view(db, session, certificate_id)
    proven = from_dict(ProvenRecord, view.proven.with_record())
    return wire.CertificateDetail(
        certificate=from_row(wire.Certificate, view.certificate),
        statuses=view.statuses,
        record=proven.record,
        inclusion_proof=proven.inclusion_proof,
        checkpoint=from_dict(SignedCheckpoint, view.snapshot.json()),
    )


async def certificate_page(
    db: AsyncConnection, session: AsyncSession, certificate_id: str, base_url: str | None = None
) -> Response[str]:
    """The printable page; with ``base_url`` (where the service was asked), a QR code of the
    certificate's verification page."""
    view = await certificate_view(db, session, certificate_id)
    return Response(render(await with_share_details(db, view), base_url), media_type="text/html")


async def certificate_history(
    db: AsyncConnection, session: AsyncSession, certificate_id: str, after: int, limit: int
) -> wire.CertificateHistory:
    if await session.get(Certificate, certificate_id) is None:
        raise ApiProblem(Category.NOT_FOUND, "certificate.not_found", f"no certificate {certificate_id}")
    found = await entity_history(
        db, {"certificate": certificate_id}, [ByKey(Certificate, (certificate_id,))], after, limit
    )
    return from_dict(wire.CertificateHistory, found)


class CertificateController(Controller):
    path = "/v1/certificates"
    tags = ["registry"]

    @get(
        "/",
        operation_id="listCertificates",
        summary="Certificates, by collective, household, kind, issuer or a person listed",
    )
    async def list_certificates(
        self,
        session: Session,
        collective: IdFilter = None,
        household: IdFilter = None,
        kind: CertificateKind = None,
        issuer: IdFilter = None,
        party: Party = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.CertificatePage:
        query = where_given(
            select(Certificate),
            (Certificate.collective_id, collective),
            (Certificate.household_id, household),
            (Certificate.kind, kind),
            (Certificate.issuer_id, issuer),
        )
        if party is not None:
            query = query.where(col(Certificate.persons).contains([party]))
        return await keyset_page(
            session, query, Certificate.id, after, limit, wire.CertificatePage, wire.Certificate
        )

    @get(
        "/{certificate_id:str}",
        operation_id="getCertificate",
        summary="One certificate with its record, inclusion proof and the signed checkpoint",
    )
    async def get_certificate(self, db: Db, session: Session, certificate_id: Id) -> wire.CertificateDetail:
        return await certificate_json(db, session, certificate_id)

    @get(
        "/{certificate_id:str}/print",
        operation_id="printCertificate",
        media_type="text/html",
        summary="One certificate as a printable page (persons by party id only)",
    )
    async def print_certificate(
        self, request: Request[Any, Any, Any], db: Db, session: Session, certificate_id: Id
    ) -> Response[str]:
        return await certificate_page(db, session, certificate_id, str(request.base_url))

    @get(
        "/{certificate_id:str}/history",
        operation_id="getCertificateHistory",
        summary="The records that touched the certificate, with inclusion proofs",
    )
    async def get_history(
        self, db: Db, session: Session, certificate_id: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.CertificateHistory:
        return await certificate_history(db, session, certificate_id, after, limit)
