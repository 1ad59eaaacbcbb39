"""The township's and the voucher market's main paths in a real browser: headless Chromium
(Debian's, driven by Playwright) signs in as a township officer and issues a household's
whole-household transfer filing certificate, then opens its printed page with the QR code; a
county housing authority's officer computes a withdrawn homestead's voucher face and issues the
voucher; a developer looks the voucher up and redeems part of it against a purchase contract.

Every request the browser makes is answered by the real app in this process (GETs and the
forms' POSTs, with the cookies the browser holds); each page's weight with all it loads is
recorded and held under 100 KB, and a request anywhere else fails the test. Screenshots and the
weights go to RURAL_LEDGER_SCREENSHOTS when it is set. One browser for the module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio

from tests.browser.chromium import (
    Browser,
    require_chromium,
)
from tests.browser.console_tab import Tab, launched, open_tab, shot, sign_in
from tests.browser.console_tab import leave as leave  # also test_console_board's
from tests.integration.test_console_township import Township, build_township
from tests.integration.test_console_vouchers import Vouchers, build_vouchers
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

require_chromium("the township and voucher console test")


@dataclass
class World:
    town: Township
    market: Vouchers


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    await ledger.origin_ready()
    town = await build_township(ledger, "bt")
    market = await build_vouchers(ledger, "bv", households=1)
    return World(town, market)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launched() as b:
        yield b


async def signed_in_tab(browser: Browser, ledger: LedgerFixture, username: str) -> Tab:
    tab = await open_tab(browser, ledger)
    await sign_in(tab, username)
    return tab


async def test_the_township_issues_a_whole_household_transfer_filing_certificate(
    browser: Browser, ledger: LedgerFixture, world: World
) -> None:
    town = world.town
    tab = await signed_in_tab(browser, ledger, "bt-officer")
    page = tab.page
    await page.goto("/console/township/")
    await page.click(f"a[href='/console/township/villages/{town.v.village}']")
    await page.click(f"a[href='{town.household_path}']")
    await page.fill("#f-certificate", "ZYBA-bt-2026-0001")
    await page.select_option("#f-membership_certificate", town.membership)
    await shot(tab, "township-filing-form")
    await page.click("form.act button[type=submit]")
    assert "已记入账本" in await page.locator("p.ok").inner_text()
    await shot(tab, "township-filing-issued")
    await page.click("#printed")
    assert await page.locator(".qr svg").count() == 1
    await shot(tab, "township-filing-printed")
    await leave(tab, "township")


async def test_the_county_issues_a_voucher_and_a_developer_redeems_part_of_it(
    browser: Browser, ledger: LedgerFixture, world: World
) -> None:
    market = world.market
    homestead = market.homesteads[0]
    tab = await signed_in_tab(browser, ledger, "bv-officer")
    page = tab.page
    await page.goto("/console/vouchers/issue")
    await page.fill("#f-homestead-q", homestead)
    await page.fill("#f-appraisal-q", "60000")
    await page.click("form.preview button[type=submit]")
    assert await page.locator("#face").inner_text() == "300,000.00"
    await page.fill("#f-voucher", "FP-bv-0001")
    await page.fill("#f-appraisal", hexdigest(f"appraisal {homestead}"))
    await shot(tab, "voucher-issue-form")
    await page.click("form.act button[type=submit]")
    assert "FP-bv-0001" in await page.locator("p.ok").inner_text()
    await shot(tab, "voucher-issued")
    await leave(tab, "county")

    tab = await signed_in_tab(browser, ledger, "bv-dev")
    page = tab.page
    await page.goto("/console/developer/vouchers")
    await page.fill("#voucher-id", "FP-bv-0001")
    await page.click("form.lookup button[type=submit]")
    assert await page.locator("#balance").inner_text() == "300,000.00"
    await page.fill("#f-redemption", "SY-bv-0001")
    await page.select_option("#f-holder", market.members[homestead][0])
    await page.select_option("#f-project", market.project)
    await page.fill("#f-unit", "2-301")
    await page.fill("#f-purchase_contract", hexdigest("purchase 2-301"))
    await page.fill("#f-price_yuan", "900000")
    await page.fill("#f-amount_yuan", "120000.50")
    await shot(tab, "developer-redeem-form")
    await page.click("form.act button[type=submit]")
    assert "SY-bv-0001" in await page.locator("p.ok").inner_text()
    await page.click("a[href='/console/developer/vouchers?voucher=FP-bv-0001']")
    assert await page.locator("#balance").inner_text() == "179,999.50"
    await page.goto("/console/developer/")
    assert "SY-bv-0001" in await page.locator("main").inner_text()
    await shot(tab, "developer-redemptions")
    await leave(tab, "developer")
