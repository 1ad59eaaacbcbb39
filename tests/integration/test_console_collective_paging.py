"""The clerk's lists of a large village page through real HTTP against real PostgreSQL: more
than 50 households, people, members and homesteads show 50 rows a page with links to the
next and previous pages, a page number that is not one reads as the first page, and every
page (the forms offering the village's people too) stays under 100 KB with all it loads."""

from __future__ import annotations

import pytest_asyncio

from tests.console_support import assert_light, signed_in
from tests.integration.test_console_collective_members import World
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import village
from tests.support import LedgerFixture

C = "/console/collective"
SIZE = 53


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    v = await village(ledger, "op-zhen", "op-cun")
    people, households = [], []
    for _ in range(SIZE):
        household, [person] = await v.household(1)
        await v.admit(person.party, household)
        people.append(person)
        households.append(household)
    ledger.clock.advance(days=8)  # type: ignore[attr-defined]
    for n, (person, household) in enumerate(zip(people, households, strict=True)):
        await v.append("member.confirmed", {"party": person.party})
        await v.append(
            "homestead.granted",
            {
                "homestead": f"ZJD-op-{n:04d}",
                "household": household,
                "plot_code": v.parcel(1000 + n),
                "area_m2": 150,
                "zone": "plain",
                "certificate_no": f"ZJ-op-{n:04d}",
            },
        )
    last = households[-1]
    await hold_keys(ledger, v.village)
    await add_users(ledger, [(v.village, "collective_clerk", "op-clerk")])
    return World(v, v, people, last)


async def test_every_list_pages_by_fifty(ledger: LedgerFixture, world: World) -> None:
    b = await signed_in(ledger, "op-clerk")
    for path, marker, param in (
        ("/", f'href="{C}/households/', "page"),
        ("/people", f'href="{C}/members/admit?party=', "page"),
        ("/members", f'href="{C}/members/', "page"),
        ("/registers", "ZJ-op-", "homesteads"),
    ):
        first = await b.get(C + path)
        assert first.status_code == 200, path
        assert 50 <= first.text.count(marker) <= 52 and 'rel="next"' in first.text, (
            path,
            first.text.count(marker),
        )
        second = await b.get(f"{C}{path}?{param}=2")
        assert second.status_code == 200 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
        assert second.text.count(marker) < first.text.count(marker), path
        for junk in ("0", "-1", "x", "9" * 30, "1e3"):
            r = await b.get(f"{C}{path}?{param}={junk}")
            assert r.status_code == 200, (path, junk)


async def test_every_page_of_a_large_village_is_under_100_kb(ledger: LedgerFixture, world: World) -> None:
    own = await signed_in(ledger, "op-clerk")
    paths = ["/", "/people", "/members", "/registers", "/households/new", "/members/admit", "/certificates"]
    paths += [f"/households/{world.household}", f"/members/{world.people[0].party}", "/shares", "/dividends"]
    for path in paths:
        await assert_light(ledger, own, C + path)
