"""The public pages in a real browser, no sign-in: headless Chromium (Debian's, driven by
Playwright) opens the announcement board, filters it, opens a listing awarded and certified
and follows its certificate's verification link to 验证通过, then the latest checkpoint's page;
an auditor signs in and opens the desk. Every request is answered by the real app in this
process; each page with all it loads is under 100 KB, nothing is asked of anywhere else, and
no page shows a bidder's name. Screenshots and weights go to RURAL_LEDGER_SCREENSHOTS when set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio

from tests.browser.chromium import Browser, require_chromium
from tests.browser.console_tab import BASE, PASSWORD, launched, leave, open_tab, shot
from tests.exchange_http import Market
from tests.integration.test_console_public import certified_sale
from tests.integration.test_console_roles import NAME
from tests.integration.test_console_township import add_users
from tests.support import LedgerFixture

require_chromium("the public board's browser test")
SOLD = "BB-A"


@dataclass
class World:
    m: Market
    certificate_seq: int


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> AsyncIterator[World]:
    m = await Market.open(ledger, "bb", parcels=4, buyers=1, full=False)
    try:
        _, certified = await certified_sale(m, SOLD)
        await m.lot("BB-L01")
        await add_users(ledger, [("county", "auditor", "bb-auditor")])
        yield World(m, int(certified["seq"]))
    finally:
        await m.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launched() as b:
        yield b


async def test_a_visitor_reads_the_board_a_result_and_verifies_its_certificate(
    browser: Browser, ledger: LedgerFixture, world: World
) -> None:
    tab = await open_tab(browser, ledger)
    page = tab.page
    await page.goto("/board")
    await page.locator("table.board").wait_for()
    assert await page.locator(f"a[href='/board/{SOLD}']").count() == 1
    await shot(tab, "board")
    await page.select_option("#f-status", "open")
    await page.click("form.board-filters button[type=submit]")
    await page.wait_for_url(BASE + "/board?**")
    assert await page.locator(f"a[href='/board/{SOLD}']").count() == 0
    assert "距竞价结束" in await page.locator("table.board").inner_text()
    await page.goto(f"/board/{SOLD}")
    text = await page.locator("main").inner_text()
    assert "竞买人 2 竞得" in text and f"JY-{SOLD}" in text and NAME not in text
    await shot(tab, "board-listing")
    await page.click(f"a[href='/verify/{world.certificate_seq}']")
    await page.locator("#verdict.ok").wait_for()
    assert "验证通过" in await page.locator("#verdict").inner_text()
    await page.goto("/checkpoint")
    assert "签名注记原文" in await page.locator("main").inner_text()
    await shot(tab, "checkpoint")
    await page.goto("/board/results?lang=en")
    assert "awarded to 竞买人 2" in await page.locator("main").inner_text()
    await shot(tab, "board-results-en")
    await leave(tab, "board")


async def test_an_auditor_opens_the_desk(browser: Browser, ledger: LedgerFixture, world: World) -> None:
    tab = await open_tab(browser, ledger)
    page = tab.page
    await page.goto("/console/login")
    await page.fill("#username", "bb-auditor")
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_url(BASE + "/console/")
    await page.click("a[href='/console/audit/']")
    assert "全部检查点" in await page.locator("main").inner_text()
    await shot(tab, "audit-desk")
    await page.click("nav a[href='/console/audit/digest']")
    assert "exchange_listings" in await page.locator("main").inner_text()
    await leave(tab, "audit")
