"""``rural-ledger export`` and ``rural-ledger verify``: the auditor's commands.

``verify`` exits 0 when the ledger is intact, 1 when it is tampered with (or the state the
server shows does not follow from it, or fewer known witnesses cosigned it than required),
2 when the input is unusable (no bundle there, not an export, the server unreachable, more
cosigners required than witnesses given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

import httpx

from api.audit.auditor import Auditor, AuditOutcome, audit_bundle, audit_pool, audit_server
from api.audit.state import load_state, save_state
from api.audit.tiles import FolderTiles, HttpTiles, audit_tiles, is_tile_folder
from api.audit.workers import peak_rss_kib
from ledger.checkpoint import NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.witness import CosignerVerifier

EXIT_UNUSABLE = 2


def read_key(text: str) -> str:
    """A key given on the command line, or the path of a file holding it."""
    path = Path(text)
    try:
        if path.is_file():
            return path.read_text().strip()
    except OSError:
        pass
    return text.strip()


class ProgressBar:
    """A one-line progress bar on a terminal; nothing anywhere else."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.perf_counter()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.shown < 0.2 and done < total:
            return
        self.shown = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        rate = done / (now - self.started) if now > self.started else 0.0
        self.out.write(f"\r[{bar:<30}] {share:6.1%} {done:,}/{total:,} records  {rate:,.0f}/s ")
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n")
        self.out.flush()


def render(outcome: AuditOutcome) -> str:
    lines = [f"rural-ledger verify: {outcome.status.upper()}  ({outcome.source})"]
    if outcome.origin:
        lines.append(f"  ledger        {outcome.origin}")
    rate = outcome.records_checked / outcome.seconds if outcome.seconds else 0.0
    lines.append(
        f"  records       {outcome.records_checked:,} replayed and checked "
        f"({outcome.seconds:.1f} s, {rate:,.0f} records/s, peak RSS "
        f"{outcome.peak_rss_mb or 0:,.0f} MB"
        + (
            f", workers {outcome.workers_peak_rss_mb:,.0f} MB each at most"
            if outcome.workers_peak_rss_mb
            else ""
        )
        + ")"
    )
    if outcome.rule_versions:
        spans = ", ".join(
            f"{v['version']} (seq {v['from_seq']:,}-{v['to_seq']:,})" for v in outcome.rule_versions
        )
        lines.append(f"  rule versions {spans}")
    if outcome.checkpoint_size:
        lines.append(f"  checkpoint    size {outcome.checkpoint_size:,}, operator signature and root checked")
    if outcome.witnesses_required or outcome.witnessed_size:
        by = ", ".join(outcome.witnessed_by) or "none"
        lines.append(
            f"  witnesses     {outcome.witnessed_size or 0:,} records cosigned by {by} "
            f"(required: {outcome.witnesses_required})"
        )
    if outcome.state_digest:
        lines.append(f"  state digest  {outcome.state_digest}  (server: {outcome.server_digest})")
    if outcome.difference:
        d = outcome.difference
        key = "" if d.key is None else f" key {json.dumps(d.key, ensure_ascii=False)}"
        lines.append(f"  state differs table {d.table}{key}: {d.reason}")
    if outcome.failure:
        f = outcome.failure
        where = f"seq {f.seq}" if f.seq is not None else "ledger"
        lines.append(f"  first bad     {where}: {f.code}: {f.reason}")
    if outcome.unusable:
        lines.append(f"  unusable      {outcome.unusable}")
    return "\n".join(lines)


def witnesses_from(args: argparse.Namespace) -> tuple[CosignerVerifier, ...]:
    """The known witnesses (each once), checked against ``--min-witnesses``: asking for more
    cosigners than there are known witnesses can never pass, so it is unusable input, not a
    verdict on the ledger."""
    known = {str(w): w for w in (CosignerVerifier.from_string(read_key(text)) for text in args.witness or ())}
    if args.min_witnesses < 0:
        raise MalformedError(f"--min-witnesses must be 0 or more, found {args.min_witnesses}")
    if args.min_witnesses > len(known):
        raise MalformedError(
            f"--min-witnesses {args.min_witnesses} needs at least {args.min_witnesses} known "
            f"witnesses (--witness VKEY, one per witness), found {len(known)}"
        )
    return tuple(known.values())


async def run_verify(args: argparse.Namespace, http: httpx.AsyncClient | None = None) -> AuditOutcome:
    """Run ``verify`` as the command line asked; ``http`` replaces the client (tests)."""
    operator = NoteVerifier.from_string(read_key(args.operator_key))
    witnesses = witnesses_from(args)
    since = open_checkpoint(Path(args.since).read_text(), operator) if args.since else None
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    pool = audit_pool(args.workers) if args.workers != 0 else None
    auditor = Auditor(
        operator,
        pool=pool,
        progress=bar,
        witnesses=witnesses,
        min_witnesses=args.min_witnesses,
        expect=since,
        workers=args.workers or os.cpu_count() or 2,
    )
    url = args.source.startswith(("http://", "https://"))
    tiles = args.tiles or (not url and http is None and is_tile_folder(Path(args.source)))
    # With the state a --save left, only what was added since is checked; without it (and
    # always for tiles: api.audit.tiles), the whole log is, and it must still pass through
    # the saved checkpoint.
    if since is not None and not tiles and load_state(Path(args.since), since, auditor.log, auditor.replay):
        auditor.log.expect, auditor.resumed_from = None, since.size
    try:
        if tiles:
            client = http or httpx.AsyncClient(timeout=120, follow_redirects=True)
            try:
                source = HttpTiles(client, args.source) if url else FolderTiles(Path(args.source))
                outcome = await audit_tiles(source, auditor)
            finally:
                if http is None:
                    await client.aclose()
        elif http is not None or url:
            client = http or httpx.AsyncClient(base_url=args.source.rstrip("/"), timeout=120)
            try:
                outcome = await audit_server(client, auditor, args.source)
            finally:
                if http is None:
                    await client.aclose()
        else:
            outcome = await audit_bundle(Path(args.source), auditor)
        if args.save and outcome.status == "intact" and outcome.checkpoint_note:
            save_state(Path(args.save), outcome.checkpoint_note, auditor.log, auditor.replay)
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        auditor.close()
    outcome.peak_rss_mb = round(peak_rss_kib() / 1024, 1)
    if auditor.workers_peak_kib:
        outcome.workers_peak_rss_mb = round(max(auditor.workers_peak_kib.values()) / 1024, 1)
    return outcome


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        outcome = asyncio.run(run_verify(args))
    except (MalformedError, IntegrityError, OSError) as e:
        print(f"rural-ledger verify: unusable input: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2) if args.json else render(outcome))
    return outcome.exit_code


def cmd_export(args: argparse.Namespace) -> int:
    from api.audit.export import write_bundle
    from api.cli.ledger_here import require_ledger
    from api.home import Home
    from api.service.database import make_engine, resolve_url

    home = Home.from_env(args.home)
    require_ledger(home, operator_key=False)  # before the bundle's folder is made

    async def run() -> int:
        engine = make_engine(resolve_url(home.root), pool_size=2, ledger=home.origin())
        try:
            written = await write_bundle(engine, Path(args.out), nodes=not args.no_nodes)
        finally:
            await engine.dispose()
        rate = written.size / written.seconds if written.seconds else 0.0
        print(
            f"exported {written.size:,} records of {written.origin} to {written.folder} "
            f"({written.bytes / 1e6:,.1f} MB in {written.seconds:.1f} s, {rate:,.0f} records/s)"
        )
        return 0

    try:
        return asyncio.run(run())
    except FileExistsError as e:
        print(f"rural-ledger export: {e}", file=sys.stderr)
        return 2


def add_verify_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    v = sub.add_parser("verify", help="verify a bundle or a live server, offline from the server")
    v.add_argument(
        "source",
        metavar="BUNDLE_OR_URL",
        help="a bundle folder (or its ledger.jsonl), a tile folder, or the server's base URL",
    )
    v.add_argument(
        "--operator-key",
        required=True,
        help="the operator's verifier key, or a file holding it (operator.pub)",
    )
    v.add_argument(
        "--tiles",
        action="store_true",
        help="the source is a tile-served log (C2SP tlog-tiles): its prefix URL, e.g. "
        "https://host/tiles (a tile folder is recognised without it)",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument(
        "--save",
        metavar="FILE",
        help="when intact, write the latest checkpoint (signed note) to FILE and "
        "the audit's state to FILE.state, for a later --since FILE",
    )
    v.add_argument(
        "--since",
        metavar="CHECKPOINT_FILE",
        help="a checkpoint saved earlier by --save: check only what was added since "
        "(with FILE.state), and that the log still passes through it",
    )
    v.add_argument(
        "--witness",
        action="append",
        metavar="VKEY",
        help="a known witness's verifier key (or file); repeat for each",
    )
    v.add_argument(
        "--min-witnesses",
        type=int,
        default=0,
        metavar="N",
        help="require a checkpoint cosigned by N of the known witnesses",
    )
    v.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes checking records and signatures ahead of the replay (default: one per core; 0: none)",
    )
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(fn=cmd_verify)

    e = sub.add_parser("export", help="write a bundle: records, Merkle nodes, checkpoints, key")
    e.add_argument("--out", required=True, metavar="DIR")
    e.add_argument("--no-nodes", action="store_true", help="leave out the stored Merkle nodes")
    e.set_defaults(fn=cmd_export)
