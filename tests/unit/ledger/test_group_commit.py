"""The group committer over an in-memory stand-in for the appender: batching, splitting,
failures reaching exactly their waiters, receipts with and without proofs, and a stop that
leaves no waiter hanging."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pytest

from ledger.appender import Appender, AppendResult, Committed, Receipt
from ledger.errors import ReceiptsUnavailable, Rejection, Unavailable
from ledger.group_commit import GroupCommitter
from ledger.store import StoredCheckpoint

# Long enough for a loaded machine, short enough that a hanging waiter fails the test.
TIMEOUT = 5.0


@dataclass(frozen=True)
class Item:
    """A submitted item: the committer passes items to the appender without looking inside."""

    id: str


def entry(entry_id: str) -> Item:
    return Item(entry_id)


def entries(prefix: str, n: int) -> list[Item]:
    return [entry(f"{prefix}-{i}") for i in range(n)]


def leaf(entry_id: str) -> bytes:
    return hashlib.sha256(entry_id.encode()).digest()


class FakeAppender:
    """The two methods of ``Appender`` the committer calls, in memory.

    Seqs are handed out in order; an entry whose id starts with ``bad`` is rejected. A test may
    hold batch ``n`` inside ``commit`` or ``receipts`` until it sets the returned event, and may
    make batch ``n``'s ``commit`` or ``receipts`` raise."""

    def __init__(self) -> None:
        self.size = 0
        self.batches: list[list[str]] = []  # the entry ids of each commit call, in call order
        self.proved: list[Sequence[bool] | None] = []  # the ``proved`` flags of each receipts call
        self.commit_errors: dict[int, BaseException] = {}
        self.receipt_errors: set[int] = set()
        self._commit_gates: dict[int, asyncio.Event] = {}
        self._receipt_gates: dict[int, asyncio.Event] = {}
        self._committing: dict[int, asyncio.Event] = {}
        self._receipting: dict[int, asyncio.Event] = {}

    def hold_commit(self, n: int) -> asyncio.Event:
        gate = self._commit_gates[n] = asyncio.Event()
        return gate

    def hold_receipts(self, n: int) -> asyncio.Event:
        gate = self._receipt_gates[n] = asyncio.Event()
        return gate

    async def committing(self, n: int) -> None:
        """Wait until batch ``n`` is inside ``commit``."""
        async with asyncio.timeout(TIMEOUT):
            await self._committing.setdefault(n, asyncio.Event()).wait()

    async def receipting(self, n: int) -> None:
        """Wait until batch ``n`` is inside ``receipts``."""
        async with asyncio.timeout(TIMEOUT):
            await self._receipting.setdefault(n, asyncio.Event()).wait()

    async def commit(self, batch: Sequence[Item]) -> Committed:
        n = len(self.batches)
        self.batches.append([s.id for s in batch])
        self._committing.setdefault(n, asyncio.Event()).set()
        if n in self._commit_gates:
            await self._commit_gates[n].wait()
        if n in self.commit_errors:
            raise self.commit_errors[n]
        results: list[Rejection | int] = []
        leaves: dict[int, bytes] = {}
        for s in batch:
            if s.id.startswith("bad"):
                results.append(Rejection("test.refused", f"{s.id} is refused"))
                continue
            leaves[self.size] = leaf(s.id)
            results.append(self.size)
            self.size += 1
        return Committed(results, leaves, StoredCheckpoint(self.size, b"root", f"batch {n}"), {})

    async def receipts(
        self, committed: Committed, proved: Sequence[bool] | None = None
    ) -> list[AppendResult]:
        n = int(committed.checkpoint.note.removeprefix("batch "))
        self.proved.append(proved)
        self._receipting.setdefault(n, asyncio.Event()).set()
        if n in self._receipt_gates:
            await self._receipt_gates[n].wait()
        if n in self.receipt_errors:
            raise ReceiptsUnavailable(committed.results)
        return [
            Receipt(
                r, committed.leaves[r], committed.checkpoint.note, [] if proved is None or proved[i] else None
            )
            if isinstance(r, int)
            else r
            for i, r in enumerate(committed.results)
        ]


def committer(fake: FakeAppender, max_batch: int = 100) -> GroupCommitter:
    return GroupCommitter(cast(Appender, fake), max_batch)


def submit(gc: GroupCommitter, items: Sequence[Item], proofs: bool = True) -> asyncio.Task[Any]:
    return asyncio.create_task(gc.submit(cast(Any, items), proofs))


async def outcomes(*tasks: asyncio.Task[Any]) -> list[Any]:
    """Each task's result or exception; a task still pending after ``TIMEOUT`` fails the test."""
    async with asyncio.timeout(TIMEOUT):
        return await asyncio.gather(*tasks, return_exceptions=True)


def assert_aligned(items: Sequence[Item], results: list[AppendResult]) -> None:
    """One result per item, in the item's place: its receipt (for its own leaf) or its refusal."""
    assert len(results) == len(items)
    for item, result in zip(items, results, strict=True):
        if item.id.startswith("bad"):
            assert isinstance(result, Rejection) and item.id in result.message
        else:
            assert isinstance(result, Receipt) and result.leaf_hash == leaf(item.id)


async def test_concurrent_submitters_go_together_in_the_next_batch() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    release = fake.hold_commit(0)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    a, b, c = entries("a", 2), [entry("bad-b")], entries("c", 3)
    waiting = [submit(gc, items) for items in (a, b, c)]
    await asyncio.sleep(0)  # let the three submissions queue while batch 0 is held
    release.set()
    done = await outcomes(first, *waiting)
    assert fake.batches == [["first"], ["a-0", "a-1", "bad-b", "c-0", "c-1", "c-2"]]
    for items, results in zip(([entry("first")], a, b, c), done, strict=True):
        assert_aligned(items, results)
    assert [r.seq for r in done[1]] == [1, 2]
    assert [r.seq for r in done[3]] == [3, 4, 5]
    await gc.stop()


async def test_a_submission_larger_than_max_batch_is_split_and_answered_in_its_order() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=3)
    items = [
        entry("e-0"),
        entry("bad-1"),
        entry("e-2"),
        entry("e-3"),
        entry("e-4"),
        entry("bad-5"),
        entry("e-6"),
    ]
    (results,) = await outcomes(submit(gc, items))
    assert [len(b) for b in fake.batches] == [3, 3, 1]
    assert [i for b in fake.batches for i in b] == [s.id for s in items]
    assert_aligned(items, results)
    assert [r.seq for r in results if isinstance(r, Receipt)] == [0, 1, 2, 3, 4]
    await gc.stop()


async def test_batches_never_exceed_max_batch_when_submissions_queue_together() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=4)
    release = fake.hold_commit(0)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    a, b, c = entries("a", 3), entries("b", 2), entries("c", 6)
    waiting = [submit(gc, items) for items in (a, b, c)]
    await asyncio.sleep(0)
    release.set()
    done = await outcomes(first, *waiting)
    assert all(len(batch) <= 4 for batch in fake.batches)
    assert [i for batch in fake.batches for i in batch] == ["first"] + [s.id for s in a + b + c]
    for items, results in zip((a, b, c), done[1:], strict=True):
        assert_aligned(items, results)
    await gc.stop()


async def test_a_failed_commit_reaches_every_waiter_of_its_batch_and_the_next_batch_runs() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    error = RuntimeError("the batch could not be appended")
    fake.commit_errors[1] = error
    release_first, release_failing = fake.hold_commit(0), fake.hold_commit(1)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    a, b = submit(gc, entries("a", 2)), submit(gc, entries("b", 1))
    await asyncio.sleep(0)
    release_first.set()
    await fake.committing(1)
    after = submit(gc, entries("after", 2))  # queued while the failing batch is in flight
    await asyncio.sleep(0)
    release_failing.set()
    done_first, done_a, done_b, done_after = await outcomes(first, a, b, after)
    assert fake.batches == [["first"], ["a-0", "a-1", "b-0"], ["after-0", "after-1"]]
    assert done_a is error and done_b is error
    assert_aligned([entry("first")], done_first)
    assert_aligned(entries("after", 2), done_after)
    assert [r.seq for r in done_after] == [1, 2]  # nothing of the failed batch took a seq
    await gc.stop()


async def test_unavailable_after_a_stored_part_of_a_split_submission_says_it_may_be_stored() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=2)
    fake.commit_errors[1] = Unavailable("the database is unreachable")
    (error,) = await outcomes(submit(gc, entries("e", 4)))
    assert isinstance(error, Unavailable) and error.maybe_stored
    assert fake.batches == [["e-0", "e-1"], ["e-2", "e-3"]]
    await gc.stop()


async def test_unavailable_on_the_first_part_says_nothing_was_stored() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=2)
    fake.commit_errors[0] = Unavailable("the database is unreachable")
    (error,) = await outcomes(submit(gc, entries("e", 4)))
    assert isinstance(error, Unavailable) and not error.maybe_stored
    assert fake.batches == [["e-0", "e-1"]]  # the later part is never tried
    await gc.stop()


async def test_unreadable_receipts_give_each_waiter_its_own_seqs() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    fake.receipt_errors.add(1)
    release = fake.hold_commit(0)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    a, b = submit(gc, [entry("a-0"), entry("bad-a"), entry("a-2")]), submit(gc, entries("b", 2))
    await asyncio.sleep(0)
    release.set()
    _, error_a, error_b = await outcomes(first, a, b)
    assert isinstance(error_a, ReceiptsUnavailable) and isinstance(error_b, ReceiptsUnavailable)
    assert error_a.results[0] == 1 and isinstance(error_a.results[1], Rejection) and error_a.results[2] == 2
    assert error_b.results == [3, 4]
    await gc.stop()


async def test_unreadable_receipts_of_a_later_part_name_the_seqs_of_every_part() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=2)
    fake.receipt_errors.add(1)
    (error,) = await outcomes(submit(gc, entries("e", 3)))
    assert isinstance(error, ReceiptsUnavailable)
    assert error.results == [0, 1, 2]
    await gc.stop()


async def test_minimal_and_full_receipts_in_one_batch() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    release = fake.hold_commit(0)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    full, minimal = submit(gc, entries("full", 2), proofs=True), submit(gc, entries("min", 2), proofs=False)
    await asyncio.sleep(0)
    release.set()
    _, done_full, done_minimal = await outcomes(first, full, minimal)
    assert len(fake.batches) == 2  # both in one batch
    assert fake.proved == [None, [True, True, False, False]]  # a batch all with proofs asks for all
    assert all(r.inclusion_proof is not None for r in done_full)
    assert all(r.inclusion_proof is None for r in done_minimal)
    assert_aligned(entries("full", 2), done_full)
    assert_aligned(entries("min", 2), done_minimal)
    await gc.stop()


async def test_an_empty_submission_is_answered_without_a_batch() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    assert await gc.submit([]) == []
    assert fake.batches == []
    await gc.stop()


async def test_stop_answers_the_batch_in_flight_and_the_submissions_queued_behind_it() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    fake.hold_commit(0)  # never released: the batch is in flight when the service stops
    in_flight = submit(gc, entries("a", 2))
    await fake.committing(0)
    queued = [submit(gc, entries("b", 1)), submit(gc, entries("c", 3))]
    await asyncio.sleep(0)
    async with asyncio.timeout(TIMEOUT):
        await gc.stop()
    done_in_flight, *done_queued = await outcomes(in_flight, *queued)
    # The cancelled batch may or may not have reached COMMIT; the queued ones never started.
    assert isinstance(done_in_flight, Unavailable) and done_in_flight.maybe_stored
    assert all(isinstance(d, Unavailable) and not d.maybe_stored for d in done_queued)
    assert fake.batches == [["a-0", "a-1"]]


async def test_stop_right_after_submitting_answers_every_submission() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    waiting = [submit(gc, entries(p, 2)) for p in "abc"]
    await asyncio.sleep(0)  # queued; the worker has not taken them yet
    async with asyncio.timeout(TIMEOUT):
        await gc.stop()
    for done in await outcomes(*waiting):
        assert isinstance(done, list | Unavailable)
        if isinstance(done, Unavailable):
            assert not done.maybe_stored


async def test_stop_while_receipts_are_made_still_delivers_them() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    release = fake.hold_receipts(0)
    stored = submit(gc, entries("a", 2))
    await fake.receipting(0)
    stopping = asyncio.create_task(gc.stop())
    await asyncio.sleep(0)
    release.set()
    (results, _) = await outcomes(stored, stopping)
    assert_aligned(entries("a", 2), results)


async def test_stop_between_the_parts_of_a_split_submission_leaves_it_answered() -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=2)
    release = fake.hold_receipts(0)
    split = submit(gc, entries("e", 4))
    await fake.receipting(0)
    stopping = asyncio.create_task(gc.stop())
    await asyncio.sleep(0)
    release.set()  # part one is answered as the committer stops; part two comes after
    (done, _) = await outcomes(split, stopping)
    if isinstance(done, list):
        assert_aligned(entries("e", 4), done)
    else:
        assert isinstance(done, Unavailable) and done.maybe_stored
    await gc.stop()


async def test_a_submission_after_stop_is_answered() -> None:
    fake = FakeAppender()
    gc = committer(fake)
    await outcomes(submit(gc, entries("before", 1)))
    await gc.stop()
    (results,) = await outcomes(submit(gc, entries("after", 2)))
    assert_aligned(entries("after", 2), results)
    await gc.stop()


@pytest.mark.parametrize("proofs", [True, False])
async def test_a_split_submission_queued_behind_another_keeps_its_results_and_proof_choice(
    proofs: bool,
) -> None:
    fake = FakeAppender()
    gc = committer(fake, max_batch=3)
    release = fake.hold_commit(0)
    first = submit(gc, [entry("first")])
    await fake.committing(0)
    big = [entry("big-0"), entry("bad-big-1"), entry("big-2"), entry("big-3"), entry("big-4")]
    small = entries("small", 2)
    waiting = [submit(gc, small, proofs), submit(gc, big, not proofs)]
    await asyncio.sleep(0)
    release.set()
    _, done_small, done_big = await outcomes(first, *waiting)
    assert_aligned(small, done_small)
    assert_aligned(big, done_big)
    assert all((r.inclusion_proof is not None) == proofs for r in done_small)
    assert all((r.inclusion_proof is not None) != proofs for r in done_big if isinstance(r, Receipt))
    await gc.stop()
