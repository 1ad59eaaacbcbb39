"""The pages in a real browser: headless Chromium (Debian's, driven by Playwright) against a real
``rural-ledger serve`` process, every request that is not to the service aborted and recorded.
``/schema`` must draw the API explorer and ``/`` the index page, with no request leaving the
service and no script error.

Skipped, saying why, only where Chromium cannot be there: off CI, without /usr/bin/chromium or
the ``playwright`` package. On CI (``CI`` set) their absence fails the test instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.browser.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    Browser,
    Page,
    Route,
    async_playwright,
    require_chromium,
)
from tests.conftest import FakeClock
from tests.registry_reads_support import Story, build_story
from tests.served import Server, serve
from tests.support import open_ledger

WAIT_MS = 10_000  # for any one element or page load

require_chromium("the browser test")


@dataclass
class Served:
    server: Server
    story: Story
    operator_key: str
    origin: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(database_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    """The registry story (certificates included) recorded a month ago, then served."""
    url = await database_factory()
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=30))
    async with open_ledger(url, Path(tmp_path_factory.mktemp("home")), clock) as fx:
        story = await build_story(fx)
    async with serve(url, fx.home) as server:
        yield Served(server, story, fx.genesis.operator_key, fx.origin)


@dataclass
class Visit:
    """Every request a page made, and what was refused or failed."""

    base: str
    requests: list[str] = field(default_factory=list)
    left_the_service: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def only_the_service(self, route: Route) -> None:
        url = route.request.url
        if url == self.base or url.startswith(self.base + "/"):
            await route.continue_()
        else:
            self.left_the_service.append(url)
            await route.abort("blockedbyclient")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert async_playwright is not None
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def visit(browser: Browser, served: Served, path: str) -> tuple[Page, Visit]:
    page = await browser.new_page()
    page.set_default_timeout(WAIT_MS)
    seen = Visit(served.server.base)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("pageerror", lambda e: seen.errors.append(f"script error: {e}"))
    page.on("console", lambda m: seen.errors.append(f"console: {m.text}") if m.type == "error" else None)
    await page.route("**/*", seen.only_the_service)
    response = await page.goto(served.server.base + path, wait_until="load")
    assert response is not None and response.status == 200, served.server.log()
    return page, seen


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


async def leave(page: Page, seen: Visit, name: str) -> None:
    await screenshot(page, name)
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / f"{name}.requests.txt").write_text("".join(f"{u}\n" for u in seen.requests))
    await page.close()
    assert not seen.left_the_service, f"requests left the service: {seen.left_the_service}"
    assert not seen.errors, seen.errors
    assert all(url.startswith(seen.base) for url in seen.requests), seen.requests


async def test_the_api_explorer_renders_without_leaving_the_service(browser: Browser, served: Served) -> None:
    page, seen = await visit(browser, served, "/schema")
    await page.locator(".swagger-ui .info .title").wait_for()
    assert "Rural Ledger" in await page.locator(".swagger-ui .info .title").inner_text()
    submit = page.locator(".opblock.opblock-post", has_text="/v1/entries").first
    await submit.wait_for()
    await page.locator(".opblock.opblock-get", has_text="/v1/checkpoint").first.wait_for()
    await submit.locator(".opblock-summary").click()  # opens: the operation is drawn from the document
    await submit.locator(".opblock-body").wait_for()
    assert await page.locator(".opblock").count() >= 40
    await leave(page, seen, "schema")
    assert any("/schema/assets/" in url and url.endswith("swagger-ui-bundle.js") for url in seen.requests)


async def test_the_index_page_says_what_the_ledger_is(browser: Browser, served: Served) -> None:
    page, seen = await visit(browser, served, "/")
    async with httpx.AsyncClient(base_url=served.server.base) as http:
        size = (await http.get("/healthz")).json()["size"]
    body = page.locator("body")
    await page.locator("h1").wait_for()
    text = await body.inner_text()
    assert "农村集体产权账本" in text and "Rural Ledger" in text
    assert served.origin in text and served.operator_key in text
    assert f"{size:,} 条记录" in text and f"{size:,} records" in text
    hrefs = await page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for path in ("/v1/checkpoint", "/schema", "/v1/kinds", "/v1/entries", "/v1/certificates/TF-A/print"):
        assert path in hrefs, hrefs
    async with httpx.AsyncClient(base_url=served.server.base) as http:
        broken = [(h, r.status_code) for h in hrefs if (r := await http.get(h)).status_code != 200]
    assert not broken, broken
    await screenshot(page, "index")
    await page.locator("a[href='/v1/certificates/TF-A/print']").click()
    await page.locator("h1", has_text="转移备案证书").wait_for()
    await leave(page, seen, "certificate")
