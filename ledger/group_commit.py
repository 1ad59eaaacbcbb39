"""Group commit: submissions that arrive while a batch is being appended wait and go together
in the next batch, so the cost of a transaction, a lock and a checkpoint is shared."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from ledger.appender import Appender, AppendResult, Committed, Submission
from ledger.errors import ReceiptsUnavailable, Rejection, Unavailable

DEFAULT_MAX_BATCH = 2000
# A submission's entries, where its results go, and whether its receipts carry proofs.
Waiting = tuple[Sequence[Submission], "asyncio.Future[list[AppendResult]]", bool]


class GroupCommitter:
    def __init__(self, appender: Appender, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.appender = appender
        self.max_batch = max_batch
        self._queue: list[Waiting] = []
        self._delivering: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Stop the worker, leaving no waiter unanswered: a batch being committed is cancelled
        and its waiters learn it may or may not be stored; receipts being made are delivered;
        submissions queued, or arriving while this runs, are answered ``Unavailable``. A later
        submission starts the worker again."""
        self._stopping = True
        try:
            if self._worker is not None:
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
                self._worker = None
            if self._delivering:
                await asyncio.gather(*self._delivering, return_exceptions=True)
            queued, self._queue = self._queue, []
            _fail(queued, Unavailable("the ledger stopped before appending this"))
        finally:
            self._stopping = False

    async def submit(self, items: Sequence[Submission], proofs: bool = True) -> list[AppendResult]:
        """Append ``items`` (in order, possibly with other submissions); one result each, a
        receipt with its inclusion proof, or without one unless ``proofs``."""
        if not items:
            return []
        results: list[AppendResult] = []
        for start in range(0, len(items), self.max_batch):
            if self._stopping:
                raise Unavailable("the ledger is stopping", maybe_stored=bool(results))
            self.start()
            future: asyncio.Future[list[AppendResult]] = asyncio.get_running_loop().create_future()
            self._queue.append((items[start : start + self.max_batch], future, proofs))
            self._wake.set()
            try:
                results.extend(await future)
            except ReceiptsUnavailable as e:
                raise ReceiptsUnavailable([*_seqs(results), *e.results]) from e
            except Unavailable as e:
                if results:  # the earlier parts are stored
                    raise Unavailable(e.message, maybe_stored=True) from e
                raise
        return results

    def _take(self) -> list[Waiting]:
        taken: list[Waiting] = []
        count = 0
        while self._queue and (not taken or count + len(self._queue[0][0]) <= self.max_batch):
            item = self._queue.pop(0)
            taken.append(item)
            count += len(item[0])
        return taken

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                taken = self._take()
                batch = [s for items, _, _ in taken for s in items]
                try:
                    committed = await self.appender.commit(batch)
                except asyncio.CancelledError:  # by stop(), perhaps during COMMIT
                    _fail(taken, Unavailable("the ledger stopped while appending this", maybe_stored=True))
                    raise
                except Exception as e:  # every waiter of the failed batch learns why
                    _fail(taken, e)
                    continue
                # Receipts are made while the next batch is being appended.
                task = asyncio.create_task(self._deliver(committed, taken))
                self._delivering.add(task)
                task.add_done_callback(self._delivering.discard)

    async def _deliver(self, committed: Committed, taken: list[Waiting]) -> None:
        proved = None
        if not all(proofs for _, _, proofs in taken):
            proved = [proofs for items, _, proofs in taken for _ in items]
        try:
            results = await self.appender.receipts(committed, proved)
        except ReceiptsUnavailable as e:  # stored: each waiter learns its own seqs
            at = 0
            for items, future, _ in taken:
                if not future.done():
                    future.set_exception(ReceiptsUnavailable(e.results[at : at + len(items)]))
                at += len(items)
            return
        at = 0
        for items, future, _ in taken:
            if not future.done():
                future.set_result(results[at : at + len(items)])
            at += len(items)


def _fail(taken: list[Waiting], error: Exception) -> None:
    for _, future, _ in taken:
        if not future.done():
            future.set_exception(error)


def _seqs(results: list[AppendResult]) -> list[Rejection | int]:
    return [r if isinstance(r, Rejection) else r.seq for r in results]
