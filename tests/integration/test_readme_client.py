"""The README's Python client example, run as it is written: taken from the README, in its own
process, beside a ledger's ``rural-ledger-data`` folder made by ``init``, against a real ``serve``
(the README's address replaced by the test server's). It cannot rot unnoticed."""

from __future__ import annotations

import asyncio
import re
import stat
import sys
from pathlib import Path
from typing import Any

import httpx

from api.home import Home
from api.service.database import asyncpg_url
from api.service.genesis import init_ledger
from tests.served import serve

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### From Python"
README_URL = "http://127.0.0.1:8000"


def readme_example() -> str:
    """The first ``python`` block after the section's heading."""
    text = README.read_text()
    assert SECTION in text, f"{README} has no section {SECTION!r}"
    found = re.search(r"```python\n(.*?)```", text[text.index(SECTION) :], re.DOTALL)
    assert found is not None, f"no python block under {SECTION!r}"
    return found.group(1)


async def run_python(code: str, cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-",
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(code.encode()), 60)
    return int(proc.returncode or 0), out.decode(errors="replace")


async def test_the_readme_client_example_registers_a_township_and_checks_its_receipt(
    database_factory: Any, tmp_path: Path
) -> None:
    code = readme_example()
    assert code.count(README_URL) == 1
    url = await database_factory()
    home = Home(tmp_path / "rural-ledger-data")
    genesis = await init_ledger(asyncpg_url(url), home, "example.org/wendeng", "county", "威海市文登区")
    async with serve(url, home) as server:
        rc, out = await run_python(code.replace(README_URL, server.base), tmp_path)
        assert rc == 0, f"{out}\n--- server ---\n{server.log()}"
        assert re.fullmatch(r"stored as seq 2, in the signed tree of size 3\n", out), out
        async with httpx.AsyncClient(base_url=server.base) as http:
            town = (await http.get("/v1/orgs/guanli-town")).json()
        assert (town["type"], town["parent"]) == ("township", "county"), town
        # Run again, it refuses to overwrite the key file before it submits anything.
        rc, out = await run_python(code.replace(README_URL, server.base), tmp_path)
        assert rc != 0 and "FileExistsError" in out, out
    key_file = home.org_key_file("guanli-town")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert genesis.operator_key == home.operator_pub_file.read_text().strip()
