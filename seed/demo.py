"""``rural-ledger demo``: a seeded demo county on the embedded PostgreSQL, then the service.

The first run creates the ledger (genesis dated the day before the story), seeds a small
county (``--villages``, default 5: one township in each area the policy names) through the
real API on a simulated clock, and serves it; later runs find ``seed.json`` marked done and
serve the same data again. The URLs are printed once the server accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

from api.home import Home
from api.service.database import resolve_url
from seed.command import init_for_story
from seed.report import print_summary, progress_for
from seed.runner import DEFAULT_START, STATE_FILE, SeedError, SeedOptions, seed_ledger

DEMO_ORIGIN = "demo.rural-ledger/weihai"
DEMO_SEED = 2017
DEMO_VILLAGES = 5


def read_state(home: Home) -> dict[str, Any] | None:
    try:
        return json.loads((home.root / STATE_FILE).read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def prepare(home: Home, url: str, villages: int) -> dict[str, Any]:
    """The demo ledger's seed state, seeding it first unless an earlier run did."""
    state = read_state(home)
    if state and state.get("status") == "done":
        print(
            f"Reusing the demo ledger in {home.root} ({state['records']:,} seeded records, "
            f"seed {state['seed']})",
            flush=True,
        )
        return state
    if not home.operator_key_file.exists():
        asyncio.run(init_for_story(home, url, DEMO_ORIGIN, DEFAULT_START))
    progress = progress_for(sys.stderr)
    try:
        result = asyncio.run(seed_ledger(home, url, SeedOptions(villages=villages, seed=DEMO_SEED), progress))
    finally:
        if progress is not None:
            progress.close()
    print_summary(result)
    return read_state(home) or {}


def urls(base: str, state: dict[str, Any], paths: set[str]) -> list[tuple[str, str]]:
    """What to look at first, for the routes this build of the service has."""
    show: dict[str, str] = state.get("showcase") or {}
    out = [
        ("what this ledger is", f"{base}/"),
        ("API docs (OpenAPI)", f"{base}/schema"),
        ("latest checkpoint", f"{base}/v1/checkpoint"),
        ("records", f"{base}/v1/entries?limit=20"),
        ("townships", f"{base}/v1/orgs?type=township"),
    ]
    records = (
        ("transfer filing (whole household)", "transfer_filing_household"),
        ("transfer filing (one person)", "transfer_filing_individual"),
        ("household split on marriage", "household_split"),
        ("a death", "death"),
        ("objection heard, not upheld", "objection_resolved"),
        ("homestead paid withdrawal", "homestead_withdrawn"),
        ("land lease", "land_lease"),
        ("share buy-back", "share_buyback"),
        ("share sale to a fellow member", "share_transfer"),
        ("shares pledged for a loan", "share_pledge"),
    )
    for label, key in records:
        if key in show:
            out.append((label, f"{base}/v1/entries/by-id/{show[key]}"))
    optional = (
        (
            "retained rights of a settled person",
            "/v1/parties/{party_id:str}/rights",
            "settled_person",
            "/v1/parties/{}/rights",
        ),
        (
            "retained rights of their household",
            "/v1/households/{household_id:str}/rights",
            "settled_household",
            "/v1/households/{}/rights",
        ),
        (
            "the same, printable (Chinese, A4)",
            "/v1/households/{household_id:str}/rights/print",
            "settled_household",
            "/v1/households/{}/rights/print",
        ),
        (
            "the transfer filing certificate",
            "/v1/certificates/{certificate_id:str}/print",
            "transfer_certificate",
            "/v1/certificates/{}/print",
        ),
        (
            "a collective's cap table",
            "/v1/shares/collectives/{collective:str}",
            "village",
            "/v1/shares/collectives/{}",
        ),
        (
            "a dividend's payouts",
            "/v1/shares/dividends/{dividend:str}",
            "dividend_id",
            "/v1/shares/dividends/{}",
        ),
    )
    for label, template, key, path in optional:
        if key in show and template in paths:
            out.append((label, base + path.format(show[key])))
    if "/v1/monitoring" in paths and "county" in show:
        out.append(("monitoring counts, whole county", f"{base}/v1/monitoring?org={show['county']}"))
    return [
        *out,
        *exchange_urls(base, show, paths),
        *voucher_urls(base, show, paths),
        *web_urls(base, show, paths),
    ]


def web_urls(base: str, show: dict[str, str], paths: set[str]) -> list[tuple[str, str]]:
    """The pages for people (no sign-in): the announcement board, the latest checkpoint and its
    witnesses, a certificate verified in the browser; and the console's sign-in (its users are
    added as the README's console section says)."""
    links = [
        ("announcement board (web)", "/board", "/board"),
        ("latest checkpoint and witnesses (web)", "/checkpoint", "/checkpoint"),
        ("console sign-in (users: README)", "/console/login", "/console/login"),
    ]
    if "transfer_certificate" in show:
        number = show["transfer_certificate"]
        links.insert(2, ("verify the certificate (web)", "/verify", f"/verify?number={number}"))
    return [(label, base + path) for label, template, path in links if template in paths]


def exchange_urls(base: str, show: dict[str, str], paths: set[str]) -> list[tuple[str, str]]:
    """The exchange's board, a listing's history, its feed, a certificate and comparable deals."""
    links = (
        ("exchange board", "/v1/exchange/listings", None, "/v1/exchange/listings"),
        (
            "an exchange listing, every step",
            "/v1/exchange/listings/{listing:str}",
            "exchange_listing",
            "/v1/exchange/listings/{}",
        ),
        (
            "an exchange listing open for bids",
            "/v1/exchange/listings/{listing:str}",
            "exchange_open",
            "/v1/exchange/listings/{}",
        ),
        ("exchange feed (Atom)", "/v1/exchange/feed.atom", None, "/v1/exchange/feed.atom"),
        (
            "an exchange deal's certificate",
            "/v1/exchange/certificates/{listing:str}",
            "exchange_certificate",
            "/v1/exchange/certificates/{}",
        ),
        (
            "comparable land deals",
            "/v1/exchange/deals",
            None,
            "/v1/exchange/deals?right_type=land_management",
        ),
    )
    return [
        (label, base + (path.format(show[key]) if key else path))
        for label, template, key, path in links
        if template in paths and (key is None or key in show)
    ]


def voucher_urls(base: str, show: dict[str, str], paths: set[str]) -> list[tuple[str, str]]:
    """House vouchers and land quotas: a household's vouchers, one partly used (its statement),
    a developer's redemptions and settlements, the county's figures, the price schedules and the
    developer pool, the quotas and one used."""
    links = (
        ("a household's house vouchers", "/v1/vouchers", "voucher_household", "/v1/vouchers?household={}"),
        ("a house voucher, every movement", "/v1/vouchers/{}", "voucher", "/v1/vouchers/{}"),
        ("a voucher split between transferees", "/v1/vouchers/{}", "voucher_split", "/v1/vouchers/{}"),
        (
            "a developer's redemptions",
            "/v1/developers/{}/redemptions",
            "developer",
            "/v1/developers/{}/redemptions",
        ),
        (
            "voucher and quota figures, county",
            "/v1/vouchers/monitoring",
            "county",
            "/v1/vouchers/monitoring?org={}",
        ),
        ("voucher price schedules", "/v1/vouchers/schedules", "county", "/v1/vouchers/schedules?county={}"),
        ("voucher developer pool", "/v1/vouchers/pool", "county", "/v1/vouchers/pool?county={}"),
        ("land quotas", "/v1/quotas", None, "/v1/quotas"),
        ("a land quota traded and used", "/v1/quotas/{}", "quota", "/v1/quotas/{}"),
    )
    templates = {re.sub(r"\{[^}]*\}", "{}", p) for p in paths}
    return [
        (label, base + (path.format(show[key]) if key else path))
        for label, template, key, path in links
        if template in templates and (key is None or key in show)
    ]


def key_files(home: Home, state: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the organisations' key files are and whom each acts for (demo keys: derivable
    from the seed, so for trying things only)."""
    show: dict[str, str] = state.get("showcase") or {}
    out = [("key files (demo only)", f"{home.root / 'keys'}/ORG.key acts for ORG: submit KIND --as ORG")]
    for label, key in (("root organisation", "county"), ("a village collective", "village")):
        if key in show and home.org_key_file(show[key]).exists():
            out.append((f"  {label} {show[key]}", str(home.org_key_file(show[key]))))
    return out


def serve(home: Home, args: argparse.Namespace, state: dict[str, Any], began: float) -> int:
    import uvicorn

    from api.http.app import Settings, create_app

    paths = {r.path for r in create_app(Settings(home=home)).routes}
    base = f"http://{args.host}:{args.port}"
    config = uvicorn.Config(
        "api.http.app:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            lines = [
                f"Rural Ledger demo: {state.get('origin', '')} on {base} "
                f"(ready in {time.perf_counter() - began:.1f} s)"
            ]
            lines += [f"  {label:<38} {url}" for label, url in urls(base, state, paths)]
            lines.append(f"  {'operator verifier key':<38} {home.operator_pub_file.read_text().strip()}")
            lines.append(f"  verify it: rural-ledger verify {base} --operator-key {home.operator_pub_file}")
            lines += [f"  {label:<38} {where}" for label, where in key_files(home, state)]
            print("\n".join(lines), flush=True)
        await task

    # uvicorn re-raises the signal that stopped it once it has shut down; as exceptions, both
    # end the process normally, so the embedded PostgreSQL is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    home = Home.from_env(args.home)
    url = resolve_url(home.root)  # starts the embedded PostgreSQL unless DATABASE_URL is set
    # The service (and any worker process) finds the same home and database.
    os.environ["RURAL_LEDGER_HOME"] = str(Path(home.root).resolve())
    os.environ.setdefault("DATABASE_URL", url)
    try:
        state = prepare(home, url, args.villages)
    except SeedError as e:
        print(f"rural-ledger demo: {e}", file=sys.stderr)
        return 1
    return serve(Home(Path(os.environ["RURAL_LEDGER_HOME"])), args, state, began)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    d = sub.add_parser("demo", help="seed a demo county on first use, then run the service")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=8000)
    d.add_argument(
        "--villages",
        type=int,
        default=DEMO_VILLAGES,
        help="village collectives in the demo county (first run only)",
    )
    d.add_argument("--log-level", default="info")
    d.set_defaults(fn=cmd_demo)
