"""Schemathesis over the whole OpenAPI document of the real app, against real PostgreSQL: for
every operation, examples that fit the schema and examples that break it; no answer is a 5xx.

Cases are generated first (Hypothesis runs synchronously), then sent through the app's own HTTP
client on the test's event loop, so the app and its engine live on one loop."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.support import LedgerFixture

EXAMPLES_PER_OPERATION = 25
BASE_URL = "http://testserver.local"


def generated_requests(schema: Any, mode: GenerationMode) -> list[dict[str, Any]]:
    """Up to EXAMPLES_PER_OPERATION requests per operation of ``schema``, as httpx arguments."""
    made: list[dict[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def collect(case: Any) -> None:
            kw = case.as_transport_kwargs(base_url=BASE_URL)
            made.append({"label": f"{case.operation.method.upper()} {case.operation.path}", **kw})

        try:
            collect()
        except Unsatisfiable:  # nothing in the operation can be made invalid (no parameters)
            continue
    return made


def httpx_arguments(kw: dict[str, Any]) -> dict[str, Any]:
    """requests-style arguments as httpx takes them."""
    args: dict[str, Any] = {
        "method": kw["method"],
        "url": kw["url"],
        "headers": kw.get("headers") or {},
        "params": kw.get("params"),
    }
    if "json" in kw:
        args["content"] = json.dumps(kw["json"]).encode()
    elif kw.get("data") is not None:
        data = kw["data"]
        args["content"] = data if isinstance(data, bytes | str) else json.dumps(data).encode()
    return args


@pytest.mark.slow
async def test_no_generated_request_gets_a_5xx(ledger: LedgerFixture) -> None:
    for n in range(3):  # some data, so that reads find something
        await ledger.register("county", f"town{n}", "township")
    schema = schemathesis.openapi.from_dict(await ledger.client.get("/schema/openapi.json"))
    started = time.monotonic()
    requests = [
        r
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for r in generated_requests(schema, mode)
    ]
    generated = time.monotonic() - started
    by_class: Counter[str] = Counter()
    server_errors: list[tuple[str, int, dict[str, Any], str]] = []
    for kw in requests:
        args = httpx_arguments(kw)
        r = await ledger.client.http.request(**args)
        by_class[f"{r.status_code // 100}xx"] += 1
        if r.status_code >= 500:
            server_errors.append((kw["label"], r.status_code, args, r.text[:300]))
    operations = {kw["label"] for kw in requests}
    print(
        f"schemathesis: {len(operations)} operations, {len(requests)} requests, "
        f"{dict(sorted(by_class.items()))}, generated in {generated:.1f}s, "
        f"all in {time.monotonic() - started:.1f}s"
    )
    assert len(operations) >= 30
    assert not server_errors, server_errors[:10]
