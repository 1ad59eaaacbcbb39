"""The clerk's later pages in English by the switch, and every new phrase said in both
catalogues (the same keys, none said twice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_asyncio

from api.console.render import catalogue
from tests.console_support import signed_in
from tests.integration.test_console_collective_members import World, one_admission
from tests.support import LedgerFixture

C = "/console/collective"
I18N = Path(__file__).parents[2] / "api" / "console" / "i18n"


def test_the_desks_catalogues_say_the_same_keys() -> None:
    for desk in ("collective", "township"):
        zh = json.loads((I18N / "zh" / f"{desk}.json").read_text(encoding="utf-8"))
        en = json.loads((I18N / "en" / f"{desk}.json").read_text(encoding="utf-8"))
        assert set(zh) == set(en), desk
    assert catalogue("zh")["collective.nav.dividends"] == "分红"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    return await one_admission(ledger, "oe")


async def test_the_later_pages_in_english(ledger: LedgerFixture, world: World) -> None:
    b = await signed_in(ledger, "oe-clerk")
    for path, phrase in (
        (f"/members/{world.people[0].party}?lang=en", "File an objection"),
        ("/certificates", "Certificates"),
        (f"/households/{world.household}/certificate", "Membership certificate"),
        ("/assets", "Record an asset verification"),
        ("/shares", "has not quantified"),
        ("/dividends", "Dividends"),
    ):
        r = await b.get(C + path)
        assert r.status_code == 200 and phrase in r.text, (path, r.text[-800:])
