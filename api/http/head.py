"""HEAD on every GET route (RFC 9110 §9.3.2): the request is served as the GET it stands for,
and the answer keeps the GET's status and headers (``Content-Length`` and ``Content-Type``
included) and drops its body.

This wraps the whole app rather than adding HEAD to each handler: Litestar picks a handler by
method before any middleware runs, and a HEAD operation beside every GET one would double
each operation (and its ``operationId``) in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

# Set in the scope of a HEAD request served as a GET: what a signed request's signature covers
# is the method the client sent.
HEAD_REQUEST = "rural_ledger.head_request"
BODY_MESSAGES = frozenset({"http.response.body", "http.response.pathsend", "http.response.zerocopysend"})
# The methods a metric label or a log line may name: any other token a client sends is "OTHER",
# so that a client cannot grow the metrics' label sets (one series per invented method) or
# write what it likes into the logs.
LABELLED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def sent_method(scope: Any) -> str:
    """The method the client sent: HEAD for a HEAD request served as a GET."""
    return "HEAD" if scope.get(HEAD_REQUEST) else str(scope["method"])


def method_label(scope: Any) -> str:
    """The sent method as a metric label or log field: one of a fixed set, else ``OTHER``."""
    method = sent_method(scope)
    return method if method in LABELLED_METHODS else "OTHER"


def answer_head_as_get(app: ASGIApp) -> ASGIApp:
    async def head_as_get(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] not in BODY_MESSAGES:
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await app({**scope, "method": "GET", HEAD_REQUEST: True}, receive, send_without_body)  # type: ignore[misc]

    return head_as_get
