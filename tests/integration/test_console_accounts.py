"""Console accounts through real HTTP against real PostgreSQL: signing in and out, the session
cookie and its expiry, lock-out after five failures, disabled users, CSRF on every console
POST, and a user reaching only their own organisation's pages and their role's."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from litestar import Request, get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.console.accounts import add_user, disable_user
from api.console.guard import CONSOLE_DEPENDENCIES, CONSOLE_EXCEPTION_HANDLERS, SignedIn, for_roles
from api.service.database import asyncpg_url, make_engine
from tests.conftest import FakeClock
from tests.page_weight import LIMIT_BYTES, page_weight
from tests.support import LedgerFixture

BASE = "https://testserver.local"
PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """One visitor's cookies, kept apart from every other visitor's (the test client's own
    jar is emptied after each request)."""

    def __init__(self, fx: LedgerFixture) -> None:
        self.http = fx.client.http
        self.jar: dict[str, str] = {}
        self.last_set_cookies: list[str] = []

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if self.jar:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        response = await self.http.request(method, BASE + path, headers=headers, follow_redirects=False, **kw)
        self.http.cookies.clear()
        self.last_set_cookies = response.headers.get_list("set-cookie")
        for header in self.last_set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = morsel.value
        return response

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, data: dict[str, str], **kw: Any) -> Any:
        return await self.request("POST", path, data=data, **kw)

    async def login_token(self) -> str:
        form = await self.get("/console/login")
        assert form.status_code == 200, form.text
        return CSRF_INPUT.findall(form.text)[0]

    async def sign_in(self, username: str, password: str = PASSWORD, **kw: Any) -> Any:
        token = await self.login_token()
        return await self.post(
            "/console/login", {"csrf": token, "username": username, "password": password}, **kw
        )

    async def csrf(self) -> str:
        home = await self.get("/console/")
        assert home.status_code == 200, home.text
        return CSRF_INPUT.findall(home.text)[0]


@pytest.fixture(scope="module")
async def engine(ledger: LedgerFixture) -> AsyncIterator[AsyncEngine]:
    await ledger.origin_ready()
    e = make_engine(asyncpg_url(ledger.url), service_role=False, pool_size=1)
    yield e
    await e.dispose()


@pytest.fixture(scope="module")
async def orgs(ledger: LedgerFixture, engine: AsyncEngine) -> dict[str, str]:
    """Two villages of one township; a clerk of each and a township officer."""
    await ledger.register("county", "acct-zhen", "township")
    await ledger.register("acct-zhen", "acct-dongcun", "village_collective")
    await ledger.register("acct-zhen", "acct-xicun", "village_collective")
    users = {"clerk-dong": "acct-dongcun", "clerk-xi": "acct-xicun"}
    async with engine.connect() as conn:
        for username, org in users.items():
            await add_user(conn, org, "collective_clerk", username, PASSWORD, ledger.clock())
        await add_user(conn, "acct-zhen", "township_officer", "officer-zhen", PASSWORD, ledger.clock())
    return users


async def new_clerk(ledger: LedgerFixture, engine: AsyncEngine, username: str) -> str:
    async with engine.connect() as conn:
        return (
            await add_user(conn, "acct-dongcun", "collective_clerk", username, PASSWORD, ledger.clock())
        ).id


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


def fake_clock(ledger: LedgerFixture) -> FakeClock:
    assert isinstance(ledger.clock, FakeClock)
    return ledger.clock


async def test_sign_in_opens_a_session_in_a_secure_cookie(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    signed_in = await b.sign_in("clerk-dong")
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == "/console/"
    (session_header,) = [h for h in b.last_set_cookies if h.startswith("rl_session=")]
    flags = {f.strip().lower() for f in session_header.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags, session_header
    token = b.jar["rl_session"]
    assert len(token) >= 40
    # Only the token's SHA-256 is stored, never the token.
    stored = await scalar(
        engine,
        "SELECT count(*) FROM console_sessions WHERE token_hash = :h",
        h=hashlib.sha256(token.encode()).hexdigest(),
    )
    assert stored == 1
    assert await scalar(engine, "SELECT count(*) FROM console_sessions WHERE token_hash = :t", t=token) == 0
    home = await b.get("/console/")
    assert home.status_code == 200, home.text
    assert "acct-dongcun" in home.text and "clerk-dong" in home.text
    assert 'href="/console/collective/"' in home.text  # the clerk's own desk, and no other
    assert 'href="/console/township/"' not in home.text
    assert home.headers["cache-control"] == "no-store"
    assert 'action="/console/logout"' in home.text


async def test_the_login_cookie_of_the_form_is_secure_and_http_only(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    await b.login_token()
    (header,) = [h for h in b.last_set_cookies if h.startswith("rl_login_csrf=")]
    flags = {f.strip().lower() for f in header.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict"} <= flags, header


async def test_a_wrong_password_shows_the_form_again_with_the_username_kept(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    refused = await b.sign_in("clerk-xi", "not the password")
    assert refused.status_code == 401, refused.text
    assert 'value="clerk-xi"' in refused.text
    assert "not the password" not in refused.text
    assert 'class="field-error"' in refused.text and "用户名或密码不正确" in refused.text
    assert "rl_session" not in b.jar
    # The next right password signs in (and resets the count).
    assert (await b.sign_in("clerk-xi")).status_code == 303


async def test_a_client_that_takes_no_html_gets_a_problem(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    refused = await b.sign_in("clerk-xi", "not the password", headers={"accept": "application/json"})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "console.sign_in_failed"


async def test_an_unknown_user_is_answered_as_a_wrong_password(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    unknown = await b.sign_in("nobody-here", headers={"accept": "application/json"})
    wrong = await b.sign_in("clerk-xi", "not the password", headers={"accept": "application/json"})
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    page_unknown = await b.sign_in("nobody-here")
    page_wrong = await b.sign_in("clerk-xi", "not the password")
    assert page_unknown.status_code == page_wrong.status_code == 401

    def shown(page: Any, username: str) -> str:
        return CSRF_INPUT.sub("CSRF", page.text.replace(username, "X"))

    assert shown(page_unknown, "nobody-here") == shown(page_wrong, "clerk-xi")


async def test_five_failures_lock_the_user_for_fifteen_minutes(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    await new_clerk(ledger, engine, "clerk-locked")
    b = Browser(ledger)
    for _ in range(4):
        assert (await b.sign_in("clerk-locked", "wrong password")).status_code == 401
    assert (
        await scalar(engine, "SELECT locked_until FROM console_users WHERE username = 'clerk-locked'") is None
    )
    assert (await b.sign_in("clerk-locked", "wrong password")).status_code == 401
    # The sixth attempt, with the right password, is refused as the others were.
    sixth = await b.sign_in("clerk-locked")
    assert sixth.status_code == 401 and "rl_session" not in b.jar
    fake_clock(ledger).advance(minutes=14)
    assert (await b.sign_in("clerk-locked")).status_code == 401
    fake_clock(ledger).advance(minutes=1, seconds=1)
    assert (await b.sign_in("clerk-locked")).status_code == 303
    assert (
        await scalar(engine, "SELECT failed_attempts FROM console_users WHERE username = 'clerk-locked'") == 0
    )


async def test_failures_at_the_same_moment_are_each_counted(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    """Five wrong passwords sent at once lock the user as five in a row do: the user's row is
    locked while one attempt is checked, so no failure is lost."""
    await new_clerk(ledger, engine, "clerk-rushed")
    browsers = [Browser(ledger) for _ in range(5)]
    tokens = [await b.login_token() for b in browsers]
    form = {"username": "clerk-rushed", "password": "wrong password"}
    answers = await asyncio.gather(
        *(b.post("/console/login", {**form, "csrf": t}) for b, t in zip(browsers, tokens, strict=True))
    )
    assert [a.status_code for a in answers] == [401] * 5
    assert (await Browser(ledger).sign_in("clerk-rushed")).status_code == 401  # locked


async def test_a_disabled_user_signs_in_no_more_and_loses_their_session(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    await new_clerk(ledger, engine, "clerk-leaving")
    b = Browser(ledger)
    assert (await b.sign_in("clerk-leaving")).status_code == 303
    async with engine.connect() as conn:
        await disable_user(conn, "clerk-leaving")
    home = await b.get("/console/")
    assert home.status_code == 303 and home.headers["location"].startswith("/console/login")
    again = await Browser(ledger).sign_in("clerk-leaving")
    assert again.status_code == 401


async def test_a_post_without_the_session_csrf_token_is_refused_and_changes_nothing(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    csrf = await b.csrf()
    sessions = await scalar(engine, "SELECT count(*) FROM console_sessions")
    for form in ({}, {"csrf": "x" * len(csrf)}, {"csrf": ""}):
        refused = await b.post("/console/logout", form)
        assert refused.status_code == 403, refused.text
        assert "console.csrf_failed" in refused.text and "未做任何更改" in refused.text
        assert await scalar(engine, "SELECT count(*) FROM console_sessions") == sessions
    as_client = await b.post("/console/logout", {"csrf": "wrong"}, headers={"accept": "application/json"})
    assert as_client.status_code == 403 and as_client.json()["code"] == "console.csrf_failed"
    # Another session's token is as wrong as any.
    other = Browser(ledger)
    assert (await other.sign_in("clerk-dong")).status_code == 303
    assert (await b.post("/console/logout", {"csrf": await other.csrf()})).status_code == 403
    assert (await b.get("/console/")).status_code == 200


async def test_a_script_may_send_the_csrf_token_as_a_header(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    csrf = await b.csrf()
    assert (await b.post("/console/logout", {}, headers={"x-csrf-token": "nope"})).status_code == 403
    out = await b.post("/console/logout", {}, headers={"x-csrf-token": csrf})
    assert out.status_code == 303 and "rl_session" not in b.jar


async def test_the_sign_in_form_needs_its_csrf_token(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    token = await b.login_token()
    sessions = await scalar(engine, "SELECT count(*) FROM console_sessions")
    for form in ({}, {"csrf": "y" * len(token)}):
        refused = await b.post("/console/login", {**form, "username": "clerk-dong", "password": PASSWORD})
        assert refused.status_code == 403, refused.text
    b.jar.pop("rl_login_csrf")  # a form posted from elsewhere brings the token without the cookie
    refused = await b.post("/console/login", {"csrf": token, "username": "clerk-dong", "password": PASSWORD})
    assert refused.status_code == 403
    assert await scalar(engine, "SELECT count(*) FROM console_sessions") == sessions
    assert "rl_session" not in b.jar


async def test_a_session_ends_after_thirty_idle_minutes(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    token_hash = hashlib.sha256(b.jar["rl_session"].encode()).hexdigest()
    fake_clock(ledger).advance(minutes=29)
    assert (await b.get("/console/")).status_code == 200  # used: idle again from now
    fake_clock(ledger).advance(minutes=29)
    assert (await b.get("/console/")).status_code == 200
    fake_clock(ledger).advance(minutes=30)
    gone = await b.get("/console/")
    assert gone.status_code == 303 and gone.headers["location"] == "/console/login?next=/console/"
    assert (
        await scalar(engine, "SELECT count(*) FROM console_sessions WHERE token_hash = :h", h=token_hash) == 0
    )


async def test_a_session_ends_eight_hours_after_sign_in_however_used(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    for _ in range(19):  # 19 x 25 min = 7 h 55 min
        fake_clock(ledger).advance(minutes=25)
        assert (await b.get("/console/")).status_code == 200
    fake_clock(ledger).advance(minutes=5)
    assert (await b.get("/console/")).status_code == 303


async def test_sign_out_ends_the_session_in_the_database(
    ledger: LedgerFixture, engine: AsyncEngine, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    token = b.jar["rl_session"]
    out = await b.post("/console/logout", {"csrf": await b.csrf()})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert "rl_session" not in b.jar  # the cookie is cleared
    h = hashlib.sha256(token.encode()).hexdigest()
    assert await scalar(engine, "SELECT count(*) FROM console_sessions WHERE token_hash = :h", h=h) == 0
    b.jar["rl_session"] = token  # the old cookie, kept by someone, opens nothing
    assert (await b.get("/console/")).status_code == 303


async def test_anonymous_visitors_are_sent_to_sign_in(ledger: LedgerFixture, orgs: dict[str, str]) -> None:
    b = Browser(ledger)
    home = await b.get("/console/orgs/acct-dongcun")
    assert home.status_code == 303
    assert home.headers["location"] == "/console/login?next=/console/orgs/acct-dongcun"
    assert (await b.post("/console/logout", {})).status_code == 303
    # After signing in, the page asked for.
    token = await b.login_token()
    signed_in = await b.post(
        "/console/login",
        {"csrf": token, "username": "clerk-dong", "password": PASSWORD, "next": "/console/orgs/acct-dongcun"},
    )
    assert signed_in.headers["location"] == "/console/orgs/acct-dongcun"
    # Never somewhere else.
    elsewhere = await Browser(ledger).sign_in("clerk-dong")
    assert elsewhere.headers["location"] == "/console/"
    c = Browser(ledger)
    token = await c.login_token()
    away = await c.post(
        "/console/login",
        {"csrf": token, "username": "clerk-dong", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert away.headers["location"] == "/console/"


async def test_a_user_cannot_reach_another_organisations_pages(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-xi")).status_code == 303
    assert (await b.get("/console/orgs/acct-xicun")).status_code == 200
    refused = await b.get("/console/orgs/acct-dongcun")
    assert refused.status_code == 403, refused.text
    assert "acct-dongcun" not in refused.text.replace("/console/orgs/acct-dongcun", "")
    as_client = await b.get("/console/orgs/acct-dongcun", headers={"accept": "application/json"})
    assert as_client.json()["code"] == "console.forbidden"
    # Not even the township above the village.
    officer = Browser(ledger)
    assert (await officer.sign_in("officer-zhen")).status_code == 303
    assert (await officer.get("/console/orgs/acct-xicun")).status_code == 403


@get("/console/test-only/township", opt=for_roles("township_officer"), include_in_schema=False,
     dependencies=CONSOLE_DEPENDENCIES, exception_handlers=CONSOLE_EXCEPTION_HANDLERS)  # fmt: skip
async def township_only(request: Request[Any, Any, Any], console: SignedIn) -> str:
    return f"for {console.user.username}"


async def test_a_page_for_one_role_refuses_the_others(ledger: LedgerFixture, orgs: dict[str, str]) -> None:
    ledger.client.http.app.register(township_only)
    officer, clerk = Browser(ledger), Browser(ledger)
    assert (await officer.sign_in("officer-zhen")).status_code == 303
    assert (await clerk.sign_in("clerk-dong")).status_code == 303
    assert (await officer.get("/console/test-only/township")).text == "for officer-zhen"
    refused = await clerk.get("/console/test-only/township", headers={"accept": "application/json"})
    assert refused.status_code == 403 and refused.json()["code"] == "console.forbidden"
    assert (await Browser(ledger).get("/console/test-only/township")).status_code == 303


async def test_every_console_post_needs_the_csrf_token(ledger: LedgerFixture, orgs: dict[str, str]) -> None:
    """Whatever POST routes the console has, none acts for a signed-in user without the token."""
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    paths = [
        route.path
        for route in ledger.client.http.app.routes
        if route.path.startswith("/console") and "POST" in getattr(route, "methods", ())
    ]
    assert "/console/logout" in paths
    for path in paths:
        concrete = re.sub(r"\{org_id:str\}", "acct-dongcun", path)
        refused = await b.post(concrete, {"username": "clerk-dong", "password": PASSWORD})
        assert refused.status_code == 403, (path, refused.status_code, refused.text)
    assert (await b.get("/console/")).status_code == 200


async def test_the_home_says_the_organisation_and_role(ledger: LedgerFixture, orgs: dict[str, str]) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("officer-zhen")).status_code == 303
    home = await b.get("/console/")
    assert "acct-zhen" in home.text
    assert "乡镇干部" in home.text  # the role, in Chinese by default
    english = await b.get("/console/?lang=en")
    assert english.status_code == 200 and "acct-zhen" in english.text


async def test_the_sign_in_page_and_the_home_are_light_and_load_nothing_from_elsewhere(
    ledger: LedgerFixture, orgs: dict[str, str]
) -> None:
    b = Browser(ledger)
    assert (await b.sign_in("clerk-dong")).status_code == 303
    http = ledger.client.http
    for path, cookies in (("/console/login", {}), ("/console/", {"rl_session": b.jar["rl_session"]})):
        http.cookies.clear()
        for name, value in cookies.items():
            http.cookies.set(name, value)
        weight = await page_weight(http, path)
        http.cookies.clear()
        assert weight.status == 200, path
        assert weight.total < LIMIT_BYTES and weight.external == [], (path, weight)
