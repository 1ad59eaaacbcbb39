"""The operator's commands: ``migrate``, ``health``, ``backup`` and ``restore``.

- ``migrate``: apply the database migrations (what the image runs before ``serve``).
- ``health [--url]``: exit 0 when the service's ``/healthz`` answers ``ok`` (the image's
  health check), 1 when it answers anything else or nothing.
- ``backup FILE``: the home's ledger and the rows kept beside it, in one file
  (``api.audit.backup``); only that ledger's, however many the database holds.
- ``restore FILE``: into a database that holds no ledger of its origin (empty, or holding
  others), only after the backup verifies against a checkpoint known to be right
  (``api.audit.restore``); exit 0 restored, 1 the backup does not verify (nothing written),
  2 unusable (no known checkpoint given, not a backup, the target already holding that
  ledger, the database unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import httpx
from sqlalchemy.exc import SQLAlchemyError

from api.cli.verify import read_key, render
from api.home import Home
from ledger.errors import MalformedError

DEFAULT_PORT = "8000"


def cmd_migrate(args: argparse.Namespace) -> int:
    from api.service.database import NO_LEDGER, make_engine, resolve_url
    from api.service.migrate import migrate

    home = Home.from_env(args.home)

    async def run() -> None:
        engine = make_engine(resolve_url(home.root), service_role=False, pool_size=1, ledger=NO_LEDGER)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (OSError, ValueError, SQLAlchemyError) as e:
        print(f"rural-ledger migrate: cannot migrate the database: {e}", file=sys.stderr)
        return 2
    print("rural-ledger migrate: the database is at the latest schema")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Healthy when ``/healthz`` answers ``"status": "ok"``: of every ledger served, when the
    process serves several (``RURAL_LEDGER_HOMES``), each asked by its first host name."""
    url = args.url or f"http://127.0.0.1:{os.environ.get('RURAL_LEDGER_PORT') or DEFAULT_PORT}/healthz"
    hosts: list[str | None] = [None]
    if not args.url:
        from api.http.hosts import homes_from_env, served_ledgers

        homes = homes_from_env()
        if len(homes) > 1:
            try:
                hosts = [ledger.hosts[0] for ledger in served_ledgers(homes)]
            except MalformedError as e:
                print(f"unhealthy: {e}", file=sys.stderr)
                return 1
    for host in hosts:
        asked = f"{url} (Host: {host})" if host else url
        try:
            r = httpx.get(url, timeout=args.timeout, headers={"Host": host} if host else None)
            status = r.json().get("status") if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError) as e:
            print(f"unhealthy: {asked}: {e}", file=sys.stderr)
            return 1
        if status != "ok":
            print(f"unhealthy: {asked} answered {r.status_code} {r.text[:200]}", file=sys.stderr)
            return 1
        print(f"healthy: {asked}")
    return 0


def database_failed(command: str, error: Exception) -> int:
    """A database that cannot be reached or refuses a statement: one line, exit 2 (a restore's
    transaction is rolled back, so nothing of it is left)."""
    detail = str(getattr(error, "orig", None) or error).splitlines()[0][:300]
    print(
        f"rural-ledger {command}: the database failed: {error.__class__.__name__}: {detail}", file=sys.stderr
    )
    return 2


def cmd_backup(args: argparse.Namespace) -> int:
    from api.audit.backup import write_backup
    from api.cli.ledger_here import require_ledger
    from api.service.database import make_engine, resolve_url

    home = Home.from_env(args.home)
    require_ledger(home, operator_key=False)

    async def run() -> int:
        # The owner's connections, opened for the home's ledger: the backup reads its rows only.
        engine = make_engine(resolve_url(home.root), service_role=False, pool_size=2, ledger=home.origin())
        try:
            done = await write_backup(engine, Path(args.file))
        finally:
            await engine.dispose()
        rows = ", ".join(f"{n} {t}" for t, n in done.rows.items() if n)
        print(f"backed up {done.size:,} records of {done.origin} to {done.file} ({done.bytes / 1e6:,.1f} MB)")
        print(f"  beside the log: {rows}")
        return 0

    try:
        return asyncio.run(run())
    except FileExistsError as e:
        print(f"rural-ledger backup: {e}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as e:
        return database_failed("backup", e)


def operator_key(args: argparse.Namespace, home: Home) -> str:
    """The operator key a restore trusts: ``--operator-key``, else the home's key file (the
    secret the service signs with), else its ``operator.pub``; never the backup's own."""
    from ledger.checkpoint import NoteSigner
    from ledger.errors import MalformedError

    if args.operator_key:
        return read_key(args.operator_key)
    if home.operator_key_file.exists():
        return str(NoteSigner.from_string(home.operator_key_file.read_text().strip()).verifier())
    if home.operator_pub_file.exists():
        return home.operator_pub_file.read_text().strip()
    raise MalformedError(f"no operator key: give --operator-key, or put operator.key in {home.root}")


def cmd_restore(args: argparse.Namespace) -> int:
    from api.audit.auditor import Auditor
    from api.audit.restore import restore_verified, unpack
    from api.service.database import NO_LEDGER, make_engine, resolve_url
    from ledger.checkpoint import NoteVerifier, open_checkpoint
    from ledger.errors import MalformedError
    from ledger.witness import CosignerVerifier

    home = Home.from_env(args.home)
    witnesses = tuple(CosignerVerifier.from_string(read_key(w)) for w in args.witness or ())
    if not args.checkpoint and not witnesses:
        raise MalformedError(
            "a restore needs a checkpoint known to be right: --checkpoint FILE (a signed note, "
            "e.g. from a witness or `verify --save`) or --witness VKEY (the backup's checkpoints "
            "cosigned by that witness)"
        )
    required = args.min_witnesses if args.min_witnesses is not None else (1 if witnesses else 0)
    if required > len(witnesses):
        raise MalformedError(f"--min-witnesses {required} needs as many --witness keys")
    if not args.checkpoint and required < 1:
        # Nothing would anchor the backup: no checkpoint given, no cosignature required.
        raise MalformedError(
            "--min-witnesses 0 without --checkpoint checks the backup against nothing known to "
            "be right: give --checkpoint FILE or require at least one witness"
        )
    operator = NoteVerifier.from_string(operator_key(args, home))
    expect = open_checkpoint(Path(args.checkpoint).read_text(), operator) if args.checkpoint else None
    auditor = Auditor(operator, witnesses=witnesses, min_witnesses=required, expect=expect)

    async def run(folder: Path) -> int:
        unpack(Path(args.file), folder)
        # Opened for no ledger: the restore adds its own and names it inside its transaction.
        engine = make_engine(resolve_url(home.root), service_role=False, pool_size=1, ledger=NO_LEDGER)
        try:
            done = await restore_verified(engine, folder, auditor)
        finally:
            await engine.dispose()
        print(render(done.outcome))
        if done.outcome.status != "intact":
            print("rural-ledger restore: the backup does not verify; nothing was restored", file=sys.stderr)
            return done.outcome.exit_code
        rows = ", ".join(f"{n} {t}" for t, n in done.rows.items() if n)
        print(f"restored {done.outcome.size:,} records of {done.outcome.origin}; beside the log: {rows}")
        return 0

    with tempfile.TemporaryDirectory(prefix="rural-ledger-restore-") as scratch:
        try:
            return asyncio.run(run(Path(scratch)))
        except (OSError, SQLAlchemyError) as e:
            return database_failed("restore", e)


def add_operations_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    m = sub.add_parser("migrate", help="apply the database migrations (before serve)")
    m.set_defaults(fn=cmd_migrate)

    h = sub.add_parser("health", help="exit 0 when the service's /healthz answers ok")
    h.add_argument("--url", help="default http://127.0.0.1:$RURAL_LEDGER_PORT/healthz (port 8000)")
    h.add_argument("--timeout", type=float, default=5.0)
    h.set_defaults(fn=cmd_health)

    b = sub.add_parser("backup", help="the ledger and the rows beside it in one file, for restore")
    b.add_argument("file", metavar="FILE")
    b.set_defaults(fn=cmd_backup)

    r = sub.add_parser("restore", help="restore a backup into a database not holding it, once it verifies")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--checkpoint", metavar="FILE", help="a checkpoint known to be right (signed note)")
    r.add_argument("--witness", action="append", metavar="VKEY", help="a known witness's key; repeat")
    r.add_argument("--min-witnesses", type=int, metavar="N", help="cosigners required (default 1)")
    r.add_argument("--operator-key", help="the operator's verifier key (default: the home's key)")
    r.set_defaults(fn=cmd_restore)
