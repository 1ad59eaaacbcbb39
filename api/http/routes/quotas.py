"""Land quotas (增减挂钩节余指标 / 地票), public: the quotas of a collective or by status, and one
quota as of a seq with every record that made it, each with its inclusion proof."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import QueryParameter

from api.http.dependencies import Db, Session
from api.http.routes.paging import After, AsOf, Id, IdFilter, Limit
from api.http.wire import from_dict
from api.http.wire import vouchers as wire
from api.reads.quotas import quota_detail, quota_page

QuotaStatus = Annotated[
    Literal["applied", "approved", "accepted", "confirmed", "traded", "used"] | None, QueryParameter()
]


class QuotaController(Controller):
    path = "/v1/quotas"
    tags = ["quotas"]

    @get("/", operation_id="listLandQuotas", summary="Land quotas of a collective or by status, in id order")
    async def list_quotas(
        self,
        session: Session,
        collective: IdFilter = None,
        status: QuotaStatus = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.LandQuotaPage:
        found = await quota_page(session, collective=collective, status=status, after=after, limit=limit)
        return from_dict(wire.LandQuotaPage, found)

    @get(
        "/{quota:str}",
        operation_id="getLandQuota",
        summary="A land quota as of a seq, with every record that changed it and its inclusion proof",
    )
    async def quota(self, db: Db, quota: Id, at: AsOf = None) -> wire.LandQuotaDetail:
        return from_dict(wire.LandQuotaDetail, await quota_detail(db, quota, at))
