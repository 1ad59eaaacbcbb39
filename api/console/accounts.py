"""Console users: who may sign in to the console, for which organisation, in which role.

A user belongs to one registered organisation, in a role its type fits (``ROLE_ORG_TYPES``),
and acts only for it. ``id`` is the pseudonymous user id (a lowercase UUID) that the entries a
user makes name; ``username`` is a login name (``^[a-z0-9][a-z0-9._-]{2,31}$``), never a
person's name. Users live in the service table ``console_users``, beside the log, not on it.

Sign-in: five wrong passwords in a row lock the user for fifteen minutes (a right password is
refused too while the lock lasts); a right one resets the count. A disabled or locked user, and
a user nobody registered, get the same answer as a wrong password, after the same work.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.passwords import hash_password, password_problem, unknown_user_hash, verify_password
from ledger.errors import Category, Rejection

ROLE_ORG_TYPES: dict[str, frozenset[str]] = {
    "collective_clerk": frozenset({"village_collective"}),
    "township_officer": frozenset({"township"}),
    "exchange_staff": frozenset({"exchange_center"}),
    "county_officer": frozenset({"county", "housing_authority"}),
    "developer": frozenset({"developer"}),
    "auditor": frozenset({"county"}),  # read-only pages
}
ROLES = tuple(ROLE_ORG_TYPES)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

_COLUMNS = "id, org_id, role, username, disabled, locked_until, created_at"
_INSERT = text(
    "INSERT INTO console_users (id, org_id, role, username, password_hash, created_at) "
    "VALUES (:id, :org, :role, :username, :hash, :at)"
)


@dataclass(frozen=True)
class ConsoleUser:
    """A console user as the console shows it (never the password hash)."""

    id: str
    org_id: str
    role: str
    username: str
    disabled: bool
    locked_until: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ConsoleUser:
        return cls(row.id, row.org_id, row.role, row.username, row.disabled, row.locked_until, row.created_at)


class AccountRefused(Rejection):
    """A user that cannot be added or changed as asked; ``code`` says why."""

    def __init__(self, code: str, message: str, category: Category = Category.INVALID) -> None:
        super().__init__(code, message, category=category)


def check_username(username: str) -> None:
    if not USERNAME.match(username):
        raise AccountRefused(
            "console.username_invalid",
            "a username is 3 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
        )


async def add_user(
    conn: AsyncConnection, org_id: str, role: str, username: str, password: str, now: datetime
) -> ConsoleUser:
    """Add a user of ``org_id`` in ``role`` (committed); refused when the organisation is not
    registered, its type does not fit the role, the username is taken or malformed, or the
    password too short or too long."""
    check_username(username)
    if role not in ROLE_ORG_TYPES:
        raise AccountRefused("console.role_unknown", f"role {role!r} is not one of {', '.join(ROLES)}")
    org_type = (await conn.execute(text("SELECT type FROM orgs WHERE id = :o"), {"o": org_id})).scalar()
    if org_type is None:
        raise AccountRefused(
            "console.org_unknown", f"organisation {org_id} is not registered", Category.NOT_FOUND
        )
    if org_type not in ROLE_ORG_TYPES[role]:
        fits = " or ".join(sorted(ROLE_ORG_TYPES[role]))
        raise AccountRefused(
            "console.role_mismatch", f"a {role} belongs to a {fits}; {org_id} is a {org_type}"
        )
    problem = password_problem(password)
    if problem:
        raise AccountRefused("console.password_invalid", problem)
    user_id = str(uuid.uuid4())
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        await conn.execute(
            _INSERT,
            {
                "id": user_id,
                "org": org_id,
                "role": role,
                "username": username,
                "hash": password_hash,
                "at": now,
            },
        )
        await conn.commit()
    except IntegrityError as e:
        await conn.rollback()
        raise AccountRefused(
            "console.username_taken", f"the username {username} is taken", Category.CONFLICT
        ) from e
    return ConsoleUser(user_id, org_id, role, username, False, None, now)


async def list_users(conn: AsyncConnection, org_id: str | None = None) -> list[ConsoleUser]:
    """Every user (of ``org_id`` when given), by organisation and username."""
    where = "WHERE org_id = :org " if org_id else ""
    rows = await conn.execute(
        text(f"SELECT {_COLUMNS} FROM console_users {where}ORDER BY org_id, username"), {"org": org_id}
    )
    return [ConsoleUser.from_row(r) for r in rows]


async def disable_user(conn: AsyncConnection, username: str) -> ConsoleUser:
    """Disable ``username`` (committed) and end its sessions: it signs in no more."""
    row = (
        await conn.execute(
            text(f"UPDATE console_users SET disabled = true WHERE username = :u RETURNING {_COLUMNS}"),
            {"u": username},
        )
    ).one_or_none()
    if row is None:
        await conn.rollback()
        raise AccountRefused("console.user_unknown", f"no user {username}", Category.NOT_FOUND)
    await conn.execute(text("DELETE FROM console_sessions WHERE user_id = :id"), {"id": row.id})
    await conn.commit()
    return ConsoleUser.from_row(row)


async def authenticate(
    conn: AsyncConnection, username: str, password: str, now: datetime
) -> ConsoleUser | None:
    """The user whose username and password these are, or None (committed: the failure count
    and lock are kept). The row is locked while it is checked, so that concurrent attempts
    are counted one by one; every path checks one Argon2id hash."""
    unknown = unknown_user_hash()  # made at the first sign-in, whoever signs in: no tell
    row = (
        await conn.execute(
            text(f"SELECT {_COLUMNS}, password_hash, failed_attempts FROM console_users "
                 "WHERE username = :u FOR UPDATE"),
            {"u": username},
        )
    ).one_or_none()  # fmt: skip
    stored = row.password_hash if row is not None else unknown
    right = await asyncio.to_thread(verify_password, password, stored)
    if row is None or row.disabled:
        await conn.rollback()
        return None
    if row.locked_until is not None and row.locked_until > now:
        await conn.rollback()  # attempts while locked neither count nor lengthen the lock
        return None
    if right:
        await conn.execute(
            text("UPDATE console_users SET failed_attempts = 0, locked_until = NULL WHERE id = :id"),
            {"id": row.id},
        )
        await conn.commit()
        return ConsoleUser.from_row(row)
    failures = row.failed_attempts + 1
    locked = now + LOCK_FOR if failures >= MAX_FAILURES else None
    await conn.execute(
        text("UPDATE console_users SET failed_attempts = :n, locked_until = :until WHERE id = :id"),
        {"n": 0 if locked else failures, "until": locked, "id": row.id},
    )
    await conn.commit()
    return None
