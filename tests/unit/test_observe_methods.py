"""The method named by the HTTP metrics and log lines is one of a fixed set, else OTHER."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from api.http.head import answer_head_as_get, method_label
from api.http.observe import observe_requests
from api.service.metrics import HTTP_SECONDS


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 405, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _request(method: str) -> None:
    app = answer_head_as_get(observe_requests(_answer))
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/x", "headers": []}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 405


def _methods_labelled() -> set[str]:
    return {labels[0] for labels in HTTP_SECONDS._metrics}


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_known_methods_are_named(method: str) -> None:
    assert method_label({"method": method}) == method


def test_invented_methods_are_other(caplog: pytest.LogCaptureFixture) -> None:
    invented = [f"X{n}" for n in range(20)] + ["PROPFIND", "get", "G\x00ET", "A" * 4000]
    with caplog.at_level(logging.INFO, logger="rural_ledger.http"):
        for method in invented:
            _request(method)
        _request("HEAD")
    labelled = _methods_labelled()
    assert "OTHER" in labelled and "HEAD" in labelled
    assert not labelled & set(invented)
    logged = [getattr(r, "method", None) for r in caplog.records]
    assert logged == ["OTHER"] * len(invented) + ["HEAD"]
    assert not any("PROPFIND" in r.getMessage() or "X1" in r.getMessage() for r in caplog.records)
