"""Every HTTP request measured and logged once, without personal data.

The wrapper sits outside the whole app (as ``api.http.head`` does), so that requests no route
matched are measured too. Each request gets a fresh request id, sent back as ``X-Request-ID``
(never one the client chose: a client's header could carry anything). The log line and the
metrics name the method, the route *template* (``/v1/parties/{party_id:uuid}``, never the
path itself), the status and the duration: never the query string, the headers or the body,
where names and ID numbers travel.
"""

from __future__ import annotations

import logging
import time
import uuid

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.http.head import method_label
from api.service.metrics import HTTP_SECONDS

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "unmatched"  # a path no route matched: its text is never a label or logged
log = logging.getLogger("rural_ledger.http")


def observe_requests(app: ASGIApp) -> ASGIApp:
    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        status = 500  # what a request is counted as if the app fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = str(scope.get("path_template") or UNMATCHED)  # set by Litestar's router
            method = method_label(scope)  # HEAD for a HEAD request served as a GET; OTHER past the set
            HTTP_SECONDS.labels(method=method, route=route, status=str(status)).observe(seconds)
            log.info(
                "%s %s %d %.1f ms [%s]",
                method,
                route,
                status,
                seconds * 1000,
                request_id,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "request_id": request_id,
                },
            )

    return observed
