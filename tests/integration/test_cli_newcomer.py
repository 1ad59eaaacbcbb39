"""The newcomer's path with the command line alone, in a scratch folder against a real
``rural-ledger serve`` process: ``init``, ``keys``, a township and a village registered with
``submit``, two persons with ``person register``, their household, a member admitted, and every
receipt checked offline with ``receipt check``. Then what goes wrong: a refusal by the ledger is
exit 1 with its code, input that cannot be used exit 2, each in one line.

The slow commands (``init``, ``serve``) and the first of each kind run as subprocesses, through
the installed entry point; the rest call ``api.cli.main.main`` in this process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli.main import main
from contracts.identifiers import resident_id_check_char
from ledger.checkpoint import generate_signer
from tests.support import credit_code

ORIGIN = "test.rural-ledger/newcomer"
CLI = [sys.executable, "-m", "api.cli.main"]


@dataclass
class Newcomer:
    """The scratch folder, the running service and what the path has made so far."""

    folder: Path
    url: str
    env: dict[str, str]
    public_keys: dict[str, str] = field(default_factory=dict)
    parties: list[str] = field(default_factory=list)
    receipts: list[Path] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.folder / "rural-ledger-data"

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """The command line as a subprocess, in the scratch folder (its default home)."""
        return subprocess.run(
            [*CLI, *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def payload(self, name: str, value: Any) -> Path:
        path = self.folder / f"{name}.json"
        path.write_text(json.dumps(value, ensure_ascii=False))
        return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line in this process: exit code, standard output, standard error."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resident_id(born: date, serial: int) -> str:
    first17 = f"371003{born:%Y%m%d}{serial:03d}"
    return first17 + resident_id_check_char(first17)


@pytest.fixture(scope="module")
async def newcomer(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Newcomer]:
    folder = tmp_path_factory.mktemp("newcomer")
    env = {**os.environ, "DATABASE_URL": await database_factory(), "PYTHONUNBUFFERED": "1"}
    env.pop("RURAL_LEDGER_HOME", None)
    port = free_port()
    fx = Newcomer(folder, f"http://127.0.0.1:{port}", env)
    init = fx.run("init", "--origin", ORIGIN)
    assert init.returncode == 0, init.stderr
    fx.public_keys["init"] = init.stdout
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--log-level", "warning"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"{fx.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.2)
        yield fx
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_newcomer_path(newcomer: Newcomer, capsys: pytest.CaptureFixture[str]) -> None:
    fx = newcomer
    home, url = str(fx.home), fx.url
    acting = ("--url", url, "--home", home)

    # init said where the root's key file is and whom it acts for
    root_key = fx.home / "keys" / "county.key"
    assert f"key file      {root_key.relative_to(fx.folder)} (acts for county" in fx.public_keys["init"]
    assert (fx.home / "operator.pub").read_text().strip() in fx.public_keys["init"]

    # a township: its key file, then its registration by the county, by subprocess
    keys = fx.run("keys", "--org", "zetou-town")
    assert keys.returncode == 0, keys.stderr
    assert "acts for    zetou-town" in keys.stdout
    town_public = keys.stdout.split("public key")[1].split()[0]
    template = fx.run("kinds", "org.registered", "--example")
    assert template.returncode == 0, template.stderr
    township = {
        **{k: v for k, v in json.loads(template.stdout).items() if k != "credit_code"},
        "id": "zetou-town",
        "name": "威海市文登区泽头镇",
        "type": "township",
        "parent": "county",
        "public_keys": [town_public],
        "area_code": "371003101",
    }
    path = fx.payload("township", township)
    submitted = fx.run("submit", "org.registered", "--as", "county", "--payload", str(path), "--url", url)
    assert submitted.returncode == 0, submitted.stderr
    assert "receipt checked: seq 2 " in submitted.stderr
    receipt = json.loads(submitted.stdout)
    assert receipt["seq"] == 2 and len(receipt["inclusion_proof"]) >= 1
    (fx.folder / "township.receipt").write_text(submitted.stdout)
    fx.receipts.append(fx.folder / "township.receipt")
    checked = fx.run("receipt", "check", "township.receipt")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"receipt checked: seq 2 is in {ORIGIN} at tree size 3")

    # a village collective, registered by its township; from here on in this process
    code, out, err = cli(capsys, "--home", home, "keys", "--org", "houtuan-village")
    assert code == 0, err
    village = {
        "id": "houtuan-village",
        "name": "威海市文登区泽头镇后疃村股份经济合作社",
        "type": "village_collective",
        "parent": "zetou-town",
        "public_keys": [out.split("public key")[1].split()[0]],
        "area_code": "371003101201",
        "credit_code": credit_code("N2", "371003", 1),
    }
    code, out, err = cli(
        capsys,
        "submit",
        "org.registered",
        "--as",
        "zetou-town",
        "--payload",
        str(fx.payload("village", village)),
        *acting,
    )
    assert code == 0, err
    fx.receipts.append(fx.payload("village.receipt", json.loads(out)))

    # two persons: the blind index by a signed request, the commitment, the fields beside
    for i, (name, born, sex) in enumerate(
        (("张建国", date(1968, 5, 4), "M"), ("李秀英", date(1970, 9, 12), "F"))
    ):
        id_number = resident_id(born, 11 if sex == "M" else 12)  # the serial's parity is the sex
        code, out, err = cli(
            capsys,
            "person", "register", "--as", "houtuan-village",
            "--name", name, "--id-number", id_number, "--phone", f"1380631{i:04d}",
            *acting,
        )  # fmt: skip
        assert code == 0, err
        registered = json.loads(out)
        uuid.UUID(registered["party"])
        assert f"registered: party {registered['party']} by houtuan-village" in err
        fx.parties.append(registered["party"])
        fx.receipts.append(fx.payload(f"person-{i}.receipt", registered))

    # their household, then the head admitted as a member
    head, spouse = fx.parties
    household = str(uuid.uuid4())
    payload = {
        "household": household,
        "head": head,
        "members": [{"party": head, "relation": "head"}, {"party": spouse, "relation": "spouse"}],
    }
    code, out, err = cli(
        capsys, "submit", "household.registered", "--as", "houtuan-village",
        "--payload", str(fx.payload("household", payload)), *acting,
    )  # fmt: skip
    assert code == 0, err
    fx.receipts.append(fx.payload("household.receipt", json.loads(out)))

    code, out, err = cli(capsys, "kinds", "member.admitted", "--example")
    assert code == 0, err
    admission = json.loads(out)
    today = date.today()
    admission |= {"party": head, "household": household, "basis": "hukou"}
    admission["decision"] |= {
        "notice_start": today.isoformat(),
        "notice_end": (today + timedelta(days=7)).isoformat(),
    }
    code, out, err = cli(
        capsys, "submit", "member.admitted", "--as", "houtuan-village",
        "--payload", str(fx.payload("admission", admission)), *acting,
    )  # fmt: skip
    assert code == 0, err
    fx.receipts.append(fx.payload("admission.receipt", json.loads(out)))

    # every receipt checks offline, with the operator key in the home or given
    for receipt_file in fx.receipts:
        code, out, err = cli(capsys, "--home", home, "receipt", "check", str(receipt_file))
        assert code == 0 and out.startswith("receipt checked: seq "), (receipt_file, err)
    code, out, err = cli(
        capsys, "receipt", "check", str(fx.receipts[-1]), "--operator-key", str(fx.home / "operator.pub")
    )
    assert code == 0, err

    # and the service shows what the path made
    member = httpx.get(f"{url}/v1/members/{head}").json()
    assert (member["collective_id"], member["status"]) == ("houtuan-village", "in_notice"), member
    assert httpx.get(f"{url}/healthz").json()["size"] == 8


def test_a_refusal_is_exit_1_with_its_code(newcomer: Newcomer) -> None:
    """A policy number the county does not have: the ledger refuses, the code and detail are
    printed in one line, nothing is stored. The payload comes on standard input."""
    before = httpx.get(f"{newcomer.url}/healthz").json()["size"]
    payload = {"numbers": {"tractor_quota": 3}}
    submit = ("submit", "policy.set", "--as", "county", "--payload", "-", "--url", newcomer.url)
    r = newcomer.run(*submit, stdin=json.dumps(payload))
    assert r.returncode == 1, r.stderr
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("rural-ledger submit: refused: policy.unknown_number: "), line
    assert r.stdout == ""
    assert httpx.get(f"{newcomer.url}/healthz").json()["size"] == before


def test_a_duplicate_person_is_refused(newcomer: Newcomer, capsys: pytest.CaptureFixture[str]) -> None:
    born = date(1975, 1, 2)
    common = (
        "person", "register", "--as", "county", "--name", "王芳",
        "--id-number", resident_id(born, 22), "--phone", "13806310009",
        "--url", newcomer.url, "--home", str(newcomer.home),
    )  # fmt: skip
    code, _, err = cli(capsys, *common)
    assert code == 0, err
    code, out, err = cli(capsys, *common)
    assert code == 1 and out == ""
    assert err.startswith("rural-ledger person register: refused: party.duplicate"), err


def test_unusable_input_is_exit_2_in_one_line(
    newcomer: Newcomer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = ("--home", str(newcomer.home))
    listed = newcomer.payload("listed", [])
    no_receipt = newcomer.payload("no-receipt", {"seq": -1})
    not_json = tmp_path / "bad.json"
    not_json.write_text("{'id': 1}")
    cases = {
        "not JSON": ["submit", "org.registered", "--as", "county", "--payload", str(not_json)],
        "must be a JSON object": ["submit", "org.registered", "--as", "county", "--payload", str(listed)],
        "cannot read the payload": ["submit", "policy.set", "--as", "county", "--payload", str(tmp_path)],
        "no key file for nobody": ["submit", "policy.set", "--as", "nobody", "--payload", str(listed)],
        "not of 'houtuan-village'": [
            "submit", "policy.set", "--as", "houtuan-village", "--payload", str(listed),
            "--key", str(newcomer.home / "keys" / "county.key"),
        ],
        "no operator key at": [
            "submit", "policy.set", "--as", "county", "--payload", str(listed), "--home", str(tmp_path),
            "--key", str(newcomer.home / "keys" / "county.key"),
        ],
        "no ledger service answered at http://127.0.0.1:9": [
            "submit", "policy.set", "--as", "county", "--payload", str(no_receipt),
            "--url", "http://127.0.0.1:9",
        ],
        "--url ftp://x names no service": [
            "submit", "policy.set", "--as", "county", "--payload", str(no_receipt), "--url", "ftp://x",
        ],
        "--id-number 371003": [
            "person", "register", "--as", "county", "--name", "x", "--id-number", "371003199901011234",
            "--phone", "13800000000",
        ],
        "entry.unknown_kind": ["kinds", "member.crowned"],
        "not a receipt": ["receipt", "check", str(no_receipt)],
    }  # fmt: skip
    for expected, args in cases.items():
        if "--home" not in args and args[0] != "kinds":
            args = [*args, *home]
        if args[0] in ("submit", "person") and "--url" not in args:
            args = [*args, "--url", newcomer.url]
        code, out, err = cli(capsys, *args)
        assert code == 2, (expected, code, err)
        assert len(err.strip().splitlines()) == 1 and expected in err, (expected, err)
        assert out == "", (expected, out)


def test_a_tampered_receipt_does_not_check(newcomer: Newcomer, capsys: pytest.CaptureFixture[str]) -> None:
    policy = newcomer.payload("policy", {"numbers": {"membership_notice_days": 7}})
    code, out, err = cli(
        capsys, "submit", "policy.set", "--as", "county", "--payload", str(policy),
        "--url", newcomer.url, "--home", str(newcomer.home),
    )  # fmt: skip
    assert code == 0, err
    receipt = json.loads(out)
    other_ledger = generate_signer(ORIGIN)[1]  # same name, another key
    tampered = {
        "mismatch for tree size": {"leaf_hash": "00" * 32},
        "is not in a tree of size": {"seq": receipt["seq"] + 1000},
        "must have": {"inclusion_proof": receipt["inclusion_proof"][:-1]},
        "note has no signature by key": {"checkpoint": receipt["checkpoint"]},
    }
    for expected, change in tampered.items():
        path = newcomer.payload("tampered.receipt", {**receipt, **change})
        key = ("--operator-key", other_ledger) if "signature" in expected else ()
        code, out, err = cli(capsys, "--home", str(newcomer.home), "receipt", "check", str(path), *key)
        assert code == 1 and out == "" and expected in err, (expected, err)
        assert err.startswith("rural-ledger receipt: the receipt does not check: "), err


def test_kinds_table(newcomer: Newcomer) -> None:
    r = newcomer.run("kinds")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["KIND", "VERSION", "SIGNED", "BY"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "village_collective: the person's village collective" in rows["member.admitted"]
    assert rows["member.admitted"].split()[1] == "2"
    described = newcomer.run("kinds", "household.registered")
    assert (
        described.returncode == 0
        and '"$schema": "https://json-schema.org/draft/2020-12/schema"' in described.stdout
    )
