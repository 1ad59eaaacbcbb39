"""What the console's browser tests share: Debian's Chromium launched once per module, and a
tab whose every request is answered by the real app in this process (the cookies the browser
holds forwarded, the session's Secure cookie kept on this plain origin), counting each page's
bytes with all it loads and any request elsewhere, which is refused; signing in on a tab, and
leaving it having loaded only light pages from here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    Browser,
    Page,
    Route,
    async_playwright,
)
from tests.page_weight import LIMIT_BYTES
from tests.support import LedgerFixture

BASE = "http://localhost:8765"  # never listened on: every request is answered by the app here
WAIT_MS = 10_000
PASSWORD = "correct horse battery"
FORWARDED = ("cookie", "content-type", "accept", "accept-language")


@asynccontextmanager
async def launched() -> AsyncIterator[Browser]:
    assert async_playwright is not None
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Tab:
    """One signed-in user's tab and what it loaded: bytes per page (a page and all it loads,
    counted from its navigation), requests elsewhere, script errors."""

    page: Page
    weights: list[tuple[str, int]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def open_tab(browser: Browser, ledger: LedgerFixture) -> Tab:
    context = await browser.new_context(base_url=BASE)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    tab = Tab(page)
    http = ledger.client.http

    async def answer(route: Route) -> None:
        request = route.request
        url = request.url
        if not url.startswith(BASE + "/"):
            tab.elsewhere.append(url)
            await route.abort("blockedbyclient")
            return
        headers = {k: v for k in FORWARDED if (v := await request.header_value(k))}
        http.cookies.clear()
        r = await http.request(
            request.method,
            "https://testserver.local" + url[len(BASE) :],  # the session cookie is Secure
            headers=headers,
            content=request.post_data_buffer,
            follow_redirects=False,
        )
        http.cookies.clear()
        if request.is_navigation_request() or not tab.weights:
            tab.weights.append((url[len(BASE) :], 0))
        visited, size = tab.weights[-1]
        tab.weights[-1] = (visited, size + len(r.content))
        sent = {k: v for k, v in r.headers.items() if k != "set-cookie"}
        cookies = r.headers.get_list("set-cookie")
        if cookies:
            # Secure cookies on this http origin: the browser keeps them without the flag.
            sent["set-cookie"] = "\n".join(c.replace("; Secure", "") for c in cookies)
        await route.fulfill(status=r.status_code, headers=sent, body=r.content)

    page.on("pageerror", lambda e: tab.errors.append(f"script error: {e}"))
    await page.route("**/*", answer)
    return tab


async def shot(tab: Tab, name: str) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        await tab.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def sign_in(tab: Tab, username: str) -> None:
    """Sign ``username`` in on the tab, through the sign-in page, landing on the console's home."""
    await tab.page.goto("/console/login")
    await tab.page.fill("#username", username)
    await tab.page.fill("#password", PASSWORD)
    await tab.page.click("form[action='/console/login'] button[type=submit]")
    await tab.page.wait_for_url(BASE + "/console/")


async def leave(tab: Tab, name: str) -> None:
    """Close the tab; every page it loaded was light and loaded nothing from elsewhere (the
    weights written beside the screenshots as ``{name}-weights.json`` when they are kept)."""
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / f"{name}-weights.json").write_text(
            json.dumps({"pages": tab.weights, "external": tab.elsewhere}, ensure_ascii=False, indent=1)
        )
    await tab.page.context.close()
    assert not tab.elsewhere, tab.elsewhere
    assert not tab.errors, tab.errors
    heavy = [(p, n) for p, n in tab.weights if n >= LIMIT_BYTES]
    assert not heavy and tab.weights, (heavy, tab.weights)
