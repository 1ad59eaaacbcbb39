"""The command line in a folder with no ledger: each command that needs one says so in one line
on stderr, exits 2 and creates nothing, and the others (which take a service, a bundle or a file)
fail in one line too without leaving anything behind; ``verify`` asked for more cosigners than
known witnesses is unusable input. Run as a user would, in subprocesses. (``init`` and ``demo``
create a ledger there, as they should; ``kinds`` needs none; ``bench`` works in a scratch folder.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli.ledger_here import shown
from ledger.checkpoint import generate_signer
from ledger.witness import generate_cosigner

BIN = Path(sys.executable).with_name("rural-ledger")
TO_CREATE = "run `rural-ledger init --origin NAME` to create one, or `rural-ledger demo`"


def run(folder: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RURAL_LEDGER_HOME")}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(BIN), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line_refusal(result: subprocess.CompletedProcess[str], command: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"rural-ledger {command}: "), lines[0]
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("serve",),
        ("serve", "--port", "8765", "--workers", "2"),
        ("export", "--out", "bundle"),
        ("keys", "--org", "village-1"),
        ("seed", "--villages", "1"),
    ],
    ids=lambda a: " ".join(a),
)
def test_a_command_in_an_empty_folder_says_there_is_no_ledger(tmp_path: Path, args: tuple[str, ...]) -> None:
    line = one_line_refusal(run(tmp_path, *args), args[0])
    assert f"no ledger in {tmp_path / 'rural-ledger-data'}" in line
    assert "rural-ledger init" in line
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    "args",
    [
        ("submit", "org.registered", "--as", "county", "--payload", "payload.json"),
        ("person", "register", "--as", "village-1", "--name", "张三", "--id-number", "11010519491231002X",
         "--phone", "13800000000"),
        ("receipt", "check", "receipt.json"),
        ("witness", "http://127.0.0.1:9", "--operator-key", "OPERATOR", "--key", "witness.key"),
    ],
    ids=lambda a: " ".join(a[:2]),
)  # fmt: skip
def test_the_other_commands_in_an_empty_folder_fail_in_one_line(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    operator = generate_signer("test.rural-ledger/cli")[1]
    args = tuple(operator if a == "OPERATOR" else a for a in args)
    one_line_refusal(run(tmp_path, *args), args[0])
    assert files_in(tmp_path) == []


def test_home_given_by_option_or_environment_is_named(tmp_path: Path) -> None:
    line = one_line_refusal(run(tmp_path, "--home", "elsewhere", "serve"), "serve")
    assert f"no ledger in {tmp_path / 'elsewhere'}: {TO_CREATE}" in line
    assert files_in(tmp_path) == []


def test_a_data_folder_without_a_ledger(tmp_path: Path) -> None:
    """What an old ``serve`` left behind: an embedded database, no ledger in it."""
    (tmp_path / "rural-ledger-data" / "pgdata").mkdir(parents=True)
    before = files_in(tmp_path)
    line = one_line_refusal(run(tmp_path, "export", "--out", "bundle"), "export")
    assert f"no ledger in {tmp_path / 'rural-ledger-data'}" in line
    home = tmp_path / "rural-ledger-data"
    (home / "operator.key").write_text("not used\n")
    line = one_line_refusal(run(tmp_path, "serve"), "serve")
    assert f"no ledger database in {home / 'pgdata'}" in line
    assert files_in(tmp_path) == sorted([*before, "rural-ledger-data/operator.key"])


async def test_a_database_without_a_ledger(tmp_path: Path, database_factory: object) -> None:
    url = await database_factory()  # type: ignore[operator]
    line = one_line_refusal(run(tmp_path, "export", "--out", "bundle", database_url=url), "export")
    assert "holds no ledger" in line and TO_CREATE in line
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "operator.key").write_text("not used\n")
    line = one_line_refusal(run(tmp_path, "--home", "home", "serve", database_url=url), "serve")
    assert "holds no ledger" in line
    assert files_in(tmp_path) == ["home", "home/operator.key"]


def test_a_database_url_is_named_without_its_password() -> None:
    assert (
        shown("postgresql://clerk:secret@db.example:5432/ledger")
        == "postgresql://clerk:***@db.example:5432/ledger"
    )


def test_a_database_that_cannot_be_opened(tmp_path: Path) -> None:
    line = one_line_refusal(
        run(tmp_path, "export", "--out", "b", database_url="postgresql://nobody@127.0.0.1:9/none"), "export"
    )
    assert "cannot open the database at DATABASE_URL (postgresql://nobody@127.0.0.1:9/none)" in line
    assert files_in(tmp_path) == []


def test_verify_of_a_missing_bundle_is_unusable_and_creates_nothing(tmp_path: Path) -> None:
    operator = generate_signer("test.rural-ledger/cli")[1]
    result = run(tmp_path, "verify", "bundle", "--operator-key", operator, "--quiet", "--workers", "0")
    assert result.returncode == 2 and "cannot read the bundle bundle" in result.stdout
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("known", [0, 1, 2])
def test_verify_requiring_more_witnesses_than_known_is_unusable(tmp_path: Path, known: int) -> None:
    operator = generate_signer("test.rural-ledger/cli")[1]
    witnesses = [generate_cosigner(f"w{i}.example/witness")[1] for i in range(known)]
    args = [a for w in witnesses for a in ("--witness", w)]
    # The server is never asked: the input cannot pass whatever the ledger holds.
    result = run(
        tmp_path, "verify", "http://127.0.0.1:9", "--operator-key", operator, *args, "--min-witnesses", "3"
    )
    line = one_line_refusal(result, "verify")
    assert (
        f"--min-witnesses 3 needs at least 3 known witnesses (--witness VKEY, one per witness), found {known}"
        in line
    )
    assert "TAMPERED" not in result.stdout + result.stderr


def test_verify_counts_a_witness_given_twice_once(tmp_path: Path) -> None:
    operator = generate_signer("test.rural-ledger/cli")[1]
    w = generate_cosigner("w1.example/witness")[1]
    result = run(
        tmp_path, "verify", "http://127.0.0.1:9", "--operator-key", operator,
        "--witness", w, "--witness", w, "--min-witnesses", "2",
    )  # fmt: skip
    assert "found 1" in one_line_refusal(result, "verify")
