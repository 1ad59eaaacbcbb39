"""``rural-ledger users``: who may sign in to the console.

- ``users add --org ORG --role ROLE --username NAME``: a user of a registered organisation, in
  a role its type fits. The password comes from ``--password-file FILE`` (its first line) or is
  asked for twice at the terminal; never on the command line, where the process list and the
  shell's history would show it. Prints the user's pseudonymous id, the one their entries name.
- ``users list [--org ORG]``: every user (of ORG), with the state of their account.
- ``users disable NAME``: the user signs in no more, and their open sessions end.
- ``users keys ...``: the organisation keys held for console users (``api.cli.console_keys``).

They work on the ledger's database directly (as ``init`` does), not through the service: the
users are the service's own table, not entries of the log.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from api.cli.ledger_here import require_ledger
from api.console.accounts import ROLES, ConsoleUser, add_user, check_username, disable_user, list_users
from api.home import Home
from api.service.database import NO_LEDGER, make_engine, resolve_url
from api.service.migrate import migrate
from ledger.errors import Category, Rejection

T = TypeVar("T")


class PasswordNotGiven(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("console.password_invalid", message, category=Category.INVALID)


def read_password(args: argparse.Namespace) -> str:
    """The new user's password: the file's first line, or typed twice at the terminal."""
    if args.password_file:
        try:
            lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise PasswordNotGiven(f"cannot read --password-file {args.password_file}: {e}") from e
        return lines[0] if lines else ""
    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("the same password again: ") != first:
        raise PasswordNotGiven("the two passwords differ; nothing was added")
    return first


def on_database(home: Home, act: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``act`` on a connection to the ledger's database, its migrations applied first (the
    users' table may be newer than the last ``serve``)."""
    require_ledger(home)

    async def run() -> T:
        url = resolve_url(home.root)
        owner = make_engine(url, service_role=False, pool_size=1, ledger=NO_LEDGER)
        try:
            await migrate(owner)
        finally:
            await owner.dispose()
        engine = make_engine(url, pool_size=1, ledger=home.origin())
        try:
            async with engine.connect() as conn:
                return await act(conn)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def state(user: ConsoleUser, now: datetime) -> str:
    if user.disabled:
        return "disabled"
    if user.locked_until is not None and user.locked_until > now:
        return f"locked until {user.locked_until.isoformat(timespec='seconds')}"
    return "active"


def cmd_users_add(args: argparse.Namespace) -> int:
    check_username(args.username)  # before the password is asked for
    password = read_password(args)
    home = Home.from_env(args.home)
    user = on_database(
        home, lambda conn: add_user(conn, args.org, args.role, args.username, password, datetime.now(UTC))
    )
    print(f"user        {user.username} ({user.role} of {user.org_id})")
    print(f"user id     {user.id} (what the entries this user makes name)")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    users = on_database(Home.from_env(args.home), lambda conn: list_users(conn, args.org))
    now = datetime.now(UTC)
    print(f"{'username':<32}  {'organisation':<24} {'role':<17} {'user id':<36}  state")
    for u in users:
        print(f"{u.username:<32}  {u.org_id:<24} {u.role:<17} {u.id:<36}  {state(u, now)}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    user = on_database(Home.from_env(args.home), lambda conn: disable_user(conn, args.username))
    print(f"disabled    {user.username} ({user.role} of {user.org_id}); their sessions are ended")
    return 0


def add_users_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("users", help="console users: `users add|list|disable`, `users keys ...`")
    acts = p.add_subparsers(dest="users_command", required=True)
    # No abbreviated options: ``--password SECRET`` must not pass for ``--password-file``.
    add = acts.add_parser("add", help="add a console user of an organisation, in a role", allow_abbrev=False)
    add.add_argument("--org", required=True, help="the registered organisation the user acts for")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--username", required=True, help="a login name (3-32 of a-z 0-9 . _ -), not a name")
    add.add_argument(
        "--password-file", metavar="FILE", help="read the password from FILE's first line (else: asked twice)"
    )
    add.set_defaults(fn=cmd_users_add)
    listing = acts.add_parser("list", help="the console users and the state of their accounts")
    listing.add_argument("--org", help="only this organisation's")
    listing.set_defaults(fn=cmd_users_list)
    disable = acts.add_parser("disable", help="a user signs in no more; their sessions end")
    disable.add_argument("username", metavar="NAME")
    disable.set_defaults(fn=cmd_users_disable)
    for q in (add, listing, disable):
        q.add_argument("--home", default=argparse.SUPPRESS, help="the ledger's folder")
    try:
        from api.cli.console_keys import add_keys_parser
    except ImportError:  # the held keys' commands are not in this build
        return
    add_keys_parser(acts)
