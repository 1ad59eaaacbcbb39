"""The collective clerk's console pages through real HTTP against real PostgreSQL: registering
a person, a household and an admission by their forms (a refusal shown beside its field with
what was typed kept, a double submit recording once), the notice's countdown and the
confirmation after it, finding a person by name or ID number, the registers; another
collective's clerk, another role and anonymous visitors are refused, and no name reaches them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.console.accounts import add_user
from api.console.custody import Custody, create_kek_file, kek_file
from api.console.forms import HeldKeys
from api.home import Home
from api.service.database import asyncpg_url, make_engine
from contracts.identifiers import resident_id_check_char
from tests.conftest import FakeClock
from tests.console_support import assert_light, signed_in
from tests.integration.test_console_accounts import PASSWORD, Browser
from tests.support import LedgerFixture

C = "/console/collective"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def resident_id(born: date, serial: int, area: str = "371081") -> str:
    first17 = f"{area}{born:%Y%m%d}{serial:03d}"
    return first17 + resident_id_check_char(first17)


def hidden(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


@pytest.fixture(scope="module")
async def engine(ledger: LedgerFixture) -> AsyncIterator[AsyncEngine]:
    await ledger.origin_ready()
    e = make_engine(asyncpg_url(ledger.url), service_role=False, pool_size=1)
    yield e
    await e.dispose()


@pytest.fixture(scope="module")
async def villages(ledger: LedgerFixture, engine: AsyncEngine) -> dict[str, str]:
    """Two villages of one township, their keys held by the console; a clerk of each and a
    township officer."""
    await ledger.register("county", "cl-zhen", "township")
    create_kek_file(kek_file(ledger.home))
    custody = Custody.configured(ledger.home)
    for village in ("cl-dong", "cl-xi"):
        key = await ledger.register("cl-zhen", village, "village_collective")
        async with engine.begin() as conn:
            await custody.store(conn, village, key, ledger.clock())
    async with engine.connect() as conn:
        await add_user(conn, "cl-dong", "collective_clerk", "clerk-a", PASSWORD, ledger.clock())
        await add_user(conn, "cl-xi", "collective_clerk", "clerk-b", PASSWORD, ledger.clock())
        await add_user(conn, "cl-zhen", "township_officer", "officer-z", PASSWORD, ledger.clock())
    return {"clerk-a": "cl-dong", "clerk-b": "cl-xi"}


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def register_person(b: Browser, name: str, id_number: str, phone: str = "13800000000") -> Any:
    form = await b.get(f"{C}/people/new")
    assert form.status_code == 200, form.text
    data = {
        **hidden(form.text),
        "personal.name": name,
        "personal.id_number": id_number,
        "personal.phone": phone,
    }
    return await b.post(f"{C}/people/new", data)


async def party_of(engine: AsyncEngine, name: str) -> str:
    return str(await scalar(engine, "SELECT party_id FROM personal_data WHERE name = :n", n=name))


async def test_anonymous_visitors_are_sent_to_sign_in_and_other_roles_refused(
    ledger: LedgerFixture, villages: dict[str, str]
) -> None:
    anonymous = Browser(ledger)
    for path in (
        "/",
        "/people",
        "/people/new",
        "/households/new",
        "/members",
        "/members/admit",
        "/registers",
    ):
        r = await anonymous.get(C + path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path
    officer = await signed_in(ledger, "officer-z")
    r = await officer.get(f"{C}/people")
    assert r.status_code == 403 and "console.forbidden" in r.text
    token = await officer.csrf()
    r = await officer.post(f"{C}/people/new", {"csrf": token, "personal.name": "张三"})
    assert r.status_code == 403


async def test_a_person_refused_sees_the_reason_beside_the_field_and_what_was_typed(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    wrong = resident_id(date(1970, 5, 1), 11)[:-1] + "0"
    if wrong == resident_id(date(1970, 5, 1), 11):
        wrong = wrong[:-1] + "1"
    r = await register_person(b, "王错号", wrong, "13900001111")
    assert r.status_code == 422
    assert 'id="f-personal-id_number-error"' in r.text and "身份证号不对" in r.text
    assert 'value="王错号"' in r.text and f'value="{wrong}"' in r.text and 'value="13900001111"' in r.text
    empty = await register_person(b, "", resident_id(date(1970, 5, 1), 11))
    assert (
        empty.status_code == 422
        and 'id="f-personal-name-error"' in empty.text
        and "此项必须填写" in empty.text
    )
    assert await scalar(engine, "SELECT count(*) FROM personal_data WHERE name = '王错号'") == 0


async def test_a_person_submitted_twice_is_registered_once_and_found_by_name_and_id_number(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    number = resident_id(date(1968, 2, 3), 21)
    form = await b.get(f"{C}/people/new")
    data = {
        **hidden(form.text),
        "personal.name": "李大山",
        "personal.id_number": number,
        "personal.phone": "13800138000",
    }
    first = await b.post(f"{C}/people/new", data)
    second = await b.post(f"{C}/people/new", data)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert await scalar(engine, "SELECT count(*) FROM personal_data WHERE name = '李大山'") == 1
    listed = await b.get(first.headers["location"])
    assert "李大山" in listed.text and "已记入账本" in listed.text
    by_name = await b.get(f"{C}/people?q=大山")
    by_id = await b.get(f"{C}/people?q={number.lower()}")
    assert "李大山" in by_name.text and "李大山" in by_id.text and "盲索引" in by_id.text
    # The same ID number again, on a new form: refused beside the ID number.
    again = await register_person(b, "李大山", number)
    assert again.status_code == 422 and 'id="f-personal-id_number-error"' in again.text
    # Another collective's clerk finds nobody, by name or by number.
    other = await signed_in(ledger, "clerk-b")
    for q in ("大山", number):
        r = await other.get(f"{C}/people?q={q}")
        assert r.status_code == 200 and "李大山" not in r.text


async def test_a_household_registered_by_its_form_shows_its_members_only_to_its_collective(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    for name, serial, born in (("赵户主", 31, date(1960, 1, 1)), ("钱配偶", 42, date(1962, 2, 2))):
        assert (await register_person(b, name, resident_id(born, serial))).status_code == 303
    head, spouse = await party_of(engine, "赵户主"), await party_of(engine, "钱配偶")
    form = await b.get(f"{C}/households/new")
    assert form.status_code == 200 and "赵户主" in form.text
    fields = hidden(form.text)
    # A member with no relation: refused beside the relation, what was chosen kept.
    bad = await b.post(f"{C}/households/new", {**fields, "head": head, "member1": spouse})
    assert bad.status_code == 422 and 'id="f-relation1-error"' in bad.text
    assert re.search(rf'<option value="{spouse}" selected>', bad.text)
    # The head listed again as a member: the ledger's refusal, beside that row.
    twice = await b.post(
        f"{C}/households/new", {**fields, "head": head, "member1": head, "relation1": "child"}
    )
    assert twice.status_code == 422 and "列了两次" in twice.text
    good = {**fields, "head": head, "member1": spouse, "relation1": "spouse"}
    r1 = await b.post(f"{C}/households/new", good)
    r2 = await b.post(f"{C}/households/new", good)
    assert r1.status_code == r2.status_code == 303, r1.text
    assert r1.headers["location"] == r2.headers["location"]
    household = fields["household"]
    assert await scalar(engine, "SELECT count(*) FROM households WHERE id = :h", h=household) == 1
    page = await b.get(r1.headers["location"])
    assert "赵户主" in page.text and "钱配偶" in page.text and "配偶" in page.text
    listing = await b.get(f"{C}/")
    assert "赵户主" in listing.text
    other = await signed_in(ledger, "clerk-b")
    refused = await other.get(f"{C}/households/{household}")
    assert refused.status_code == 403 and "赵户主" not in refused.text
    theirs = await other.get(f"{C}/")
    assert "赵户主" not in theirs.text and household not in theirs.text
    officer = await signed_in(ledger, "officer-z")
    assert (await officer.get(f"{C}/households/{household}")).status_code == 403


async def test_an_admission_counts_down_its_notice_and_is_confirmed_after_it(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    assert (await register_person(b, "孙新人", resident_id(date(1990, 6, 6), 51))).status_code == 303
    party = await party_of(engine, "孙新人")
    form = await b.get(f"{C}/members/admit?party={party}")
    assert form.status_code == 200 and re.search(rf'<option value="{party}" selected>', form.text)
    vote = {
        **hidden(form.text),
        "party": party,
        "basis": "hukou",
        "decision.meeting": "members_assembly",
        "decision.eligible": "400",
        "decision.attendance": "300",
        "decision.votes_for": "301",
        "decision.notice_start": "2026-03-02",
        "decision.notice_end": "2026-03-10",
    }
    bad = await b.post(f"{C}/members/admit", vote)
    assert bad.status_code == 422 and 'id="f-decision-votes_for-error"' in bad.text and "票数不对" in bad.text
    assert 'value="301"' in bad.text and 'value="2026-03-10"' in bad.text
    short = await b.post(
        f"{C}/members/admit", {**vote, "decision.votes_for": "250", "decision.notice_end": "2026-03-04"}
    )
    assert short.status_code == 422 and 'id="f-decision-notice_end-error"' in short.text
    good = {**vote, "decision.votes_for": "250"}
    r1 = await b.post(f"{C}/members/admit", good)
    r2 = await b.post(f"{C}/members/admit", good)
    assert r1.status_code == r2.status_code == 303, r1.text
    assert await scalar(engine, "SELECT count(*) FROM memberships WHERE party_id = :p", p=party) == 1
    members = await b.get(f"{C}/members")
    # The ledger's day is 2026-03-01 (08:00 UTC is 16:00 in China): ten days to wait.
    assert "孙新人" in members.text and "还有 10 天可确认" in members.text
    early = await b.post(f"{C}/members/confirm", hidden_of_row(members.text, party))
    assert early.status_code == 422 and "公示期还没有结束" in early.text
    clock = ledger.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=10)
    b = await signed_in(ledger, "clerk-a")  # the session idled out meanwhile
    members = await b.get(f"{C}/members")
    assert "公示期已满" in members.text
    done = await b.post(f"{C}/members/confirm", hidden_of_row(members.text, party))
    assert done.status_code == 303, done.text
    status = await scalar(engine, "SELECT status FROM memberships WHERE party_id = :p", p=party)
    assert status == "active"
    other = await signed_in(ledger, "clerk-b")
    assert "孙新人" not in (await other.get(f"{C}/members")).text


def hidden_of_row(html: str, party: str) -> dict[str, str]:
    """The confirm form of one person's row."""
    at = html.index(f'name="party" value="{party}"')
    start = html.rindex("<form", 0, at)
    fields = hidden(html[start : html.index("</form>", at)])
    assert fields["party"] == party
    return fields


async def test_the_registers_read_only(ledger: LedgerFixture, villages: dict[str, str]) -> None:
    b = await signed_in(ledger, "clerk-a")
    r = await b.get(f"{C}/registers")
    assert (
        r.status_code == 200
        and "土地承包" in r.text
        and "宅基地" in r.text
        and '<form method="post" action="/console/collective' not in r.text
    )


async def test_without_a_key_encryption_key_the_forms_say_so(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str], tmp_path: Path
) -> None:
    app = ledger.client.http.app  # type: ignore[attr-defined]
    held = app.state.console_keys
    app.state.console_keys = HeldKeys(Home(tmp_path))
    try:
        b = await signed_in(ledger, "clerk-a")
        form = await b.get(f"{C}/people/new")
        assert form.status_code == 200 and "尚未配置密钥加密密钥" in form.text
        r = await register_person(b, "周无钥", resident_id(date(1975, 7, 7), 61))
        assert r.status_code == 422 and "尚未配置密钥加密密钥" in r.text and 'value="周无钥"' in r.text
    finally:
        app.state.console_keys = held
    assert await scalar(engine, "SELECT count(*) FROM personal_data WHERE name = '周无钥'") == 0


async def test_every_clerk_page_is_light_and_loads_nothing_from_elsewhere(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    household = await scalar(engine, "SELECT id FROM households WHERE collective_id = 'cl-dong' LIMIT 1")
    paths = ["/", "/people", "/people/new", "/households/new", "/members", "/members/admit", "/registers"]
    if household:
        paths.append(f"/households/{household}")
    for path in paths:
        await assert_light(ledger, b, C + path)


async def test_the_clerk_pages_in_english_and_a_form_without_its_csrf_token_does_nothing(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    english = await b.get(f"{C}/people/new?lang=en")
    assert (
        english.status_code == 200
        and "Register a person" in english.text
        and "Resident ID number" in english.text
    )
    refused = await b.get(f"{C}/members")  # the language cookie keeps English
    assert "Membership" in refused.text
    form = await b.get(f"{C}/people/new?lang=zh")
    data = {
        **hidden(form.text),
        "personal.name": "吴无令",
        "personal.id_number": resident_id(date(1980, 8, 8), 71),
    }
    data["personal.phone"] = "13800000001"
    data["csrf"] = "not-the-token"
    r = await b.post(f"{C}/people/new", data)
    assert r.status_code == 403 and "console.csrf_failed" in r.text
    assert await scalar(engine, "SELECT count(*) FROM personal_data WHERE name = '吴无令'") == 0


async def test_an_unknown_household_is_refused_like_another_collectives(
    ledger: LedgerFixture, villages: dict[str, str]
) -> None:
    b = await signed_in(ledger, "clerk-a")
    for household in ("5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "nothing-here"):
        r = await b.get(f"{C}/households/{household}")
        assert r.status_code == 403 and "console.forbidden" in r.text, household


async def test_a_clerk_cannot_take_another_collectives_person_into_a_household_or_an_admission(
    ledger: LedgerFixture, engine: AsyncEngine, villages: dict[str, str]
) -> None:
    """Party ids are public (every record names them): a clerk posting another collective's
    person as a household's head or member, or for an admission, is refused beside the field,
    nothing is recorded, and that person's name never reaches the clerk's pages."""
    a = await signed_in(ledger, "clerk-a")
    assert (await register_person(a, "欧阳外村", resident_id(date(1977, 7, 7), 71))).status_code == 303
    stranger = await party_of(engine, "欧阳外村")
    b = await signed_in(ledger, "clerk-b")
    assert (await register_person(b, "钱本村", resident_id(date(1979, 9, 9), 72))).status_code == 303
    own = await party_of(engine, "钱本村")
    size = await ledger.size()
    form = await b.get(f"{C}/households/new")
    for fields in ({"head": stranger}, {"head": own, "member1": stranger, "relation1": "spouse"}):
        r = await b.post(f"{C}/households/new", {**hidden(form.text), **fields})
        assert r.status_code == 422 and "form.not_offered" in r.text, r.text
        assert "欧阳外村" not in r.text
    admit = await b.get(f"{C}/members/admit")
    vote = {
        **hidden(admit.text),
        "party": stranger,
        "basis": "hukou",
        "decision.meeting": "members_assembly",
        "decision.eligible": "400",
        "decision.attendance": "300",
        "decision.votes_for": "250",
        "decision.notice_start": "2026-03-02",
        "decision.notice_end": "2026-03-10",
    }
    r = await b.post(f"{C}/members/admit", vote)
    assert r.status_code == 422 and "form.not_offered" in r.text and "欧阳外村" not in r.text
    assert await ledger.size() == size
    for page in (f"{C}/people", f"{C}/members", f"{C}/members/{stranger}", f"{C}/households"):
        assert "欧阳外村" not in (await b.get(page)).text, page
