"""The exchange centre staff's console pages through real HTTP against real PostgreSQL: the
listing wizard offering only the rights the ledger says the holder holds (a forged right
refused by the rule, beside its field), the priority holders shown, the summary then the
signature naming the user, recorded once; a listing's page with bidder registration and
deposits, extend, withdraw, hold and lift; refusals kept as typed, hostile inputs, another
centre's listing, other roles and anonymous visitors refused, and pages under 100 KB."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from sqlalchemy import text

from api.service.database import asyncpg_url, make_engine
from tests.console_support import CSRF, ENTRY_ID, assert_light, signed_in
from tests.exchange_http import Market
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

NEW = "/console/exchange/listings/new"
INPUT = re.compile(
    r'<input type="(?:hidden|text|number|date|datetime-local)"(?: id="[^"]*")? name="([^"]+)" value="([^"]*)"'
)


class Desk:
    """The market, the centre's second listing's id (by another centre), the staff's user id."""

    def __init__(self, m: Market, other: str, foreign: str, staff_id: str, homesteader: str) -> None:
        self.m, self.other, self.foreign, self.staff_id = m, other, foreign, staff_id
        self.homesteader = homesteader  # a household living in the village, holding a homestead
        self.seller_members: list[str] = []


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk(ledger: LedgerFixture) -> Any:
    m = await Market.open(ledger, "cx", parcels=6, buyers=3)
    other = "x-cx-other"
    await ledger.register("county", other, "exchange_center")
    await hold_keys(ledger, m.exchange, other)
    await add_users(
        ledger,
        [
            (m.exchange, "exchange_staff", "cx-staff"),
            (other, "exchange_staff", "cx-staff2"),
            (m.v.village, "collective_clerk", "cx-clerk"),
        ],
    )
    foreign = "GP-OTHER-1"
    payload = m.listing_payload(foreign, right=m.land_right(m.take_parcels(1)), price_unit="total")
    payload["reserve_fen"], payload["deposit_fen"] = 1_000_000, 200_000
    await ledger.client.append(ledger.keys[other], "exchange.listed", payload)
    engine = make_engine(asyncpg_url(ledger.url), service_role=False, pool_size=1)
    async with engine.connect() as conn:
        staff_id = (
            await conn.execute(text("SELECT id FROM console_users WHERE username = 'cx-staff'"))
        ).scalar()
        homesteader = (
            await conn.execute(
                text("SELECT household_id FROM homesteads WHERE id = :h"), {"h": m.homesteader_homestead}
            )
        ).scalar()
        sellers = await conn.execute(
            text("SELECT party_id FROM household_members WHERE household_id = :h"), {"h": m.seller}
        )
        seller_members = [str(p) for p in sellers.scalars()]
    await engine.dispose()
    quota = "Q-cx-1"  # a collective site's land quota, confirmed: listable from rule version 4
    site = {"type": "collective_site", "parcel_code": m.v.parcel(5001), "area_m2": 1_000}
    consents = {"holder_consent": hexdigest("hc"), "collective_consent": hexdigest("cc")}
    await m.v.append("quota.applied", {"quota": quota, "site": site, **consents})
    county = ledger.keys["county"]
    for kind, body in (
        ("quota.project_approved", {"project_document": hexdigest("project")}),
        ("quota.accepted", {"measured_m2": 900, "acceptance_document": hexdigest("acceptance")}),
        ("quota.confirmed", {"quota_m2": 900}),
    ):
        await ledger.client.append(county, kind, {"quota": quota, **body})
    d = Desk(m, other, foreign, str(staff_id), str(homesteader))
    d.seller_members = seller_members
    yield d
    await m.close()


def inputs(html: str) -> dict[str, str]:
    """The values of the page's last form (hidden and typed inputs; selected options too)."""
    form = html[html.rindex('<form method="post"') :]
    values = dict(INPUT.findall(form))
    for name, body in re.findall(r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        values[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'<input type="checkbox" id="[^"]*" name="([^"]+)" value="1" checked>', form):
        values[name] = "1"
    values["csrf"] = CSRF.findall(form)[0]
    return values


def beside(html: str, field: str, act: str = "") -> str:
    """The HTML of the field ``field`` (its input and the refusal beside it), of the act form
    ``act`` on a listing's page."""
    start = html.index(f'id="{act + "-" if act else ""}f-{re.sub(r"[^A-Za-z0-9_-]", "-", field)}"')
    return html[start : html.index("</div>", start)]


def wizard(holder: str, right: str | None = None) -> str:
    return f"{NEW}?holder={quote(holder)}" + (f"&right={quote(right)}" if right else "")


def terms(values: dict[str, str], **over: str) -> dict[str, str]:
    """The terms form filled in: a total price of 50,000 yuan, deposit 20%."""
    return {
        **values,
        "consent": hexdigest("consent cx"),
        "price_unit": "total",
        "reserve_fen": "50000",
        "increment_fen": "500",
        "deposit_fen": "10000",
        **over,
    }


async def test_the_wizard_offers_only_rights_the_holder_holds(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    seller = await b.get(wizard(m.seller))
    assert seller.status_code == 200, seller.text
    assert f"land:{m.contract}" in seller.text and m.parcels[1] in seller.text
    assert "homestead:" not in seller.text and "shares:" not in seller.text
    blocked = await b.get(wizard(desk.homesteader))
    assert f"homestead:{m.homesteader_homestead}" in blocked.text and "尚未全部进城落户" in blocked.text
    assert quote(f"homestead:{m.homesteader_homestead}") not in blocked.text  # not offered: no link
    settled = await b.get(wizard(m.settled))
    assert f"right={quote('homestead:' + m.homestead)}" in settled.text
    person = await b.get(wizard(m.holders[0]))
    assert f"shares:{m.v.village}:{m.holders[0]}" in person.text
    collective = await b.get(wizard(m.v.village))
    assert f"asset:{m.v.village}:factory_rental" in collective.text
    assert f"right={quote('quota:Q-cx-1')}" in collective.text  # a confirmed land quota (rule version 4)
    unknown = await b.get(wizard("no-such-holder"))
    assert unknown.status_code == 200 and 'id="holder-error"' in unknown.text
    far = await b.get(wizard(m.outsider))  # a person who is no member holds nothing here
    assert 'id="holder-error"' in far.text


async def test_the_priority_holders_the_ledger_knows_are_shown(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    page = await b.get(wizard(m.seller, f"land:{m.contract}"))
    assert page.status_code == 200, page.text
    priority = page.text[page.text.index('id="step-priority"') : page.text.index('id="step-terms"')]
    assert m.v.village in priority and all(p in priority for p in m.buyers)
    assert desk.seller_members and not any(p in priority for p in desk.seller_members)  # the holder's own
    assert 'id="tenant"' in priority
    assert 'name="right.parcels"' in page.text and 'id="f-reserve_fen"' in page.text
    shares = await b.get(wizard(m.holders[0], f"shares:{m.v.village}:{m.holders[0]}"))
    assert "此类权利没有优先权人" in shares.text


async def test_a_forged_right_is_refused_beside_its_field_and_nothing_is_recorded(
    ledger: LedgerFixture, desk: Desk
) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    size = await ledger.size()
    page = await b.get(wizard(m.seller, f"land:{m.contract}"))
    values = terms(inputs(page.text), stage="sign")
    stranger = m.v.parcel(777)  # no parcel of the contract
    r = await b.post(NEW, {**values, "right.parcels": stranger})
    assert r.status_code == 422, r.text
    assert "exchange.right_not_held" in beside(r.text, "right")
    assert f'value="{stranger}"' in beside(r.text, "right.parcels")  # kept as typed
    assert 'value="50000"' in beside(r.text, "reserve_fen")
    home = await b.get(wizard(desk.homesteader))
    assert home.status_code == 200
    forged = {
        **values,
        "holder": desk.homesteader,
        "right": f"homestead:{m.homesteader_homestead}",
    }
    r = await b.post(NEW, forged)  # shown, not offered; the rule refuses it
    assert r.status_code == 422 and "exchange.holder_not_settled" in beside(r.text, "right"), r.text
    r = await b.post(NEW, {**values, "right": f"homestead:{m.homestead}"})  # another household's
    assert r.status_code == 422 and "exchange.not_holders_right" in beside(r.text, "right")
    assert await ledger.size() == size


async def test_a_listing_is_reviewed_then_signed_once_naming_the_user(
    ledger: LedgerFixture, desk: Desk
) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    page = await b.get(wizard(m.seller, f"land:{m.contract}"))
    values = terms(inputs(page.text), **{"right.parcels": m.free_parcels[0]})
    size = await ledger.size()
    review = await b.post(NEW, values)
    assert review.status_code == 200, review.text
    assert 'id="summary"' in review.text and "50,000.00" in review.text
    assert await ledger.size() == size  # nothing signed yet
    signing = inputs(review.text[: review.text.index('id="sign"')])
    assert signing["stage"] == "sign"
    edit = await b.post(NEW, {**signing, "stage": "edit"})  # back to the terms, as typed
    assert edit.status_code == 200 and 'value="50000"' in beside(edit.text, "reserve_fen")
    first = await b.post(NEW, signing)
    second = await b.post(NEW, signing)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert await ledger.size() == size + 1
    entry = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert entry["kind"] == "exchange.listed" and entry["actor"] == m.exchange
    assert entry["user"] == desk.staff_id
    assert entry["payload"]["reserve_fen"] == 5_000_000 and entry["payload"]["deposit_fen"] == 1_000_000
    listing = entry["payload"]["listing"]
    shown = await b.get(first.headers["location"])
    assert shown.status_code == 200 and listing in shown.text
    assert f'href="/console/exchange/listings/{listing}/bidding"' in shown.text
    assert f'href="/console/exchange/listings/{listing}/deal"' in shown.text
    home = await b.get("/console/exchange/")
    assert listing in home.text and desk.foreign not in home.text
    again = await b.get(wizard(m.seller))
    assert m.free_parcels[0] not in again.text.split('id="rights"')[1].split("</table>")[0]
    m.free_parcels.pop(0)


async def test_a_refused_term_is_shown_beside_its_field_with_what_was_typed(
    ledger: LedgerFixture, desk: Desk
) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    page = await b.get(wizard(m.seller, f"land:{m.contract}"))
    values = terms(inputs(page.text), stage="sign", **{"right.parcels": m.free_parcels[0]})
    size = await ledger.size()
    cases = (
        ({"deposit_fen": "1"}, "deposit_fen", "exchange.bad_deposit"),
        ({"increment_fen": "0.01"}, "increment_fen", "exchange.increment_too_small"),
        ({"reserve_fen": "9" * 40}, "reserve_fen", "form.not_an_amount"),
        ({"bidding_opens_at": "tomorrow"}, "bidding_opens_at", "exchange.not_a_time"),
        ({"bidding_opens_at": "0001-01-01T00:00"}, "bidding_opens_at", "exchange.not_a_time"),
        ({"bidding_closes_at": "2026-02-30T09:00"}, "bidding_closes_at", "exchange.not_a_time"),
        ({"right.term_start": "2026-13-01"}, "right.term_start", "payload.invalid"),
        ({"right.term_end": "2099-12-31"}, "right.term_end", "exchange.term_exceeds_contract"),
        ({"listing": "GP\x00x"}, "listing", "payload.invalid"),
        ({"consent": "a" * 5000}, "consent", "payload.invalid"),
        (
            {"bidding_opens_at": (m.today() + timedelta(days=1)).isoformat() + "T09:00"},
            "bidding_opens_at",
            "exchange.announcement_too_short",
        ),
    )
    for over, field, code in cases:
        r = await b.post(NEW, {**values, **over})
        assert r.status_code == 422, (over, r.text)
        assert code in beside(r.text, field), (field, code)
    kept = await b.post(NEW, {**values, "deposit_fen": "1"})
    assert 'value="1"' in beside(kept.text, "deposit_fen") and 'value="500"' in beside(
        kept.text, "increment_fen"
    )
    assert await ledger.size() == size


async def test_bidders_register_and_pay_their_deposit(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    await m.lot("GP-CX-B", price_unit="total", reserve_fen=1_000_000, deposit_fen=200_000)
    b = await signed_in(ledger, "cx-staff")
    path = "/console/exchange/listings/GP-CX-B"
    form = await b.get(path + "/bidders/new")
    assert form.status_code == 200, form.text
    size = await ledger.size()
    data = {
        **inputs(form.text),
        "bidder.party": m.buyers[0],
        "application": hexdigest("app cx"),
        "agricultural_capacity": hexdigest("cap"),
    }
    first = await b.post(path + "/bidders/new", data)
    second = await b.post(path + "/bidders/new", data)
    assert first.status_code == second.status_code == 303, first.text
    assert await ledger.size() == size + 1
    twice = await b.post(
        path + "/bidders/new",
        {
            **inputs(form.text),
            "entry_id": str(uuid.uuid4()),
            "bidder.party": m.buyers[0],
            "application": hexdigest("x"),
            "agricultural_capacity": hexdigest("cap"),
        },
    )
    assert twice.status_code == 422 and "exchange.already_registered" in twice.text
    empty = await b.post(
        path + "/bidders/new",
        {
            **inputs((await b.get(path + "/bidders/new")).text),
            "bidder.type": "entity",
            "application": hexdigest("y"),
        },
    )
    assert empty.status_code == 422 and "form.required" in beside(empty.text, "bidder.name")
    page = await b.get(path)
    assert "竞买人 1" in page.text and m.buyers[0] in page.text  # the registration, for the centre
    deposit = inputs(page.text[: page.text.index('id="acts"')])
    assert deposit["amount_fen"] == "2000.00"
    wrong = await b.post(
        path + "/deposit", {**deposit, "amount_fen": "1999", "bank_reference": hexdigest("bank")}
    )
    assert wrong.status_code == 422 and "exchange.wrong_deposit" in beside(
        wrong.text, "amount_fen", "deposit"
    )
    assert 'value="1999"' in beside(wrong.text, "amount_fen", "deposit")
    huge = await b.post(
        path + "/deposit", {**deposit, "bidder": "9" * 30, "bank_reference": hexdigest("bank")}
    )
    assert huge.status_code == 422 and "form.not_a_number" in huge.text
    paid = await b.post(path + "/deposit", {**deposit, "bank_reference": hexdigest("bank")})
    assert paid.status_code == 303, paid.text
    assert await ledger.size() == size + 2
    after = await b.get(path)
    assert "已收" in after.text


async def test_hold_lift_and_withdraw_with_their_refusals(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    await m.lot("GP-CX-H", price_unit="total", reserve_fen=1_000_000, deposit_fen=200_000)
    b = await signed_in(ledger, "cx-staff")
    path = "/console/exchange/listings/GP-CX-H"
    page = await b.get(path)
    size = await ledger.size()
    hold = {"csrf": CSRF.findall(page.text)[0], "entry_id": str(uuid.uuid4())}
    bad = await b.post(path + "/hold", {**hold, "reason": "ownership_dispute", "document": "not a hash"})
    assert bad.status_code == 422 and "payload.invalid" in beside(bad.text, "document", "hold")
    assert 'value="not a hash"' in bad.text
    extend = await b.post(path + "/extend", {"csrf": hold["csrf"], "entry_id": str(uuid.uuid4())})
    assert extend.status_code == 422 and "exchange.announcement_running" in extend.text
    assert await ledger.size() == size
    held = await b.post(
        path + "/hold", {**hold, "reason": "ownership_dispute", "document": hexdigest("dispute")}
    )
    assert held.status_code == 303, held.text
    page = await b.get(path)
    assert 'id="held"' in page.text and f'action="{path}/lift"' in page.text
    again = await b.post(
        path + "/hold",
        {"csrf": hold["csrf"], "entry_id": str(uuid.uuid4()), "reason": "other", "document": hexdigest("d2")},
    )
    assert again.status_code == 422 and "exchange.already_held" in again.text
    lifted = await b.post(
        path + "/lift",
        {"csrf": hold["csrf"], "entry_id": str(uuid.uuid4()), "document": hexdigest("resolved")},
    )
    assert lifted.status_code == 303, lifted.text
    withdrawn = await b.post(
        path + "/withdraw",
        {
            "csrf": hold["csrf"],
            "entry_id": str(uuid.uuid4()),
            "reason": "holder_request",
            "document": hexdigest("w"),
        },
    )
    assert withdrawn.status_code == 303, withdrawn.text
    assert await ledger.size() == size + 3
    assert "已撤牌" in (await b.get(path)).text


async def test_another_centres_listing_other_roles_and_anonymous_are_refused(
    ledger: LedgerFixture, desk: Desk
) -> None:
    m = desk.m
    ours = "/console/exchange/listings/GP-CX-B"
    b = await signed_in(ledger, "cx-staff")
    assert (await b.get(f"/console/exchange/listings/{desk.foreign}")).status_code == 403
    assert (await b.get("/console/exchange/listings/GP-NOWHERE")).status_code == 404
    token = CSRF.findall((await b.get(ours)).text)[0]
    size = await ledger.size()
    foreign = await b.post(
        f"/console/exchange/listings/{desk.foreign}/hold",
        {"csrf": token, "entry_id": str(uuid.uuid4()), "reason": "other", "document": hexdigest("f")},
    )
    assert foreign.status_code == 403
    no_csrf = await b.post(
        ours + "/hold", {"entry_id": str(uuid.uuid4()), "reason": "other", "document": hexdigest("f")}
    )
    assert no_csrf.status_code == 403
    other = await signed_in(ledger, "cx-staff2")
    refused = await other.get(ours)
    assert refused.status_code == 403 and m.buyers[0] not in refused.text
    assert (await other.get(f"/console/exchange/listings/{desk.foreign}")).status_code == 200
    clerk = await signed_in(ledger, "cx-clerk")
    for path in ("/console/exchange/", NEW, ours, ours + "/bidders/new"):
        assert (await clerk.get(path)).status_code == 403, path
    anonymous = Browser(ledger)
    r = await anonymous.get(ours)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    r = await anonymous.post(ours + "/hold", {"reason": "other"})
    assert r.status_code in (303, 403)
    stale = await b.get(ours)
    entry = ENTRY_ID.findall(stale.text)[-1]
    replay = await b.post(
        ours + "/hold", {"csrf": token, "entry_id": entry, "reason": "other", "document": hexdigest("z")}
    )
    assert replay.status_code == 303
    reused = await b.post(ours + "/lift", {"csrf": token, "entry_id": entry, "document": hexdigest("z")})
    assert reused.status_code == 422 and "console.form_stale" in reused.text
    assert await ledger.size() == size + 1


@pytest.mark.parametrize("which", ["home", "wizard", "listing", "english"])
async def test_the_pages_are_light_and_load_nothing_from_elsewhere(
    ledger: LedgerFixture, desk: Desk, which: str
) -> None:
    m = desk.m
    path = {
        "home": "/console/exchange/",
        "wizard": wizard(m.seller, f"land:{m.contract}"),
        "listing": "/console/exchange/listings/GP-CX-B",
        "english": "/console/exchange/listings/GP-CX-B?lang=en",
    }[which]
    b = await signed_in(ledger, "cx-staff")
    await assert_light(ledger, b, path)
    if which == "english":
        assert "Bidders" in (await b.get(path)).text


async def test_a_listing_without_bidders_is_extended_after_its_announcement(
    ledger: LedgerFixture, desk: Desk
) -> None:
    m = desk.m
    await m.lot("GP-CX-E", price_unit="total", reserve_fen=1_000_000, deposit_fen=200_000)
    m.open_bidding("GP-CX-E", minutes=1)
    b = await signed_in(ledger, "cx-staff")
    path = "/console/exchange/listings/GP-CX-E"
    token = CSRF.findall((await b.get(path)).text)[0]
    r = await b.post(path + "/extend", {"csrf": token, "entry_id": str(uuid.uuid4())})
    assert r.status_code == 303, r.text
    assert "已延期 1 次" in (await b.get(path)).text


async def test_hostile_registrations_are_refused_and_record_nothing(
    ledger: LedgerFixture, desk: Desk
) -> None:
    b = await signed_in(ledger, "cx-staff")
    path = "/console/exchange/listings/GP-CX-E/bidders/new"
    form = inputs((await b.get(path)).text)
    size = await ledger.size()
    cases = (
        ({"bidder.party": "a\x00b"}, "bidder.party", "payload.invalid"),
        (
            {
                "bidder.type": "entity",
                "bidder.name": "社" * 5000,
                "bidder.credit_code": "91350100M000100Y43",
                "bidder.entity_type": "company",
            },
            "bidder.name",
            "payload.invalid",
        ),
        (
            {"bidder.type": "nonsense", "bidder.name": "x", "bidder.credit_code": "y"},
            "bidder.entity_type",
            "form.required",
        ),
        ({"bidder.party": desk.m.buyers[1], "application": "9" * 70}, "application", "payload.invalid"),
    )
    for over, field, code in cases:
        r = await b.post(path, {**form, "application": hexdigest("h"), **over})
        assert r.status_code == 422, (over, r.text[-2000:])
        assert code in beside(r.text, field), (field, code)
    wrong_kind = await b.post(path, {**form, "entry_id": "not-a-uuid", "bidder.party": desk.m.outsider})
    assert wrong_kind.status_code == 422
    assert await ledger.size() == size


async def test_the_listings_are_paged_newest_first(ledger: LedgerFixture, desk: Desk) -> None:
    b = await signed_in(ledger, "cx-staff")
    home = await b.get("/console/exchange/")
    ids = re.findall(r'<td class="mono"><a href="/console/exchange/listings/([^"/]+)">', home.text)
    assert ids[0] == "GP-CX-E" and "GP-CX-B" in ids and desk.foreign not in ids
    assert desk.m.db is not None
    newest = await desk.m.db.fetchval("SELECT listed_seq FROM exchange_listings WHERE id = $1", "GP-CX-E")
    older = await b.get(f"/console/exchange/?after={newest}")
    assert older.status_code == 200 and "GP-CX-E" not in older.text and "GP-CX-B" in older.text
    for bad in ("abc", "9" * 40, "-1", "%00"):
        assert (await b.get(f"/console/exchange/?after={bad}")).status_code == 200, bad


async def test_a_collectives_land_quota_is_listed_by_the_wizard(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    b = await signed_in(ledger, "cx-staff")
    page = await b.get(wizard(m.v.village, "quota:Q-cx-1"))
    assert page.status_code == 200 and "此类权利没有优先权人" in page.text
    values = terms(inputs(page.text), stage="sign", listing="GP-CX-Q")
    size = await ledger.size()
    r = await b.post(NEW, values)
    assert r.status_code == 303, r.text
    entry = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert entry["payload"]["right"] == {"type": "land_quota", "quota": "Q-cx-1"}
    again = await b.get(wizard(m.v.village))
    assert "GP-CX-Q" in again.text and f"right={quote('quota:Q-cx-1')}" not in again.text  # listed
