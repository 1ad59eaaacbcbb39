"""Contracted land (土地承包经营权): contracts with their parcels and management-right transfers."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.dependencies import Db, Session
from api.http.problems import ApiProblem
from api.http.routes.paging import After, AfterSeq, Id, IdFilter, Limit, keyset_page, where_given
from api.http.wire import from_dict, from_row
from api.http.wire import registry as wire
from api.reads.evidence import entity_history
from api.reads.history import ByColumn, ByKey, Reference
from contracts.land import LandContract, ManagementTransfer, Parcel
from ledger.errors import Category

ContractStatus = Annotated[Literal["active", "returned"] | None, QueryParameter()]
TransferMode = Annotated[Literal["lease", "subcontract", "shares"] | None, QueryParameter()]


async def contract_json(session: AsyncSession, contract_id: str) -> wire.LandContractDetail:
    """A contract with its parcels (and their total area) and its management transfers."""
    contract = await session.get(LandContract, contract_id)
    if contract is None:
        raise ApiProblem(Category.NOT_FOUND, "land.contract_not_found", f"no land contract {contract_id}")
    parcels = list(
        (
            await session.exec(
                select(Parcel).where(Parcel.contract_id == contract_id).order_by(col(Parcel.code))
            )
        ).all()
    )
    transfers = list(
        (
            await session.exec(
                select(ManagementTransfer)
                .where(ManagementTransfer.contract_id == contract_id)
                .order_by(col(ManagementTransfer.filed_seq))
            )
        ).all()
    )
    return wire.LandContractDetail(
        **msgspec.structs.asdict(from_row(wire.LandContract, contract)),
        area_m2=sum(p.area_m2 for p in parcels),
        parcels=[from_row(wire.Parcel, p) for p in parcels],
        management_transfers=[from_row(wire.ManagementTransfer, t) for t in transfers],
    )


def contract_refs(contract_id: str) -> list[Reference]:
    return [
        ByKey(LandContract, (contract_id,)),
        ByColumn(Parcel, "contract_id", contract_id),
        ByColumn(ManagementTransfer, "contract_id", contract_id),
    ]


async def contract_history(
    db: AsyncConnection, session: AsyncSession, contract_id: str, after: int, limit: int
) -> wire.LandContractHistory:
    if await session.get(LandContract, contract_id) is None:
        raise ApiProblem(Category.NOT_FOUND, "land.contract_not_found", f"no land contract {contract_id}")
    found = await entity_history(db, {"contract": contract_id}, contract_refs(contract_id), after, limit)
    return from_dict(wire.LandContractHistory, found)


async def parcel_json(session: AsyncSession, code: str) -> wire.Parcel:
    parcel = await session.get(Parcel, code)
    if parcel is None:
        raise ApiProblem(Category.NOT_FOUND, "land.parcel_not_found", f"no parcel {code}")
    return from_row(wire.Parcel, parcel)


async def parcel_history(
    db: AsyncConnection, session: AsyncSession, code: str, after: int, limit: int
) -> wire.ParcelHistory:
    await parcel_json(session, code)
    found = await entity_history(db, {"parcel": code}, [ByKey(Parcel, (code,))], after, limit)
    return from_dict(wire.ParcelHistory, found)


class LandController(Controller):
    path = "/v1/land"
    tags = ["registry"]

    @get(
        "/contracts",
        operation_id="listLandContracts",
        summary="Land contracts, by collective, household or status",
    )
    async def list_contracts(
        self,
        session: Session,
        collective: IdFilter = None,
        household: IdFilter = None,
        status: ContractStatus = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.LandContractPage:
        query = where_given(
            select(LandContract),
            (LandContract.collective_id, collective),
            (LandContract.household_id, household),
            (LandContract.status, status),
        )
        return await keyset_page(
            session, query, LandContract.id, after, limit, wire.LandContractPage, wire.LandContract
        )

    @get(
        "/contracts/{contract_id:str}",
        operation_id="getLandContract",
        summary="One land contract with its parcels and management transfers",
    )
    async def get_contract(self, session: Session, contract_id: Id) -> wire.LandContractDetail:
        return await contract_json(session, contract_id)

    @get(
        "/contracts/{contract_id:str}/history",
        operation_id="getLandContractHistory",
        summary="Every record that touched the contract or its parcels, with inclusion proofs",
    )
    async def get_contract_history(
        self, db: Db, session: Session, contract_id: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.LandContractHistory:
        return await contract_history(db, session, contract_id, after, limit)

    @get("/parcels/{code:str}", operation_id="getParcel", summary="One contracted parcel")
    async def get_parcel(self, session: Session, code: Id) -> wire.Parcel:
        return await parcel_json(session, code)

    @get(
        "/parcels/{code:str}/history",
        operation_id="getParcelHistory",
        summary="Every record that touched the parcel, with inclusion proofs",
    )
    async def get_parcel_history(
        self, db: Db, session: Session, code: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.ParcelHistory:
        return await parcel_history(db, session, code, after, limit)

    @get(
        "/transfers",
        operation_id="listManagementTransfers",
        summary="Management-right transfers (leases, sub-contracts, shares), by contract or mode",
    )
    async def list_transfers(
        self,
        session: Session,
        contract: IdFilter = None,
        mode: TransferMode = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.ManagementTransferPage:
        query = where_given(
            select(ManagementTransfer),
            (ManagementTransfer.contract_id, contract),
            (ManagementTransfer.mode, mode),
        )
        return await keyset_page(
            session,
            query,
            ManagementTransfer.id,
            after,
            limit,
            wire.ManagementTransferPage,
            wire.ManagementTransfer,
        )
