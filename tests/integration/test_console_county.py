"""The county officer's desk through real HTTP against real PostgreSQL: the home, policy and the
working-day calendar, price schedules, a voucher's settlement, the developer pool, land quotas
stage by stage and the monitoring dashboard. Each form records an entry signed by the user's
organisation naming the user; refusals beside their fields with what was typed kept (422);
double submits once; acts offered only at their stage and only to the organisation that signs
them; hostile inputs, other roles and anonymous visitors refused; every page under 100 KB."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio

from tests.console_support import CSRF, ENTRY_ID, assert_light, entry_at, field_html, signed_in
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_township import add_users, hold_keys
from tests.page_weight import LIMIT_BYTES
from tests.registry_support import hexdigest
from tests.support import LedgerFixture
from tests.voucher_http import VoucherMarket

COUNTY_USER, AUTHORITY_USER = "cd-county", "cd-authority"


@dataclass
class Desk:
    m: VoucherMarket
    voucher: str
    redemption: str
    applied: str  # a quota applied for, nothing more
    traded: str  # a quota traded on the exchange


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk(ledger: LedgerFixture) -> AsyncIterator[Desk]:
    m = await VoucherMarket.open_vouchers(ledger, "cd", households=2, cash=1, held=0)
    voucher = await m.issue()
    redemption = await m.redeem(voucher, 5_000_000)
    applied = await m.apply_quota(m.collective_site(area_m2=900))
    traded = await m.confirmed_quota(m.collective_site(area_m2=700), measured_m2=600)
    await m.trade_quota(traded)
    await hold_keys(ledger, "county", m.authority)
    await add_users(
        ledger,
        [
            ("county", "county_officer", COUNTY_USER),
            (m.authority, "county_officer", AUTHORITY_USER),
            (m.developer, "developer", "cd-dev"),
            (m.v.township, "township_officer", "cd-town"),
        ],
    )
    yield Desk(m, voucher, redemption, applied, traded)
    await m.close()


def act_form(html: str, action: str | None = None) -> dict[str, str]:
    """The csrf and entry id of the page's act form (the one posting to ``action``)."""
    start = html.index(f'action="{action}"') if action else html.index('class="act"')
    part = html[start:]
    part = part[: part.index("</form>")]
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_.]+)" value="([^"]*)"', part))
    return {**hidden, "csrf": CSRF.findall(part)[0], "entry_id": ENTRY_ID.findall(part)[0]}


PAGES = (
    "/console/county/",
    "/console/county/policy",
    "/console/county/calendar",
    "/console/county/calendar?year=2031",
    "/console/vouchers/",
    "/console/vouchers/schedules",
    "/console/county/pool",
    "/console/county/quotas",
    "/console/county/quotas?status=applied",
    "/console/county/monitoring",
)


@pytest.mark.parametrize("username", [COUNTY_USER, AUTHORITY_USER])
async def test_every_page_renders_for_both_officers_light_and_self_contained(
    ledger: LedgerFixture, desk: Desk, username: str
) -> None:
    b = await signed_in(ledger, username)
    paths = [*PAGES, f"/console/vouchers/{desk.voucher}", f"/console/county/quotas/{desk.applied}"]
    for path in paths:
        r = await b.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
        await assert_light(ledger, b, path)
    home = await b.get("/console/county/")
    assert 'id="pool-count">2<' in home.text and "/console/county/monitoring" in home.text
    assert "County desk" in (await b.get("/console/county/?lang=en")).text
    await b.get("/console/county/?lang=zh")


async def test_a_policy_number_is_set_by_the_county_once_naming_the_user(
    ledger: LedgerFixture, desk: Desk
) -> None:
    b = await signed_in(ledger, COUNTY_USER)
    size = await ledger.size()
    page = await b.get("/console/county/policy")
    for value, code in (
        ("not json at all", "form.not_json"),
        ("9" * 30, "form.not_json"),
        ("1.5", "form.not_json"),
        ("-1", "policy.invalid"),
        ('"a\x00b"', "form.not_json"),
        ('"a\\u0000b"', "payload"),
        ("x" * 5000, "policy.invalid"),
        ("[" * 500 + "]" * 500, "form.not_json"),  # nested past any policy value
    ):
        data = {**act_form(page.text), "name": "membership_notice_days", "value": value}
        r = await b.post("/console/county/policy", data)
        assert r.status_code == 422, (value, r.text[:1500])
        field = field_html(r.text, "f-value")
        assert code in field, (value, field)
        assert 'value="membership_notice_days" selected' in r.text
    unknown = await b.post("/console/county/policy", {**act_form(page.text), "name": "nope", "value": "1"})
    assert unknown.status_code == 422 and "policy.unknown_number" in field_html(unknown.text, "f-name")
    assert await ledger.size() == size
    data = {**act_form(page.text), "name": "membership_notice_days", "value": "10"}
    first = await b.post("/console/county/policy", data)
    assert first.status_code == 200, first.text
    assert (await b.post("/console/county/policy", data)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"], entry["payload"]) == (
        "policy.set",
        "county",
        {"numbers": {"membership_notice_days": 10}},
    )
    assert entry["user"]
    older = await b.get(f"/console/county/policy?before={size}")
    assert older.status_code == 200 and 'id="history"' not in older.text  # none before it
    assert (await b.get("/console/county/policy?before=-5")).status_code == 400
    shown = await b.get("/console/county/policy")
    assert "成员资格公示天数" in shown.text
    assert (
        f'<a href="/verify/{size}">{size}</a>' in shown.text and "membership_notice_days = 10" in shown.text
    )
    # A policy value of another shape: the county's targets for the monitoring dashboard.
    page = await b.get("/console/county/policy")
    targets = '{"people_settled_in_town": 50, "vouchers_issued_fen": 100000000}'
    data = {**act_form(page.text), "name": "monitoring_targets", "value": targets}
    assert (await b.post("/console/county/policy", data)).status_code == 200
    missing = await b.post("/console/county/policy", {**data, "csrf": ""})
    assert missing.status_code == 403


async def test_a_housing_authority_sees_the_countys_forms_read_only_and_is_refused(
    ledger: LedgerFixture, desk: Desk
) -> None:
    b = await signed_in(ledger, AUTHORITY_USER)
    size = await ledger.size()
    for path in ("/console/county/policy", "/console/county/calendar", "/console/county/pool"):
        page = await b.get(path)
        assert 'id="read-only"' in page.text and 'class="act"' not in page.text, path
    page = await b.get("/console/county/policy")
    csrf = CSRF.findall(page.text)[0]
    data = {
        "csrf": csrf,
        "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "name": "listing_max_days",
        "value": "90",
    }
    refused = await b.post("/console/county/policy", data)
    assert refused.status_code == 422 and "只有县政府账户可以设定政策参数" in refused.text
    assert await ledger.size() == size


async def test_the_calendar_is_declared_and_shown_as_month_grids(ledger: LedgerFixture, desk: Desk) -> None:
    b = await signed_in(ledger, COUNTY_USER)
    size = await ledger.size()
    page = await b.get("/console/county/calendar?year=2027")
    assert page.text.count('class="month"') == 12
    base = {**act_form(page.text), "year": "2027"}
    for over, where, code in (
        ({"holidays": "2027-13-01"}, "f-holidays", "form.not_a_date"),
        ({"working_weekend_days": "2027-02-08"}, "f-working_weekend_days", "calendar.not_a_weekend_day"),
        ({"holidays": "2026-01-01"}, "f-year", "calendar.wrong_year"),
        ({"year": "99999999999999999999"}, "f-year", "form.not_a_number"),
        ({"year": "1999"}, "f-year", "payload.invalid"),
    ):
        r = await b.post("/console/county/calendar", {**base, **over})
        assert r.status_code == 422, (over, r.text[:1500])
        assert code in field_html(r.text, where), over
        assert next(iter(over.values())) in r.text  # kept as typed
    assert await ledger.size() == size
    data = {**base, "holidays": "2027-01-01\n2027-02-10", "working_weekend_days": "2027-02-06"}
    assert (await b.post("/console/county/calendar", data)).status_code == 200
    assert (await b.post("/console/county/calendar", data)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert entry["kind"] == "calendar.declared" and entry["payload"]["holidays"] == [
        "2027-01-01",
        "2027-02-10",
    ]
    shown = await b.get("/console/county/calendar?year=2027")
    assert shown.text.count("day holiday") == 2 + 1 and shown.text.count("day worked") == 1 + 1  # + legend
    assert 'value="2027-02-06"' not in shown.text and "2027-02-06" in shown.text  # the form filled again
    assert (await b.get("/console/county/calendar?year=99999")).status_code == 400


async def test_a_price_schedule_is_published_in_yuan(ledger: LedgerFixture, desk: Desk) -> None:
    b = await signed_in(ledger, COUNTY_USER)
    size = await ledger.size()
    today = (ledger.clock() + timedelta(hours=8)).date()
    page = await b.get("/console/vouchers/schedules")
    base = {
        **act_form(page.text),
        "schedule": "S-cd-2",
        "effective_from": (today + timedelta(days=30)).isoformat(),
    }
    for over, where, code in (
        ({"prices.plain": "一千"}, "f-prices-plain", "form.not_an_amount"),
        ({"prices.plain": "99999999"}, "f-prices-plain", "payload.invalid"),
        ({"prices.plain": "9" * 40}, "f-prices-plain", "form.not_an_amount"),
        (
            {"prices.plain": "1600", "effective_from": (today - timedelta(days=1)).isoformat()},
            "f-effective_from",
            "voucher.schedule_backdated",
        ),
        ({"prices.plain": "1600", "schedule": desk.m.schedule}, "f-schedule", "voucher.schedule_exists"),
        ({"prices.plain": "1600", "effective_from": "not a day"}, "f-effective_from", "payload.invalid"),
    ):
        r = await b.post("/console/vouchers/schedules", {**base, **over})
        assert r.status_code == 422, (over, r.text[:1500])
        assert code in field_html(r.text, where), (over, field_html(r.text, where))
    assert await ledger.size() == size
    data = {**base, "prices.plain": "1600", "prices.suburb": "1,900.50"}
    assert (await b.post("/console/vouchers/schedules", data)).status_code == 200
    assert (await b.post("/console/vouchers/schedules", data)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert entry["payload"]["prices"] == {"plain": 160_000, "suburb": 190_050} and entry["actor"] == "county"
    listed = await b.get("/console/vouchers/schedules")
    assert "S-cd-2" in listed.text and "尚未施行" in listed.text
    authority = await signed_in(ledger, AUTHORITY_USER)
    assert 'id="read-only"' in (await authority.get("/console/vouchers/schedules")).text


async def test_the_pool_admits_registers_and_takes_out(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    b = await signed_in(ledger, COUNTY_USER)
    size = await ledger.size()
    page = await b.get("/console/county/pool")
    assert m.developer in page.text and m.project in page.text
    admit = act_form(page.text, "/console/county/pool/admit")
    for developer, code in (
        ("nobody-here", "voucher.not_a_developer"),
        (m.developer, "voucher.already_in_pool"),
        ("a" * 300, "payload.invalid"),
    ):
        r = await b.post("/console/county/pool/admit", {**admit, "admit.developer": developer})
        assert r.status_code == 422 and code in field_html(r.text, "f-admit-developer"), (
            developer,
            r.text[:1500],
        )
    project = act_form(page.text, "/console/county/pool/projects")
    good = {
        "project": "P-cd-new",
        "developer": m.stranger,
        "presale_permit": "WD-cd-new",
        "area_code": ledger.codes["county"],
    }
    for over, where, code in (
        ({}, "f-developer", "voucher.developer_not_in_pool"),
        ({"developer": m.developer, "presale_permit": "许可证"}, "f-presale_permit", "payload.invalid"),
        ({"developer": m.developer, "area_code": "12345"}, "f-area_code", "payload.invalid"),
        ({"developer": m.developer, "project": m.project}, "f-project", "voucher.project_exists"),
    ):
        r = await b.post("/console/county/pool/projects", {**project, **good, **over})
        assert r.status_code == 422 and code in field_html(r.text, where), (over, r.text[:1500])
        assert f'value="{({**good, **over})["presale_permit"]}"' in r.text
    assert await ledger.size() == size
    assert (
        await b.post("/console/county/pool/admit", {**admit, "admit.developer": m.stranger})
    ).status_code == 200
    assert (
        await b.post("/console/county/pool/admit", {**admit, "admit.developer": m.stranger})
    ).status_code == 200
    assert (await b.post("/console/county/pool/projects", {**project, **good})).status_code == 200
    leave = act_form((await b.get("/console/county/pool")).text, "/console/county/pool/leave")
    assert (
        await b.post("/console/county/pool/leave", {**leave, "leave.developer": m.rival})
    ).status_code == 200
    assert await ledger.size() == size + 3
    kinds = [(await entry_at(ledger, s))["kind"] for s in range(size, size + 3)]
    assert kinds == ["voucher.developer_admitted", "voucher.project_registered", "voucher.developer_left"]
    shown = await b.get("/console/county/pool")
    assert "P-cd-new" in shown.text and "已出库" in shown.text


async def test_a_quota_is_acted_on_only_at_its_stage(ledger: LedgerFixture, desk: Desk) -> None:
    b = await signed_in(ledger, COUNTY_USER)
    path = f"/console/county/quotas/{desk.applied}"
    size = await ledger.size()
    page = await b.get(path)
    assert f'action="{path}/project_approved"' in page.text and "/accepted" not in page.text
    early = await b.post(
        f"{path}/accepted",
        {**act_form(page.text), "measured_m2": "800", "acceptance_document": hexdigest("a")},
    )
    assert early.status_code == 422 and "quota.wrong_status" in early.text
    bogus = await b.post(f"{path}/nothing", act_form(page.text))
    assert bogus.status_code == 404
    data = {**act_form(page.text), "project_document": hexdigest(f"project {desk.applied}")}
    assert (await b.post(f"{path}/project_approved", data)).status_code == 200
    assert (await b.post(f"{path}/project_approved", data)).status_code == 200
    assert await ledger.size() == size + 1
    page = await b.get(path)
    assert f'action="{path}/accepted"' in page.text and "/project_approved" not in page.text
    form = act_form(page.text)
    for measured, code in (
        ("1000", "quota.measured_over_site"),
        ("9" * 40, "form.not_a_number"),
        ("-5", "form.not_a_number"),
    ):
        r = await b.post(
            f"{path}/accepted", {**form, "measured_m2": measured, "acceptance_document": hexdigest("acc")}
        )
        assert r.status_code == 422 and code in field_html(r.text, "f-measured_m2"), measured
        assert f'value="{measured}"' in r.text
    ok = {**form, "measured_m2": "850", "acceptance_document": hexdigest("acc")}
    assert (await b.post(f"{path}/accepted", ok)).status_code == 200
    page = await b.get(path)
    assert 'value="850"' in page.text  # the confirmation offers the area measured
    wrong = await b.post(f"{path}/confirmed", {**act_form(page.text), "quota_m2": "800"})
    assert wrong.status_code == 422 and "quota.area_mismatch" in field_html(wrong.text, "f-quota_m2")
    assert (await b.post(f"{path}/confirmed", {**act_form(page.text), "quota_m2": "850"})).status_code == 200
    confirmed = await b.get(path)
    assert 'id="waiting"' in confirmed.text and 'class="act"' not in confirmed.text
    traded = f"/console/county/quotas/{desk.traded}"
    page = await b.get(traded)
    assert f'action="{traded}/used"' in page.text
    bad = await b.post(
        f"{traded}/used", {**act_form(page.text), "zone": "nowhere", "approval": hexdigest("land use")}
    )
    assert bad.status_code == 422 and "payload.invalid" in field_html(bad.text, "f-zone")
    used = await b.post(
        f"{traded}/used", {**act_form(page.text), "zone": "371003-A01", "approval": hexdigest("land use")}
    )
    assert used.status_code == 200, re.findall(r"mono\">([^<]*)<", used.text)
    entry = await entry_at(ledger, await ledger.size() - 1)
    assert (entry["kind"], entry["actor"], entry["payload"]["zone"]) == ("quota.used", "county", "371003-A01")
    listed = await b.get("/console/county/quotas?status=used")
    assert desk.traded in listed.text and desk.applied not in listed.text
    assert (await b.get("/console/county/quotas/Q-none")).status_code == 404
    assert (await b.get("/console/county/quotas?status=bogus")).status_code == 400


async def test_a_redemption_stage_is_settled_by_the_housing_authority(
    ledger: LedgerFixture, desk: Desk
) -> None:
    county = await signed_in(ledger, COUNTY_USER)
    path = f"/console/vouchers/{desk.voucher}"
    assert 'class="act"' not in (await county.get(path)).text  # the county does not settle
    b = await signed_in(ledger, AUTHORITY_USER)
    page = await b.get(path)
    assert desk.redemption in page.text and f'action="{path}/settle"' in page.text
    assert f'action="{path}/expire"' not in page.text  # still valid
    form = act_form(page.text, f"{path}/settle")
    size = await ledger.size()
    for payment in ("not a digest", "\x00" * 64):
        r = await b.post(f"{path}/settle", {**form, "payment": payment})
        assert r.status_code == 422 and "payload" in field_html(r.text, "f-payment")
    tampered = await b.post(f"{path}/settle", {**form, "amount_fen": "1", "payment": hexdigest("pay")})
    assert tampered.status_code == 422 and "voucher.settlement_mismatch" in tampered.text
    stranger = await b.post(f"{path}/settle", {**form, "redemption": "SY-none", "payment": hexdigest("pay")})
    assert stranger.status_code == 404
    assert await ledger.size() == size
    data = {**form, "payment": hexdigest("pay")}
    assert (await b.post(f"{path}/settle", data)).status_code == 200
    assert (await b.post(f"{path}/settle", data)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"], entry["payload"]["stage"]) == (
        "voucher.settled",
        desk.m.authority,
        "contract",
    )
    after = await b.get(path)
    assert "下一阶段：网签备案" in after.text
    assert (await b.get("/console/vouchers/FP-none")).status_code == 404


async def test_the_quotas_are_listed_fifty_a_page(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    made = [await m.apply_quota(m.collective_site(area_m2=100), quota=f"QP-cd-{i:03d}") for i in range(52)]
    b = await signed_in(ledger, COUNTY_USER)
    first = await b.get("/console/county/quotas?status=applied")
    rows = re.findall(r'href="/console/county/quotas/([^"]+)"', first.text)
    assert len(rows) == 50 and rows == sorted(rows)
    (following,) = re.findall(r'rel="next" href="\?([^"]+)"', first.text)
    second = await b.get("/console/county/quotas?" + following.replace("&amp;", "&"))
    rest = re.findall(r'href="/console/county/quotas/([^"]+)"', second.text)
    assert set(rows) | set(rest) >= set(made) and not set(rows) & set(rest)
    assert 'rel="next"' not in second.text
    assert (await b.get("/console/county/quotas?after=%00bad")).status_code == 400


async def test_the_monitoring_dashboard_draws_its_charts_on_the_server(
    ledger: LedgerFixture, desk: Desk
) -> None:
    b = await signed_in(ledger, COUNTY_USER)
    r = await b.get("/console/county/monitoring")
    assert r.status_code == 200, r.text[:2000]
    assert r.text.count("<svg") == 5 and r.text.count('role="img"') == 5
    assert "<script" not in r.text and "各乡镇进城落户人数" in r.text
    assert r.text.count('class="chart-data"') >= 5 and 'id="targets"' in r.text
    assert "进城落户人数" in r.text and "1,000,000.00" in r.text  # the issuance target, in yuan
    assert len(r.content) < LIMIT_BYTES
    english = await b.get("/console/county/monitoring?lang=en")
    assert "People settled in town, by township" in english.text and english.text.count("<svg") == 5
    await b.get("/console/county/?lang=zh")


@pytest.mark.parametrize("username", ["cd-dev", "cd-town"])
async def test_other_roles_and_anonymous_visitors_are_refused(
    ledger: LedgerFixture, desk: Desk, username: str
) -> None:
    paths = [*PAGES, f"/console/vouchers/{desk.voucher}", f"/console/county/quotas/{desk.applied}"]
    b = await signed_in(ledger, username)
    for path in paths:
        assert (await b.get(path)).status_code == 403, path
    page = await b.get("/console/")
    size = await ledger.size()
    data = {
        "csrf": CSRF.findall(page.text)[0],
        "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5c",
        "name": "listing_max_days",
        "value": "90",
    }
    assert (await b.post("/console/county/policy", data)).status_code == 403
    assert await ledger.size() == size
    anonymous = Browser(ledger)
    for path in paths:
        r = await anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path


async def test_another_countys_quota_and_voucher_are_refused(ledger: LedgerFixture, desk: Desk) -> None:
    """A projection row of another county (there is one county per ledger: the row is put in
    directly) is not shown nor acted on."""
    db = desk.m.db
    assert db is not None
    await db.execute(
        "INSERT INTO land_quotas (id, county_id, township_id, collective_id, source, site, household_id, "
        "site_area_m2, holder, holder_kind, status, applied_seq, holder_consent, collective_consent) "
        "SELECT 'Q-elsewhere', 'elsewhere', township_id, collective_id, source, 'site-elsewhere', "
        "household_id, site_area_m2, holder, holder_kind, status, applied_seq, holder_consent, "
        "collective_consent FROM land_quotas WHERE id = $1",
        desk.applied,
    )
    b = await signed_in(ledger, COUNTY_USER)
    assert (await b.get("/console/county/quotas/Q-elsewhere")).status_code == 403
    page = await b.get(f"/console/county/quotas/{desk.traded}")
    posted = await b.post(
        "/console/county/quotas/Q-elsewhere/project_approved", {"csrf": CSRF.findall(page.text)[0]}
    )
    assert posted.status_code == 403
    assert "Q-elsewhere" not in (await b.get("/console/county/quotas")).text
    await db.execute("DELETE FROM land_quotas WHERE id = 'Q-elsewhere'")
    await db.execute("UPDATE vouchers SET county_id = 'elsewhere' WHERE id = $1", desk.voucher)
    try:
        assert (await b.get(f"/console/vouchers/{desk.voucher}")).status_code == 403
        posted = await b.post(
            f"/console/vouchers/{desk.voucher}/expire", {"csrf": CSRF.findall(page.text)[0]}
        )
        assert posted.status_code == 403
        assert desk.voucher not in (await b.get("/console/vouchers/")).text
    finally:
        await db.execute("UPDATE vouchers SET county_id = 'county' WHERE id = $1", desk.voucher)


async def test_a_household_is_compensated_in_cash_instead_once(ledger: LedgerFixture, desk: Desk) -> None:
    m = desk.m
    w = m.peek("cash")
    b = await signed_in(ledger, AUTHORITY_USER)
    path = f"/console/vouchers/issue?homestead={w.homestead}&appraisal_yuan=60000"
    page = await b.get(path)
    assert 'action="/console/vouchers/cash"' in page.text
    form = act_form(page.text, "/console/vouchers/cash")
    assert form["cash.amount_fen"] == str(w.face_fen)
    size = await ledger.size()
    bad = await b.post(
        "/console/vouchers/cash", {**form, "cash.appraisal": hexdigest("a"), "cash.payment": "付了"}
    )
    assert bad.status_code == 422 and "payload.invalid" in field_html(bad.text, "f-cash-payment")
    assert 'value="付了"' in bad.text
    tampered = {
        **form,
        "cash.amount_fen": "1",
        "cash.appraisal": hexdigest("a"),
        "cash.payment": hexdigest("p"),
    }
    assert (await b.post("/console/vouchers/cash", tampered)).status_code == 422
    voucher_household = m.peek("voucher")
    other = act_form(
        (
            await b.get(
                f"/console/vouchers/issue?homestead={voucher_household.homestead}&appraisal_yuan=60000"
            )
        ).text,
        "/console/vouchers/cash",
    )
    chose = await b.post(
        "/console/vouchers/cash", {**other, "cash.appraisal": hexdigest("a"), "cash.payment": hexdigest("p")}
    )
    assert chose.status_code == 422 and "voucher.household_chose_voucher" in chose.text
    assert await ledger.size() == size
    data = {**form, "cash.appraisal": hexdigest("a"), "cash.payment": hexdigest("p")}
    assert (await b.post("/console/vouchers/cash", data)).status_code == 200
    assert (await b.post("/console/vouchers/cash", data)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"], entry["payload"]["amount_fen"]) == (
        "voucher.cash_compensated",
        m.authority,
        w.face_fen,
    )
    again = act_form((await b.get(path)).text, "/console/vouchers/cash")
    twice = await b.post(
        "/console/vouchers/cash", {**again, "cash.appraisal": hexdigest("a"), "cash.payment": hexdigest("p2")}
    )
    assert twice.status_code == 422 and "voucher.already_compensated" in twice.text
    county = await signed_in(ledger, COUNTY_USER)
    page = await county.get(path)
    refused = await county.post(
        "/console/vouchers/cash",
        {
            **act_form(page.text, "/console/vouchers/cash"),
            "cash.appraisal": hexdigest("a"),
            "cash.payment": hexdigest("p3"),
        },
    )
    assert refused.status_code in (403, 422) and await ledger.size() == size + 1


async def test_a_voucher_past_its_validity_is_expired_once_and_not_before(
    ledger: LedgerFixture, desk: Desk
) -> None:
    """Last in this module: the ledger's clock moves past the voucher's last valid day."""
    m = desk.m
    path = f"/console/vouchers/{desk.voucher}"
    b = await signed_in(ledger, AUTHORITY_USER)
    page = await b.get(path)
    size = await ledger.size()
    early = {
        "csrf": CSRF.findall(page.text)[0],
        "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5d",
        "cash_fen": "1",
    }
    refused = await b.post(f"{path}/expire", early)
    assert refused.status_code == 422 and "voucher.not_expired" in refused.text
    assert await ledger.size() == size
    row = await m.voucher_row(desk.voucher)
    m.past_validity(row["valid_until"])
    b = await signed_in(ledger, AUTHORITY_USER)  # the session did not last two years
    page = await b.get(path)
    assert f'action="{path}/expire"' in page.text
    form = act_form(page.text, f"{path}/expire")
    assert (await b.post(f"{path}/expire", {**form, "cash_fen": "1"})).status_code == 422
    hidden = await b.post(f"{path}/expire", {**form, "cash_fen": "-1"})
    assert (
        hidden.status_code == 422 and "payload.invalid" in hidden.text[hidden.text.index('id="form-error"') :]
    )
    assert (await b.post(f"{path}/expire", form)).status_code == 200
    assert (await b.post(f"{path}/expire", form)).status_code == 200
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["payload"]["cash_fen"]) == ("voucher.expired", int(form["cash_fen"]))
    after = await b.get(path)
    assert "已过期" in after.text and f'action="{path}/expire"' not in after.text
