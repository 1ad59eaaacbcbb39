"""``rural-ledger seed``: a seeded county in the current ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, timedelta

from api.home import Home
from api.service.database import resolve_url
from seed.report import print_summary, progress_for
from seed.runner import DEFAULT_START, DEFAULT_YEARS, SeedError, SeedOptions, seed_ledger
from seed.story import add_years, ledger_time

# The root a seeded ledger gets when ``seed --init`` (or ``demo``) creates it: the city that
# issued the 2017 policy, so every area the policy names fits under one root (seed/places.py).
ROOT_ID, ROOT_NAME, ROOT_CODE = "county", "威海市", "371000"


async def init_for_story(home: Home, url: str, origin: str, start: date) -> str:
    """A new ledger whose genesis is dated the day before the story starts; returns the
    operator's verifier key."""
    from api.service.genesis import init_ledger

    at = ledger_time(start - timedelta(days=1))
    genesis = await init_ledger(url, home, origin, ROOT_ID, ROOT_NAME, lambda: at, area_code=ROOT_CODE)
    return genesis.operator_key


def cmd_seed(args: argparse.Namespace) -> int:
    home = Home.from_env(args.home)
    start = date.fromisoformat(args.start) if args.start else None
    options = SeedOptions(
        villages=args.villages,
        seed=args.seed,
        start=start,
        years=args.years,
        blind_index=args.blind_index,
        streams=args.streams,
    )
    if not home.operator_key_file.exists():
        if not args.init:
            print(
                f"rural-ledger seed: no ledger in {home.root.absolute()}: run `rural-ledger init` first, "
                "or `rural-ledger seed --init ORIGIN` to create one whose history starts "
                f"{DEFAULT_START}",
                file=sys.stderr,
            )
            return 2
        asyncio.run(init_for_story(home, resolve_url(home.root), args.init, start or DEFAULT_START))
    elif args.init:
        print(f"rural-ledger seed: {home.root} already holds a ledger; drop --init", file=sys.stderr)
        return 2
    progress = progress_for(sys.stderr, args.quiet)
    try:
        result = asyncio.run(seed_ledger(home, resolve_url(home.root), options, progress))
    except SeedError as e:
        print(f"rural-ledger seed: {e}", file=sys.stderr)
        return 1
    finally:
        if progress is not None:
            progress.close()
    print_summary(result)
    ends = add_years(result.start, args.years)
    if result.start > (start or DEFAULT_START) and ends > date.today():
        print(
            f"note: the story runs until {ends}, after today: the ledger's head was already "
            f"recent, and records are never dated before it. For a history in the past, "
            f"seed a new ledger with --init.",
            file=sys.stderr,
        )
    return 0


def add_seed_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("seed", help="add a seeded county (demo and benchmark data) to the ledger")
    s.add_argument(
        "--villages",
        type=int,
        default=20,
        help="village collectives (about 2,000 records each; 500 make a million)",
    )
    s.add_argument("--seed", type=int, default=2017, help="the same seed gives the same entries")
    s.add_argument("--years", type=int, default=DEFAULT_YEARS, help="years of history")
    s.add_argument(
        "--start",
        help="the story's first day (default 2018-03-01, or the day after the ledger's last record)",
    )
    s.add_argument(
        "--init", metavar="ORIGIN", help="create the ledger first, its genesis dated the day before the story"
    )
    s.add_argument(
        "--blind-index",
        choices=("local", "remote"),
        default="local",
        help="compute blind indexes with the operator's secret in this home "
        "(default), or ask the service for each person",
    )
    s.add_argument(
        "--streams",
        type=int,
        choices=(1, 2, 4),
        default=2,
        help="concurrent submission streams: 1 gives the same record order on every "
        "run, 2 (default) is faster and varies only how villages interleave",
    )
    s.add_argument("--quiet", action="store_true", help="no progress output")
    s.set_defaults(fn=cmd_seed)
