"""The OpenAPI document of the real app (``/schema/openapi.json``): every operation answers a
typed shape and documents its problems as ``application/problem+json``, the wire shapes are
component schemas, the entries body covers every kind in force, signed operations carry the
signed-request scheme; and real answers, refusals included, validate against what the
document says of their operation (``jsonschema``, an independent validator)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import uuid
from typing import Any

import httpx
import jsonschema
import msgspec
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import api.http.wire
from contracts.catalogue import catalogue
from tests.registry_support import Village, village
from tests.support import LedgerFixture

PROBLEM = "application/problem+json"
DOCUMENT = "urn:rural-ledger:openapi"
METHODS = ("get", "put", "post", "delete", "patch")
WIRE_MODULES = [
    importlib.import_module(f"api.http.wire.{m.name}") for m in pkgutil.iter_modules(api.http.wire.__path__)
]
# Wire structs no answer carries as such: the record as hashed (inside every record), the
# fields of a party that Party and a statement's ClaimedParty extend.
NOT_ANSWERED = {"HashedRecord", "RegisteredParty"}
SIGNED = {
    "blindIndex",
    "getPersonalData",
    "erasePersonalData",
    "getEntryNote",
    "eraseEntryNote",
    "getExchangeBidder",
}


class OpenAPI:
    """The fetched document, and validation of an answer against its operation's schema."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            DOCUMENT, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in doc["paths"]
        ]

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(m, p, op) for p, item in self.doc["paths"].items() for m, op in item.items() if m in METHODS]

    def operation(self, operation_id: str) -> dict[str, Any]:
        return next(op for _, _, op in self.operations() if op["operationId"] == operation_id)

    def component(self, name: str) -> dict[str, Any]:
        return self.doc["components"]["schemas"][name]  # type: ignore[no-any-return]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.component(schema["$ref"].removeprefix("#/components/schemas/"))
        return schema

    def validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator({"$ref": f"{DOCUMENT}#{pointer}"}, registry=self.registry)

    def check(self, r: httpx.Response) -> str:
        """Validate ``r`` against the schema its operation documents for its status and media
        type; the operation's id."""
        path = r.request.url.path
        template = next(t for pattern, t in self.routes if pattern.match(path))
        method = r.request.method.lower()
        op = self.doc["paths"][template][method]
        status = str(r.status_code)
        assert status in op["responses"], f"{method} {template}: {status} undocumented"
        media = r.headers["content-type"].split(";")[0]
        content = op["responses"][status]["content"]
        assert media in content, f"{method} {template} {status}: {media} undocumented, found {list(content)}"
        pointer = "/".join(
            ["", "paths", _escape(template), method, "responses", status, "content", _escape(media), "schema"]
        )
        body = r.json() if media.endswith("json") else r.text
        self.validator(pointer).validate(body)
        if media == PROBLEM:
            documented = op["responses"][status]["content"][PROBLEM]["examples"]
            assert body["code"] in documented, f"{op['operationId']}: {body['code']} not documented"
        return str(op["operationId"])


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@pytest.fixture(scope="module")
async def openapi(ledger: LedgerFixture) -> OpenAPI:
    r = await ledger.client.http.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    return OpenAPI(r.json())


@pytest.fixture(scope="module")
async def story(ledger: LedgerFixture) -> tuple[Village, str, list[str]]:
    """A village with a household of members holding a contract, a homestead and a
    membership certificate."""
    v = await village(ledger, "t-openapi", "v-openapi")
    household, people = await v.members(2)
    await v.append(
        "land.contract_issued",
        {
            "contract": "C-OPENAPI",
            "household": household,
            "certificate_no": "371003-0009",
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": [
                {
                    "code": v.parcel(1),
                    "area_m2": 1200,
                    "land_class": "arable",
                    "boundaries": {"east": "road", "south": "ditch", "west": "hill", "north": "river"},
                }
            ],
        },
    )
    await v.append(
        "homestead.granted",
        {
            "homestead": "H-OPENAPI",
            "household": household,
            "plot_code": v.parcel(900),
            "area_m2": 160,
            "zone": "plain",
            "certificate_no": "ZJ-0009",
        },
    )
    await v.append(
        "certificate.membership_issued",
        {
            "certificate": "MC-OPENAPI",
            "household": household,
            "persons": [p.party for p in people],
            "rights": {"land_contracts": ["C-OPENAPI"], "homesteads": ["H-OPENAPI"]},
        },
    )
    return v, household, [p.party for p in people]


def test_every_operation_answers_a_typed_shape(openapi: OpenAPI) -> None:
    for method, path, op in openapi.operations():
        success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert success, f"{method} {path}: no 2xx"
        for response in success.values():
            assert response.get("content"), f"{method} {path}: an untyped 2xx"
            for media, content in response["content"].items():
                schema = openapi.resolve(content.get("schema") or {})
                assert schema.get("type") or schema.get("oneOf"), f"{method} {path} {media}: {schema}"
                if schema.get("type") == "object":
                    assert schema.get("properties"), f"{method} {path} {media}: an object of anything"


def test_every_operation_documents_its_problems(openapi: OpenAPI) -> None:
    for method, path, op in openapi.operations():
        refusals = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        assert {"429", "500"} <= set(refusals), f"{method} {path}: {sorted(refusals)}"
        for status, response in refusals.items():
            if (op["operationId"], status) == ("health", "503"):
                assert list(response["content"]) == ["application/json"]  # its own shape, documented
                continue
            assert list(response["content"]) == [PROBLEM], f"{method} {path} {status}"
            content = response["content"][PROBLEM]
            assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert content["examples"], f"{method} {path} {status}: no code listed"
            for code, example in content["examples"].items():
                assert example["value"]["code"] == code and example["value"]["status"] == int(status)
                assert f"`{code}`" in response["description"]
    assert '"status_code"' not in msgspec.json.encode(openapi.doc).decode(), "Litestar's error schema"


def test_codes_the_handlers_raise_are_documented(openapi: OpenAPI) -> None:
    def codes(op_id: str, status: str) -> set[str]:
        return set(openapi.operation(op_id)["responses"][status]["content"][PROBLEM]["examples"])

    assert {"record.not_found", "not_found"} <= codes("getRecord", "404")
    assert {"request.invalid_parameters", "proof.out_of_range"} <= codes("getInclusionProof", "400")
    assert {"auth.required", "auth.replayed", "auth.bad_signature"} <= codes("getPersonalData", "401")
    assert {"auth.forbidden"} <= codes("getPersonalData", "403")
    assert {"personal.erased", "party.not_found"} <= codes("getPersonalData", "404")
    assert {"request.duplicate_key", "request.too_deep", "entry.malformed"} <= codes("submitEntries", "400")
    assert {"request.unsupported_media_type"} <= codes("submitEntries", "415")
    assert {"request.too_large", "request.too_many_entries"} <= codes("submitEntries", "413")
    assert {"entry.id_conflict", "party.duplicate_person", "membership.already_member"} <= codes(
        "submitEntries", "409"
    )
    assert {"signature.invalid", "payload.invalid", "membership.not_in_notice"} <= codes(
        "submitEntries", "422"
    )
    assert {"database.unavailable", "receipts.unavailable"} <= codes("submitEntries", "503")
    assert {"as_of.out_of_range"} <= codes("getPartyRights", "400")
    assert {"entry.unknown_kind"} <= codes("getKind", "404")
    assert "Retry-After" in openapi.operation("getRecord")["responses"]["503"]["headers"]


def test_components_hold_every_wire_shape(openapi: OpenAPI) -> None:
    shapes = {
        name
        for module in WIRE_MODULES
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
    }
    assert len(shapes) > 60
    missing = shapes - NOT_ANSWERED - set(openapi.doc["components"]["schemas"])
    assert not missing, sorted(missing)
    invented = [n for n, schema in openapi.doc["components"]["schemas"].items() if "examples" in schema]
    assert not invented, f"examples made up by the generator: {invented}"
    problem = openapi.component("Problem")
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert {"retry_after", "errors", "results", "existing_party"} <= set(problem["properties"])


def test_the_entries_body_covers_every_kind(openapi: OpenAPI) -> None:
    body = openapi.operation("submitEntries")["requestBody"]
    assert body["required"] is True
    submission = openapi.resolve(body["content"]["application/json"]["schema"])
    single, batch = (openapi.resolve(s) for s in submission["oneOf"])
    assert set(single["required"]) == {"entry", "sig"}
    assert {"personal", "note"} <= set(single["properties"])
    assert openapi.resolve(batch["properties"]["entries"]["items"]) == single
    entry = openapi.resolve(single["properties"]["entry"])
    assert entry["discriminator"]["propertyName"] == "kind"
    variants = {openapi.resolve(v)["properties"]["kind"]["const"]: openapi.resolve(v) for v in entry["oneOf"]}
    kinds = [k.kind for k in catalogue()]
    assert set(variants) == set(entry["discriminator"]["mapping"]) == set(kinds)
    for k in catalogue():
        payload = openapi.resolve(variants[k.kind]["properties"]["payload"])
        published = k.schema["$defs"][k.schema["$ref"].removeprefix("#/$defs/")]
        assert payload["properties"].keys() == published["properties"].keys(), k.kind
        assert set(payload.get("required", [])) == set(published.get("required", [])), k.kind
        # the published example of each kind fits the document's schema of that kind
        jsonschema.Draft202012Validator(
            {"$ref": f"{DOCUMENT}{variants[k.kind]['properties']['payload']['$ref']}"},
            registry=openapi.registry,
        ).validate(k.example)


async def test_signed_operations_carry_the_scheme(ledger: LedgerFixture, openapi: OpenAPI) -> None:
    scheme = openapi.doc["components"]["securitySchemes"]["signedRequest"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "rural-ledger/request/v2" in scheme["description"]
    signed = {op["operationId"]: (m, p) for m, p, op in openapi.operations() if op.get("security")}
    assert set(signed) == SIGNED
    for op_id, (method, path) in signed.items():
        assert openapi.operation(op_id)["security"] == [{"signedRequest": []}]
        url = path.replace("{party_id}", str(uuid.uuid4())).replace("{entry_id}", str(uuid.uuid4()))
        url = url.replace("{listing}", "L-1").replace("{number}", "1")
        r = await ledger.client.http.request(method.upper(), url)
        assert r.status_code == 401 and r.json()["code"] == "auth.required", (op_id, r.text)
        assert openapi.check(r) == op_id


async def test_answers_validate_against_their_schemas(
    ledger: LedgerFixture, openapi: OpenAPI, story: tuple[Village, str, list[str]]
) -> None:
    v, household, parties = story
    http = ledger.client.http
    size = await ledger.size()
    gets = [
        "/healthz",
        "/v1/entries?limit=5",
        "/v1/entries/0",
        "/v1/checkpoint",
        "/v1/checkpoints?limit=3",
        f"/v1/proofs/inclusion?seq=1&size={size}",
        f"/v1/proofs/consistency?from=1&to={size}",
        "/v1/orgs?limit=3",
        f"/v1/orgs/{v.village}",
        f"/v1/members?collective={v.village}",
        f"/v1/members/{parties[0]}",
        f"/v1/members/{parties[0]}/history?limit=2",
        f"/v1/parties/{parties[0]}",
        f"/v1/parties/{parties[0]}/rights",
        f"/v1/households/{household}",
        f"/v1/households/{household}/rights",
        f"/v1/households?collective={v.village}",
        "/v1/land/contracts/C-OPENAPI",
        f"/v1/land/parcels/{v.parcel(1)}",
        "/v1/homesteads/H-OPENAPI",
        "/v1/certificates?limit=2",
        "/v1/certificates/MC-OPENAPI",
        "/v1/certificates/MC-OPENAPI/history",
        "/v1/certificates/MC-OPENAPI/print",
        f"/v1/monitoring?org={v.township}",
        "/v1/state-digest",
        "/v1/state-digest?table=orgs",
        "/v1/state-digest?table=orgs&bucket=0",
        "/v1/witness/cosignatures?size=1",
        "/v1/kinds/member.admitted",
        f"/v1/policy?org={v.village}",
        "/v1/vouchers?county=county",
        "/v1/vouchers/schedules",
        "/v1/vouchers/pool",
        f"/v1/vouchers/monitoring?org={v.township}",
        f"/v1/quotas?collective={v.village}",
    ]
    checked = set()
    for url in gets:
        r = await http.get(url)
        assert r.status_code == 200, (url, r.text)
        checked.add(openapi.check(r))
    personal = await http.get(f"/v1/parties/{parties[0]}/personal", auth=ledger.client.signed_by(v.key))
    assert personal.status_code == 200, personal.text
    checked.add(openapi.check(personal))
    # a receipt, a minimal receipt and a list with a refusal
    first = await http.get("/v1/entries/2")
    resubmitted = {"entry": first.json()["entry"], "sig": first.json()["sig"]}
    for headers in ({}, {"Prefer": "return=minimal"}):
        r = await http.post("/v1/entries", json=resubmitted, headers=headers)
        assert r.status_code == 200, r.text
        checked.add(openapi.check(r))
    r = await http.post("/v1/entries", json={"entries": [resubmitted, {"entry": {}, "sig": ""}]})
    assert [set(x) for x in r.json()["results"]] == [
        {"seq", "leaf_hash", "checkpoint", "inclusion_proof"},
        {"error"},
    ]
    openapi.check(r)
    assert len(checked) >= 30


async def test_problems_validate_against_problem(
    ledger: LedgerFixture, openapi: OpenAPI, story: tuple[Village, str, list[str]]
) -> None:
    v, _, parties = story
    http = ledger.client.http
    refused = [
        await http.get("/v1/entries/999999"),
        await http.get("/v1/orgs?limit=0"),
        await http.get("/v1/entries/not-a-seq"),
        await http.get(f"/v1/parties/{parties[0]}/rights?as_of=999999"),
        await http.get("/v1/monitoring?org=county&as_of=-1"),
        await http.post(
            "/v1/entries", content=b'{"a": 1, "a": 2}', headers={"content-type": "application/json"}
        ),
        await http.post("/v1/entries", content=b"{}", headers={"content-type": "text/plain"}),
        await v.submit("member.confirmed", {"party": parties[0]}),
        await http.post("/v1/witness/cosignatures", json={"size": 1}),
    ]
    statuses = set()
    for r in refused:
        assert r.headers["content-type"].startswith(PROBLEM), r.text
        openapi.check(r)
        openapi.validator("/components/schemas/Problem").validate(r.json())
        statuses.add(r.status_code)
    assert statuses == {400, 404, 415, 422}
