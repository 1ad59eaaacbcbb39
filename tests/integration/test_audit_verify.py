"""`export` and `verify` on an intact ledger: bundle and live server, with and without worker
processes, and the routes' refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.audit_support import bundle, populate, verify
from tests.support import LedgerFixture


@pytest.fixture(scope="module", autouse=True)
async def populated(ledger: LedgerFixture) -> None:
    await populate(ledger)


async def test_bundle_holds_records_checkpoints_and_operator_key(
    ledger: LedgerFixture, tmp_path: Path
) -> None:
    folder = await bundle(ledger, tmp_path / "b")
    size = await ledger.size()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["size"] == size and manifest["origin"] == ledger.origin
    assert (folder / "operator.pub").read_text().strip() == ledger.genesis.operator_key
    lines = (folder / "ledger.jsonl").read_bytes().splitlines()
    records = [line for line in lines if line.startswith(b'{"entry":')]
    assert len(records) == size
    first = (await ledger.client.get("/v1/entries", after=-1, limit=1))["items"][0]
    assert json.loads(records[0]) == {k: v for k, v in first.items() if k != "leaf_hash"}
    assert sum(b'"checkpoint"' in line for line in lines) == size  # one batch per submission


async def test_verify_bundle_offline_is_intact(ledger: LedgerFixture, tmp_path: Path) -> None:
    outcome = await verify(ledger, await bundle(ledger, tmp_path / "b"))
    assert outcome.status == "intact", outcome.as_json()
    assert outcome.exit_code == 0
    assert outcome.records_checked == outcome.size == await ledger.size()
    assert outcome.checkpoint_size == outcome.size


async def test_verify_live_server_compares_state_digest(ledger: LedgerFixture) -> None:
    outcome = await verify(ledger)
    assert outcome.status == "intact", outcome.as_json()
    assert outcome.server_digest == "match"
    digest = await ledger.client.get("/v1/state-digest")
    assert digest["digest"] == outcome.state_digest and digest["size"] == outcome.size
    assert digest["tables"]["memberships"]["rows"] >= 3


async def test_verify_with_worker_processes(ledger: LedgerFixture, tmp_path: Path) -> None:
    outcome = await verify(ledger, await bundle(ledger, tmp_path / "b"), workers=2)
    assert outcome.status == "intact", outcome.as_json()


async def test_verify_without_stored_nodes(ledger: LedgerFixture, tmp_path: Path) -> None:
    outcome = await verify(ledger, await bundle(ledger, tmp_path / "b", nodes=False))
    assert outcome.status == "intact", outcome.as_json()


async def test_verify_save_writes_the_latest_checkpoint(ledger: LedgerFixture, tmp_path: Path) -> None:
    saved = tmp_path / "checkpoint"
    outcome = await verify(ledger, None, "--save", str(saved))
    assert saved.read_text() == await ledger.client.get("/v1/checkpoint")
    assert outcome.status == "intact"


@pytest.mark.parametrize("where", ["bundle", "server"])
async def test_verify_since_checks_only_what_was_added(
    ledger: LedgerFixture, tmp_path: Path, where: str
) -> None:
    from ledger.signing import SigningKey, b64

    saved = tmp_path / "audited.checkpoint"
    first = await verify(ledger, None, "--save", str(saved))
    assert first.status == "intact" and (tmp_path / "audited.checkpoint.state").exists()
    for _ in range(3):
        await ledger.client.append(
            ledger.keys["county"],
            "key.added",
            {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
        )
    source = await bundle(ledger, tmp_path / "b") if where == "bundle" else None
    outcome = await verify(ledger, source, "--since", str(saved), "--save", str(saved))
    assert outcome.status == "intact", (outcome.unusable, outcome.failure)
    assert (outcome.records_checked, outcome.size) == (3, first.size + 3)
    full = await verify(ledger, source)
    assert full.state_digest == outcome.state_digest
    if where == "server":
        assert outcome.server_digest == "match"
    again = await verify(ledger, source, "--since", str(saved))  # nothing new since
    assert (again.status, again.records_checked) == ("intact", 0), again.as_json()


async def test_verify_missing_bundle_is_unusable(ledger: LedgerFixture, tmp_path: Path) -> None:
    outcome = await verify(ledger, tmp_path / "nothing-here")
    assert (outcome.status, outcome.exit_code) == ("unusable", 2)


async def test_verify_cut_off_bundle_is_unusable(ledger: LedgerFixture, tmp_path: Path) -> None:
    folder = await bundle(ledger, tmp_path / "b")
    lines = (folder / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "ledger.jsonl").write_bytes(b"".join(lines[:-1]))  # no end line
    outcome = await verify(ledger, folder)
    assert outcome.status == "unusable" and "end line" in (outcome.unusable or "")


async def test_verify_with_another_operator_key_is_tampered(ledger: LedgerFixture, tmp_path: Path) -> None:
    from ledger.checkpoint import generate_signer

    folder = await bundle(ledger, tmp_path / "b")
    other = generate_signer(ledger.origin)[1]
    outcome = await verify(ledger, folder)
    assert outcome.status == "intact"
    from api.cli.main import parser
    from api.cli.verify import run_verify

    args = parser().parse_args(["verify", str(folder), "--operator-key", other, "--workers", "0", "--quiet"])
    outcome = await run_verify(args)
    assert outcome.failure is not None and outcome.failure.code == "checkpoint.signature"
    assert outcome.failure.seq == 0


async def test_export_route_streams_json_lines(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/export", params={"after": 1, "nodes": "false"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.content.splitlines()
    header, end = json.loads(lines[0]), json.loads(lines[-1])
    assert header["after"] == 1 and header["nodes"] is False and end == {"end": header["size"]}
    assert json.loads(lines[1])["seq"] == 2


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"after": -2}, 400, "request.invalid_parameters"),
        ({"after": 10**9}, 400, "export.after_out_of_range"),
        ({"after": "x"}, 400, "request.invalid_parameters"),
    ],
)
async def test_export_route_refuses_bad_after(
    ledger: LedgerFixture, params: dict[str, object], status: int, code: str
) -> None:
    r = await ledger.client.http.get("/v1/export", params=params)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"table": "no_such_table"}, 404, "state.unknown_table"),
        ({"bucket": 3}, 400, "state.bucket_without_table"),
        ({"table": "orgs", "bucket": 256}, 400, "request.invalid_parameters"),
    ],
)
async def test_state_digest_route_refuses_bad_input(
    ledger: LedgerFixture, params: dict[str, object], status: int, code: str
) -> None:
    r = await ledger.client.http.get("/v1/state-digest", params=params)
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_state_digest_drills_down_to_rows(ledger: LedgerFixture) -> None:
    table = await ledger.client.get("/v1/state-digest", table="orgs")
    assert len(table["buckets"]) == 256
    bucket = next(
        i
        for i, b in enumerate(table["buckets"])
        if b != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    rows = await ledger.client.get("/v1/state-digest", table="orgs", bucket=bucket)
    assert rows["rows"] and all(len(r["hash"]) == 64 for r in rows["rows"])
