"""Console sessions: a random token in the ``rl_session`` cookie (Secure, HttpOnly,
SameSite=Lax, Path=/), of which the table ``console_sessions`` keeps only the SHA-256 (hex).

A session lasts at most eight hours from sign-in and ends after thirty minutes unused; it ends
at once on sign-out, and when its user is disabled. Each session has its own CSRF token, which
every console form carries in its hidden ``csrf`` field: a POST under ``/console`` without the
session's token is refused (``console.csrf_failed``) before anything is done. The sign-in form,
before any session, carries the token of a short-lived ``rl_login_csrf`` cookie instead.

Times are the ledger's clock's (``service.appender.clock``), the one that dates its records.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar.datastructures import Cookie
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.accounts import ConsoleUser

SESSION_COOKIE = "rl_session"
LOGIN_CSRF_COOKIE = "rl_login_csrf"
CSRF_FIELD = "csrf"
ABSOLUTE = timedelta(hours=8)
IDLE = timedelta(minutes=30)
LOGIN_FORM_LASTS = timedelta(hours=1)

_USER_COLUMNS = "u.id, u.org_id, u.role, u.username, u.disabled, u.locked_until, u.created_at"


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in user's session: who, and the CSRF token of their forms."""

    user: ConsoleUser
    csrf_token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def open_session(conn: AsyncConnection, user: ConsoleUser, now: datetime) -> tuple[str, ConsoleSession]:
    """A new session of ``user`` (committed): the cookie's token and the session."""
    token = secrets.token_urlsafe(32)
    session = ConsoleSession(user, secrets.token_urlsafe(32), now + ABSOLUTE)
    await conn.execute(
        text(
            "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, last_seen, "
            "expires_at) VALUES (:h, :u, :c, :now, :now, :exp)"
        ),
        {
            "h": token_hash(token),
            "u": user.id,
            "c": session.csrf_token,
            "now": now,
            "exp": session.expires_at,
        },
    )
    await conn.commit()
    return token, session


async def resume_session(conn: AsyncConnection, token: str | None, now: datetime) -> ConsoleSession | None:
    """The live session whose cookie token this is, marked as used now (committed); None
    when there is none, it has expired (past its end or idle too long; then it is deleted)
    or its user is disabled."""
    if not token or len(token) > 128:
        return None
    digest = token_hash(token)
    row = (
        await conn.execute(
            text(
                f"SELECT {_USER_COLUMNS}, s.csrf_token, s.last_seen, s.expires_at FROM console_sessions s "
                "JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = :h"
            ),
            {"h": digest},
        )
    ).one_or_none()
    if row is None:
        await conn.rollback()
        return None
    if row.disabled or now >= row.expires_at or now >= row.last_seen + IDLE:
        await conn.execute(text("DELETE FROM console_sessions WHERE token_hash = :h"), {"h": digest})
        await conn.commit()
        return None
    await conn.execute(
        text("UPDATE console_sessions SET last_seen = :now WHERE token_hash = :h"), {"now": now, "h": digest}
    )
    await conn.commit()
    return ConsoleSession(ConsoleUser.from_row(row), row.csrf_token, row.expires_at)


async def close_session(conn: AsyncConnection, token: str | None, now: datetime) -> None:
    """End the session of this token (committed), and forget every expired one."""
    if token:
        await conn.execute(
            text("DELETE FROM console_sessions WHERE token_hash = :h"), {"h": token_hash(token)}
        )
    await conn.execute(
        text("DELETE FROM console_sessions WHERE expires_at <= :now OR last_seen <= :idle"),
        {"now": now, "idle": now - IDLE},
    )
    await conn.commit()


def session_cookie(token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=int(ABSOLUTE.total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )


def cleared_session_cookie() -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value="", max_age=0, path="/", secure=True, httponly=True, samesite="lax"
    )


def login_csrf_cookie(token: str) -> Cookie:
    """The sign-in form's CSRF cookie (double submit: the form carries the same token)."""
    return Cookie(
        key=LOGIN_CSRF_COOKIE,
        value=token,
        max_age=int(LOGIN_FORM_LASTS.total_seconds()),
        path="/console/login",
        secure=True,
        httponly=True,
        samesite="strict",
    )
