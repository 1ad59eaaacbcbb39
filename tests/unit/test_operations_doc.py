"""docs/operations.md's configuration table names every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\b(RURAL_LEDGER_[A-Z_]*[A-Z]|DATABASE_URL|PROMETHEUS_MULTIPROC_DIR)\b")
PREFIXES = {"RURAL_LEDGER_RATE_"}  # read as prefix + name: the names are listed one by one


def read_by_the_code() -> set[str]:
    found: set[str] = set()
    for folder in ("api", "ledger", "contracts", "seed"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    for script in (ROOT / "docker").rglob("*.sh"):
        found |= set(VARIABLE.findall(script.read_text(encoding="utf-8")))
    return found - {p.rstrip("_") for p in PREFIXES}


def test_every_variable_is_in_the_table() -> None:
    table = {
        m
        for line in (ROOT / "docs" / "operations.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
        for m in VARIABLE.findall(line.split("|")[1])
    }
    missing = read_by_the_code() - table
    assert not missing, f"read by the code, not in docs/operations.md's tables: {sorted(missing)}"
    rates = {m for m in table if m.startswith("RURAL_LEDGER_RATE_")}
    names = re.findall(r'read\("([A-Z_]+)"', (ROOT / "api" / "http" / "rate_limits.py").read_text())
    assert rates == {"RURAL_LEDGER_RATE_" + n for n in names}
