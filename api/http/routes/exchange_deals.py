"""The exchange's evidence, public: a listing's transaction certificate (交易鉴证书) with its
proof, comparable deals for valuation, and monitoring of deposits and deals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api.http.dependencies import Db, Service, Session
from api.http.routes.paging import ID_PATTERN, AfterSeq, Id, IdFilter, Limit
from api.http.wire import exchange_deals as wire
from api.http.wire import from_dict
from api.reads.exchange_certificate import exchange_certificate
from api.reads.exchange_deals import comparable_deals
from api.reads.exchange_monitoring import exchange_monitoring
from contracts.registry import china_date

RightTypeFilter = Annotated[wire.RightType | None, QueryParameter(description="the type of right traded")]
Since = Annotated[
    date | None,
    QueryParameter(name="from", description="certified on or after this day (China Standard Time)"),
]
Until = Annotated[
    date | None,
    QueryParameter(name="to", description="certified on or before this day (China Standard Time)"),
]
ScopeParam = Annotated[
    str, QueryParameter(pattern=ID_PATTERN, description="a county, a township or an exchange centre")
]


class ExchangeDealsController(Controller):
    path = "/v1/exchange"
    tags = ["exchange"]

    @get(
        "/certificates/{listing:str}",
        operation_id="getExchangeCertificate",
        summary="A listing's transaction certificate with its record, inclusion proof and checkpoint",
    )
    async def certificate(self, db: Db, session: Session, listing: Id) -> wire.ExchangeCertificate:
        return from_dict(wire.ExchangeCertificate, await exchange_certificate(db, session, listing))

    @get(
        "/deals",
        operation_id="listComparableDeals",
        summary="Certified deals by right type, township and period, with unit prices and a summary",
        description=(
            "Unit prices in fen, rounded half up: land per 亩 per year, shares per unit, a "
            "homestead per m², a collective asset per deal. Each summary covers every match "
            "(not only the page): the mean is the prices' sum over their count, the median of an "
            "even count the mean of the two middle prices, both rounded half up."
        ),
    )
    async def deals(
        self,
        db: Db,
        session: Session,
        right_type: RightTypeFilter = None,
        township: IdFilter = None,
        since: Since = None,
        until: Until = None,
        after: AfterSeq = -1,
        limit: Limit = 100,
    ) -> wire.ComparableDeals:
        found = await comparable_deals(
            db,
            session,
            right_type=right_type,
            township=township,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )
        return from_dict(wire.ComparableDeals, found)

    @get(
        "/monitoring",
        operation_id="getExchangeMonitoring",
        summary="Listings, deals, deposits and overdue refunds of a county, township or exchange centre",
    )
    async def monitoring(self, db: Db, service: Service, org: ScopeParam) -> wire.ExchangeMonitoring:
        today = china_date(service.appender.clock())
        return from_dict(wire.ExchangeMonitoring, await exchange_monitoring(db, org, today))
