"""The collective clerk's later acts in a real browser: headless Chromium signs in as a clerk,
files an objection to an admission (the scanned objection's hash recorded, its number and
remark kept beside the entry), resolves it, confirms the member once the notice is
over, issues the household's membership certificate and opens its printed page with the QR
code of its verification link. Every request is answered by the app in this process, each
page's weight is held under 100 KB, and nothing is fetched from elsewhere."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest_asyncio

from tests.browser.chromium import Browser, require_chromium
from tests.browser.console_tab import launched, leave, open_tab, shot, sign_in
from tests.integration.test_console_collective_members import World, one_admission, sql
from tests.support import LedgerFixture

require_chromium("the clerk's later acts test")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    return await one_admission(ledger, "ba")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launched() as b:
        yield b


async def test_a_clerk_files_and_resolves_an_objection_then_certifies_the_member(
    browser: Browser, ledger: LedgerFixture, world: World
) -> None:
    person = world.people[0]
    clerk = await open_tab(browser, ledger)
    page = clerk.page
    await sign_in(clerk, "ba-clerk")

    await page.goto("/console/collective/members")
    await page.get_by_role("link", name=person.name).click()
    await page.wait_for_url(f"**/members/{person.party}")
    # The scan's hash typed (an uploaded scan is hashed by the server: tested over HTTP in
    # tests/integration/test_console_collective_members.py; a file's bytes do not pass this
    # test's interception of the browser's requests).
    scan = hashlib.sha256(b"%PDF-1.4 a written objection").hexdigest()
    await page.fill("#f-objection-number", "YY-ba-1")
    await page.fill("#f-note", "村民书面反映：户籍迁入时间存疑")
    await page.fill("#f-objection-sha256", scan)
    await shot(clerk, "clerk-objection-form")
    await page.click(f"form[action='/console/collective/members/{person.party}/objection'] button")
    await page.wait_for_url("**?done=*")
    main = await page.locator("main").inner_text()
    assert "有异议，暂停" in main and "户籍迁入时间存疑" in main
    await shot(clerk, "clerk-objection-filed")

    await page.select_option("#f-upheld", "dismissed")
    await page.fill("#f-decision-sha256", hashlib.sha256(b"decision").hexdigest())
    await page.click(f"form[action='/console/collective/members/{person.party}/resolution'] button")
    await page.wait_for_url("**?done=*")
    assert "公示中" in await page.locator("main").inner_text()

    ledger.clock.advance(days=8)  # type: ignore[attr-defined]
    await sign_in(clerk, "ba-clerk")  # the session idled out meanwhile
    await page.goto(f"/console/collective/members/{person.party}")
    await page.click(f"form[action='/console/collective/members/{person.party}/confirm'] button")
    await page.wait_for_url("**?done=*")
    assert "成员" in await page.locator("main table").first.inner_text()

    await page.goto(f"/console/collective/households/{world.household}/certificate")
    await page.fill("#f-certificate", "CYZM-ba-1")
    await page.click(f"form[action='/console/collective/households/{world.household}/certificate'] button")
    await page.wait_for_url("**/certificates?done=*")
    await page.get_by_role("link", name="打印（含姓名）").click()
    await page.locator(".with-qr svg").wait_for()
    assert person.name in await page.locator("main").inner_text()
    await shot(clerk, "clerk-membership-certificate-printed")

    [(objection,)] = await sql(
        ledger,
        "SELECT count(*) FROM records WHERE kind = 'member.objection_filed' AND actor = :c",
        c=world.v.village,
    )
    [(certificates,)] = await sql(ledger, "SELECT count(*) FROM certificates WHERE id = 'CYZM-ba-1'")
    assert objection == 1 and certificates == 1
    await leave(clerk, "clerk-acts")
