"""Progress while seeding (bars on a terminal, plain lines otherwise) and the summary table."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from seed.runner import SeedResult


class BarProgress:
    """Two bars on stderr: the story's ticks, and the entries of the current tick."""

    def __init__(self, console: Console) -> None:
        self.started = time.perf_counter()
        self.done = 0
        self.bars = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.story: TaskID = self.bars.add_task("story", total=None, rate="")
        self.entries: TaskID = self.bars.add_task("entries", total=None, rate="")
        self.bars.start()

    def tick(self, label: str, entries: int, index: int, ticks: int) -> None:
        self.bars.update(
            self.story, description=f"story {label}", completed=index, total=max(ticks, index + 1)
        )
        self.bars.reset(self.entries, total=entries, description="  entries of this tick")

    def advance(self, entries: int) -> None:
        self.done += entries
        rate = self.done / (time.perf_counter() - self.started)
        self.bars.update(self.entries, advance=entries)
        self.bars.update(self.story, rate=f"{self.done:,} records, {rate:,.0f}/s")

    def close(self) -> None:
        self.bars.update(self.story, completed=self.bars.tasks[0].total)
        self.bars.stop()


class LineProgress:
    """A line on ``out`` per tick and at most every few seconds within one."""

    def __init__(self, out: TextIO, every: float = 5.0) -> None:
        self.out, self.every = out, every
        self.started = self.shown = time.perf_counter()
        self.done = 0
        self.label = ""

    def tick(self, label: str, entries: int, index: int, ticks: int) -> None:
        self.label = label
        self.line(f"{label}: {entries:,} entries")

    def advance(self, entries: int) -> None:
        self.done += entries
        if time.perf_counter() - self.shown >= self.every:
            self.line(self.label)

    def line(self, what: str) -> None:
        self.shown = time.perf_counter()
        elapsed = self.shown - self.started
        rate = self.done / elapsed if elapsed else 0.0
        print(
            f"seed: {what} ({self.done:,} records so far, {rate:,.0f}/s, {elapsed:,.0f} s)",
            file=self.out,
            flush=True,
        )

    def close(self) -> None:
        self.line("done")


def progress_for(out: TextIO = sys.stderr, quiet: bool = False) -> BarProgress | LineProgress | None:
    if quiet:
        return None
    if out.isatty():
        return BarProgress(Console(file=out))
    return LineProgress(out)


def summary_table(result: SeedResult) -> Table:
    c = result.counts
    table = Table()
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("townships", c.townships),
        ("villages (collectives)", c.villages),
        ("households", c.households),
        ("persons", c.persons),
        ("member admissions", c.members),
        ("land parcels", c.parcels),
        ("homesteads", c.homesteads),
        ("certificates", c.certificates),
        ("settled in town, rights retained", c.settled_persons),
        ("births", c.births),
        ("deaths", c.deaths),
        ("marriages", c.marriages),
        ("share transfers", c.share_transfers),
        ("share pledges", c.share_pledges),
        ("exchange listings", c.listings),
        ("exchange deals certified", c.deals),
        ("house vouchers issued", c.vouchers),
        ("voucher redemptions", c.voucher_redemptions),
        ("homesteads compensated in cash", c.cash_compensations),
        ("land quotas applied for", c.quotas),
        ("land quotas traded", c.quotas_traded),
        ("records", result.records),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    table.add_row("time", f"{result.seconds:,.1f} s")
    table.add_row("records/s", f"{result.rate:,.0f}")
    return table


def print_summary(result: SeedResult, out: TextIO = sys.stdout) -> None:
    console = Console(file=out, width=100)
    console.print(f"Seeded {result.origin}, a story from {result.start}:", highlight=False)
    console.print(summary_table(result))
