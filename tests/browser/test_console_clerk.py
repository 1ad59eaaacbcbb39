"""The collective clerk's main path in a real browser: headless Chromium (Debian's, driven by
Playwright) signs in as a clerk, registers a person, a household with them as its head, then
another person, and admits that person as a member by the meeting's vote; the members page
counts the notice down. A wrong ID number is refused beside its field with what was typed
kept. Every request the browser makes is answered by the real app in this process (GETs and
the forms' POSTs, the cookies the browser holds); each page's weight with all it loads is
recorded and held under 100 KB, and a request anywhere else fails the test. Screenshots and
the weights go to RURAL_LEDGER_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest_asyncio
from sqlalchemy import text

from api.console.accounts import add_user
from api.console.custody import Custody, create_kek_file, kek_file
from api.service.database import asyncpg_url, make_engine
from tests.browser.chromium import (
    SCREENSHOTS,
    Browser,
    Page,
    require_chromium,
)
from tests.browser.console_tab import PASSWORD, launched, open_tab, shot
from tests.integration.test_console_collective import resident_id
from tests.page_weight import LIMIT_BYTES
from tests.support import LedgerFixture

require_chromium("the clerk's console test")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def village(ledger: LedgerFixture) -> str:
    await ledger.origin_ready()
    await ledger.register("county", "br-zhen", "township")
    key = await ledger.register("br-zhen", "br-houtuan", "village_collective", "后疃村股份经济合作社")
    create_kek_file(kek_file(ledger.home))
    engine = make_engine(asyncpg_url(ledger.url), service_role=False, pool_size=1)
    try:
        async with engine.begin() as conn:
            await Custody.configured(ledger.home).store(conn, "br-houtuan", key, ledger.clock())
        async with engine.connect() as conn:
            await add_user(conn, "br-houtuan", "collective_clerk", "clerk-houtuan", PASSWORD, ledger.clock())
    finally:
        await engine.dispose()
    return "br-houtuan"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launched() as b:
        yield b


async def register_person(page: Page, name: str, id_number: str, phone: str) -> None:
    await page.goto("/console/collective/people/new")
    await page.fill("#f-personal-name", name)
    await page.fill("#f-personal-id_number", id_number)
    await page.fill("#f-personal-phone", phone)
    await page.click("form.act button[type=submit]")


async def test_a_clerk_registers_a_household_and_admits_a_member(
    browser: Browser, ledger: LedgerFixture, village: str
) -> None:
    clerk = await open_tab(browser, ledger)
    page = clerk.page
    await page.goto("/console/login")
    await page.fill("#username", "clerk-houtuan")
    await page.fill("#password", PASSWORD)
    await page.click("form[action='/console/login'] button")
    await page.wait_for_url("**/console/")
    await shot(clerk, "clerk-home")

    # A wrong ID number: refused beside the field, what was typed kept.
    head_id = resident_id(date(1962, 4, 5), 13)
    wrong = head_id[:-1] + ("0" if head_id[-1] != "0" else "1")
    await register_person(page, "王建国", wrong, "13806310001")
    await page.locator("#f-personal-id_number-error").wait_for()
    assert "身份证号不对" in await page.locator("#f-personal-id_number-error").inner_text()
    assert await page.input_value("#f-personal-name") == "王建国"
    assert await page.input_value("#f-personal-id_number") == wrong
    await shot(clerk, "clerk-person-refused")
    await page.fill("#f-personal-id_number", head_id)
    await page.click("form.act button[type=submit]")
    await page.wait_for_url("**/console/collective/people?done=*")
    assert "王建国" in await page.locator("main table").inner_text()
    await shot(clerk, "clerk-person-registered")

    # The household, the person its head.
    await page.goto("/console/collective/households/new")
    await page.select_option("#f-head", label=f"王建国（…{head_id[-4:]}）")
    await shot(clerk, "clerk-household-form")
    await page.click("form.act button[type=submit]")
    await page.wait_for_url("**/console/collective/households/*?done=*")
    assert "王建国" in await page.locator("main").inner_text()
    await shot(clerk, "clerk-household")

    # Another person, admitted as a member by the members' assembly's vote.
    newcomer = resident_id(date(1995, 9, 9), 24)
    await register_person(page, "刘小梅", newcomer, "13806310002")
    await page.wait_for_url("**/console/collective/people?done=*")
    await page.locator("tr", has_text="刘小梅").get_by_role("link", name="确认成员资格（表决与公示）").click()
    await page.wait_for_url("**/members/admit?party=*")
    await page.select_option("#f-basis", "marriage")
    await page.fill("#f-decision-eligible", "412")
    await page.fill("#f-decision-attendance", "318")
    await page.fill("#f-decision-votes_for", "301")
    await page.fill("#f-decision-notice_start", "2026-03-02")
    await page.fill("#f-decision-notice_end", "2026-03-10")
    await shot(clerk, "clerk-admit-form")
    await page.click("form.act button[type=submit]")
    await page.wait_for_url("**/console/collective/members?done=*")
    row = page.locator("tr", has_text="刘小梅")
    assert "还有 10 天可确认" in await row.inner_text()
    await shot(clerk, "clerk-members-countdown")

    # What the browser carried away: one member in notice, recorded once.
    engine = make_engine(asyncpg_url(ledger.url), service_role=False, pool_size=1)
    try:
        async with engine.connect() as conn:
            statuses = (
                (
                    await conn.execute(
                        text("SELECT status FROM memberships WHERE collective_id = :c"), {"c": village}
                    )
                )
                .scalars()
                .all()
            )
            households = (
                await conn.execute(
                    text("SELECT count(*) FROM households WHERE collective_id = :c"), {"c": village}
                )
            ).scalar()
    finally:
        await engine.dispose()
    assert statuses == ["in_notice"] and households == 1
    await page.context.close()
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / "clerk-page-weights.json").write_text(
            json.dumps({"weights": clerk.weights, "elsewhere": clerk.elsewhere}, indent=2)
        )
    assert not clerk.elsewhere, clerk.elsewhere
    assert not clerk.errors, clerk.errors
    heavy = [(path, size) for path, size in clerk.weights if size >= LIMIT_BYTES]
    assert not heavy, heavy
