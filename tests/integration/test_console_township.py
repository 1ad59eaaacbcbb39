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
from tests.integration.test_console_accounts import PASSWORD, Browser
from tests.page_weight import LIMIT_BYTES, page_weight
from tests.registry_support import Village, village
from tests.support import LedgerFixture

ENTRY_ID = re.compile(r'name="entry_id" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


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


async def signed_in(fx: LedgerFixture, username: str) -> Browser:
    b = Browser(fx)
    assert (await b.sign_in(username)).status_code == 303
    return b


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
    http = ledger.client.http
    http.cookies.clear()
    http.cookies.set("rl_session", b.jar["rl_session"])
    weight = await page_weight(http, path)
    http.cookies.clear()
    assert weight.status == 200, path
    assert weight.total < LIMIT_BYTES and weight.external == [], (path, weight)
