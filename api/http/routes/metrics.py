"""``GET /metrics``: the Prometheus text exposition (``api.service.metrics``). Not in the
OpenAPI document: it is for the monitoring system, in Prometheus's format, not the API's."""

from __future__ import annotations

import logging

from litestar import Response, get

from api.http.dependencies import Service
from api.service.metrics import CONTENT_TYPE, database_facts, exposition, replay_age
from ledger.errors import Unavailable

log = logging.getLogger("rural_ledger.metrics")


@get("/metrics", include_in_schema=False)
async def metrics(service: Service) -> Response[bytes]:
    try:
        facts = await service.read(database_facts)
    except Unavailable:
        facts = {"unreachable": True}
    if service.read_engine is not None:  # RURAL_LEDGER_READ_URL: how far behind its reads are
        try:
            async with service.read_engine.connect() as conn:
                facts["read_replica_age"] = await conn.run_sync(replay_age)
        except Exception:  # a replica that does not answer is read around; its lag stays absent
            log.warning("the read replica did not answer the metrics' lag query")
    return Response(exposition(facts), media_type=CONTENT_TYPE)
