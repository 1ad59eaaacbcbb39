"""``rural-ledger users keys``: the organisation keys the console holds for its users.

- ``users keys init``: make the key-encryption key file (``RURAL_LEDGER_KEK_FILE``, default
  ``<home>/console.kek``, mode 0600); never replaces one.
- ``users keys import ORG --key FILE``: hold ORG's key file, sealed under the KEK. A key the
  ledger does not list yet is held but signs nothing until the ledger lists it (its ``key.added``
  or ``org.registered``): import first, then register, so that no crash leaves the ledger listing
  a key no one holds. A key the ledger lists for another organisation, or revoked, is refused.
- ``users keys list [--org ORG]``: the held keys, what the ledger lists each as, and which
  KEK sealed it; never a secret.
- ``users keys reseal --previous-kek FILE ...``: after the KEK is rotated (a new one configured),
  reseal every row sealed under a previous KEK with the configured one, in one transaction;
  keep the previous KEK until ``list`` shows no row under it.

They work on the database directly (as ``init`` does), not through the service: the held keys
are the service's own table, not entries of the log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.ledger_here import require_home, require_ledger
from api.console.custody import (
    KEK_ENV,
    Custody,
    CustodyError,
    KeyEncryptionKey,
    configured_kek,
    create_kek_file,
    held_keys,
    kek_file,
)
from api.home import Home
from api.service.database import NO_LEDGER, make_engine, resolve_url
from api.service.migrate import migrate
from ledger.signing import KeyFile


def add_keys_parser(users: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``keys`` and its subcommands under ``rural-ledger users``."""
    keys = users.add_parser("keys", help="organisation keys held for console users: init, import, list")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    init = sub.add_parser("init", help="make the key-encryption key file (mode 0600)")
    init.set_defaults(fn=cmd_keys_init)
    imp = sub.add_parser("import", help="hold an organisation's key file for its console users")
    imp.add_argument("org", metavar="ORG")
    imp.add_argument("--key", required=True, metavar="FILE", help="the organisation's key file")
    imp.set_defaults(fn=cmd_keys_import)
    listing = sub.add_parser("list", help="the held keys and what the ledger lists each as")
    listing.add_argument("--org", help="only this organisation's")
    listing.set_defaults(fn=cmd_keys_list)
    reseal = sub.add_parser("reseal", help="reseal the held keys under the configured KEK (after a rotation)")
    reseal.add_argument(
        "--previous-kek",
        action="append",
        required=True,
        metavar="FILE",
        help="a file holding a previous KEK (base64); repeatable",
    )
    reseal.set_defaults(fn=cmd_keys_reseal)
    for p in (init, imp, listing, reseal):
        p.add_argument("--home", default=argparse.SUPPRESS, help="the ledger's folder")


def cmd_keys_init(args: argparse.Namespace) -> int:
    home = Home.from_env(args.home)
    if os.environ.get(KEK_ENV):
        print(
            f"rural-ledger users keys init: {KEK_ENV} is set: the KEK comes from it, no file made",
            file=sys.stderr,
        )
        return 2
    path = kek_file(home)
    if path.parent == home.root:
        require_home(home)
    try:
        kek = create_kek_file(path)
    except FileExistsError as e:
        print(f"rural-ledger users keys init: {e}", file=sys.stderr)
        return 2
    print(f"KEK file    {path} (mode 0600; keep a copy apart from the database backups)")
    print(f"KEK id      {kek.kek_id}")
    return 0


def cmd_keys_import(args: argparse.Namespace) -> int:
    home = Home.from_env(args.home)
    require_ledger(home)
    key = KeyFile.read(Path(args.key))
    custody = Custody(configured_kek(home))

    async def hold() -> str:
        engine = await _engine(home)
        try:
            async with engine.begin() as conn:
                await custody.store(conn, args.org, key, datetime.now(UTC))
                [held] = [h for h in await held_keys(conn, args.org) if h.key_id == key.key.key_id]
                return held.ledger
        finally:
            await engine.dispose()

    try:
        listed = asyncio.run(hold())
    except CustodyError as e:
        print(f"rural-ledger users keys import: refused: {e.code}: {e.message}", file=sys.stderr)
        return 1
    print(f"held        key {key.key.key_id} of {args.org}, sealed under KEK {custody.kek.kek_id}")
    if listed == "current":
        print(f"ledger      lists it as {args.org}'s current key: console users of {args.org} sign with it")
    else:
        print(
            f"ledger      does not list it yet: it signs nothing until key.added for {args.org} is recorded"
        )
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    home = Home.from_env(args.home)
    require_ledger(home)
    try:
        current = configured_kek(home).kek_id
    except CustodyError:
        current = None  # listing shows no secret and needs no KEK

    async def listing() -> list[str]:
        engine = await _engine(home)
        try:
            async with engine.connect() as conn:
                held = await held_keys(conn, args.org)
        finally:
            await engine.dispose()
        return [
            f"{h.key_id}  {h.org_id:<24} {h.ledger:<11} {h.kek_id}"
            f"{'' if current in (None, h.kek_id) else ' (another KEK)'}  {h.added_at.isoformat()}"
            for h in held
        ]

    lines = asyncio.run(listing())
    print(f"{'key id':<16}  {'organisation':<24} {'ledger':<11} {'sealed by':<16}  held since")
    for line in lines:
        print(line)
    return 0


def cmd_keys_reseal(args: argparse.Namespace) -> int:
    home = Home.from_env(args.home)
    require_ledger(home)
    previous = []
    for name in args.previous_kek:
        try:
            previous.append(KeyEncryptionKey.from_text(Path(name).read_text(encoding="ascii"), source=name))
        except (OSError, UnicodeDecodeError) as e:
            print(f"rural-ledger users keys reseal: cannot read {name}: {e}", file=sys.stderr)
            return 2
    custody = Custody(configured_kek(home), tuple(previous))

    async def move() -> int:
        engine = await _engine(home)
        try:
            async with engine.begin() as conn:  # every row or none
                return await custody.reseal(conn)
        finally:
            await engine.dispose()

    moved = asyncio.run(move())
    print(f"resealed    {moved} held key(s) under KEK {custody.kek.kek_id}")
    return 0


async def _engine(home: Home) -> AsyncEngine:
    """The service's engine on the ledger's database, its migrations applied (the held keys'
    table may be newer than the last ``serve``)."""
    url = resolve_url(home.root)
    owner = make_engine(url, service_role=False, pool_size=1, ledger=NO_LEDGER)
    try:
        await migrate(owner)
    finally:
        await owner.dispose()
    return make_engine(url, pool_size=1, ledger=home.origin())
