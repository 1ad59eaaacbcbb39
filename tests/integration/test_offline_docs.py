"""The documentation works without internet: the API explorer at ``/schema`` and the index page
at ``/`` name no URL outside the service (scripts, styles, icons, fonts), and every asset they
name is served here. The browser test (tests/browser) shows the same in Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import metadata

import pytest

from api.http.explorer import ASSETS, ASSETS_PATH
from tests.support import LedgerFixture

URL_ATTRIBUTES = {"src", "href", "action", "poster", "srcset", "data"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)")


class Urls(HTMLParser):
    """Every URL an HTML page's tags name, with the tag."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, v) for k, v in attrs if k in URL_ATTRIBUTES and v is not None]


def urls(html: str) -> list[tuple[str, str]]:
    parser = Urls()
    parser.feed(html)
    return parser.found


def leaves_the_service(url: str) -> bool:
    """A URL a browser would fetch from elsewhere (``data:`` stays in the page)."""
    if url.startswith("//"):
        return True
    return bool(re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", url)) and not url.startswith("data:")


async def test_the_explorer_page_names_only_the_services_own_assets(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/schema")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    found = urls(r.text)
    assert not [u for u in found if leaves_the_service(u[1])], found
    assets = {u for _, u in found}
    assert {f"{ASSETS_PATH}/{name}" for name in ("swagger-ui-bundle.js", "swagger-ui.css")} <= assets
    assert ("link", f"{ASSETS_PATH}/favicon-32x32.png") in found  # not Litestar's icon from a CDN
    for gone in ("cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis.com", "cdn.redoc.ly"):
        assert gone not in r.text


@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_every_explorer_asset_is_served_and_names_nothing_outside(
    ledger: LedgerFixture, name: str
) -> None:
    r = await ledger.client.http.get(f"{ASSETS_PATH}/{name}")
    assert r.status_code == 200 and len(r.content) > 100
    assert "max-age=" in r.headers["cache-control"]
    if name.endswith(".css"):
        named = [a or b for a, b in CSS_URL.findall(r.text)]
        assert not [u for u in named if leaves_the_service(u)], named


async def test_the_bundle_ships_its_licence() -> None:
    dist = metadata.distribution("swagger-ui-bundle-v2")
    assert dist.metadata["License"] == "Apache-2.0"
    licences = [f for f in dist.files or () if f.name.upper().startswith("LICENSE")]
    assert licences and "Apache License" in licences[0].read_text()


async def test_the_index_page_says_what_this_ledger_is(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    size = await ledger.size()
    checkpoint = await ledger.client.get("/v1/checkpoint")
    for shown in (ledger.origin, ledger.genesis.operator_key, f"{size:,} 条记录", f"{size:,} records"):
        assert shown in r.text
    assert checkpoint.splitlines()[2] in r.text  # the latest checkpoint's root line
    found = urls(r.text)
    assert not [u for u in found if leaves_the_service(u[1])], found
    links = {u for tag, u in found if tag == "a"}
    assert {"/v1/checkpoint", "/schema", "/v1/kinds", "/v1/entries"} <= links
    for link in links:
        assert (await ledger.client.http.get(link)).status_code == 200, link
