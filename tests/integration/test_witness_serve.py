"""``rural-ledger witness serve`` on loopback with a real ledger: the ledger's pushes are cosigned
and stored; each refusal has the spec's status; the witness keeps its state across a restart
and refuses a forked log; a record's offline proof file holds, and fails when changed."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from api.audit.tiles import HttpTiles
from api.cli.main import main
from api.cli.proof import check_proof_file
from api.cli.witness import witness_once
from api.client import LedgerClient
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from api.service.genesis import Genesis, init_ledger
from api.service.witness_push import PushFailed, WitnessEndpoint, WitnessPusher, WitnessSettings
from api.witness.server import Witness, witness_app
from api.witness.state import WitnessState
from ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    generate_signer,
    parse_note,
    sign_checkpoint,
)
from ledger.errors import IntegrityError
from ledger.proofs import consistency_nodes
from ledger.signing import SigningKey, b64
from ledger.witness import CosignerSigner, CosignerVerifier, cosignatures, generate_cosigner
from ledger.witness_protocol import SIZE_MEDIA_TYPE, add_checkpoint_body
from tests.conftest import FakeClock
from tests.served import READY, free_port, rural_ledger_command
from tests.support import LedgerFixture

ORIGIN = "test.rural-ledger/witnessed"
DOWN = CosignerSigner.from_string(generate_cosigner("down.example/w")[0])
WAIT = 15.0  # seconds: a bound on awaiting an event, never a sleep


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port, on this event loop: its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):  # at most 30 s, polled: uvicorn has no start event to await
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, task.exception() if task.done() else "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@dataclass
class Setup:
    witness: Witness
    witness_url: str
    ledger: LedgerFixture
    app: Litestar
    base: str
    operator: NoteSigner

    @property
    def pusher(self) -> WitnessPusher:
        pusher: WitnessPusher = self.app.state.witness_pusher
        return pusher

    async def append(self, n: int) -> int:
        fx = self.ledger
        for _ in range(n):
            payload = {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
            await fx.client.append(fx.keys["county"], "key.added", payload)
        return await fx.size()

    async def cosigned(self, size: int) -> None:
        await asyncio.wait_for(self.pusher.cosigned_by(self.witness.signer.verifier(), size), WAIT)

    async def post(self, body: bytes) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.post(f"{self.witness_url}/add-checkpoint", content=body)


def make_witness(state: Path, signer: CosignerSigner, operator: str) -> Witness:
    return Witness(signer, {ORIGIN: [NoteVerifier.from_string(operator)]}, WitnessState(state))


@pytest.fixture(scope="module")
async def setup(database_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Setup]:
    tmp = tmp_path_factory.mktemp("witness-serve")
    url = asyncpg_url(await database_factory())
    clock = FakeClock()
    home = Home(tmp / "home")
    genesis: Genesis = await init_ledger(url, home, ORIGIN, "county", "威海市文登区", clock)
    signer = CosignerSigner.from_string(generate_cosigner("witness.example/w1")[0])
    witness = make_witness(tmp / "witness.db", signer, genesis.operator_key)
    async with serving(witness_app(witness)) as witness_url:
        endpoint = WitnessEndpoint(witness_url, signer.verifier())
        # A witness nobody answers for: pushing to it fails and is retried, and never holds appends up.
        down = WitnessEndpoint(f"http://127.0.0.1:{free_port()}", DOWN.verifier())
        settings = Settings(
            home=home, database_url=url, clock=clock, witnesses=WitnessSettings((endpoint, down), poll=0.2)
        )
        app = create_app(settings)
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
            fx = LedgerFixture(url, home, genesis, LedgerClient(http=http, origin=ORIGIN, clock=clock), clock)
            fx.keys["county"] = home.org_key("county")
            yield Setup(witness, witness_url, fx, app, base, home.operator_signer())


async def test_the_ledger_s_pushes_are_cosigned_and_stored(setup: Setup) -> None:
    for n in (3, 2):
        size = await setup.append(n)
        await setup.cosigned(size)
        held = await setup.ledger.client.get("/v1/witness/cosignatures", size=size)
        # only the witness that answers: the one that is down never held the appends up
        assert [i["witness_key"] for i in held["items"]] == [str(setup.witness.signer.verifier())]
        note = await setup.ledger.client.get("/v1/checkpoint/cosigned", size=size)
        assert [c.name for c in cosignatures(parse_note(note), [setup.witness.signer.verifier()])] == [
            "witness.example/w1"
        ]
    assert setup.witness.state.latest(ORIGIN).size >= size  # type: ignore[union-attr]
    assert setup.pusher.failures[str(DOWN.verifier())] >= 1


async def latest_note(setup: Setup) -> tuple[int, str]:
    size = await setup.append(1)
    await setup.cosigned(size)
    return size, await setup.ledger.client.get("/v1/checkpoint", size=size)


async def test_a_wrong_old_size_is_409_with_the_witness_s_size(setup: Setup) -> None:
    size, note = await latest_note(setup)
    r = await setup.post(add_checkpoint_body(0, [], note))
    assert r.status_code == 409 and r.headers["content-type"].startswith(SIZE_MEDIA_TYPE)
    assert r.text == f"{size}\n"


async def test_a_bad_proof_is_422_and_kept_as_evidence(setup: Setup) -> None:
    size, _ = await latest_note(setup)
    root = bytes.fromhex("ab" * 32)
    forged = sign_checkpoint(Checkpoint(ORIGIN, size + 5, root), setup.operator)
    r = await setup.post(add_checkpoint_body(size, [bytes(32)] * 3, forged))
    assert r.status_code == 422 and "witness.bad_proof" in r.text
    assert any(code == "witness.bad_proof" for _, code, _ in setup.witness.state.evidence())


async def test_an_unknown_origin_is_404_and_another_key_403(setup: Setup) -> None:
    other = NoteSigner.from_string(generate_signer("other.example/log")[0])
    r = await setup.post(
        add_checkpoint_body(0, [], sign_checkpoint(Checkpoint(other.name, 1, bytes(32)), other))
    )
    assert r.status_code == 404
    impostor = NoteSigner.from_string(generate_signer(ORIGIN)[0])
    r = await setup.post(
        add_checkpoint_body(0, [], sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), impostor))
    )
    assert r.status_code == 403
    assert (await setup.post(b"old 01\n\n")).status_code == 400


async def test_a_forked_log_is_refused(setup: Setup) -> None:
    """Two histories signed by the operator: the same size with another root (409), and a larger
    tree whose proof does not start from the cosigned root (422). Neither moves the witness."""
    size, _ = await latest_note(setup)
    held = setup.witness.state.latest(ORIGIN)
    fork = sign_checkpoint(Checkpoint(ORIGIN, size, bytes.fromhex("cd" * 32)), setup.operator)
    r = await setup.post(add_checkpoint_body(size, [], fork))
    assert r.status_code == 409 and not r.headers["content-type"].startswith(SIZE_MEDIA_TYPE)
    longer = sign_checkpoint(Checkpoint(ORIGIN, size + 2, bytes.fromhex("ef" * 32)), setup.operator)
    proof = [bytes([i]) * 32 for i in range(len(consistency_nodes(size, size + 2).ids))]
    r = await setup.post(add_checkpoint_body(size, proof, longer))
    assert r.status_code == 422
    assert setup.witness.state.latest(ORIGIN) == held  # neither moved the witness
    grown = await setup.append(2)
    await setup.cosigned(grown)  # the real history still goes through


async def test_a_restarted_witness_keeps_its_state(setup: Setup, tmp_path: Path) -> None:
    size, note = await latest_note(setup)
    path = setup.witness.state.path
    again = make_witness(path, setup.witness.signer, str(setup.ledger.verifier))
    async with serving(witness_app(again)) as url, httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{url}/add-checkpoint", content=add_checkpoint_body(0, [], note))
        assert r.status_code == 409 and r.text == f"{size}\n"
        r = await http.post(f"{url}/add-checkpoint", content=add_checkpoint_body(size, [], note))
        assert r.status_code == 200 and r.text.startswith("— witness.example/w1 ")


async def test_the_proof_file_holds_offline_and_a_changed_byte_fails(setup: Setup, tmp_path: Path) -> None:
    size = await setup.append(1)
    await setup.cosigned(size)
    out, record = tmp_path / "r.tlog-proof", tmp_path / "r.json"
    wkey = str(setup.witness.signer.verifier())
    okey = str(setup.ledger.verifier)
    policy = ["--operator-key", okey, "--witness-key", wkey]
    code = await asyncio.to_thread(
        main, ["proof", "2", "--out", str(out), "--record-out", str(record), "--url", setup.base, *policy]
    )
    assert code == 0
    text = out.read_bytes()
    assert text.startswith(b"c2sp.org/tlog-proof@v1\nindex 2\n")
    assert await asyncio.to_thread(main, ["verify-proof", str(out), "--record", str(record), *policy]) == 0

    changed = text.replace(b"index 2\n", b"index 3\n")
    out.write_bytes(changed)
    assert await asyncio.to_thread(main, ["verify-proof", str(out), "--record", str(record), *policy]) == 1
    stranger = str(CosignerSigner.from_string(generate_cosigner("w9.example")[0]).verifier())
    out.write_bytes(text)
    assert (
        main(
            [
                "verify-proof",
                str(out),
                "--record",
                str(record),
                "--operator-key",
                okey,
                "--witness-key",
                stranger,
            ]
        )
        == 1
    )
    rec = record.read_text()
    record.write_text(rec.replace('"seq": 2', '"seq": 3'))
    assert main(["verify-proof", str(out), "--record", str(record), *policy]) == 1

    args = argparse.Namespace(operator_key=okey, home=None, witness_key=[wkey], min_witnesses=None)
    body = json.loads(rec)
    check_proof_file(text, body, args)
    for i in range(len(text)):  # every byte of the file as served
        bad = text[:i] + bytes([text[i] ^ 0x01]) + text[i + 1 :]
        with pytest.raises(IntegrityError):
            check_proof_file(bad, body, args)


async def test_the_one_shot_witness_reads_the_log_s_tiles(setup: Setup, tmp_path: Path) -> None:
    """``rural-ledger witness --tiles``: the checkpoint and the consistency proof from the tiles
    the service serves, the cosignature posted to the service (``--submit``)."""
    w = CosignerSigner.from_string(generate_cosigner("tiles.example/w")[0])
    state = tmp_path / "w.checkpoint"
    async with httpx.AsyncClient(timeout=30) as client, httpx.AsyncClient(base_url=setup.base) as api:
        tiles = HttpTiles(client, f"{setup.base}/tiles")
        first = await witness_once(api, setup.ledger.verifier, w, state, tiles=tiles)
        assert first.status == "cosigned", first.message
        size = await setup.append(3)
        again = await witness_once(None, setup.ledger.verifier, w, state, tiles=tiles)
        assert (again.status, again.size) == ("cosigned", size), again.message
    note = await setup.ledger.client.get("/v1/checkpoint", size=size)
    line = parse_note(note + again.details["cosignature"]).signatures[-1]
    assert w.verifier().check(parse_note(note).body, line).checkpoint.size == size
    held = await setup.ledger.client.get("/v1/witness/cosignatures", size=first.size)
    assert str(w.verifier()) in [i["witness_key"] for i in held["items"]]


@asynccontextmanager
async def witness_command(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """``rural-ledger witness serve ARGS`` as a process, once it has started: it and its output."""
    proc = await asyncio.create_subprocess_exec(
        *rural_ledger_command(),
        "witness",
        "serve",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(WAIT):
            while READY not in "".join(output):
                line = await proc.stdout.readline()
                assert line, "".join(output)
                output.append(line.decode())
        yield proc, output
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


async def test_the_witness_serve_command_and_a_crash(setup: Setup, tmp_path: Path) -> None:
    """The command itself, as an operator runs it: a key file made with --name, the log's key
    from its file, a cosignature for the ledger's checkpoint. Killed (SIGKILL) right after it
    answered, and started again: it still holds the size it cosigned."""
    port = free_port()
    (tmp_path / "operator.pub").write_text(str(setup.ledger.verifier) + "\n")
    args = ["--key", str(tmp_path / "w.key"), "--log", str(tmp_path / "operator.pub"), "--port", str(port)]
    add = f"http://127.0.0.1:{port}/add-checkpoint"
    size, note = await latest_note(setup)
    async with witness_command(*args, "--name", "cmd.example/w") as (proc, output):
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(add, content=add_checkpoint_body(0, [], note))
        proc.kill()
        assert r.status_code == 200, r.text
        assert f"follows      {ORIGIN}" in "".join(output)
    verifier = CosignerVerifier.from_string((tmp_path / "w.key.pub").read_text().strip())
    assert verifier.check(parse_note(note).body, parse_note(note + r.text).signatures[-1])
    async with witness_command(*args), httpx.AsyncClient(timeout=30) as http:
        r = await http.post(add, content=add_checkpoint_body(0, [], note))
        assert (r.status_code, r.text) == (409, f"{size}\n")


async def test_concurrent_requests_cannot_roll_the_witness_back(setup: Setup, tmp_path: Path) -> None:
    """The spec's race: five checkpoints offered at once from old size 0. The check and the
    update are one step, so one is cosigned and the four others answered 409 with its size."""
    notes = [(await latest_note(setup))[1] for _ in range(5)]
    fresh = make_witness(tmp_path / "race.db", setup.witness.signer, str(setup.ledger.verifier))
    async with serving(witness_app(fresh)) as url, httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post(f"{url}/add-checkpoint", content=add_checkpoint_body(0, [], n)) for n in notes)
        )
        held = fresh.state.latest(ORIGIN)
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409, 409]
    won = next(n for n, r in zip(notes, answers, strict=True) if r.status_code == 200)
    size = Checkpoint.from_body(parse_note(won).body).size
    assert {r.text for r in answers if r.status_code == 409} == {f"{size}\n"}
    assert held is not None and held.size == size


async def test_an_answer_that_is_not_the_witness_s_cosignature_is_not_kept(setup: Setup) -> None:
    """A witness configured with a key it does not hold: its answers do not verify, and the
    ledger keeps nothing under that key."""
    size = await setup.append(1)
    wrong = WitnessEndpoint(setup.witness_url, DOWN.verifier())
    pusher = WitnessPusher(setup.app.state.service.engine, WitnessSettings((wrong,), poll=60))
    pusher.start()
    try:
        with pytest.raises(PushFailed, match="not its cosignature"):
            await pusher.push(wrong, size - 1)
    finally:
        await pusher.stop()
    held = await setup.ledger.client.get("/v1/witness/cosignatures", size=size)
    assert str(DOWN.verifier()) not in [i["witness_key"] for i in held["items"]]
