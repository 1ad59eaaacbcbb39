"""What a benchmark reports: rows of a figure beside the reference measured in the same run,
as a table or as one JSON document, with the machine it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO


@dataclass(frozen=True)
class Row:
    """One figure and its reference: ``ratio`` is ``value / reference_value``; ``target`` says
    what the ratio (or the figure) should be, and ``met`` whether it is (None: no target)."""

    bench: str
    measure: str
    value: float
    unit: str  # "entries/s", "ms", ...
    reference: str = ""
    reference_value: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""  # what else the table shows of it (p50s, say)

    @property
    def ratio(self) -> float | None:
        if not self.reference_value:
            return None
        return self.value / self.reference_value

    def as_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "measure": self.measure,
            "value": round(self.value, 3),
            "unit": self.unit,
            "reference": self.reference,
            "reference_value": None if self.reference_value is None else round(self.reference_value, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class BenchResult:
    """A benchmark's rows for the table and every figure it measured, for the JSON document."""

    name: str
    rows: list[Row] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"rows": [r.as_json() for r in self.rows], "figures": self.figures}


def number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:,.0f} {unit}"


def ratio_text(row: Row) -> str:
    """A rate's ratio as a share (``41%``), a latency's as a multiple (``1.30x``)."""
    if row.ratio is None:
        return ""
    return f"{row.ratio:.0%}" if row.unit.endswith("/s") else f"{row.ratio:.2f}x"


def print_table(rows: list[Row], out: TextIO = sys.stdout) -> None:
    header = ("bench", "measure", "figure", "reference", "reference figure", "ratio", "target", "")
    lines = [header] + [
        (
            r.bench,
            r.measure,
            number(r.value, r.unit),
            r.reference,
            ""
            if r.reference_value is None
            else number(r.reference_value, "/s" if r.unit.endswith("/s") else r.unit),
            ratio_text(r),
            f"{r.target} ({'met' if r.met else 'NOT met'})" if r.met is not None else r.target,
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 4, 5}
    for line in lines:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip(), file=out)


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def postgres_version() -> str:
    """The server's version (``DATABASE_URL``'s, asked), or the embedded server's binary's."""
    url = os.environ.get("DATABASE_URL")
    if url:
        import asyncio

        import asyncpg

        from api.service.database import asyncpg_url

        async def ask() -> str:
            conn = await asyncpg.connect(asyncpg_url(url).replace("postgresql+asyncpg://", "postgresql://"))
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        return asyncio.run(ask())
    from pgserver._commands import POSTGRES_BIN_PATH

    binary = POSTGRES_BIN_PATH / "postgres"
    return subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """The cores, the load averages before and after the run, and the versions that matter."""
    return {
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "versions": {
            "python": platform.python_version(),
            "postgresql": postgres_version(),
            # PyNaCl links libsodium in statically and does not say which release: its own
            # version names it.
            "libsodium": f"bundled with PyNaCl {package_version('pynacl')}",
            "litestar": package_version("litestar"),
            "uvicorn": package_version("uvicorn"),
            "httpx": package_version("httpx"),
            "asyncpg": package_version("asyncpg"),
        },
    }
