"""Who is signed in to the console, given to a route as its ``console`` parameter.

A route that takes ``console: SignedIn`` is served only to a signed-in user (a live session
cookie); anyone else is sent to the sign-in page (303, with the page they asked for in
``next``). On a POST, PUT, PATCH or DELETE the session's CSRF token must come too, as the form's
hidden ``csrf`` field (or an ``X-CSRF-Token`` header); without it nothing is done: 403
``console.csrf_failed``. A route names the roles it serves in its ``opt``
(``opt=for_roles("collective_clerk")``); a user of another role gets 403 ``console.forbidden``,
and so does a user asking for a path whose ``org_id`` is not their own organisation: a user
acts only for their own organisation.

Refusals are pages for a browser and RFC 9457 problems for a client that does not take HTML
(``CONSOLE_EXCEPTION_HANDLERS``); a router or controller of console pages registers both
``CONSOLE_DEPENDENCIES`` and those handlers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect

from api.console.render import page
from api.console.sessions import CSRF_FIELD, SESSION_COOKIE, ConsoleSession, resume_session, same_token
from api.http.dependencies import Db, Service
from api.http.head import sent_method
from api.http.problems import PROBLEM_MEDIA_TYPE, ApiProblem, problem
from ledger.errors import Category

SignedIn = NamedDependency[ConsoleSession]
LOGIN_PATH = "/console/login"
HOME_PATH = "/console/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES_OPT = "console_roles"


class NotSignedIn(Exception):
    """No live session: the visitor is sent to sign in."""


class ConsoleRefusal(ApiProblem):
    """A console request refused (403: a missing or wrong CSRF token, another role's or
    another organisation's page)."""

    def __init__(self, code: str, detail: str, category: Category = Category.FORBIDDEN) -> None:
        super().__init__(category, code, detail)


def for_roles(*roles: str) -> dict[str, Any]:
    """A route's ``opt`` naming the roles it serves."""
    return {ROLES_OPT: frozenset(roles)}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of this site, else the home."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME_PATH


def wants_html(request: Request[Any, Any, Any]) -> bool:
    return request.accept.best_match(["text/html", PROBLEM_MEDIA_TYPE, "application/json"]) == "text/html"


async def submitted_csrf(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def provide_console(request: Request[Any, Any, Any], service: Service, db: Db) -> ConsoleSession:
    try:
        return await _signed_in(request, service, db)
    except BaseException:
        # As ``provide_caller``: Litestar leaves ``provide_db`` suspended when a later
        # dependency raises; a refused request gives its connection back now.
        with contextlib.suppress(Exception):
            await db.close()
        raise


async def _signed_in(request: Request[Any, Any, Any], service: Service, db: Db) -> ConsoleSession:
    session = await resume_session(db, request.cookies.get(SESSION_COOKIE), service.appender.clock())
    if session is None:
        raise NotSignedIn
    if sent_method(request.scope) in UNSAFE_METHODS and not same_token(
        await submitted_csrf(request), session.csrf_token
    ):
        raise ConsoleRefusal("console.csrf_failed", "the form's CSRF token is missing or not this session's")
    roles = request.route_handler.opt.get(ROLES_OPT)
    if roles is not None and session.user.role not in roles:
        raise ConsoleRefusal("console.forbidden", f"this page is not for the role {session.user.role}")
    org = request.path_params.get("org_id")
    if org is not None and org != session.user.org_id:
        raise ConsoleRefusal("console.forbidden", "a user acts only for their own organisation")
    return session


def on_not_signed_in(request: Request[Any, Any, Any], _: NotSignedIn) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{LOGIN_PATH}?next={quote(safe_next(target), safe='/')}", status_code=303)


def on_console_refusal(request: Request[Any, Any, Any], exc: ConsoleRefusal) -> Response[Any]:
    body = problem(exc.category, exc.code, exc.detail)
    if wants_html(request):
        return page(request, "refused.html", status_code=body.status, code=exc.code)
    return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE)


CONSOLE_DEPENDENCIES: Mapping[str, Provide] = {"console": Provide(provide_console)}
CONSOLE_EXCEPTION_HANDLERS: Mapping[type[Exception], Any] = {
    NotSignedIn: on_not_signed_in,
    ConsoleRefusal: on_console_refusal,
}
