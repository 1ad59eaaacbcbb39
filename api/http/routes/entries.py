"""Submitting entries and reading records."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, PathParameter, QueryParameter

from api.http.body import decode_json, require_json
from api.http.dependencies import Db, Service
from api.http.openapi.refusals import admission_refusals
from api.http.openapi.submissions import submission_body
from api.http.problems import PROBLEM_MEDIA_TYPE, ApiProblem, rejection_problem
from api.http.routes.paging import MAX_SEQ
from api.http.routes.parties import existing_party_shown
from api.http.wire.problems import Problem, Refusal
from api.http.wire.records import MinimalReceipt, Receipt, Record, RecordPage, SubmissionResults, record_of
from api.service.metrics import refused
from api.service.replica import REPLICA_READS
from api.service.service import LedgerService
from contracts.parties import DuplicatePerson
from ledger import store
from ledger.errors import Category, Rejection

MAX_ENTRIES_PER_REQUEST = 5000
MAX_PAGE = 1000


def parse_body(raw: bytes) -> tuple[list[Any], bool]:
    """The submissions in a request body and whether it was a single one."""
    doc = decode_json(raw)
    if isinstance(doc, dict) and set(doc) == {"entries"}:
        items = doc["entries"]
        if not isinstance(items, list) or not items:
            raise ApiProblem(Category.MALFORMED, "request.malformed", '"entries" must be a non-empty list')
        if len(items) > MAX_ENTRIES_PER_REQUEST:
            raise ApiProblem(
                Category.TOO_LARGE,
                "request.too_many_entries",
                f"at most {MAX_ENTRIES_PER_REQUEST} entries per request, found {len(items)}",
            )
        return items, False
    if isinstance(doc, dict) and "entry" in doc:
        return [doc], True
    raise ApiProblem(
        Category.MALFORMED,
        "request.malformed",
        'the body is {"entry": {...}, "sig": "..."} or {"entries": [...]}',
    )


def receipt(result: dict[str, Any]) -> Receipt | MinimalReceipt:
    """The appender's receipt (``ledger.appender.Receipt.as_json``) as its wire shape."""
    if "inclusion_proof" in result:
        return Receipt(**result)
    return MinimalReceipt(**result)


async def answer(
    service: LedgerService, item: Any, result: dict[str, Any] | Rejection
) -> Receipt | MinimalReceipt | Problem:
    """A receipt; a refusal as its problem, naming the party a resident ID number already
    belongs to only to an organisation that governs that person.

    A submission holds no connection of its own while it waits for the appender, which needs
    one from the same pool: the one refusal that needs a read opens it then."""
    if not isinstance(result, Rejection):
        return receipt(result)
    body = rejection_problem(result)
    refused(body.code)  # an entry's refusal is counted here, a request's in api.http.problems
    if isinstance(result, DuplicatePerson):
        actor = item.get("entry", {}).get("actor") if isinstance(item, dict) else None
        if await existing_party_shown(service, actor, result.existing_party):
            body = msgspec.structs.replace(body, existing_party=result.existing_party)
    return body


def wants_minimal(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header (RFC 7240: comma-separated, parameters after ';') asks for
    ``return=minimal``."""
    if not prefer:
        return False
    return any(
        p.split(";")[0].strip().lower().replace(" ", "") == "return=minimal" for p in prefer.split(",")
    )


class EntryController(Controller):
    path = "/v1/entries"
    tags = ["records"]

    @post(
        "/",
        operation_id="submitEntries",
        status_code=200,
        # What the OpenAPI document cannot read from this handler: its body, and the refusals
        # of the rules it admits entries by.
        opt={"body": submission_body, "problems": admission_refusals},
        summary="Submit one signed entry or a list; each gets a receipt or a problem",
        description="A receipt holds the record's seq and leaf hash, the signed checkpoint "
        "and an inclusion proof in it. With the header `Prefer: return=minimal` "
        "(RFC 7240) receipts hold the seq and leaf hash only, for bulk loads; "
        "`GET /v1/proofs/inclusion` gives any record's proof later.",
    )
    async def submit(
        self, request: Request[Any, Any, Any], service: Service
    ) -> Response[Receipt | MinimalReceipt | SubmissionResults]:
        require_json(request.headers.get("content-type"))
        items, single = parse_body(await request.body())
        minimal = wants_minimal(request.headers.get("prefer"))
        results = await service.submit(items, proofs=not minimal)
        answers = [await answer(service, item, r) for item, r in zip(items, results, strict=True)]
        headers = {"Preference-Applied": "return=minimal"} if minimal else {}
        if not single:
            listed = [Refusal(a) if isinstance(a, Problem) else a for a in answers]
            return Response(SubmissionResults(listed), headers=headers)
        if isinstance(answers[0], Problem):
            # Documented as the operation's problem responses; sent as the route's answer so
            # that it carries the ``Preference-Applied`` header too.
            return Response(
                answers[0],  # type: ignore[arg-type]
                status_code=answers[0].status,
                media_type=PROBLEM_MEDIA_TYPE,
                headers=headers,
            )
        return Response(answers[0], headers=headers)

    @get("/", operation_id="listRecords", summary="Records after a seq, in order", opt=REPLICA_READS)
    async def list_records(
        self,
        db: Db,
        after: Annotated[int, QueryParameter(ge=-1, le=MAX_SEQ)] = -1,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    ) -> RecordPage:
        rows = await db.run_sync(store.read_records, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return RecordPage([record_of(r.body, r.leaf_hash) for r in rows], rows[-1].seq if more else None)

    @get("/{seq:int}", operation_id="getRecord", summary="One record by seq", opt=REPLICA_READS)
    async def get_record(self, db: Db, seq: Annotated[int, PathParameter(ge=0, le=MAX_SEQ)]) -> Record:
        rows = await db.run_sync(store.read_records, seq - 1, 1)
        if not rows or rows[0].seq != seq:
            raise ApiProblem(Category.NOT_FOUND, "record.not_found", f"no record at seq {seq}")
        return record_of(rows[0].body, rows[0].leaf_hash)

    @get(
        "/by-id/{entry_id:uuid}", operation_id="getRecordByEntryId", summary="The record holding an entry id"
    )
    async def by_id(self, db: Db, entry_id: FromPath[uuid.UUID]) -> Record:
        found = await db.run_sync(store.records_by_entry_id, [str(entry_id)])
        if not found:
            raise ApiProblem(Category.NOT_FOUND, "record.not_found", f"no record holds entry {entry_id}")
        rec = next(iter(found.values()))
        return record_of(rec.body, rec.leaf_hash)
