"""Seeding a ledger: the story's entries, signed and submitted through the real HTTP API.

The ledger's clock (``recorded_at``) is the only time the rules use, and a seeded history
spans years (notice periods, certificate validity, ages), so the seeder runs the service
itself, in this process, with a simulated clock it sets to each tick's date before
submitting that tick's entries. Requests go through ``LedgerClient`` over httpx's ASGI
transport into the real Litestar app (the same routes, parsing, signature checks, rules,
appender and projections as ``rural-ledger serve``); no row is written any other way. Stop the
service before seeding its database: a second writer with the wall clock would interleave
records dated today with the seeded past.

Determinism: entry ids, party and household ids come from the story's seeded generators,
organisation keys and commitment salts are derived from the seed, and ``signed_at`` is the
tick's time, so the same seed, root and start give the same payloads (and, Ed25519 being
deterministic, the same signatures by the seeded organisations). The blind index is keyed
with the operator's secret, so it equals across ledgers only when that secret does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec

from api.client import MINIMAL, LedgerClient, SubmitError
from api.home import Home
from api.http.app import Settings, create_app
from ledger.entry import parse_time
from ledger.signing import KeyFile
from seed.model import Counts
from seed.orgkeys import org_key
from seed.signer import SigningPool
from seed.story import CountyStory, Intent, Root, Tick
from seed.storyteller import Storyteller

DEFAULT_START = date(2018, 3, 1)  # the first spring after the 2017 policy
DEFAULT_YEARS = 9
CHUNK = 8000  # entries in flight at once, shared by the streams
MAX_REQUEST = 5000  # the service's limit of entries in one request
# The in-process service's group-commit batch: 8,000 gave 873 records/s on 20 villages where
# the service's default 2,000 gave 659 (per-batch costs: prefetch queries, Merkle nodes,
# projection writes, a signed checkpoint; fewer, larger transactions).
MAX_BATCH = 8000
STATE_FILE = "seed.json"


class SeedError(RuntimeError):
    """Seeding cannot start, or the ledger refused a seeded entry (a bug in the story)."""


@dataclass(frozen=True)
class SeedOptions:
    villages: int
    seed: int
    start: date | None = None  # default: DEFAULT_START, or the day after the ledger's head
    years: int = DEFAULT_YEARS
    households: tuple[int, int] = (75, 150)  # per village, at registration
    blind_index: str = "local"  # local: the operator's secret in the home; remote: the route
    # Concurrent submission streams. With 1 the records' order is the same on every run;
    # with 2 (faster) only how two villages' entries interleave within a day may vary.
    streams: int = 2


@dataclass
class SeedResult:
    origin: str
    start: date
    counts: Counts
    records: int
    seconds: float
    first_seq: int
    last_seq: int
    showcase: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class Progress(Protocol):
    def tick(self, label: str, entries: int, index: int, ticks: int) -> None: ...

    def advance(self, entries: int) -> None: ...

    def close(self) -> None: ...


class SimulatedClock:
    """The ledger's clock while seeding: set by the seeder, read by the service."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Seeder:
    def __init__(
        self,
        client: LedgerClient,
        home: Home,
        options: SeedOptions,
        clock: SimulatedClock,
        progress: Progress | None = None,
    ) -> None:
        self.client, self.home, self.options = client, home, options
        self.clock, self.progress = clock, progress
        self.keys: dict[str, KeyFile] = {}
        self.origin = ""
        self.secret = home.blind_index_secret() if options.blind_index == "local" else None
        self.signer: SigningPool | None = None

    async def run(self) -> SeedResult:
        self.origin = await self.client.origin()
        genesis = (await self.client.get("/v1/entries/0"))["entry"]["payload"]
        root = Root(genesis["id"], genesis["name"], genesis["area_code"])
        size = int((await self.client.get("/healthz"))["size"])
        head = (await self.client.get(f"/v1/entries/{size - 1}"))["recorded_at"]
        start = self.start_date(head)
        # The plan only (places, organisation ids: 0.08 s at 500 villages), for the key files
        # and the already-seeded check; the ticks are told by the Storyteller from an identical
        # instance in its own process.
        story = CountyStory(
            self.options.seed, self.options.villages, root, start, self.options.years, self.options.households
        )
        await self.check_not_seeded(story)
        self.keys = {root.id: self.home.org_key(root.id)}
        for org in story.org_ids:
            self.keys[org] = org_key(self.options.seed, org)
            path = self.home.org_key_file(org)
            if not path.exists():
                self.keys[org].write(path)
        self.write_state(start, "seeding")
        began, records, first_seq, last_seq = time.perf_counter(), 0, -1, -1
        ticks = 5 + 4 * self.options.years  # about: confirmations follow rounds with admissions
        self.signer = SigningPool(
            self.home.root, self.options.seed, self.origin, local_blind_index=self.secret is not None
        )
        teller = Storyteller(
            self.options.seed, self.options.villages, root, start, self.options.years, self.options.households
        )
        try:
            upcoming = asyncio.ensure_future(teller.next_tick())
            index = 0
            while (tick := await upcoming) is not None:
                upcoming = asyncio.ensure_future(teller.next_tick())  # told while this one goes
                gc.freeze()  # the service's state so far: not garbage, never to be scanned
                if self.progress:
                    self.progress.tick(tick.label, len(tick.intents), index, ticks)
                seqs = await self.submit_tick(tick)
                if seqs:
                    first_seq = seqs[0] if first_seq < 0 else first_seq
                    last_seq = seqs[-1]
                records += len(seqs)
                index += 1
            counts, shown = await teller.outcome()
        finally:
            teller.close()
            self.signer.close()
        seconds = time.perf_counter() - began
        showcase: dict[str, str] = {"county": root.id}
        for k, value in shown.items():
            showcase.setdefault(k, value)
        result = SeedResult(self.origin, start, counts, records, seconds, first_seq, last_seq, showcase)
        self.write_state(start, "done", result)
        return result

    def start_date(self, head_recorded_at: str) -> date:
        """The story starts on the day after the ledger's last record at the earliest: records
        are never dated before the ones already in the ledger."""
        saved = self.read_state()
        if saved and saved.get("status") == "seeding" and self.same_run(saved):
            return date.fromisoformat(saved["start"])  # resume the interrupted run
        head_day = (parse_time(head_recorded_at) + timedelta(hours=8)).date()
        earliest = head_day + timedelta(days=1)
        if self.options.start is not None:
            if self.options.start < earliest:
                raise SeedError(
                    f"--start {self.options.start} is before the ledger's last "
                    f"record ({head_day}); records are never dated back"
                )
            return self.options.start
        return max(DEFAULT_START, earliest)

    async def check_not_seeded(self, story: CountyStory) -> None:
        saved = self.read_state()
        if saved and saved.get("status") == "seeding" and self.same_run(saved):
            return  # resuming: resubmitted entries are answered with their first receipts
        r = await self.client.http.get(f"/v1/orgs/{story.townships[0].id}")
        if r.status_code == 200:
            raise SeedError(
                f"this ledger already holds a seeded county ({story.townships[0].id} "
                "is registered); seed a fresh ledger"
            )

    def same_run(self, saved: dict[str, Any]) -> bool:
        return (saved.get("seed"), saved.get("villages"), saved.get("years"), saved.get("origin")) == (
            self.options.seed,
            self.options.villages,
            self.options.years,
            self.origin,
        )

    @property
    def state_file(self) -> Path:
        return self.home.root / STATE_FILE

    def read_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_file.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def write_state(self, start: date, status: str, result: SeedResult | None = None) -> None:
        doc: dict[str, Any] = {
            "origin": self.origin,
            "seed": self.options.seed,
            "villages": self.options.villages,
            "start": start.isoformat(),
            "years": self.options.years,
            "status": status,
        }
        if result is not None:
            doc.update(
                records=result.records,
                seconds=round(result.seconds, 1),
                first_seq=result.first_seq,
                last_seq=result.last_seq,
                counts=asdict(result.counts),
                showcase=result.showcase,
            )
        self.home.root.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")

    # -- signing and submitting ---------------------------------------------------------------

    async def submit_tick(self, tick: Tick) -> list[int]:
        """Submit a tick's entries, recorded at the tick's time. Runs of entries tagged with
        lanes (villages) go as ``options.streams`` concurrent streams, each in its lanes' order, so
        that one stream's signing and the service's parsing overlap the other's append;
        untagged entries are submitted alone, in order."""
        self.clock.now = tick.at
        seqs: list[int] = []
        for lanes, section in sections(tick.intents):
            if not lanes:
                seqs += await self.submit_stream(tick, section, request_size(1))
                continue
            streams = split_lanes(section, self.options.streams)
            done = await asyncio.gather(
                *(self.submit_stream(tick, s, request_size(len(streams))) for s in streams)
            )
            seqs += sorted(seq for stream in done for seq in stream)
        return seqs

    async def submit_stream(self, tick: Tick, intents: list[Intent], size: int) -> list[int]:
        """Submit ``intents`` in requests of ``size``, in order; the next request is signed
        while the service admits this one."""
        chunks = [intents[start : start + size] for start in range(0, len(intents), size)]
        seqs: list[int] = []
        next_body = asyncio.ensure_future(self.body(chunks[0], tick.at)) if chunks else None
        for index, chunk in enumerate(chunks):
            assert next_body is not None
            body = await next_body
            if index + 1 < len(chunks):
                next_body = asyncio.ensure_future(self.body(chunks[index + 1], tick.at))
            results = await self.post(body)
            for intent, result in zip(chunk, results, strict=True):
                if "error" in result:
                    problem = result["error"]
                    raise SeedError(
                        f"{tick.label}: {intent.kind} by {intent.actor} refused: "
                        f"{problem.get('code')}: {problem.get('detail')}\n"
                        f"payload: {json.dumps(intent.payload, ensure_ascii=False)}"
                    )
                seqs.append(int(result["seq"]))
            if self.progress:
                self.progress.advance(len(chunk))
        return seqs

    async def post(self, body: bytes) -> list[dict[str, Any]]:
        """``LedgerClient.submit_many(minimal=True)`` with a body the signing pool encoded: a
        bulk load keeps seqs, and any record's proof can be asked for later."""
        r = await self.client.http.post(
            "/v1/entries", content=body, headers={"content-type": "application/json", **MINIMAL}
        )
        if r.status_code >= 400:
            raise SubmitError(r.json())
        return msgspec.json.decode(r.content)["results"]  # type: ignore[no-any-return]

    async def body(self, intents: list[Intent], at: datetime) -> bytes:
        """The request body for ``intents``, signed in the signing pool. Blind indexes the
        service computes (``--blind-index remote``) are asked for first, over signed requests."""
        assert self.signer is not None
        jobs = [
            (
                i.id,
                i.kind,
                i.actor,
                i.payload,
                i.person,
                None
                if i.person is None or self.secret is not None
                else await self.client.blind_index(self.keys[i.actor], i.person.id_number, clock=self.clock),
            )
            for i in intents
        ]
        return await self.signer.body(jobs, at)


def request_size(streams: int) -> int:
    return min(MAX_REQUEST, CHUNK // streams)


def sections(intents: list[Intent]) -> list[tuple[bool, list[Intent]]]:
    """Consecutive runs of lane-tagged (True) and untagged (False) entries, in order."""
    out: list[tuple[bool, list[Intent]]] = []
    for intent in intents:
        tagged = intent.lane is not None
        if not out or out[-1][0] != tagged:
            out.append((tagged, []))
        out[-1][1].append(intent)
    return out


def split_lanes(intents: list[Intent], streams: int) -> list[list[Intent]]:
    """Lanes dealt round-robin to ``streams`` lists (in order of first appearance), each list
    keeping its entries' order: a lane's entries always stay in one stream."""
    stream_of: dict[str | None, int] = {}
    out: list[list[Intent]] = [[] for _ in range(streams)]
    for intent in intents:
        index = stream_of.setdefault(intent.lane, len(stream_of) % streams)
        out[index].append(intent)
    return [s for s in out if s]


async def seed_ledger(
    home: Home,
    url: str,
    options: SeedOptions,
    progress: Progress | None = None,
    on_ready: Callable[[LedgerClient], Any] | None = None,
) -> SeedResult:
    """Run the service in-process on a simulated clock and seed its ledger."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    requests = logging.getLogger("rural_ledger.http")  # nor the service's request log, while seeding
    level = requests.level
    requests.setLevel(logging.WARNING)
    clock = SimulatedClock(datetime.now(UTC))
    try:
        with quiet_garbage_collector():
            return await _seed_ledger(home, url, options, clock, progress, on_ready)
    finally:
        requests.setLevel(level)


@contextlib.contextmanager
def quiet_garbage_collector() -> Iterator[None]:
    """Seeding holds millions of long-lived objects (the story, the service's row cache) and
    makes a great many short-lived ones; with the default thresholds the cyclic collector
    rescanned the long-lived ones about every second, a quarter of a 60-village run. Objects
    alive at each tick are frozen (never scanned again) and young collections run less often;
    both are undone at the end."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def _seed_ledger(
    home: Home,
    url: str,
    options: SeedOptions,
    clock: SimulatedClock,
    progress: Progress | None,
    on_ready: Callable[[LedgerClient], Any] | None,
) -> SeedResult:
    app = create_app(Settings(home=home, database_url=url, clock=clock, max_batch=MAX_BATCH))
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with LedgerClient(
            http=httpx.AsyncClient(transport=transport, base_url="http://seed", timeout=600)
        ) as client:
            result = await Seeder(client, home, options, clock, progress).run()
            if on_ready is not None:
                await on_ready(client)
            return result
