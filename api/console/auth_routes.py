"""The console's sign-in pages: ``GET``/``POST /console/login``, ``POST /console/logout``,
the home ``GET /console/`` and an organisation's home ``GET /console/orgs/{org_id}`` (its
own users only).

A failed sign-in (wrong password, unknown, disabled or locked user: one answer for all) shows
the form again with what was typed, but the password, and the reason in plain words; a client
that does not take HTML gets a 401 problem ``console.sign_in_failed`` instead.

Failed sign-ins are also counted per client address (``RateLimits.sign_in_*``): past the
burst, that address's next attempts are answered 429 ``console.sign_in_limited`` with
``Retry-After`` before any password is checked, whichever usernames it tries, so one address
cannot walk through many users' five tries each. A successful sign-in costs nothing.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import text

from api.console.accounts import USERNAME, authenticate
from api.console.guard import (
    CONSOLE_DEPENDENCIES,
    CONSOLE_EXCEPTION_HANDLERS,
    HOME_PATH,
    LOGIN_PATH,
    ConsoleRefusal,
    SignedIn,
    safe_next,
    wants_html,
)
from api.console.render import page
from api.console.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    cleared_session_cookie,
    close_session,
    login_csrf_cookie,
    open_session,
    resume_session,
    same_token,
    session_cookie,
)
from api.http.dependencies import Db, Service
from api.http.problems import PROBLEM_MEDIA_TYPE, problem
from api.http.rate_limits import TokenBuckets
from api.http.routes.paging import Id
from ledger.errors import Category

CONSOLE: dict[str, Any] = {
    "include_in_schema": False,
    "dependencies": CONSOLE_DEPENDENCIES,
    "exception_handlers": CONSOLE_EXCEPTION_HANDLERS,
}
PRIVATE = {"Cache-Control": "no-store"}  # a signed-in page is never kept by a cache
SIGN_IN_FAILED = "the username or password is wrong, or the account is disabled or locked for now"
SIGN_IN_LIMITED = "too many failed sign-ins from this address: try again later"


def _form_text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


@get(LOGIN_PATH, **CONSOLE)
async def login_form(request: Request[Any, Any, Any], service: Service, db: Db) -> Response[Any]:
    """The sign-in form (or the home, for a user already signed in)."""
    if await resume_session(db, request.cookies.get(SESSION_COOKIE), service.appender.clock()):
        return Redirect(HOME_PATH, status_code=303)
    token = secrets.token_urlsafe(32)
    return page(
        request,
        "login.html",
        headers=PRIVATE,
        cookies=[login_csrf_cookie(token)],
        login_csrf=token,
        username="",
        next=safe_next(request.query_params.get("next")),
        error=None,
    )


@post(LOGIN_PATH, **CONSOLE)
async def sign_in(request: Request[Any, Any, Any], service: Service, db: Db) -> Response[Any]:
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not same_token(_form_text(form.get("csrf"), 128), expected):
        raise ConsoleRefusal("console.csrf_failed", "the sign-in form's CSRF token is missing or wrong")
    username = _form_text(form.get("username"), 64).strip().lower()
    password = _form_text(form.get("password"), 1024)
    target = safe_next(_form_text(form.get("next"), 512))
    now = service.appender.clock()
    failures: TokenBuckets = request.app.state.sign_in_failures
    address = request.client.host if request.client else "-"  # as the request limits name it
    if wait := failures.wait(address):
        return _refused(request, expected, username, target, 429, "console.sign_in_limited", wait)
    # A malformed username is looked up all the same: it finds nobody after the same work.
    user = await authenticate(db, username if USERNAME.match(username) else "", password, now)
    if user is None:
        failures.take(address, 1)
        return _refused(request, expected, username, target, 401, "console.sign_in_failed")
    # A new token at every sign-in: a session id planted before it is worth nothing after.
    await close_session(db, request.cookies.get(SESSION_COOKIE), now)
    token, _ = await open_session(db, user, now)
    gone = login_csrf_cookie("")
    gone.max_age = 0
    return Redirect(target, status_code=303, cookies=[session_cookie(token), gone])


def _refused(
    request: Request[Any, Any, Any],
    login_csrf: str,
    username: str,
    target: str,
    status: int,
    code: str,
    wait: float = 0.0,
) -> Response[Any]:
    """The sign-in form again with what was typed (but the password) and why, or for a client
    that does not take HTML the problem; a limited address is told when to try again."""
    headers = {**PRIVATE, **({"Retry-After": str(max(1, math.ceil(wait)))} if wait else {})}
    if not wants_html(request):
        limited = status == 429
        category = Category.RATE_LIMITED if limited else Category.UNAUTHORISED
        body = problem(category, code, SIGN_IN_LIMITED if limited else SIGN_IN_FAILED)
        return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)
    return page(
        request,
        "login.html",
        status_code=status,
        headers=headers,
        login_csrf=login_csrf,
        username=username,
        next=target,
        error="login.limited" if status == 429 else "login.failed",
        minutes=max(1, math.ceil(wait / 60)),
    )


@post("/console/logout", **CONSOLE)
async def sign_out(
    request: Request[Any, Any, Any], console: SignedIn, service: Service, db: Db
) -> Response[Any]:
    """End the session here and in the database: its cookie opens nothing afterwards."""
    await close_session(db, request.cookies.get(SESSION_COOKIE), service.appender.clock())
    return Redirect(LOGIN_PATH, status_code=303, cookies=[cleared_session_cookie()])


async def _org_home(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    row = (
        await db.execute(text("SELECT id, name, type FROM orgs WHERE id = :o"), {"o": console.user.org_id})
    ).one_or_none()
    await db.rollback()
    return page(request, "home.html", headers=PRIVATE, user=console.user, csrf=console.csrf_token, org=row)


@get(HOME_PATH, **CONSOLE)
async def console_home(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The signed-in user's home: their organisation and role."""
    return await _org_home(request, console, db)


@get("/console/orgs/{org_id:str}", **CONSOLE)
async def org_home(request: Request[Any, Any, Any], console: SignedIn, db: Db, org_id: Id) -> Response[Any]:
    """An organisation's home, for its own users only (the guard refuses the others)."""
    return await _org_home(request, console, db)


ROUTES: list[Any] = [login_form, sign_in, sign_out, console_home, org_home]
