"""Monitoring counts per county, township and village (DOMAIN.md, 信息管理系统)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api.http.dependencies import Db
from api.http.routes.paging import ID_PATTERN, AsOf
from api.http.wire import from_dict
from api.http.wire.monitoring import MonitoringCounts
from api.reads.monitoring import monitoring_counts

OrgParam = Annotated[
    str, QueryParameter(pattern=ID_PATTERN, description="a county, township or village collective")
]


class MonitoringController(Controller):
    path = "/v1/monitoring"
    tags = ["monitoring"]

    @get(
        "/",
        operation_id="getMonitoringCounts",
        summary="Counts for a county, township or village as of a seq, per child organisation",
    )
    async def counts(self, db: Db, org: OrgParam, as_of: AsOf = None) -> MonitoringCounts:
        return from_dict(MonitoringCounts, await monitoring_counts(db, org, as_of))
