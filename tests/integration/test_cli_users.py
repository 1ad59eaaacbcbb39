"""``rural-ledger users add|list|disable`` run as a user would, in subprocesses, on a real
ledger's database: the password comes from a file or is typed twice, never from the command
line; a user's organisation must be registered and fit the role; a disabled user signs in no
more."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from api.cli.main import main
from api.console.passwords import verify_password
from api.service.database import asyncpg_url, make_engine
from tests.support import LedgerFixture

BIN = Path(sys.executable).with_name("rural-ledger")
PASSWORD = "a long enough secret"
UUID = re.compile(r"user id     ([0-9a-f-]{36}) ")


def users(fx: LedgerFixture, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RURAL_LEDGER_HOME"}
    env["DATABASE_URL"] = fx.url
    return subprocess.run(
        [str(BIN), "--home", str(fx.home.root), "users", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def users_here(
    fx: LedgerFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The same command in this process (quicker than a new one): exit code, stdout, stderr."""
    monkeypatch.setenv("DATABASE_URL", fx.url)
    capsys.readouterr()
    try:
        code = main(["--home", str(fx.home.root), "users", *args])
    except SystemExit as e:  # argparse's refusal
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
async def village(ledger: LedgerFixture) -> str:
    await ledger.origin_ready()
    await ledger.register("county", "cli-zhen", "township")
    await ledger.register("cli-zhen", "cli-nancun", "village_collective")
    return "cli-nancun"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


async def stored_hash(fx: LedgerFixture, username: str) -> str:
    engine = make_engine(asyncpg_url(fx.url), service_role=False, pool_size=1)
    try:
        async with engine.connect() as conn:
            return str(
                (
                    await conn.execute(
                        text("SELECT password_hash FROM console_users WHERE username = :u"), {"u": username}
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


def test_add_from_a_password_file_then_list_and_disable(
    ledger: LedgerFixture,
    village: str,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = users_here(
        ledger, monkeypatch, capsys,
        "add", "--org", village, "--role", "collective_clerk", "--username", "nancun-clerk",
        "--password-file", str(password_file),
    )  # fmt: skip
    assert code == 0, err
    user_id = UUID.search(out)
    assert user_id is not None, out
    stored = asyncio.run(stored_hash(ledger, "nancun-clerk"))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(PASSWORD, stored) and PASSWORD not in stored

    code, out, err = users_here(ledger, monkeypatch, capsys, "list", "--org", village)
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if line.startswith("nancun-clerk ")]
    assert village in row and "collective_clerk" in row and user_id.group(1) in row and row.endswith("active")
    assert "nancun-clerk" not in users_here(ledger, monkeypatch, capsys, "list", "--org", "cli-zhen")[1]

    code, out, err = users_here(ledger, monkeypatch, capsys, "disable", "nancun-clerk")
    assert code == 0, err
    out = users_here(ledger, monkeypatch, capsys, "list")[1]
    assert next(line for line in out.splitlines() if line.startswith("nancun-clerk ")).endswith("disabled")


async def test_the_password_is_asked_twice(ledger: LedgerFixture, village: str) -> None:
    args = ("add", "--org", village, "--role", "collective_clerk", "--username")
    differ = users(ledger, *args, "typed-twice", stdin=f"{PASSWORD}\nsomething else\n")
    assert differ.returncode == 2 and "the two passwords differ" in differ.stderr
    assert "typed-twice" not in users(ledger, "list").stdout
    same = users(ledger, *args, "typed-twice", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert same.returncode == 0, same.stderr
    assert verify_password(PASSWORD, await stored_hash(ledger, "typed-twice"))


def test_there_is_no_password_option(
    ledger: LedgerFixture, village: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = users_here(
        ledger, monkeypatch, capsys,
        "add", "--org", village, "--role", "collective_clerk", "--username", "on-the-line",
        "--password", PASSWORD,
    )  # fmt: skip
    assert code == 2 and "unrecognized arguments" in err
    assert "on-the-line" not in users_here(ledger, monkeypatch, capsys, "list")[1]


@pytest.mark.parametrize(
    ("org", "role", "username", "code"),
    [
        ("cli-nobody", "collective_clerk", "clerk-of-nothing", "console.org_unknown"),
        ("cli-zhen", "collective_clerk", "clerk-of-a-township", "console.role_mismatch"),
        ("county", "developer", "developer-of-the-county", "console.role_mismatch"),
        ("cli-nancun", "collective_clerk", "Zhang San", "console.username_invalid"),
    ],
    ids=["unregistered organisation", "village role in a township", "developer in the county", "a name"],
)
def test_add_refuses_a_user_that_does_not_fit(
    ledger: LedgerFixture,
    village: str,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    org: str,
    role: str,
    username: str,
    code: str,
) -> None:
    exit_code, out, err = users_here(
        ledger, monkeypatch, capsys,
        "add", "--org", org, "--role", role, "--username", username, "--password-file", str(password_file),
    )  # fmt: skip
    assert exit_code == 2, out
    (line,) = err.splitlines()
    assert line.startswith(f"rural-ledger users: {code}: "), line


def test_a_taken_username_and_a_short_password_are_refused(
    ledger: LedgerFixture,
    village: str,
    tmp_path: Path,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("add", "--org", village, "--role", "collective_clerk", "--username")
    first = users_here(
        ledger, monkeypatch, capsys, *args, "taken-name", "--password-file", str(password_file)
    )
    assert first[0] == 0, first
    again = users_here(
        ledger, monkeypatch, capsys, *args, "taken-name", "--password-file", str(password_file)
    )
    assert again[0] == 2 and "console.username_taken" in again[2]
    short = tmp_path / "short"
    short.write_text("short\n")
    refused = users_here(ledger, monkeypatch, capsys, *args, "short-password", "--password-file", str(short))
    assert refused[0] == 2 and "console.password_invalid" in refused[2]


def test_disable_of_an_unknown_user(
    ledger: LedgerFixture, village: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = users_here(ledger, monkeypatch, capsys, "disable", "nobody-at-all")
    assert code == 2 and "console.user_unknown" in err
