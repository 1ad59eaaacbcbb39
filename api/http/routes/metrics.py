"""``GET /metrics``: the Prometheus text exposition (``api.service.metrics``). Not in the
OpenAPI document: it is for the monitoring system, in Prometheus's format, not the API's."""

from __future__ import annotations

from litestar import Response, get

from api.http.dependencies import Service
from api.service.metrics import CONTENT_TYPE, database_facts, exposition
from ledger.errors import Unavailable


@get("/metrics", include_in_schema=False)
async def metrics(service: Service) -> Response[bytes]:
    try:
        facts = await service.read(database_facts)
    except Unavailable:
        facts = {"unreachable": True}
    return Response(exposition(facts), media_type=CONTENT_TYPE)
