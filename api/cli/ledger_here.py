"""Whether the folder a command runs in holds a ledger, found out before anything is started.

A command that needs a ledger (``serve``, ``export``, ``keys`` into the home) checks first and
creates nothing when there is none: starting the embedded PostgreSQL would make a 39 MB data
folder, and the service would fail its start with a long traceback. The signs of a ledger:

- the operator key file ``init`` writes (always, so that ``serve`` can sign checkpoints);
- without ``DATABASE_URL``, the embedded database ``init`` made (``pgdata/PG_VERSION``), looked
  at as files: the embedded server is not started to find out;
- with ``DATABASE_URL``, the ledger's row in ``ledger_meta`` on that database (the row of the
  home's origin, when the home names one: the database may hold several ledgers).
"""

from __future__ import annotations

import asyncio
import os

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from api.home import Home
from ledger.errors import Category, LedgerError, Unavailable

TO_CREATE = "run `rural-ledger init --origin NAME` to create one, or `rural-ledger demo` for a seeded demo"


class NoLedger(LedgerError):
    """The folder (or the database) a command was given holds no ledger."""

    category = Category.NOT_FOUND


def require_home(home: Home) -> None:
    """Raise ``NoLedger`` unless ``home`` holds a ledger's operator key (what ``init`` writes
    first), for commands that write into the home and need no database (``keys``)."""
    if not home.operator_key_file.exists():
        raise NoLedger(f"no ledger in {home.root.absolute()}: {TO_CREATE}")


def require_ledger(home: Home, *, operator_key: bool = True) -> None:
    """Raise ``NoLedger`` unless ``home`` (and ``DATABASE_URL``'s database, when set) holds a
    ledger; ``operator_key=False`` for commands that only read the database (``export``)."""
    folder = home.root.absolute()
    url = os.environ.get("DATABASE_URL")
    if operator_key or not url:
        require_home(home)
    if not url:
        if not (home.root / "pgdata" / "PG_VERSION").exists():
            raise NoLedger(
                f"no ledger database in {folder / 'pgdata'} (and DATABASE_URL is not set): {TO_CREATE}"
            )
        return
    asyncio.run(_require_ledger_database(url, home.origin()))


def shown(url: str) -> str:
    """``DATABASE_URL`` as a message shows it: without the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # an unparseable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":..."


async def _require_ledger_database(url: str, origin: str | None) -> None:
    import asyncpg  # here: the command line starts without the driver

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, ValueError) as e:
        raise Unavailable(f"cannot open the database at DATABASE_URL ({shown(url)}): {e}") from e
    try:
        present = await conn.fetchval("SELECT to_regclass('ledger_meta') IS NOT NULL")
        origins = await conn.fetch("SELECT origin FROM ledger_meta") if present else []
    except asyncpg.PostgresError as e:
        raise Unavailable(f"cannot read the database at DATABASE_URL ({shown(url)}): {e}") from e
    finally:
        await conn.close()
    if not origins:
        raise NoLedger(f"the database at DATABASE_URL ({shown(url)}) holds no ledger: {TO_CREATE}")
    if origin is not None and origin not in {r["origin"] for r in origins}:
        raise NoLedger(
            f"the database at DATABASE_URL ({shown(url)}) holds {len(origins)} ledger(s), not "
            f"{origin!r}, the one the home's operator.pub names: that ledger was made on another database"
        )
