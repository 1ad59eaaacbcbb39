"""One admission's console page through real HTTP against real PostgreSQL: an objection filed
during the notice (its document by a typed SHA-256 or an uploaded scan, the number, date and
remark beside the entry as its note, off the log), resolved (dismissed: the notice goes on;
upheld: the admission is rejected), and the confirmation the rule allows only after the notice
and with no objection pending; hostile inputs refused beside their field with nothing recorded;
only the collective's own clerk sees the page or the name."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from sqlalchemy import text

from api.service.database import asyncpg_url, make_engine
from tests.console_support import assert_light, signed_in
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture

M = "/console/collective/members"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class World:
    v: Village
    other: Village
    people: list[Any]
    household: str


async def one_admission(fx: LedgerFixture, prefix: str) -> World:
    """A village (``{prefix}-cun`` of ``{prefix}-zhen``) with one household of one person
    admitted, the notice running, its key held and its clerk ``{prefix}-clerk``."""
    v = await village(fx, f"{prefix}-zhen", f"{prefix}-cun")
    household, people = await v.household(1)
    await v.admit(people[0].party, household)
    await hold_keys(fx, v.village)
    await add_users(fx, [(v.village, "collective_clerk", f"{prefix}-clerk")])
    return World(v, v, people, household)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    v = await village(ledger, "om-zhen", "om-cun")
    other = await village(ledger, "om-zhen", "om-cun2")
    await other.members(1)  # (moves the clock on eight days: first)
    household, people = await v.household(3)
    for p in people:
        await v.admit(p.party, household)
    await hold_keys(ledger, v.village, other.village)
    await add_users(
        ledger,
        [
            (v.village, "collective_clerk", "om-clerk"),
            (other.village, "collective_clerk", "om-clerk2"),
            (v.township, "township_officer", "om-officer"),
        ],
    )
    return World(v, other, people, household)


def form_at(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    return dict(HIDDEN.findall(html[start : html.index("</form>", start)]))


async def sql(fx: LedgerFixture, query: str, **params: Any) -> Any:
    engine = make_engine(asyncpg_url(fx.url), service_role=False, pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(query), params)).all()
    finally:
        await engine.dispose()


async def status_of(fx: LedgerFixture, party: str) -> str:
    [(status,)] = await sql(fx, "SELECT status FROM memberships WHERE party_id = :p", p=party)
    return str(status)


async def test_an_objection_by_an_uploaded_scan_suspends_and_a_dismissal_resumes_the_notice(
    ledger: LedgerFixture, world: World
) -> None:
    person = world.people[0]
    b = await signed_in(ledger, "om-clerk")
    path = f"{M}/{person.party}"
    page = await b.get(path)
    assert page.status_code == 200, page.text
    assert person.name in page.text and "登记异议" in page.text and "还有 8 天可确认" in page.text
    fields = form_at(page.text, f"{path}/objection")
    size = await ledger.size()
    typed = {
        **fields,
        "objection.number": "YY-2026-01",
        "objection.date": "2026-03-01",
        "note": "邻居口头反映户籍迁入时间",
    }
    # Hostile and wrong inputs: refused beside their field, what was typed kept, nothing recorded.
    for extra, field, phrase in (
        ({}, "objection-sha256", "请填写文件的 SHA-256"),
        ({"objection.sha256": "zz" * 32}, "objection-sha256", "SHA-256"),
        ({"objection.sha256": hexdigest("x"), "note": "a\x00b"}, "note", "控制字符"),
        ({"objection.sha256": hexdigest("x"), "note": "长" * 1600}, "note", "此项太长"),
        ({"objection.sha256": hexdigest("x"), "objection.date": "2026-02-30"}, "objection-date", "日期"),
        ({"objection.sha256": hexdigest("x"), "objection.date": "9" * 40}, "objection-date", "日期"),
    ):
        r = await b.post(f"{path}/objection", {**typed, **extra})
        assert r.status_code == 422, (extra, r.text[-500:])
        at = r.text.index(f'id="f-{field}-error"')
        assert phrase in r.text[at : at + 400], (extra, field)
        assert 'value="YY-2026-01"' in r.text
    assert await ledger.size() == size
    no_csrf = await b.post(f"{path}/objection", {**typed, "csrf": "x", "objection.sha256": hexdigest("x")})
    assert no_csrf.status_code == 403 and await ledger.size() == size
    scan = b"%PDF-1.4 objection scan"
    digest = hashlib.sha256(scan).hexdigest()
    wrong = await b.post(
        f"{path}/objection",
        {**typed, "objection.sha256": hexdigest("other")},
        files={"objection.file": ("scan.pdf", scan, "application/pdf")},
    )
    assert wrong.status_code == 422 and "不一致" in wrong.text
    first = await b.post(
        f"{path}/objection", typed, files={"objection.file": ("scan.pdf", scan, "application/pdf")}
    )
    second = await b.post(
        f"{path}/objection", typed, files={"objection.file": ("scan.pdf", scan, "application/pdf")}
    )
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert await ledger.size() == size + 1
    record = await ledger.client.get(f"/v1/entries/{size}")
    entry = record["entry"]
    assert (entry["kind"], entry["actor"]) == ("member.objection_filed", world.v.village)
    assert entry["payload"] == {"party": person.party, "objection": digest}
    [(user_id,)] = await sql(ledger, "SELECT id FROM console_users WHERE username = 'om-clerk'")
    assert entry["user"] == str(user_id)
    assert "邻居" not in str(record) and "YY-2026-01" not in str(record)  # the free text is off the log
    [(note,)] = await sql(ledger, "SELECT text FROM entry_notes WHERE entry_id = :e", e=entry["id"])
    assert "YY-2026-01" in note and "2026-03-01" in note and "邻居口头反映" in note
    assert await status_of(ledger, person.party) == "suspended"
    suspended = await b.get(first.headers["location"])
    assert (
        "处理异议" in suspended.text
        and "邻居口头反映" in suspended.text
        and "登记异议</h2>" not in suspended.text
    )
    resolution = form_at(suspended.text, f"{path}/resolution")
    done = await b.post(
        f"{path}/resolution",
        {**resolution, "upheld": "dismissed", "decision.sha256": hexdigest("decision 1")},
    )
    assert done.status_code == 303, done.text
    assert await status_of(ledger, person.party) == "in_notice"


async def test_an_upheld_objection_rejects_and_a_confirmation_waits_for_the_notice(
    ledger: LedgerFixture, world: World
) -> None:
    rejected, waiting = world.people[1], world.people[2]
    b = await signed_in(ledger, "om-clerk")
    page = await b.get(f"{M}/{rejected.party}")
    fields = form_at(page.text, f"{M}/{rejected.party}/objection")
    r = await b.post(f"{M}/{rejected.party}/objection", {**fields, "objection.sha256": hexdigest("obj 2")})
    assert r.status_code == 303, r.text
    page = await b.get(f"{M}/{rejected.party}")
    fields = form_at(page.text, f"{M}/{rejected.party}/resolution")
    r = await b.post(
        f"{M}/{rejected.party}/resolution", {**fields, "upheld": "upheld", "decision.sha256": hexdigest("d2")}
    )
    assert r.status_code == 303 and await status_of(ledger, rejected.party) == "rejected"
    # Before the notice is over: the confirmation posted anyway is the rule's refusal, shown.
    token = await b.csrf()
    size = await ledger.size()
    early = await b.post(
        f"{M}/{waiting.party}/confirm", {"csrf": token, "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a51"}
    )
    assert early.status_code == 422 and "公示期还没有结束" in early.text and await ledger.size() == size
    ledger.clock.advance(days=8)  # type: ignore[attr-defined]
    b = await signed_in(ledger, "om-clerk")
    page = await b.get(f"{M}/{waiting.party}")
    assert "公示期已满" in page.text and "登记异议</h2>" not in page.text
    fields = form_at(page.text, f"{M}/{waiting.party}/confirm")
    ok = await b.post(f"{M}/{waiting.party}/confirm", fields)
    again = await b.post(f"{M}/{waiting.party}/confirm", fields)
    assert ok.status_code == again.status_code == 303, ok.text
    assert await status_of(ledger, waiting.party) == "active"
    # The one whose objection was dismissed is confirmed too, now the notice is over.
    first = world.people[0]
    page = await b.get(f"{M}/{first.party}")
    ok = await b.post(f"{M}/{first.party}/confirm", form_at(page.text, f"{M}/{first.party}/confirm"))
    assert ok.status_code == 303 and await status_of(ledger, first.party) == "active"


async def test_the_page_is_the_collectives_own(ledger: LedgerFixture, world: World) -> None:
    person = world.people[0]
    anonymous = Browser(ledger)
    r = await anonymous.get(f"{M}/{person.party}")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    for username in ("om-clerk2", "om-officer"):
        b = await signed_in(ledger, username)
        r = await b.get(f"{M}/{person.party}")
        assert r.status_code == 403 and person.name not in r.text and person.id_number not in r.text
    b = await signed_in(ledger, "om-clerk2")
    token = await b.csrf()
    size = await ledger.size()
    r = await b.post(f"{M}/{person.party}/objection", {"csrf": token, "objection.sha256": hexdigest("z")})
    assert r.status_code == 403 and await ledger.size() == size
    own = await signed_in(ledger, "om-clerk")
    for party in ("5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", world.other.village):
        assert (await own.get(f"{M}/{party}")).status_code == 403
    await assert_light(ledger, own, f"{M}/{person.party}")
