"""``rural-ledger tiles write DIR``: publish the local ledger as C2SP tlog-tiles into a folder
(``api.service.tiles_writer``) that nginx, a CDN or an object store serves as it is. Run it
again (from cron, say) to bring the folder up to the latest checkpoint: only what is new is
written. Exit 0 when written, 2 when it cannot be, or when a record too long for an entry
bundle holds the tiles back at an older checkpoint (they are written up to it)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from api.service.tiles_writer import TilesWritten, write_tiles
from ledger.errors import IntegrityError, MalformedError


def cmd_tiles_write(args: argparse.Namespace) -> int:
    from api.cli.ledger_here import require_ledger
    from api.home import Home
    from api.service.database import make_engine, resolve_url

    home = Home.from_env(args.home)
    require_ledger(home, operator_key=False)

    async def run() -> TilesWritten:
        engine = make_engine(resolve_url(home.root), pool_size=2, ledger=home.origin())
        try:
            return await write_tiles(engine, Path(args.dir))
        finally:
            await engine.dispose()

    try:
        w = asyncio.run(run())
    except (MalformedError, IntegrityError, OSError) as e:
        print(f"rural-ledger tiles write: {e}", file=sys.stderr)
        return 2
    print(
        f"tiles of {w.origin} in {w.folder}: size {w.size:,} (was {w.previous:,}), "
        f"{w.files:,} files written in {w.seconds:.1f} s"
    )
    if w.held_back is not None:
        print(
            f"rural-ledger tiles write: record {w.held_back} is longer than an entry bundle takes "
            f"(65,535 bytes): the tiles stop at size {w.size:,}; the rest is in /v1/export",
            file=sys.stderr,
        )
        return 2
    return 0


def add_tiles_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("tiles", help="publish the ledger as static tiles (C2SP tlog-tiles)")
    what = t.add_subparsers(dest="tiles_command", required=True)
    w = what.add_parser("write", help="write or bring up to date the tile folder DIR")
    w.add_argument("dir", metavar="DIR")
    w.set_defaults(fn=cmd_tiles_write)
