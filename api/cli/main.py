"""The ``rural-ledger`` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from api.cli.ledger_here import require_home, require_ledger
from api.home import Home
from api.service.database import resolve_url
from ledger.errors import Category, LedgerError

COMMANDS = "rural_ledger.commands"


def cmd_init(args: argparse.Namespace) -> int:
    from api.service.genesis import init_ledger

    home = Home.from_env(args.home)
    try:
        g = asyncio.run(
            init_ledger(
                resolve_url(home.root),
                home,
                args.origin,
                args.root_id,
                args.root_name or args.origin,
                area_code=args.area_code,
            )
        )
    except (FileExistsError, ValueError) as e:
        print(f"rural-ledger init: {e}", file=sys.stderr)
        return 2
    print(f"ledger        {g.origin}")
    print(f"root org      {g.root_org}")
    print(f"key file      {g.root_key_file} (acts for {g.root_org}: submit KIND --as {g.root_org})")
    print(f"genesis       seq {g.receipt.seq}, leaf {g.receipt.leaf_hash.hex()}")
    print(f"operator key  {g.operator_key}")
    print(f"operator.pub  {home.operator_pub_file} (what receipts and checkpoints are checked against)")
    return 0


def serve_homes(args: argparse.Namespace) -> list[Home]:
    """The homes ``serve`` serves: ``--home`` (before the command, then each after it), else
    ``RURAL_LEDGER_HOMES``, else ``RURAL_LEDGER_HOME`` (api.http.hosts)."""
    from api.http.hosts import homes_from_env

    given = ([args.home] if args.home else []) + (args.homes or [])
    if not given:
        return homes_from_env()
    return [Home(Path(p)) for p in dict.fromkeys(str(Path(p).absolute()) for p in given)]


def cmd_serve(args: argparse.Namespace) -> int:
    from api.http.hosts import HOMES_ENV, served_ledgers
    from api.http.server import run

    homes = serve_homes(args)
    if len(homes) > 1 and not os.environ.get("DATABASE_URL"):
        print(
            "rural-ledger serve: several ledgers are served from the one database they share: set "
            "DATABASE_URL (each home's embedded database holds its own ledger only)",
            file=sys.stderr,
        )
        return 2
    for home in homes:
        require_ledger(home)
    if len(homes) > 1:
        ledgers = served_ledgers(homes)  # their host names, checked before any process starts
        os.environ[HOMES_ENV] = os.pathsep.join(str(h.root.absolute()) for h in homes)
    else:
        os.environ.pop(HOMES_ENV, None)
    home = homes[0]
    os.environ["RURAL_LEDGER_HOME"] = str(home.root)
    if not os.environ.get("DATABASE_URL"):
        # Start the embedded server once here, so worker processes attach to a running one.
        os.environ["DATABASE_URL"] = resolve_url(home.root)
    base = f"http://{args.host}:{args.port}"
    if len(homes) > 1:
        print(f"Rural Ledger on {base}/, {len(ledgers)} ledgers by host name:", flush=True)
        for ledger in ledgers:
            print(f"  {' '.join(ledger.hosts)}  ->  {ledger.origin}  ({ledger.home.root})", flush=True)
    else:
        print(
            f"Rural Ledger on {base}/\n  API docs    {base}/schema\n  checkpoint  {base}/v1/checkpoint"
            f"\n  records     {base}/v1/entries\n  operator key {home.operator_pub_file.read_text().strip()}"
            if home.operator_pub_file.exists()
            else f"Rural Ledger on {base}",
            flush=True,
        )
    run(args.host, args.port, args.workers, args.log_level)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from ledger.signing import KeyFile, SigningKey, b64

    if args.out:
        out = Path(args.out)
    else:  # into the ledger's home, which must hold a ledger
        home = Home.from_env(args.home)
        require_home(home)
        out = home.org_key_file(args.org)
    key = SigningKey.generate()
    try:
        KeyFile(args.org, key).write(out)
    except FileExistsError:
        print(f"rural-ledger keys: {out} exists; a key file is never overwritten", file=sys.stderr)
        return 2
    signs = f"rural-ledger submit KIND --as {args.org}" + (f" --key {out}" if args.out else "")
    print(f"key file    {out}\nacts for    {args.org} ({signs})")
    print(f"key id      {key.key_id}\npublic key  {b64(key.public_key)}")
    print("register    its parent submits org.registered with this public key in public_keys")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rural-ledger", description=__doc__)
    p.add_argument("--home", help="the ledger's folder (default ./rural-ledger-data)")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a ledger, its operator key and genesis record")
    init.add_argument("--origin", required=True, help="the ledger's origin (checkpoint name)")
    init.add_argument("--root-id", default="county", help="id of the root organisation")
    init.add_argument("--root-name", help="name of the root organisation")
    init.add_argument(
        "--area-code", default="371003", help="the root county's 6-digit area code (default 371003, 文登区)"
    )
    init.set_defaults(fn=cmd_init)

    s = sub.add_parser("serve", help="run the service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--log-level", default="info")
    s.add_argument(
        "--home",
        dest="homes",
        action="append",
        metavar="HOME",
        help="a ledger's folder; repeat to serve several ledgers of one database, each at its host names",
    )
    s.set_defaults(fn=cmd_serve)

    keys = sub.add_parser("keys", help="make an organisation key file (mode 0600)")
    keys.add_argument("--org", required=True)
    keys.add_argument("--out")
    keys.set_defaults(fn=cmd_keys)

    from api.cli.bench_command import add_bench_parser
    from api.cli.kinds import add_kinds_parser
    from api.cli.mirror import add_mirror_parser
    from api.cli.operations import add_operations_parser
    from api.cli.person import add_person_parser
    from api.cli.proof import add_proof_parsers
    from api.cli.receipt import add_receipt_parser
    from api.cli.submit import add_submit_parser
    from api.cli.tiles import add_tiles_parser
    from api.cli.users import add_users_parser
    from api.cli.verify import add_verify_parser
    from api.cli.witness import add_witness_parser

    add_bench_parser(sub)
    add_verify_parser(sub)
    add_witness_parser(sub)
    add_mirror_parser(sub)
    add_tiles_parser(sub)
    add_submit_parser(sub)
    add_person_parser(sub)
    add_receipt_parser(sub)
    add_proof_parsers(sub)
    add_kinds_parser(sub)
    add_users_parser(sub)
    add_operations_parser(sub)
    add_installed_commands(sub)
    return p


def add_installed_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The commands other packages add, in name order: each entry point of the group
    ``COMMANDS`` names a function that adds its subcommand to ``sub`` (``seed`` adds ``demo``
    and ``seed`` so; ``api`` never imports ``seed``)."""
    for command in sorted(entry_points(group=COMMANDS), key=lambda e: e.name):
        command.load()(sub)


# The one mapping from the error tree's categories to exit codes: 1 when the log does not add
# up (as ``verify`` answers for a tampered log), 2 for everything else that stops a command.
EXIT_CODE = {Category.INTEGRITY: 1}


def exit_code(error: LedgerError) -> int:
    return EXIT_CODE.get(error.category, 2)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except LedgerError as e:
        print(f"rural-ledger {args.command}: {e}", file=sys.stderr)
        return exit_code(e)


if __name__ == "__main__":
    sys.exit(main())
