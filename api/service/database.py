"""Where the database is: ``DATABASE_URL`` when set, otherwise an embedded PostgreSQL
(``pgserver``) in the ledger's home folder. Same SQL either way.

``DATABASE_URL`` may name several servers the libpq way, for a replicated cluster (docs/ha.md):
``postgresql://user@db1:5432,db2:5432,db3:5432/ledger?target_session_attrs=read-write`` connects
to whichever of them is the primary, so new connections follow the leader after a failover.
``RURAL_LEDGER_READ_URL``, when set, names the servers reads may be served from (a replica).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ledger.ddl import SERVICE_ROLE
from ledger.errors import Category, Rejection
from ledger.schema import LEDGER_SETTING
from ledger.self_check import SERVER_INFO_KEY

log = logging.getLogger("rural_ledger.database")
READ_URL_VARIABLE = "RURAL_LEDGER_READ_URL"
HOST_TIMEOUT_SECONDS = 5.0  # per server of a multi-host URL, unless its connect_timeout says
# What tells one server (or one life of it) from another: a promoted replica, or a primary
# restarted after a crash, gives a new value, and the appender re-runs the self-check.
SERVER_IDENTITY_SQL = (
    "SELECT s.system_identifier::text, pg_postmaster_start_time()::text, host(inet_server_addr()),"
    " inet_server_port(), CASE WHEN pg_is_in_recovery() THEN NULL"
    " ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END FROM pg_control_system() s"
)

_embedded: dict[Path, Any] = {}  # pgserver handles kept alive for the life of the process


def asyncpg_url(url: str) -> str:
    """``url`` for SQLAlchemy's asyncpg dialect. A libpq multi-host URL (``h1:p1,h2:p2`` in
    place of one host) becomes the dialect's form, one ``host=h:p`` query item per server
    (each with its port, 5432 unless given); ``target_session_attrs`` and the rest pass on."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return _multi_host("postgresql+asyncpg://" + url[len(prefix) :])
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, found {url.split(':')[0]}:")


def _multi_host(url: str) -> str:
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return url
    servers = []
    for server in hosts.split(","):
        host, colon, port = server.rpartition(":") if not server.endswith("]") else (server, "", "")
        if not colon:
            host, port = server, "5432"
        if not host or not port.isdigit():
            raise ValueError(f"DATABASE_URL names a server without a host or with a bad port: {server!r}")
        servers.append(("host", f"{host}:{port}"))
    query = servers + parse_qsl(parts.query, keep_blank_values=True)
    netloc = f"{userinfo}@" if userinfo else ""
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe=":/[]"), parts.fragment))


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


def read_url() -> str | None:
    """Where reads may be served from (``RURAL_LEDGER_READ_URL``: a replica, or several
    with ``target_session_attrs=prefer-standby``); None: from the primary, like writes."""
    url = os.environ.get(READ_URL_VARIABLE)
    return asyncpg_url(url) if url else None


async def one_host_at_a_time(
    *args: Any, host: list[str], port: list[int], timeout: float, target_session_attrs: str = "any", **kw: Any
) -> Any:
    """asyncpg's connect over the servers of a multi-host URL, each given ``timeout`` of its
    own, as libpq's ``connect_timeout`` is: asyncpg's own timeout covers all of them at once,
    so a primary that went down with its machine (no refusal, no answer) would use it all and
    the next server would never be tried. ``prefer-standby`` tries every server as a standby
    first, then any."""
    import asyncpg  # the driver, here as SQLAlchemy's dialect imports it

    passes = ["standby", "any"] if target_session_attrs == "prefer-standby" else [target_session_attrs]
    last: BaseException | None = None
    for attrs in passes:
        for h, p in zip(host, port, strict=True):
            try:
                return await asyncpg.connect(
                    *args, host=h, port=p, timeout=timeout, target_session_attrs=attrs, **kw
                )
            except (
                OSError,
                TimeoutError,
                asyncpg.exceptions.PostgresConnectionError,
                asyncpg.exceptions.CannotConnectNowError,
                asyncpg.exceptions.TargetServerAttributeNotMatched,
            ) as e:
                last = e
    assert last is not None
    raise last


def _seconds(value: str | tuple[str, ...]) -> float:
    text = value if isinstance(value, str) else value[-1]
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise ValueError(f"connect_timeout must be a number of seconds in (0, 3600], found {text!r}")
    return seconds


def make_read_engine(url: str, ledger: str | None = None) -> AsyncEngine:
    """The read replica's engine (``RURAL_LEDGER_READ_URL``): always with a connect timeout,
    ``HOST_TIMEOUT_SECONDS`` unless the URL's ``connect_timeout`` says, one host or several,
    so that a replica that does not answer holds a read for seconds, not asyncpg's minute,
    before the primary serves it."""
    return make_engine(url, connect_timeout=HOST_TIMEOUT_SECONDS, ledger=ledger)


NO_LEDGER = ""  # ``make_engine``'s ``ledger`` for connections of no ledger: migrations, adding one


class LedgerUnknown(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("ledger.unknown", message, category=Category.NOT_FOUND)


def make_engine(
    url: str,
    *,
    service_role: bool = True,
    pool_size: int = 10,
    connect_timeout: float | None = None,
    ledger: str | None = None,
) -> AsyncEngine:
    """An engine for one ledger of the database: ``ledger`` names its origin, None the
    database's only one (or none, while it holds none). Each connection is opened for that
    ledger (``rural_ledger.ledger``, ``ledger.schema.LEDGER_SETTING``), so its new rows are
    that ledger's and, acting as the service role, it can read and write no other's. The
    service role, when it exists, is taken so that even a bug in the service cannot UPDATE or
    DELETE the log. Each connection notes which server it reached in its ``info``
    (``SERVER_INFO_KEY``), so the appender can tell a failover. ``connect_timeout`` (seconds)
    applies unless the URL's own ``connect_timeout`` says."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" in parsed.query:  # libpq's name, in seconds; asyncpg's is ``timeout``
        connect_args["timeout"] = _seconds(parsed.query["connect_timeout"])
        parsed = parsed.difference_update_query(["connect_timeout"])
    if connect_timeout is not None:
        connect_args.setdefault("timeout", connect_timeout)
    hosts = parsed.query.get("host")
    if isinstance(hosts, tuple) and len(hosts) > 1:
        connect_args["async_creator_fn"] = one_host_at_a_time
        connect_args.setdefault("timeout", HOST_TIMEOUT_SECONDS)
    engine = create_async_engine(
        parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, connect_args=connect_args
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _note_server(dbapi_conn: Any, record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(SERVER_IDENTITY_SQL)
            record.info[SERVER_INFO_KEY] = "/".join(str(v) for v in cur.fetchone())
        except Exception as e:  # a server that will not say (a restricted function): no re-check
            log.warning("cannot tell which server a connection reached (%s)", e.__class__.__name__)
            dbapi_conn.rollback()
        finally:
            cur.close()
        dbapi_conn.commit()

    @event.listens_for(engine.sync_engine, "connect")
    def _open_for_ledger(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            if service_role:
                cur.execute(
                    "SELECT 1 FROM pg_roles r WHERE r.rolname = $1 AND pg_has_role(r.oid, 'MEMBER')",
                    (SERVICE_ROLE,),
                )
                if cur.fetchone():
                    cur.execute(f"SET ROLE {SERVICE_ROLE}")
            number = _ledger_number(cur, ledger)
            if number is not None:
                cur.execute("SELECT set_config($1, $2, false)", (LEDGER_SETTING, str(number)))
        finally:
            cur.close()
        # The driver runs these in a transaction of its own, and SET ROLE and set_config are
        # transactional: commit them, or the connection's first rollback would undo them.
        dbapi_conn.commit()

    return engine


def _ledger_number(cur: Any, origin: str | None) -> int | None:
    """The number of the ledger ``origin`` names (None: of the database's only ledger; None
    too while there is none, or no table of ledgers yet; ``NO_LEDGER``: of none)."""
    if origin == NO_LEDGER:
        return None
    cur.execute("SELECT to_regclass('public.ledger_meta') IS NOT NULL")
    if not cur.fetchone()[0]:
        if origin is not None:
            raise LedgerUnknown(f"the database holds no ledger yet, so not {origin!r}")
        return None
    cur.execute("SELECT id, origin FROM ledger_meta ORDER BY id")
    found = {o: int(n) for n, o in cur.fetchall()}
    if origin is not None:
        if origin not in found:
            raise LedgerUnknown(f"the database holds no ledger {origin!r} (it holds {len(found)})")
        return found[origin]
    if len(found) > 1:
        raise LedgerUnknown(
            f"the database holds {len(found)} ledgers: name one by its home's operator key"
            f" (RURAL_LEDGER_HOME) or origin; found {', '.join(sorted(found))}"
        )
    return next(iter(found.values()), None)
