"""Operations: ``/metrics`` counts appends and refusals; request logs are JSON lines with no
personal data in them."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import random
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.http.logs import JsonFormatter
from tests.registry_support import Village, new_person, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    return await village(ledger, "obs-town", "obs-village")


async def scrape(v: Village) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await v.fx.client.http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_an_append_and_a_refusal(v: Village) -> None:
    before = await scrape(v)
    person = await v.person()  # one append
    twin = dataclasses.replace(person, party=new_person(random.Random(99)).party)
    item = await v.fx.client.person_entry(v.key, twin, clock=v.fx.clock)
    r = await v.fx.client.http.post("/v1/entries", json=item)
    assert r.status_code == 409 and r.json()["code"] == "party.duplicate_person", r.text
    after = await scrape(v)

    assert (
        value(after, "rural_ledger_appended_entries_total")
        - value(before, "rural_ledger_appended_entries_total")
        == 1
    )
    assert value(after, "rural_ledger_append_batches_total") > value(
        before, "rural_ledger_append_batches_total"
    )
    assert value(after, "rural_ledger_append_batch_size_count") > value(
        before, "rural_ledger_append_batch_size_count"
    )
    assert value(after, "rural_ledger_append_seconds_count") > value(
        before, "rural_ledger_append_seconds_count"
    )
    code = {"code": "party.duplicate_person"}
    assert (
        value(after, "rural_ledger_refusals_total", **code)
        - value(before, "rural_ledger_refusals_total", **code)
        == 1
    )
    assert value(after, "rural_ledger_tree_size") == await v.fx.size()
    assert value(after, "rural_ledger_database_up") == 1
    posted = {"method": "POST", "route": "/v1/entries", "status": "200"}
    assert value(after, "rural_ledger_http_request_seconds_count", **posted) > value(
        before, "rural_ledger_http_request_seconds_count", **posted
    )
    refused = {"method": "POST", "route": "/v1/entries", "status": "409"}
    assert value(after, "rural_ledger_http_request_seconds_count", **refused) >= 1


async def test_metrics_stay_out_of_the_api_document(v: Village) -> None:
    document = (await v.fx.client.http.get("/schema/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_unmatched_paths_are_one_label(v: Village) -> None:
    r = await v.fx.client.http.get("/no/such/371003199001011234")
    assert r.status_code == 404 and r.headers["x-request-id"]
    assert (await v.fx.client.http.head("/healthz")).status_code == 200
    text = (await v.fx.client.http.get("/metrics")).text
    assert "371003199001011234" not in text
    assert 'route="unmatched"' in text
    assert 'method="HEAD",route="/healthz",status="200"' in text


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_json_logs_hold_no_personal_data(v: Village, json_log: io.StringIO) -> None:
    person = await v.person()
    twin = dataclasses.replace(person, party=new_person(random.Random(123)).party)
    item = await v.fx.client.person_entry(v.key, twin, clock=v.fx.clock)
    await v.fx.client.http.post("/v1/entries", json=item)  # refused: the same ID number
    # A query string and a path that carry them: neither may reach a log line.
    await v.fx.client.http.get(f"/v1/parties/{person.party}", params={"name": person.name})
    await v.fx.client.http.get(f"/v1/nothing/{person.id_number}", params={"id_number": person.id_number})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    # The test's own HTTP client logs its URLs in this process; the service's lines are the rest.
    lines = [line for line in lines if line["logger"] != "httpx"]
    requests = [line for line in lines if line["logger"] == "rural_ledger.http"]
    assert len(requests) >= 4
    for line in requests:
        assert {"ts", "level", "method", "route", "status", "duration_ms", "request_id"} <= line.keys()
        assert line["ts"].endswith("Z") and len(line["request_id"]) == 32
    assert "/v1/parties/{party_id}" in {line["route"] for line in requests}
    assert any(line["route"] == "unmatched" and line["status"] == 404 for line in requests)
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for secret in (person.name, person.id_number, person.phone, json.dumps(person.name)[1:-1]):
        assert secret not in text


async def test_replication_lag_is_absent_where_the_database_does_not_say(v: Village) -> None:
    """A read URL that names a primary (no replay there): the lag of the read replica is absent,
    not 0, and the scrape still answers; a primary with no standby lists none."""
    from litestar.testing import AsyncTestClient

    from api.http.app import Settings, create_app
    from api.service.database import asyncpg_url

    url = asyncpg_url(v.fx.url)
    app = create_app(Settings(home=v.fx.home, database_url=url, read_url=url))
    async with AsyncTestClient(app=app, timeout=60) as http:
        r = await http.get("/metrics")
    assert r.status_code == 200
    assert "rural_ledger_tree_size" in r.text
    assert 'standby="read_replica"' not in r.text and 'standby="self"' not in r.text
