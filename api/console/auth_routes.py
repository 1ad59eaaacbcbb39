"""The console's sign-in pages: ``GET``/``POST /console/login``, ``POST /console/logout``,
the home ``GET /console/`` and an organisation's home ``GET /console/orgs/{org_id}`` (its
own users only).

A failed sign-in (wrong password, unknown, disabled or locked user: one answer for all) shows
the form again with what was typed, but the password, and the reason in plain words; a client
that does not take HTML gets a 401 problem ``console.sign_in_failed`` instead.
"""

from __future__ import annotations

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
from api.http.routes.paging import Id
from ledger.errors import Category

CONSOLE: dict[str, Any] = {
    "include_in_schema": False,
    "dependencies": CONSOLE_DEPENDENCIES,
    "exception_handlers": CONSOLE_EXCEPTION_HANDLERS,
}
PRIVATE = {"Cache-Control": "no-store"}  # a signed-in page is never kept by a cache
SIGN_IN_FAILED = "the username or password is wrong, or the account is disabled or locked for now"


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
    # A malformed username is looked up all the same: it finds nobody after the same work.
    user = await authenticate(db, username if USERNAME.match(username) else "", password, now)
    if user is None:
        if not wants_html(request):
            body = problem(Category.UNAUTHORISED, "console.sign_in_failed", SIGN_IN_FAILED)
            return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE)
        return page(
            request,
            "login.html",
            status_code=401,
            headers=PRIVATE,
            login_csrf=expected,
            username=username,
            next=target,
            error="login.failed",
        )
    # A new token at every sign-in: a session id planted before it is worth nothing after.
    await close_session(db, request.cookies.get(SESSION_COOKIE), now)
    token, _ = await open_session(db, user, now)
    gone = login_csrf_cookie("")
    gone.max_age = 0
    return Redirect(target, status_code=303, cookies=[session_cookie(token), gone])


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
