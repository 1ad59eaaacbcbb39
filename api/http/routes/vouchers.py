"""House vouchers (房票), public like the exchange board: vouchers by holder, household,
developer or county; a voucher's statement as of any seq with every movement's proof; the
county and township figures against the county's targets; price schedules; the developer
pool; and a developer's redemption and settlement report."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import QueryParameter

from api.http.dependencies import Db, Service, Session
from api.http.routes.paging import ID_PATTERN, After, AsOf, Id, IdFilter, Limit
from api.http.wire import from_dict
from api.http.wire import vouchers as wire
from api.reads.vouchers import voucher_page, voucher_statement
from api.reads.vouchers_monitoring import voucher_monitoring
from api.reads.vouchers_pool import developer_redemptions, pool_page, price_schedules
from contracts.registry import china_date

ScopeParam = Annotated[str, QueryParameter(pattern=ID_PATTERN, description="a county or a township")]
PoolStatus = Annotated[
    Literal["in_pool", "left"] | None, QueryParameter(description="in the pool now, or left it")
]


class VoucherController(Controller):
    path = "/v1/vouchers"
    tags = ["vouchers"]

    @get(
        "/",
        operation_id="listVouchers",
        summary="Vouchers by holder, household, developer (those it redeemed) or county, in id order",
    )
    async def list_vouchers(
        self,
        session: Session,
        holder: IdFilter = None,
        household: IdFilter = None,
        developer: IdFilter = None,
        county: IdFilter = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.VoucherPage:
        found = await voucher_page(
            session,
            holder=holder,
            household=household,
            developer=developer,
            county=county,
            after=after,
            limit=limit,
        )
        return from_dict(wire.VoucherPage, found)

    @get(
        "/monitoring",
        operation_id="getVoucherMonitoring",
        summary="Vouchers issued, redeemed, outstanding, expired and cashed out, and land quotas, of a "
        "county or township as of a seq, per child organisation, beside the county's targets",
    )
    async def monitoring(self, db: Db, org: ScopeParam, at: AsOf = None) -> wire.VoucherMonitoring:
        return from_dict(wire.VoucherMonitoring, await voucher_monitoring(db, org, at))

    @get(
        "/schedules",
        operation_id="listVoucherPriceSchedules",
        summary="Price schedules (fen per m² by zone) of a county or every county; the one in force "
        "today marked",
    )
    async def schedules(
        self, service: Service, session: Session, county: IdFilter = None, limit: Limit = 100
    ) -> wire.PriceSchedulePage:
        today = china_date(service.appender.clock())
        return from_dict(wire.PriceSchedulePage, await price_schedules(session, county, today, limit))

    @get(
        "/pool",
        operation_id="listVoucherPool",
        summary="Developers admitted to a county's voucher pool, with their projects",
    )
    async def pool(
        self,
        session: Session,
        county: IdFilter = None,
        status: PoolStatus = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.PoolPage:
        return from_dict(wire.PoolPage, await pool_page(session, county, status, after, limit))

    @get(
        "/{voucher:str}",
        operation_id="getVoucherStatement",
        summary="A voucher as of a seq: balance, use and bonus, lineage, every movement and redemption",
        description="Each movement's record is `GET /v1/entries/{seq}`; its leaf hash and proof lead "
        "to the signed checkpoint given.",
    )
    async def statement(self, db: Db, voucher: Id, at: AsOf = None) -> wire.VoucherStatement:
        return from_dict(wire.VoucherStatement, await voucher_statement(db, voucher, at))


class DeveloperController(Controller):
    path = "/v1/developers"
    tags = ["vouchers"]

    @get(
        "/{developer:str}/redemptions",
        operation_id="getDeveloperRedemptions",
        summary="A developer's voucher redemptions as of a seq, settled and due stage by stage, with "
        "their totals",
    )
    async def redemptions(
        self, db: Db, developer: Id, at: AsOf = None, after: After = None, limit: Limit = 100
    ) -> wire.DeveloperRedemptions:
        found = await developer_redemptions(db, developer, at, after, limit)
        return from_dict(wire.DeveloperRedemptions, found)
