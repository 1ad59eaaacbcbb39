"""The running ledger: engine, appender and group commit, plus the reads the routes need."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col, select

from api.service.collector import collect_less_often
from api.service.notes import check_note
from api.service.parent_death import die_with_parent
from api.service.personal import check_personal
from api.service.projections import ProjectionBackend
from api.service.replica import replica_connection
from api.service.signing_window import SignedAtWindow
from contracts.orgs import OrgKey
from contracts.registry import CHINA_STANDARD_TIME
from ledger import store
from ledger.appender import Appender, Clock, Submission, system_clock
from ledger.checkpoint import NoteSigner, NoteVerifier
from ledger.entry import parse_submission
from ledger.errors import (
    Category,
    IntegrityError,
    MalformedError,
    ReceiptsUnavailable,
    Rejection,
    Unavailable,
    database_unreachable,
)
from ledger.group_commit import GroupCommitter
from ledger.self_check import SERVER_INFO_KEY, self_check
from ledger.signing import PUBLIC_KEY_SIZE, decode_b64, entry_message, verify_batch

log = logging.getLogger("rural_ledger.service")


class NotInitialised(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("ledger.not_initialised", message, category=Category.NOT_FOUND)


NOT_APPENDED = Rejection(
    "entry.not_appended",
    "not appended: the server stopped before this part of the request; resubmit it",
    category=Category.UNAVAILABLE,
)


VERIFY_CHUNK = 500
# Entries parsed (or looked ahead at) between two turns of the event loop: a batch waiting on
# its database answer, which every other submission waits on, goes on within a few
# milliseconds instead of after a whole request of thousands of entries.
SLICE = 250
VERIFIER_PROCESSES = os.cpu_count() or 2


def verifier_pool() -> ProcessPoolExecutor:
    """Worker processes for signature checks. Processes, not threads: Ed25519 verification
    releases the GIL, but the Python around each call needs it back, and a busy event loop
    then makes every worker thread wait a whole switch interval per signature."""
    return ProcessPoolExecutor(
        VERIFIER_PROCESSES,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_leave_interrupts_to_the_parent,
        initargs=(os.getpid(),),
    )


class SharedVerifiers:
    """One pool of signature-checking processes for every ledger this process serves (several
    ledgers behind one dispatcher, ``api.http.ledgers``): a pool per ledger would start a
    process per core for each county. Shut down when the last ledger using it closes."""

    _pool: ProcessPoolExecutor | None = None
    _users = 0

    @classmethod
    def take(cls) -> ProcessPoolExecutor:
        if cls._pool is None:
            cls._pool = verifier_pool()
        cls._users += 1
        return cls._pool

    @classmethod
    def give_back(cls, pool: ProcessPoolExecutor) -> None:
        if pool is not cls._pool:  # a pool of its own (given to the service): its own to stop
            pool.shutdown(wait=True, cancel_futures=True)
            return
        cls._users -= 1
        if cls._users == 0:
            cls._pool = None
            pool.shutdown(wait=True, cancel_futures=True)


def _leave_interrupts_to_the_parent(parent_pid: int) -> None:
    """Ctrl-C stops the service, which shuts its workers down; they need not hear it too.
    A parent killed outright cannot shut them down: they die with it instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)


@dataclass
class LedgerService:
    engine: AsyncEngine
    origin: str
    verifier: NoteVerifier
    appender: Appender
    committer: GroupCommitter
    pool: ProcessPoolExecutor = field(default_factory=SharedVerifiers.take)
    blind_secret: bytes = b""
    # key id -> public key; never stale, since a key id is the hash of its public key.
    # Whether the key may sign at a given seq is decided at admission, not here.
    public_keys: dict[str, bytes] = field(default_factory=dict)
    # Why the start-up self-check failed, if it did: the service then serves reads (so that
    # auditors can see what is wrong) but refuses every write.
    read_only: str | None = None
    signed_at_window: SignedAtWindow = field(default_factory=SignedAtWindow)
    # Where the reads that may lag are served from (``api.service.replica``); None: the primary.
    read_engine: AsyncEngine | None = None

    @classmethod
    async def open(
        cls,
        engine: AsyncEngine,
        signer: NoteSigner,
        clock: Clock = system_clock,
        max_batch: int = 2000,
        blind_secret: bytes = b"",
        signed_at_window: SignedAtWindow | None = None,
    ) -> LedgerService:
        async with engine.connect() as conn:
            meta = await conn.run_sync(store.read_meta)
            if meta is None:
                raise NotInitialised("the database holds no ledger: run `rural-ledger init`")
            try:
                await conn.run_sync(self_check, NoteVerifier.from_string(meta.operator_key))
                read_only = None
                checked_server = conn.info.get(SERVER_INFO_KEY)
            except (IntegrityError, MalformedError) as e:
                read_only = str(e)
                checked_server = None
                log.error("self-check failed, refusing writes: %s", e)
        if str(signer.verifier()) != meta.operator_key:
            raise IntegrityError("the operator key file does not match this ledger's operator key")
        collect_less_often()
        appender = Appender(engine, meta.origin, signer, ProjectionBackend(), clock)
        appender.checked_server = checked_server
        service = cls(
            engine,
            meta.origin,
            signer.verifier(),
            appender,
            GroupCommitter(appender, max_batch),
            blind_secret=blind_secret,
            read_only=read_only,
            signed_at_window=signed_at_window or SignedAtWindow(),
        )
        # Start the verifier processes now, not inside the first request.
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(service.pool, verify_batch, []) for _ in range(VERIFIER_PROCESSES))
        )
        return service

    async def close(self) -> None:
        await self.committer.stop()
        SharedVerifiers.give_back(self.pool)

    async def preverify(self, batch: list[Submission]) -> list[Submission]:
        """Verify signatures in parallel before the batch queues for the writer lock: each
        submission again, with the key its signature was found valid for."""
        missing = sorted({s.signed.key_id for s in batch} - self.public_keys.keys())
        if missing:
            self.public_keys.update(await self.read(_public_keys, missing))
        work = [s.signed for s in batch if s.signed.key_id in self.public_keys]
        loop = asyncio.get_running_loop()
        chunks = [work[i : i + VERIFY_CHUNK] for i in range(0, len(work), VERIFY_CHUNK)]
        checking = asyncio.gather(
            *(
                loop.run_in_executor(
                    self.pool,
                    verify_batch,
                    [(self.public_keys[s.key_id], s.signature, entry_message(s.entry_bytes)) for s in chunk],
                )
                for chunk in chunks
            )
        )
        # While the workers check: what each entry's rule will read, found outside the lock.
        rules = self.appender.rules
        ahead: list[object] | None = None
        if isinstance(rules, ProjectionBackend):
            ahead = []
            for start in range(0, len(batch), SLICE):
                await asyncio.sleep(0)
                ahead.extend(rules.ahead(s.signed) for s in batch[start : start + SLICE])
        verdicts = await checking
        checked = {
            id(signed): self.public_keys[signed.key_id]
            for chunk, valid in zip(chunks, verdicts, strict=True)
            for signed, ok in zip(chunk, valid, strict=True)
            if ok
        }
        return [
            Submission(
                s.signed,
                checked_key=checked.get(id(s.signed)),
                beside=s.beside,
                ahead=ahead[i] if ahead is not None else None,
            )
            for i, s in enumerate(batch)
        ]

    def accept(self, item: Any) -> Submission:
        """Parse one submission; a ``party.registered`` entry carries its person's personal
        fields beside it (``"personal"``), checked here and never put in the entry; any entry
        may carry a free-text ``"note"`` beside it, likewise."""
        personal = item.pop("personal", None) if isinstance(item, dict) else None
        has_note = isinstance(item, dict) and "note" in item
        note = item.pop("note") if has_note else None
        signed = parse_submission(item, self.origin)
        beside: list[Any] = []
        if has_note:
            beside.append(check_note(signed, note, self.appender.clock()))
        if signed.kind == "party.registered":
            if personal is None:
                raise Rejection(
                    "personal.missing", 'a party is registered with its "personal" fields beside the entry'
                )
            now = self.appender.clock()
            beside.append(
                check_personal(signed, personal, self.blind_secret, (now + CHINA_STANDARD_TIME).date(), now)
            )
        elif personal is not None:
            raise Rejection("personal.unexpected", "only party.registered carries personal fields")
        return Submission(signed, beside=tuple(beside))

    async def submit(self, items: Sequence[Any], proofs: bool = True) -> list[dict[str, Any] | Rejection]:
        """Check each submission's shape, append the well-formed ones; results in order, each
        receipt with its inclusion proof unless not ``proofs``."""
        if self.read_only is not None:
            raise self.read_only_refusal()
        parsed: list[Submission | Rejection] = []
        for start in range(0, len(items), SLICE):
            if start:
                await asyncio.sleep(0)
            for item in items[start : start + SLICE]:
                try:
                    parsed.append(self.accept(item))
                except Rejection as r:
                    parsed.append(r)
        parsed = await self.hold_to_window(parsed)
        well_formed = await self.preverify([p for p in parsed if isinstance(p, Submission)])
        try:
            results = iter(await self.committer.submit(well_formed, proofs))
        except IntegrityError as e:  # the self-check after a failover, or the head, disagrees
            self.read_only = str(e)
            log.error("the stored log does not add up, refusing writes: %s", e)
            raise self.read_only_refusal() from e
        except ReceiptsUnavailable as e:  # stored: name every entry's seq or refusal, in order
            # A submission longer than one batch stops at the batch whose receipts failed:
            # the entries after it were never appended.
            stored = iter(e.results)
            raise ReceiptsUnavailable(
                [p if isinstance(p, Rejection) else next(stored, NOT_APPENDED) for p in parsed]
            ) from e
        out: list[dict[str, Any] | Rejection] = []
        for p in parsed:
            if isinstance(p, Rejection):
                out.append(p)
            else:
                r = next(results)
                out.append(r if isinstance(r, Rejection) else r.as_json())
        return out

    def read_only_refusal(self) -> Rejection:
        return Rejection(
            "ledger.read_only",
            f"the service refuses writes: its self-check failed ({self.read_only})",
            category=Category.UNAVAILABLE,
        )

    async def hold_to_window(self, parsed: list[Submission | Rejection]) -> list[Submission | Rejection]:
        """Refuse the entries signed outside the window around the ledger's clock, unless
        already stored: a resubmission returns its receipt whatever its age."""
        now = self.appender.clock()
        window = self.signed_at_window
        outside = [p for p in parsed if isinstance(p, Submission) and not window.holds(p.signed, now)]
        if not outside:
            return parsed
        stored = await self.read(store.records_by_entry_id, sorted({p.signed.id for p in outside}))
        refused = {id(p) for p in outside if p.signed.id not in stored}
        return [
            window.refusal(p.signed, now) if isinstance(p, Submission) and id(p) in refused else p
            for p in parsed
        ]

    async def connect(self) -> AsyncConnection:
        """A pooled connection, for the caller to close; ``Unavailable`` when the database
        cannot be reached."""
        try:
            return await self.engine.connect()
        except Exception as e:
            if database_unreachable(e):
                raise unreachable(e) from e
            raise

    async def connect_for_read(self, wanted: int | None) -> AsyncConnection:
        """A pooled connection for a read needing tree size ``wanted`` (None: any): to the
        read replica when there is one that holds it and answers, otherwise to the primary."""
        if self.read_engine is not None:
            conn = await replica_connection(self.read_engine, wanted)
            if conn is not None:
                return conn
        return await self.connect()

    async def read(self, fn: Any, *args: Any) -> Any:
        """Run a synchronous store read on a pooled connection; ``Unavailable`` when the
        database cannot be reached."""
        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn, *args)
        except Exception as e:
            if database_unreachable(e):
                raise unreachable(e) from e
            raise


def unreachable(error: Exception) -> Unavailable:
    """What a failure to reach the database is answered with."""
    return Unavailable(f"the database is unreachable ({error.__class__.__name__})")


def _public_keys(conn: Connection, key_ids: list[str]) -> dict[str, bytes]:
    rows = conn.execute(
        select(OrgKey.key_id, OrgKey.public_key).where(col(OrgKey.key_id).in_(key_ids))  # type: ignore[call-overload]
    ).all()
    return {r.key_id: decode_b64(r.public_key, size=PUBLIC_KEY_SIZE, what="public key") for r in rows}
