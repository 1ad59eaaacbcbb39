"""Every integer path and query parameter of every route, sent values outside int64: a 4xx
problem, never a 5xx. The routes come from the app's own OpenAPI document, so a new route with an
integer parameter is tried without editing this test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import LedgerFixture

OUT_OF_RANGE = (str(2**63), str(-(2**63) - 1), str(10**30))
METHODS = ("get", "delete", "post", "put", "patch")


def _is_integer(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "integer":
        return True
    return any(_is_integer(s) for s in schema.get("oneOf", []) + schema.get("anyOf", []))


def _plain_value(param: dict[str, Any]) -> str:
    """A value of the parameter's type that is in range, for the parameters not under test."""
    return "1" if _is_integer(param.get("schema", {})) else "county"


def integer_parameters(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path template, every parameter of the operation, the integer one under test)."""
    found = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = {p["name"]: p for p in op.get("parameters", [])}
            for name, p in params.items():
                if p["in"] in ("path", "query") and _is_integer(p.get("schema", {})):
                    found.append((method, path, params, name))
    return found


def request_for(path: str, params: dict[str, Any], target: str, value: str) -> tuple[str, dict[str, str]]:
    query: dict[str, str] = {}
    for name, p in params.items():
        v = value if name == target else _plain_value(p)
        if p["in"] == "path":
            path = path.replace("{" + name + "}", v)
        elif p["in"] == "query" and (name == target or p.get("required")):
            query[name] = v
    return path, query


async def test_the_schema_lists_the_integer_parameters(ledger: LedgerFixture) -> None:
    schema = await ledger.client.get("/schema/openapi.json")
    found = {(m, path, name) for m, path, _, name in integer_parameters(schema)}
    assert ("get", "/v1/entries/{seq}", "seq") in found
    assert ("get", "/v1/checkpoint", "size") in found
    assert len(found) >= 13


@pytest.mark.parametrize("value", OUT_OF_RANGE)
async def test_integers_outside_int64_are_refused_with_a_problem(ledger: LedgerFixture, value: str) -> None:
    schema = await ledger.client.get("/schema/openapi.json")
    answers: list[tuple[str, str, str, int, str]] = []
    for method, template, params, name in integer_parameters(schema):
        path, query = request_for(template, params, name, value)
        r = await ledger.client.http.request(method.upper(), path, params=query)
        answers.append((method, template, name, r.status_code, r.headers.get("content-type", "")))
    wrong = [a for a in answers if not 400 <= a[3] < 500 or not a[4].startswith("application/problem+json")]
    assert answers and not wrong, wrong
