"""A small seeded county: every record passes the rules through the real API, replay rebuilds
the projections, ``verify`` finds nothing, the same seed gives the same entries, and every
seeded person's resident ID number is valid and agrees with the person."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import jsonschema
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.audit.export import write_bundle
from api.cli.main import parser
from api.cli.verify import run_verify
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url, make_engine
from contracts.identifiers import validate_credit_code, validate_resident_id
from contracts.rulebook import RULEBOOK
from seed.command import init_for_story
from seed.runner import DEFAULT_START, SeedOptions, SeedResult, seed_ledger
from seed.story import CountyStory, Root
from tests.replay_check import assert_replay_matches_projections

SECRET = "5e" * 32  # the same operator blind-index secret in both ledgers of the pair
OPTIONS = SeedOptions(villages=2, seed=11, years=7, households=(20, 32))

MakeDatabase = Callable[[], Coroutine[Any, Any, str]]


async def seeded(
    make_database: MakeDatabase, folder: Path, options: SeedOptions
) -> tuple[str, Home, str, SeedResult]:
    url = await make_database()
    home = Home(folder)
    folder.mkdir(parents=True)
    home.blind_index_file.write_text(SECRET + "\n")
    operator_key = await init_for_story(home, asyncpg_url(url), "test.rural-ledger/seeded", DEFAULT_START)
    result = await seed_ledger(home, asyncpg_url(url), options)
    return url, home, operator_key, result


@pytest.fixture(scope="module")
async def pair(database_factory: MakeDatabase, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """Two ledgers seeded with the same seed: blind indexes computed locally in one and asked
    of the service in the other."""
    root = tmp_path_factory.mktemp("seeded")
    a = await seeded(database_factory, root / "a", OPTIONS)
    b = await seeded(
        database_factory, root / "b", SeedOptions(**{**OPTIONS.__dict__, "blind_index": "remote"})
    )
    return a, b


async def records(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT body FROM records ORDER BY seq")
    finally:
        await conn.close()
    return [msgspec.json.decode(r["body"]) for r in rows]


async def test_seeded_county_has_its_story(pair: tuple[Any, Any]) -> None:
    url, _, _, result = pair[0]
    kinds = {r["entry"]["kind"] for r in await records(url)}
    assert result.records == len(await records(url)) - 2  # all but the genesis and the rule adoption
    for kind in (
        "org.registered",
        "party.registered",
        "household.registered",
        "member.admitted",
        "member.confirmed",
        "land.contract_issued",
        "homestead.granted",
        "certificate.membership_issued",
        "certificate.transfer_filed",
        "household.member_removed",
        "member.status_changed",
        "assets.verified",
        "shares.quantified",
        "shares.certificate_issued",
        "land.contract_extended",
    ):
        assert kind in kinds, kind
    assert result.counts.villages == 2 and result.counts.settled_persons > 0


async def test_replay_rebuilds_every_projection_table(pair: tuple[Any, Any]) -> None:
    await assert_replay_matches_projections(pair[0][0], "test.rural-ledger/seeded")


async def test_verify_finds_nothing(pair: tuple[Any, Any], tmp_path: Path) -> None:
    url, _, operator_key, _ = pair[0]
    engine = make_engine(asyncpg_url(url), pool_size=2)
    try:
        await write_bundle(engine, tmp_path / "bundle")
    finally:
        await engine.dispose()
    args = parser().parse_args(
        ["verify", str(tmp_path / "bundle"), "--operator-key", operator_key, "--workers", "0", "--quiet"]
    )
    outcome = await run_verify(args)
    assert outcome.status == "intact", outcome.as_json()
    assert outcome.exit_code == 0
    # The seeded county adopted the current rule version at its start (record 1).
    assert outcome.rule_versions == [
        {"version": 1, "from_seq": 0, "to_seq": 0},
        {"version": RULEBOOK.current, "from_seq": 1, "to_seq": outcome.size - 1},
    ]


async def test_same_seed_same_entries(pair: tuple[Any, Any]) -> None:
    """The same entries (ids, kinds, actors, times, payloads, and the seeded organisations'
    signatures), recorded on the same simulated days, and each village's entries in the same
    order. The genesis and the rule adoption aside (``init`` makes a fresh root key and fresh
    ids), only how two villages' entries interleave within a day may differ: they are
    submitted concurrently."""
    a, b = await records(pair[0][0]), await records(pair[1][0])

    def content(r: dict[str, Any]) -> tuple[Any, ...]:
        e = r["entry"]
        sig = r["sig"] if e["actor"] != "county" else None
        return (r["recorded_at"], e["kind"], e["actor"], e["signed_at"], e["payload"], sig)

    def by_actor(rs: list[dict[str, Any]]) -> dict[str, list[str]]:
        order: dict[str, list[str]] = {}
        for r in rs:
            order.setdefault(r["entry"]["actor"], []).append(r["entry"]["id"])
        return order

    assert len(a) == len(b) > 500
    assert {r["entry"]["id"]: content(r) for r in a[2:]} == {r["entry"]["id"]: content(r) for r in b[2:]}
    assert by_actor(a[2:]) == by_actor(b[2:])


def test_story_is_deterministic_without_a_ledger() -> None:
    root = Root("county", "威海市", "371000")

    def entries(seed: int) -> list[tuple[Any, ...]]:
        story = CountyStory(seed, 3, root, date(2018, 3, 1), years=2, households=(10, 20))
        return [
            (t.label, i.id, i.kind, i.actor, i.payload, i.person) for t in story.ticks() for i in t.intents
        ]

    assert entries(5) == entries(5)
    assert entries(5) != entries(6)


async def test_resident_ids_and_codes_are_valid(pair: tuple[Any, Any]) -> None:
    url = pair[0][0]
    conn = await asyncpg.connect(url)
    try:
        people = await conn.fetch("SELECT id_number, sex, birth_date FROM personal_data")
        orgs = await conn.fetch("SELECT type, area_code, credit_code, parent_id FROM orgs")
        codes = {o["area_code"] for o in orgs}
    finally:
        await conn.close()
    assert len(people) > 100
    assert len({p["id_number"] for p in people}) == len(people)
    for p in people:
        born, sex = validate_resident_id(p["id_number"], date(2030, 1, 1))
        assert (born, sex) == (p["birth_date"], p["sex"])
    for o in orgs:
        if o["type"] == "village_collective":
            assert validate_credit_code(o["credit_code"]).startswith("N2")
            assert len(o["area_code"]) == 12 and o["area_code"][:9] in codes


async def test_every_seeded_payload_validates_against_its_published_schema(pair: tuple[Any, Any]) -> None:
    """Every payload of the seeded county against its kind's JSON Schema as ``GET /v1/kinds``
    publishes it, checked by ``jsonschema`` (independent of msgspec, which wrote the schemas),
    formats (dates, UUIDs) included."""
    url, home, _, _ = pair[0]
    async with AsyncTestClient(app=create_app(Settings(home=home, database_url=asyncpg_url(url)))) as http:
        published = (await http.get("/v1/kinds")).json()
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validators = {
        k["kind"]: jsonschema.Draft202012Validator(k["schema"], format_checker=checker)
        for k in published["kinds"]
    }
    checked: dict[str, int] = {}
    for r in await records(url):
        kind = r["entry"]["kind"]
        error = jsonschema.exceptions.best_match(validators[kind].iter_errors(r["entry"]["payload"]))
        assert error is None, (r["seq"], kind, error.message if error else None)
        checked[kind] = checked.get(kind, 0) + 1
    assert len(checked) >= 20 and sum(checked.values()) > 500, checked
