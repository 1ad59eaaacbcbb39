"""Where the database is: ``DATABASE_URL`` when set, otherwise an embedded PostgreSQL
(``pgserver``) in the ledger's home folder. Same SQL either way."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ledger.ddl import SERVICE_ROLE

_embedded: dict[Path, Any] = {}  # pgserver handles kept alive for the life of the process


def asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, found {url.split(':')[0]}:")


def _forget_dead_holders(pgdata: Path) -> None:
    """A holder killed with SIGKILL stays in pgserver's list and the server would never stop;
    drop the PIDs that no longer run."""
    pids_file = pgdata / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError):
        pids = json.loads(pids_file.read_text())
        alive = [p for p in pids if _running(int(p))]
        if alive != pids:
            pids_file.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def embedded_url(home: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``home/pgdata``."""
    import pgserver  # imported here: only the embedded path needs it

    pgdata = (home / "pgdata").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    if pgdata not in _embedded:
        _forget_dead_holders(pgdata)
        _embedded[pgdata] = pgserver.get_server(pgdata)
    return asyncpg_url(_embedded[pgdata].get_uri())


def resolve_url(home: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    return asyncpg_url(url) if url else embedded_url(home)


def make_engine(url: str, *, service_role: bool = True, pool_size: int = 10) -> AsyncEngine:
    """An engine whose connections act as the service role when it exists, so that even a bug
    in the service cannot UPDATE or DELETE the log."""
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
    if service_role:

        @event.listens_for(engine.sync_engine, "connect")
        def _act_as_service(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(
                "SELECT 1 FROM pg_roles r WHERE r.rolname = $1 AND pg_has_role(r.oid, 'MEMBER')",
                (SERVICE_ROLE,),
            )
            if cur.fetchone():
                cur.execute(f"SET ROLE {SERVICE_ROLE}")
            cur.close()
            # The driver runs these in a transaction of its own, and SET ROLE is transactional:
            # commit it, or the connection's first rollback would leave it as the owner.
            dbapi_conn.commit()

    return engine
