"""The township officer's console pages through real HTTP against real PostgreSQL: the villages
under the township and their registers (members by party id, never by name), and issuing a
household's whole-household transfer filing certificate on its valid membership certificate:
a refusal beside its field with what was typed kept, a double submit recorded once, the printed
certificate linked; other roles, other townships and anonymous visitors refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from api.console.accounts import add_user
from api.console.custody import Custody, create_kek_file, kek_file
from api.service.database import asyncpg_url, make_engine
from tests.console_support import CSRF, ENTRY_ID, assert_light, signed_in
from tests.integration.test_console_accounts import PASSWORD, Browser
from tests.registry_support import Village, village
from tests.support import LedgerFixture


@dataclass
class Township:
    """A township with a village whose household of three confirmed members holds a homestead
    and a valid membership certificate; a second township with a village of its own."""

    v: Village
    other: Village
    household: str
    persons: list[str]
    names: list[str]
    homestead: str
    membership: str

    @property
    def household_path(self) -> str:
        return f"/console/township/villages/{self.v.village}/households/{self.household}"


async def hold_keys(fx: LedgerFixture, *orgs: str) -> None:
    """The console's KEK made in the ledger's home and the organisations' keys held under it."""
    path = kek_file(fx.home)
    custody = Custody(create_kek_file(path)) if not path.exists() else Custody.configured(fx.home)
    engine = make_engine(asyncpg_url(fx.url), service_role=False, pool_size=1)
    try:
        async with engine.begin() as conn:
            for org in orgs:
                await custody.store(conn, org, fx.keys[org], datetime.now(UTC))
    finally:
        await engine.dispose()


async def add_users(fx: LedgerFixture, users: list[tuple[str, str, str]]) -> None:
    engine = make_engine(asyncpg_url(fx.url), service_role=False, pool_size=1)
    try:
        async with engine.connect() as conn:
            for org, role, username in users:
                await add_user(conn, org, role, username, PASSWORD, fx.clock())
    finally:
        await engine.dispose()


async def build_township(fx: LedgerFixture, name: str = "tw") -> Township:
    v = await village(fx, f"{name}-zhen", f"{name}-cun")
    other = await village(fx, f"{name}-zhen2", f"{name}-cun2")
    household, people = await v.members(3)
    homestead = f"ZJD-{name}-0001"
    await v.append(
        "homestead.granted",
        {
            "homestead": homestead,
            "household": household,
            "plot_code": v.parcel(900),
            "area_m2": 160,
            "zone": "plain",
            "certificate_no": f"ZJ-{homestead}",
        },
    )
    membership = f"CYZM-{name}-2026-0001"
    await v.append(
        "certificate.membership_issued",
        {
            "certificate": membership,
            "household": household,
            "persons": [p.party for p in people],
            "rights": {"land_contracts": [], "homesteads": [homestead]},
        },
    )
    await other.members(1)
    await hold_keys(fx, v.township, other.township)
    await add_users(
        fx,
        [
            (v.township, "township_officer", f"{name}-officer"),
            (other.township, "township_officer", f"{name}-officer2"),
            (v.village, "collective_clerk", f"{name}-clerk"),
        ],
    )
    return Township(
        v, other, household, [p.party for p in people], [p.name for p in people], homestead, membership
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def town(ledger: LedgerFixture) -> Township:
    return await build_township(ledger)


def form_of(page: Any) -> dict[str, str]:
    return {"csrf": CSRF.findall(page.text)[0], "entry_id": ENTRY_ID.findall(page.text)[0]}


async def test_the_township_sees_its_villages_and_their_registers_without_names(
    ledger: LedgerFixture, town: Township
) -> None:
    b = await signed_in(ledger, "tw-officer")
    home = await b.get("/console/township/")
    assert home.status_code == 200, home.text
    assert town.v.village in home.text and town.other.village not in home.text
    registers = await b.get(f"/console/township/villages/{town.v.village}")
    assert registers.status_code == 200, registers.text
    assert town.household in registers.text and town.homestead in registers.text
    assert town.membership in registers.text and "户籍登记簿" in registers.text
    household = await b.get(town.household_path)
    assert household.status_code == 200, household.text
    assert all(p in household.text for p in town.persons)
    assert not any(n in household.text for n in town.names)  # names are the village's own
    assert f'<option value="{town.membership}"' in household.text
    english = await b.get(town.household_path + "?lang=en")
    assert "Whole-household transfer filing" in english.text


async def test_other_townships_other_roles_and_anonymous_visitors_are_refused(
    ledger: LedgerFixture, town: Township
) -> None:
    anonymous = Browser(ledger)
    r = await anonymous.get("/console/township/")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    other = await signed_in(ledger, "tw-officer2")
    for path in (f"/console/township/villages/{town.v.village}", town.household_path):
        refused = await other.get(path)
        assert refused.status_code == 403, path
        assert town.household not in refused.text or path == town.household_path
    page = await other.get(f"/console/township/villages/{town.other.village}")
    csrf = CSRF.findall(page.text)[0]
    posted = await other.post(
        town.household_path,
        {"csrf": csrf, "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "certificate": "ZYBA-x-1"},
    )
    assert posted.status_code == 403
    clerk = await signed_in(ledger, "tw-clerk")
    assert (await clerk.get("/console/township/")).status_code == 403


async def test_a_refusal_is_shown_beside_its_field_with_what_was_typed(
    ledger: LedgerFixture, town: Township
) -> None:
    b = await signed_in(ledger, "tw-officer")
    size = await ledger.size()
    for typed, code, phrase in (
        ("ZYBA 有空格", "payload.invalid", "填写的内容格式不对"),
        (town.membership, "certificate.exists", "这个证书编号已经用过"),
    ):
        page = await b.get(town.household_path)
        r = await b.post(
            town.household_path,
            {**form_of(page), "certificate": typed, "membership_certificate": town.membership},
        )
        assert r.status_code == 422, r.text
        field = r.text[r.text.index('id="f-certificate"') :]
        field = field[: field.index("</div>")]
        assert f'value="{typed}"' in field and code in field and phrase in field, field
        assert 'aria-invalid="true"' in field
    empty = await b.get(town.household_path)
    r = await b.post(town.household_path, {**form_of(empty), "certificate": "", "membership_certificate": ""})
    assert r.status_code == 422 and "此项必须填写" in r.text
    assert await ledger.size() == size


async def test_the_filing_is_recorded_once_and_its_printed_certificate_is_linked(
    ledger: LedgerFixture, town: Township
) -> None:
    b = await signed_in(ledger, "tw-officer")
    page = await b.get(town.household_path)
    size = await ledger.size()
    data = {**form_of(page), "certificate": "ZYBA-tw-2026-0001", "membership_certificate": town.membership}
    first = await b.post(town.household_path, data)
    assert first.status_code == 200, first.text
    ledger.clock.advance(seconds=2)  # type: ignore[attr-defined]
    second = await b.post(town.household_path, data)  # a double click: the same form again
    assert second.status_code == 200, second.text
    assert await ledger.size() == size + 1
    seq = re.findall(r"第 (\d+) 号记录", first.text)
    assert seq == re.findall(r"第 (\d+) 号记录", second.text) == [str(size)]
    assert 'href="/v1/certificates/ZYBA-tw-2026-0001/print"' in first.text
    record = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert (record["kind"], record["actor"]) == ("certificate.transfer_filed", town.v.township)
    assert (
        sorted(record["payload"]["persons"]) == sorted(town.persons)
        and record["payload"]["scope"] == "household"
    )
    assert record["payload"]["rights"] == {"land_contracts": [], "homesteads": [town.homestead]}
    printed = await ledger.client.http.get("/v1/certificates/ZYBA-tw-2026-0001/print")
    assert printed.status_code == 200 and "<svg" in printed.text
    after = await b.get(town.household_path)
    assert "本户已办理转移备案" in after.text and "进城落户，权益保留" in after.text


@pytest.mark.parametrize("path", ["/console/township/", "village", "household"])
async def test_the_township_pages_are_light_and_load_nothing_from_elsewhere(
    ledger: LedgerFixture, town: Township, path: str
) -> None:
    path = {
        "village": f"/console/township/villages/{town.v.village}",
        "household": town.household_path,
    }.get(path, path)
    b = await signed_in(ledger, "tw-officer")
    await assert_light(ledger, b, path)


async def test_an_unknown_household_is_refused_like_another_villages(
    ledger: LedgerFixture, town: Township
) -> None:
    """A household the village does not have answers 403 whether it exists elsewhere or nowhere,
    so an officer cannot probe ids; a household of a village of theirs under another village's
    path is refused too."""
    b = await signed_in(ledger, "tw-officer")
    base = f"/console/township/villages/{town.v.village}/households/"
    for household in ("5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "nothing-here"):
        for path in (base + household, base + household + "/individual"):
            r = await b.get(path) if not path.endswith("individual") else None
            if r is not None:
                assert r.status_code == 403 and "console.forbidden" in r.text, path
    token = await b.csrf()
    posted = await b.post(base + "nothing-here/individual", {"csrf": token, "certificate": "ZYBA-x-2"})
    assert posted.status_code == 403
    other_village = await b.get(
        f"/console/township/villages/{town.other.village}/households/{town.household}"
    )
    assert other_village.status_code == 403


async def test_an_individual_filing_names_one_member_and_is_recorded_once(
    ledger: LedgerFixture, town: Township
) -> None:
    v = town.v
    household, people = await v.members(2)
    membership = "CYZM-tw-2026-0002"
    await v.append(
        "certificate.membership_issued",
        {
            "certificate": membership,
            "household": household,
            "persons": [p.party for p in people],
            "rights": {"land_contracts": [], "homesteads": []},
        },
    )
    path = f"/console/township/villages/{v.village}/households/{household}"
    b = await signed_in(ledger, "tw-officer")
    page = await b.get(path)
    assert page.status_code == 200 and "办理个人转移备案" in page.text
    assert f'<option value="{people[0].party}"' in page.text
    assert not any(p.name in page.text for p in people)
    individual = page.text[page.text.index('id="individual"') :]
    fields = {"csrf": CSRF.findall(individual)[0], "entry_id": ENTRY_ID.findall(individual)[0]}
    size = await ledger.size()
    bad = await b.post(
        path + "/individual",
        {
            **fields,
            "individual.persons": people[0].party,
            "individual.certificate": "x" * 300,
            "individual.membership_certificate": membership,
        },
    )
    assert bad.status_code == 422 and 'id="f-individual-certificate-error"' in bad.text
    stranger = await b.post(
        path + "/individual",
        {
            **fields,
            "individual.persons": town.persons[0],
            "individual.certificate": "ZYBA-tw-i-1",
            "individual.membership_certificate": membership,
        },
    )
    assert stranger.status_code == 422 and 'id="f-individual-persons-error"' in stranger.text
    assert await ledger.size() == size
    good = {
        **fields,
        "individual.persons": people[0].party,
        "individual.certificate": "ZYBA-tw-i-1",
        "individual.membership_certificate": membership,
    }
    first = await b.post(path + "/individual", good)
    second = await b.post(path + "/individual", good)
    assert first.status_code == second.status_code == 200, first.text
    assert await ledger.size() == size + 1
    assert 'href="/v1/certificates/ZYBA-tw-i-1/print"' in first.text
    assert page.text.count('id="f-certificate"') == page.text.count('id="f-individual-certificate"') == 1
    record = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert record["kind"] == "certificate.transfer_filed" and record["payload"]["scope"] == "individual"
    assert record["payload"]["persons"] == [people[0].party] and record["user"]
    after = await b.get(path)
    assert f'<option value="{people[0].party}"' not in after.text  # settled: not offered again
    assert f'<option value="{people[1].party}"' in after.text
    token = CSRF.findall(after.text)[0]
    missing_csrf = await b.post(
        path + "/individual", {**good, "csrf": "wrong", "individual.certificate": "ZYBA-tw-i-2"}
    )
    assert missing_csrf.status_code == 403 and token


async def test_a_large_villages_registers_page_under_100_kb(ledger: LedgerFixture, town: Township) -> None:
    big = await village(ledger, "tw-zhen", "tw-big")
    for _ in range(53):
        await big.household(1)
    b = await signed_in(ledger, "tw-officer")
    path = f"/console/township/villages/{big.village}"
    first = await b.get(path)
    assert first.status_code == 200 and 'rel="next"' in first.text
    assert first.text.count(f"/console/township/villages/{big.village}/households/") == 50
    second = await b.get(path + "?households=2")
    assert second.text.count(f"/console/township/villages/{big.village}/households/") == 3
    assert 'rel="prev"' in second.text
    junk = await b.get(path + "?households=99999999999999999999")
    assert junk.status_code == 200
    await assert_light(ledger, b, path)
