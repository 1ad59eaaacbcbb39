"""Static tiles (C2SP tlog-tiles) of a real ledger of some 600 records: the folder
``tiles write`` makes equals what the service serves under ``/tiles`` and the tile set
built from the records; ``mirror`` copies it from the served tiles, ``verify`` passes on the
mirror and on the served tiles and matches the live checkpoint; a tile changed on the mirror
is caught; appends are picked up incrementally; bad tile paths are 4xx problems."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.audit.auditor import AuditOutcome
from api.cli.main import main, parser
from api.cli.mirror import MirrorOutcome, run_mirror
from api.cli.verify import run_verify
from api.service import tiles_store
from api.service.database import asyncpg_url, make_engine
from api.service.tiles_writer import TilesWritten, write_tiles
from ledger.canonical import canonical_bytes
from ledger.checkpoint import open_checkpoint
from ledger.signing import SigningKey, b64
from ledger.tiles import TILE_WIDTH, Tile, parse_tile_path, tile_set, tiles_between, tiles_of
from tests.support import LedgerFixture

PREFIX = "http://testserver.local/tiles"


async def add_keys(fx: LedgerFixture, n: int, batch: int = 150) -> None:
    county = fx.keys["county"]
    for i in range(0, n, batch):
        items = [
            fx.sign(
                county, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
            )
            for _ in range(min(batch, n - i))
        ]
        results = await fx.client.submit_many(items, minimal=True)
        assert not [r for r in results if "error" in r], results[:2]


@pytest.fixture(scope="module", autouse=True)
async def populated(ledger: LedgerFixture) -> None:
    await add_keys(ledger, 600 - await ledger.size())


async def write(fx: LedgerFixture, folder: Path) -> TilesWritten:
    engine = make_engine(asyncpg_url(fx.url), pool_size=2)
    try:
        return await write_tiles(engine, folder)
    finally:
        await engine.dispose()


async def mirror(fx: LedgerFixture, folder: Path) -> MirrorOutcome:
    return await mirror_from(fx, PREFIX, folder)


async def mirror_from(fx: LedgerFixture, source: str, folder: Path) -> MirrorOutcome:
    args = parser().parse_args(["mirror", source, str(folder), "--operator-key", fx.genesis.operator_key])
    return await run_mirror(args, http=fx.client.http)


async def verify(fx: LedgerFixture, source: str, *extra: str) -> AuditOutcome:
    args = parser().parse_args(
        ["verify", source, "--operator-key", fx.genesis.operator_key, "--workers", "0", "--quiet", *extra]
    )
    return await run_verify(args, http=fx.client.http if source.startswith("http") else None)


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


async def all_records(fx: LedgerFixture) -> list[bytes]:
    out: list[bytes] = []
    after = -1
    while True:
        page = await fx.client.get("/v1/entries", after=after, limit=1000)
        out += [canonical_bytes({k: v for k, v in r.items() if k != "leaf_hash"}) for r in page["items"]]
        if page["next"] is None:
            return out
        after = page["next"]


async def test_served_tiles_match_the_written_folder_and_the_records(
    ledger: LedgerFixture, tmp_path: Path
) -> None:
    written = await write(ledger, tmp_path / "tiles")
    size = await ledger.size()
    assert (written.size, written.previous, written.held_back) == (size, 0, None)
    on_disk = files(tmp_path / "tiles")
    reference = {t.path(): d for t, d in tile_set(await all_records(ledger)).items()}
    assert {p: d for p, d in on_disk.items() if p != "checkpoint"} == reference
    assert set(reference) == {t.path() for t in tiles_of(size)}
    http = ledger.client.http
    for path, data in on_disk.items():
        r = await http.get(f"/tiles/{path}", headers={"Accept-Encoding": "gzip"})
        assert (r.status_code, r.content) == (200, data), path
        if path == "checkpoint":
            assert r.headers["content-type"] == "text/plain; charset=utf-8"
            assert "immutable" not in r.headers["cache-control"]
            continue
        tile = parse_tile_path(path)
        assert r.headers["content-type"] == "application/octet-stream"
        assert ("immutable" in r.headers["cache-control"]) == tile.full, path
        if tile.is_bundle:
            assert r.headers.get("content-encoding") == "gzip"
    note = on_disk["checkpoint"].decode()
    assert note == await ledger.client.get("/v1/checkpoint")
    assert open_checkpoint(note, ledger.verifier).size == size


async def test_mirror_verifies_and_follows_the_log(ledger: LedgerFixture, tmp_path: Path) -> None:
    folder = tmp_path / "mirror"
    first = await mirror(ledger, folder)
    assert first.status == "updated" and first.exit_code == 0, first.line()
    size = await ledger.size()
    assert first.size == size and first.fetched == len(tiles_of(size))
    assert (folder / "checkpoint").read_text() == await ledger.client.get("/v1/checkpoint")

    for source in (str(folder), PREFIX):
        args = ("--tiles",) if source == PREFIX else ()
        outcome = await verify(ledger, source, *args)
        assert outcome.status == "intact", outcome.as_json()
        assert outcome.size == outcome.checkpoint_size == outcome.records_checked == size
    live = await verify(ledger, "http://testserver")
    assert live.state_digest == outcome.state_digest and live.server_digest == "match"

    again = await mirror(ledger, folder)
    assert (again.status, again.fetched, again.size) == ("current", 0, size), again.line()

    await add_keys(ledger, 300)
    grown = await mirror(ledger, folder)
    new_size = await ledger.size()
    assert (grown.status, grown.previous, grown.size) == ("updated", size, new_size), grown.line()
    assert grown.fetched == len(tiles_between(size, new_size))  # the old full tiles are kept
    assert (folder / "checkpoint").read_text() == await ledger.client.get("/v1/checkpoint")
    assert not list(folder.glob("tile/0/000.p/*"))  # a partial whose full tile exists is gone
    outcome = await verify(ledger, str(folder))
    assert (outcome.status, outcome.size) == ("intact", new_size), outcome.as_json()


async def test_a_tile_changed_on_the_mirror_is_caught(ledger: LedgerFixture, tmp_path: Path) -> None:
    folder = tmp_path / "mirror"
    assert (await mirror(ledger, folder)).status == "updated"
    tile = folder / Tile(0, 1).path()
    data = bytearray(tile.read_bytes())
    data[40] ^= 1  # hash 1 of the second tile: record 257
    tile.write_bytes(bytes(data))
    outcome = await mirror(ledger, folder)
    assert (outcome.status, outcome.exit_code) == ("tampered", 1)
    assert "tile.mismatch" in outcome.problem and "tile/0/001" in outcome.problem
    checked = await verify(ledger, str(folder))
    assert (checked.status, checked.exit_code) == ("tampered", 1)
    assert checked.failure is not None and (checked.failure.code, checked.failure.seq) == (
        "tile.mismatch",
        257,
    )

    bundle = folder / Tile(-1, 0).path()
    entries = bytearray(bundle.read_bytes())
    entries[entries.index(b'"recorded_at":"') + 20] ^= 1  # a digit of record 0's time
    bundle.write_bytes(bytes(entries))
    os.remove(tile)  # a full tile missing on the mirror is fetched again
    outcome = await mirror(ledger, folder)
    assert outcome.status == "tampered" and "tile/0/000" in outcome.problem, outcome.line()

    os.remove(bundle)
    repaired = await mirror(ledger, folder)
    assert repaired.status == "updated" and repaired.fetched == 2, repaired.line()
    assert (await verify(ledger, str(folder))).status == "intact"


async def test_tiles_write_is_incremental(ledger: LedgerFixture, tmp_path: Path) -> None:
    folder = tmp_path / "tiles"
    first = await write(ledger, folder)
    full = folder / Tile(-1, 0).path()
    stamp = full.stat().st_mtime_ns
    await add_keys(ledger, 260)
    second = await write(ledger, folder)
    assert (second.previous, second.size) == (first.size, await ledger.size())
    assert full.stat().st_mtime_ns == stamp  # a full tile is written once
    assert second.files < len(tiles_of(second.size))
    assert set(files(folder)) - {"checkpoint"} >= {t.path() for t in tiles_of(second.size)}
    assert not [p for p in files(folder) if ".p/" in p and not _needed(p, files(folder))]
    again = await write(ledger, folder)
    assert (again.previous, again.files) == (second.size, 1)  # only the checkpoint


def _needed(path: str, present: dict[str, bytes]) -> bool:
    tile = parse_tile_path(path)
    return Tile(tile.level, tile.index, TILE_WIDTH).path() not in present


async def test_a_record_too_long_for_a_bundle_holds_the_tiles_back(ledger: LedgerFixture) -> None:
    """With a lower limit, the tiles stop at the last checkpoint before the first record over
    it (records over 65,535 bytes cannot be built quickly here; the query is the same)."""
    lengths = [len(r) for r in await all_records(ledger)]
    limit = sorted(lengths)[len(lengths) // 2]
    first_over = next(i for i, n in enumerate(lengths) if n > limit)
    engine = make_engine(asyncpg_url(ledger.url), pool_size=1)
    try:
        async with engine.connect() as conn:
            pub = await conn.run_sync(tiles_store.published, tiles_store.OversizeScan(limit=limit))
            none = await conn.run_sync(tiles_store.published, tiles_store.OversizeScan(limit=0))
            sizes = [
                c["size"] for c in (await ledger.client.get("/v1/checkpoints", after=0, limit=1000))["items"]
            ]
    finally:
        await engine.dispose()
    assert none is None
    expected = max((s for s in sizes if s <= first_over), default=None)
    if expected is None:
        assert pub is None
    else:
        assert pub is not None and (pub.size, pub.held_back) == (expected, first_over)


async def test_a_partial_tile_gone_is_cut_from_its_full_tile(ledger: LedgerFixture, tmp_path: Path) -> None:
    """A reader holding an older checkpoint whose partial tiles the log has since removed
    (their full tiles exist) reads them from the full ones, as the spec intends."""
    folder = tmp_path / "tiles"
    await add_keys(ledger, (-(await ledger.size())) % TILE_WIDTH + 40)  # a partial bundle of 40
    older = await write(ledger, folder)
    note = (folder / "checkpoint").read_bytes()
    await add_keys(ledger, TILE_WIDTH)
    await write(ledger, folder)
    gone = Tile(-1, older.size // TILE_WIDTH, older.size % TILE_WIDTH)
    assert not (folder / gone.path()).exists() and (folder / Tile(-1, gone.index).path()).exists()
    (folder / "checkpoint").write_bytes(note)  # as read by a client before the second write
    mirrored = await mirror_from(ledger, str(folder), tmp_path / "mirror")
    assert (mirrored.status, mirrored.size) == ("updated", older.size), mirrored.line()
    assert (tmp_path / "mirror" / gone.path()).exists()
    assert (await verify(ledger, str(folder))).status == "intact"


async def test_tiles_held_back_are_a_whole_tile_set_that_verifies(
    ledger: LedgerFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if record 700 were longer than a bundle takes (the scan's answer given)."""
    first_over = 700
    scan = functools.partial(tiles_store.OversizeScan, scanned=2**62, first=first_over)
    monkeypatch.setattr(tiles_store, "OversizeScan", scan)
    written = await write(ledger, tmp_path / "tiles")
    assert written.held_back == first_over and 0 < written.size <= first_over
    mirrored = await mirror_from(ledger, str(tmp_path / "tiles"), tmp_path / "mirror")
    assert (mirrored.status, mirrored.size) == ("updated", written.size), mirrored.line()
    outcome = await verify(ledger, str(tmp_path / "mirror"))
    assert (outcome.status, outcome.size) == ("intact", written.size), outcome.as_json()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("tile/0/x1/..", 400),
        ("tile/0/x1", 400),
        ("tile/0/0001", 400),
        ("tile/0/000.p/0", 400),
        ("tile/0/000.p/256", 400),
        ("tile/0/000.p/300", 400),
        ("tile/64/000", 400),
        ("tile/0/" + "x999/" * 40 + "999", 400),
        ("tile/0/x999/x999/999", 404),  # beyond the tree
        ("tile/entries/x001/000", 404),
        ("tile/3/000", 404),
        ("tile/1/000", 404),  # the tree has no full level-1 tile
        ("tile/0/x001/000.p/5", 404),
        ("tile/0/%00", 400),
        ("tile/", 404),  # no route takes it
    ],
)
async def test_bad_tile_paths_are_problems_not_failures(
    ledger: LedgerFixture, path: str, status: int
) -> None:
    r = await ledger.client.http.get(f"/tiles/{path}")
    assert r.status_code == status, (path, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ({"tile.bad_path"} if status == 400 else {"tile.not_found", "not_found"})


NGINX_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location = /tiles/checkpoint {{
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "public, max-age=5";
        }}
        location ~ ^/tiles/tile/.*\\.p/ {{
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=60";
        }}
        location /tiles/tile/ {{
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable";
            gzip on;
            gzip_types application/octet-stream;
        }}
        location ~ /\\. {{ deny all; }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Plain nginx serving ``www/tiles`` at ``http://127.0.0.1:PORT/tiles`` (as docs/tiles.md)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        if os.environ.get("CI"):  # .ci/run installs it: on CI its absence is a failure
            pytest.fail("nginx is not installed (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    www, run = tmp_path / "www", tmp_path / "nginx"
    (www / "tiles").mkdir(parents=True)
    run.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""  # the test's folders are the runner's only
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=run, port=port, www=www))
    proc = subprocess.Popen([binary, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")])
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError((run / "error.log").read_text())
        yield f"http://127.0.0.1:{port}/tiles", www / "tiles"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_mirror_of_tiles_served_by_plain_nginx(
    ledger: LedgerFixture, tmp_path: Path, nginx: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands as an operator and a mirror run them: ``tiles write`` into nginx's folder,
    ``mirror`` and ``verify --tiles`` over real HTTP."""
    url, served = nginx
    monkeypatch.setenv("DATABASE_URL", ledger.url)
    home = ["--home", str(ledger.home.root)]
    assert await asyncio.to_thread(main, [*home, "tiles", "write", str(served)]) == 0
    folder = tmp_path / "mirror"
    key = ["--operator-key", ledger.genesis.operator_key]
    mirror_cli = ["mirror", url, str(folder), *key]
    assert await asyncio.to_thread(main, mirror_cli) == 0
    live = await ledger.client.get("/v1/checkpoint")
    assert (folder / "checkpoint").read_text() == live
    verify_cli = ["verify", url, "--tiles", *key, "--workers", "0", "--quiet"]
    assert await asyncio.to_thread(main, verify_cli) == 0
    assert (await verify(ledger, str(folder))).status == "intact"

    tile = folder / Tile(-1, 1).path()
    tile.write_bytes(tile.read_bytes().replace(b"key.added", b"key.adder", 1))
    assert await asyncio.to_thread(main, mirror_cli) == 1
    assert await asyncio.to_thread(main, ["verify", str(folder), *key, "--workers", "0", "--quiet"]) == 1

    await add_keys(ledger, 20)
    os.remove(tile)
    assert await asyncio.to_thread(main, [*home, "tiles", "write", str(served)]) == 0
    followed = await run_mirror(
        parser().parse_args([*mirror_cli, "--follow", "--interval", "0", "--runs", "2"])
    )
    assert followed.status == "current", followed.line()  # the second run found nothing new
    assert (folder / "checkpoint").read_text() == await ledger.client.get("/v1/checkpoint")
    assert await asyncio.to_thread(main, ["mirror", url + "/nothing", str(tmp_path / "m2"), *key]) == 2


async def test_a_partial_tile_kept_from_an_earlier_size_is_checked(
    ledger: LedgerFixture, tmp_path: Path
) -> None:
    """The partial tiles of an earlier size stay on the mirror (and are served) until their
    full tile exists: each must be the start of the checked tile at its level and index."""
    if await ledger.size() % 256 > 200:  # room for the tree to grow within the same tiles
        await add_keys(ledger, 256 - await ledger.size() % 256 + 10)
    folder = tmp_path / "mirror"
    assert (await mirror(ledger, folder)).status == "updated"
    await add_keys(ledger, 5)
    assert (await mirror(ledger, folder)).status == "updated"
    current = {t.path() for t in tiles_of(await ledger.size())}
    kept = [p for p in files(folder) if ".p/" in p and p not in current]
    assert kept and any(p.startswith("tile/0/") for p in kept) and any("entries" in p for p in kept), kept
    assert (await mirror(ledger, folder)).status == "current"  # as they are, they pass

    for path in (next(p for p in kept if p.startswith("tile/0/")), next(p for p in kept if "entries" in p)):
        original = (folder / path).read_bytes()
        changed = bytearray(original)
        changed[-3] ^= 1
        (folder / path).write_bytes(bytes(changed))
        outcome = await mirror(ledger, folder)
        assert (outcome.status, outcome.exit_code) == ("tampered", 1), outcome.line()
        assert "tile.mismatch" in outcome.problem and path in outcome.problem
        (folder / path).write_bytes(original)
    assert (await mirror(ledger, folder)).status == "current"
