"""The HTTP edges, through the real app: HEAD on every GET route answers the GET's status and
headers without a body; every content type carries one charset at most; a path that names
nothing, a malformed path parameter among them, is answered with a problem document."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.http.explorer import ASSETS_PATH
from tests.registry_reads_support import Story, build_story
from tests.support import LedgerFixture

PARAMETER = re.compile(r"\{(\w+):\w+\}")
# Required query parameters, so that those routes answer 200 too.
QUERY = {
    "/v1/proofs/inclusion": {"seq": "1"},
    "/v1/proofs/consistency": {"from": "1"},
    "/v1/monitoring": {"org": "county"},
    "/v1/policy": {"org": "county"},
    "/v1/witness/cosignatures": {"size": "1"},
}
TEXT_ROUTES = {
    "/": "text/html; charset=utf-8",
    "/schema": "text/html; charset=utf-8",
    "/v1/checkpoint": "text/plain; charset=utf-8",
    "/v1/certificates/MC-A/print": "text/html; charset=utf-8",
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def story(ledger: LedgerFixture) -> Story:
    return await build_story(ledger)


def path_values(story: Story, entry_id: str) -> dict[str, str]:
    """A value for every path parameter of the app, by its name: the story's own ids where
    they exist, so that most routes answer 200."""
    household, party = story.households["A"], story.party("A")
    return {
        "seq": "1",
        "entry_id": entry_id,
        "certificate_id": "MC-A",
        "household_id": household,
        "household": household,
        "party_id": party,
        "holder": party,
        "contract_id": "CA",
        "code": story.parcels["CA"][0],
        "homestead_id": "HA",
        "org_id": "v1",
        "collective": "v1",
        "dividend": "no-such-dividend",
        "kind": "org.registered",
        "file_path": "swagger-ui.css",
        "path": "no-such-page",
    }


async def every_get_route(story: Story) -> list[tuple[str, dict[str, str]]]:
    """Every GET route of the app (its own routing table, so a new route is tried without
    editing this test), filled in: (path, query)."""
    http = story.fx.client.http
    entry_id = (await story.fx.client.get("/v1/entries/1"))["entry"]["id"]
    values = path_values(story, entry_id)
    routes = []
    for route in http.app.routes:  # type: ignore[attr-defined]
        if "GET" not in getattr(route, "methods", ()):
            continue
        path = PARAMETER.sub(lambda m: values.get(m.group(1), "unknown"), route.path)
        if route.path.endswith("{file_path:path}"):
            path = path.replace("//", "/")
        routes.append((path, QUERY.get(route.path, {})))
    return routes


def same_headers(get: httpx.Response, head: httpx.Response) -> bool:
    """The same headers, a cookie's value apart: a form's page sets a fresh CSRF token on every
    request, HEAD included (same name, same attributes); every request has its own
    ``X-Request-ID``; and ``/metrics`` counts each request it answers, so its length moves."""

    def masked(r: httpx.Response) -> list[tuple[str, str]]:
        fresh = {"x-request-id"} | ({"content-length"} if r.request.url.path == "/metrics" else set())
        return sorted(
            (
                k,
                re.sub(r"^([^=;]+)=[^;]*", r"\1=…", v)
                if k.lower() == "set-cookie"
                else "…"
                if k.lower() in fresh
                else v,
            )
            for k, v in r.headers.multi_items()
        )

    return masked(get) == masked(head)


async def test_head_answers_every_get_route_with_its_headers_and_no_body(story: Story) -> None:
    http = story.fx.client.http
    routes = await every_get_route(story)
    ok, differ = [], []
    for path, query in routes:
        get = await http.get(path, params=query)
        head = await http.head(path, params=query)
        if head.status_code != get.status_code or not same_headers(get, head) or head.content:
            differ.append((path, get.status_code, head.status_code, dict(get.headers), dict(head.headers)))
        if get.status_code == 200:
            ok.append(path)
    assert not differ, differ
    assert len(routes) >= 40 and len(ok) >= 35, (len(routes), ok)
    assert set(TEXT_ROUTES) <= set(ok)


async def test_head_of_a_signed_get_is_signed_as_head(story: Story) -> None:
    fx, v1 = story.fx, story.villages["v1"]
    await fx.origin_ready()
    path = f"/v1/parties/{story.party('B')}/personal"
    get = await fx.client.http.get(path, auth=fx.client.signed_by(v1.key))
    head = await fx.client.http.head(path, auth=fx.client.signed_by(v1.key))
    assert get.status_code == head.status_code == 200, get.text
    assert head.content == b"" and head.headers["content-length"] == get.headers["content-length"]
    unsigned = await fx.client.http.head(path)
    assert unsigned.status_code == 401 and unsigned.content == b""


async def test_head_of_a_route_without_get_is_a_405_problem_without_body(story: Story) -> None:
    r = await story.fx.client.http.head("/v1/parties/blind-index")
    assert r.status_code == 405 and r.content == b""
    assert r.headers["content-type"] == "application/problem+json"


async def test_every_content_type_carries_one_charset_at_most(story: Story) -> None:
    http = story.fx.client.http
    doubled = []
    for path, query in await every_get_route(story):
        content_type = (await http.get(path, params=query)).headers.get("content-type", "")
        if content_type.lower().count("charset") > 1:
            doubled.append((path, content_type))
    assert not doubled, doubled


@pytest.mark.parametrize(("path", "content_type"), sorted(TEXT_ROUTES.items()))
async def test_text_routes_say_utf_8_once(story: Story, path: str, content_type: str) -> None:
    r = await story.fx.client.http.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == content_type


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:rural-ledger:problem:{code}")
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/v1/entries/by-id/not-a-uuid",
        "/v1/entries/by-id/%00",
        "/v1/entries/not-a-seq",
        "/v1/entries/1.5",
        "/v1/no-such-route",
        "/schema/no-such-page",
        f"{ASSETS_PATH}/index.html",
        f"{ASSETS_PATH}/no-such-file.js",
    ],
)
async def test_a_path_that_names_nothing_is_a_404_problem(story: Story, path: str) -> None:
    body = assert_problem(await story.fx.client.http.get(path), 404, "not_found")
    assert body["detail"] != "Not Found"
    head = await story.fx.client.http.head(path)
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-type"] == "application/problem+json"


async def test_a_malformed_identifier_in_a_path_is_a_400_problem(story: Story) -> None:
    body = assert_problem(
        await story.fx.client.http.get("/v1/households/%00"), 400, "request.invalid_parameters"
    )
    assert body["errors"][0]["source"] == "path"
