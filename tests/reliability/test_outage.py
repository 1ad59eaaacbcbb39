"""PostgreSQL stopped for 10 s under load, on a cluster this test starts itself: during the
outage only 503 with Retry-After, no acknowledged entry lost, no "nothing was changed" for an
entry that was stored, seqs gapless, resubmission adds nothing, appends go on afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import FakeClock
from tests.support import LedgerFixture, open_ledger

OUTAGE_SECONDS, BEFORE, AFTER, CLIENTS, PAUSE = 10.0, 3.0, 5.0, 4, 0.1
_serial = itertools.count(100)


def township(ledger: LedgerFixture) -> dict[str, Any]:
    from ledger.signing import KeyFile, SigningKey, b64

    n = next(_serial)
    key = KeyFile(f"out-{n}", SigningKey.generate())
    return ledger.sign(
        ledger.keys["county"],
        "org.registered",
        {
            "id": f"out-{n}",
            "name": f"停{n}镇",
            "type": "township",
            "parent": "county",
            "public_keys": [b64(key.key.public_key)],
            "area_code": f"371003{n:03d}",
        },
    )


def pg_ctl_stop(pgdata: Path) -> None:
    from pgserver._commands import pg_ctl as run

    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres as it when root
    run(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)


def pg_ctl(server: Any, *args: str) -> None:
    from pgserver._commands import pg_ctl as run

    run(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=30)


async def records(ledger: LedgerFixture) -> dict[int, str]:
    seqs: dict[int, str] = {}
    after = -1
    for _ in range(100):
        page = await ledger.client.get("/v1/entries", after=after, limit=1000)
        seqs.update({r["seq"]: r["entry"]["id"] for r in page["items"]})
        if page["next"] is None:
            return seqs
        after = page["next"]
    raise AssertionError("too many pages")


async def test_database_outage() -> None:
    # A folder of its own, not under pytest's: pytest makes its base folder private to root
    # whenever another run starts, and postgres runs as the `pgserver` user.
    with tempfile.TemporaryDirectory(prefix="rural-ledger-outage-") as folder:
        os.chmod(folder, 0o755)
        try:
            await outage(Path(folder))
        finally:  # the restarted server is ours, not pgserver's: stop it before its folder goes
            with contextlib.suppress(Exception):
                pg_ctl_stop(Path(folder) / "pgdata")


async def outage(tmp_path: Path) -> None:
    import pgserver

    server = pgserver.get_server(tmp_path / "pgdata", cleanup_mode="stop")
    url = server.get_uri()
    socket_dir = url.split("host=")[1]
    answers: list[tuple[float, float, int, dict[str, Any], dict[str, Any], str | None]] = []
    stop = asyncio.Event()
    async with open_ledger(url, tmp_path / "home", FakeClock()) as ledger:

        async def client() -> None:
            while not stop.is_set() and len(answers) < 850:
                item = township(ledger)
                start = time.monotonic()
                r = await ledger.client.http.post("/v1/entries", json=item)
                answers.append(
                    (start, time.monotonic(), r.status_code, item, r.json(), r.headers.get("retry-after"))
                )
                await asyncio.sleep(PAUSE)

        clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
        await asyncio.sleep(BEFORE)
        pg_ctl(server, "-m", "fast", "stop")
        down = time.monotonic()
        health_down = await ledger.client.http.get("/healthz")
        await asyncio.sleep(OUTAGE_SECONDS)
        up = time.monotonic()
        pg_ctl(server, "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start")
        await asyncio.sleep(AFTER)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), 30)

        stored = await records(ledger)
        by_id = {entry_id: seq for seq, entry_id in stored.items()}
        during = Counter(status for s, e, status, *_ in answers if s > down and e < up)
        statuses = Counter(status for _, _, status, *_ in answers)
        acked = [(item, body) for *_, status, item, body, _ in answers if status == 200]
        nothing = [item for *_, item, body, _ in answers if "nothing was" in str(body.get("detail", ""))]
        found = sum(by_id.get(item["entry"]["id"]) == body["seq"] for item, body in acked)
        wrongly = sum(item["entry"]["id"] in by_id for item in nothing)
        print(
            f"\nanswers: {dict(statuses)}; during the outage: {dict(during)}; "
            f"acknowledged {len(acked)}, found {found}; 'nothing was stored' {len(nothing)}, "
            f"of them found {wrongly}; records {len(stored)}"
        )
        assert health_down.status_code == 503 and health_down.json()["reason"]
        assert 500 not in statuses
        assert set(during) == {503} and during[503] > 0
        assert all(ra for s, e, status, *_, ra in answers if status == 503)
        assert all(by_id.get(item["entry"]["id"]) == body["seq"] for item, body in acked)
        assert not [i for i in nothing if i["entry"]["id"] in by_id]
        assert sorted(stored) == list(range(len(stored)))
        assert any(s > up for s, _, status, *_ in answers if status == 200)
        missing = sum(1 for *_, item, _, _ in answers if item["entry"]["id"] not in by_id)
        again = await ledger.client.http.post(
            "/v1/entries", json={"entries": [item for *_, item, _, _ in answers]}
        )
        assert again.status_code == 200
        assert len(await records(ledger)) == len(stored) + missing
