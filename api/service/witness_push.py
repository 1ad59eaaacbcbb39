"""The ledger asks its witnesses to cosign its checkpoints (C2SP tlog-witness ``add-checkpoint``).

Configured by ``RURAL_LEDGER_WITNESSES`` (entries ``URL VKEY`` separated by ``;`` or newlines)
and/or ``RURAL_LEDGER_WITNESSES_FILE`` (one ``URL VKEY`` a line, ``#`` comments): ``URL`` is the
witness's submission prefix, ``VKEY`` its cosignature verifier key. One background task per
witness looks at the latest checkpoint every ``RURAL_LEDGER_WITNESS_POLL_SECONDS`` (default 1)
and pushes it when it is new; ``poke`` makes it look at once. Reading the database rather than
hooking the appender means every server process also pushes what the others appended. A push sends the
consistency proof from the size the witness last cosigned; a 409 with the witness's size is
retried once from that size. The returned cosignature is verified before it is stored
(``store.write_cosignature``, as ``POST /v1/witness/cosignatures`` does).

Pushing never blocks or fails an append: it runs beside the appender, on connections of its
own; a failure is logged and retried with exponential backoff. Under load only the latest
checkpoint is pushed: a cosignature of it vouches for every smaller tree it extends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import store, stored_proofs
from ledger.checkpoint import parse_note
from ledger.errors import IntegrityError, MalformedError
from ledger.witness import CosignerVerifier, cosignatures
from ledger.witness_protocol import SIZE_MEDIA_TYPE, add_checkpoint_body, parse_size_body

POLL_SECONDS = 1.0
RETRY_MIN_SECONDS = 1.0
RETRY_MAX_SECONDS = 300.0
log = logging.getLogger("rural_ledger.witness_push")


@dataclass(frozen=True)
class WitnessEndpoint:
    url: str  # submission prefix: requests go to URL/add-checkpoint
    verifier: CosignerVerifier


def parse_witnesses(text: str) -> tuple[WitnessEndpoint, ...]:
    """``URL VKEY`` entries separated by ``;`` or newlines; ``MalformedError`` on a bad one."""
    found: list[WitnessEndpoint] = []
    for raw in text.replace(";", "\n").splitlines():
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        url, _, key = entry.partition(" ")
        if not url.startswith(("http://", "https://")) or not key.strip():
            raise MalformedError(f"a witness is 'URL VKEY', found {entry[:120]!r}")
        found.append(WitnessEndpoint(url.rstrip("/"), CosignerVerifier.from_string(key.strip())))
    return tuple(found)


@dataclass(frozen=True)
class WitnessSettings:
    witnesses: tuple[WitnessEndpoint, ...] = ()
    poll: float = POLL_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WitnessSettings:
        text = env.get("RURAL_LEDGER_WITNESSES", "")
        if path := env.get("RURAL_LEDGER_WITNESSES_FILE"):
            text += "\n" + Path(path).read_text()
        poll = float(env.get("RURAL_LEDGER_WITNESS_POLL_SECONDS") or POLL_SECONDS)
        if not 0 < poll <= 3600:
            raise MalformedError(f"RURAL_LEDGER_WITNESS_POLL_SECONDS must be in (0, 3600], found {poll}")
        return cls(parse_witnesses(text), poll)


class PushFailed(Exception):
    """A push that did not get a cosignature; ``alarm`` when the witness says the checkpoint
    does not extend what it cosigned (409 for another root, 422): this log, or one claiming
    its key, showed the witness another history."""

    def __init__(self, message: str, alarm: bool = False) -> None:
        super().__init__(message)
        self.alarm = alarm


class WitnessPusher:
    """One task per witness; ``start`` with the service, ``stop`` at shutdown."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: WitnessSettings,
        *,
        retry_min: float = RETRY_MIN_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.engine = engine
        self.witnesses = settings.witnesses
        self.poll, self.retry_min, self.retry_max = settings.poll, retry_min, retry_max
        self._wake = [asyncio.Event() for _ in self.witnesses]
        self._tasks: list[asyncio.Task[None]] = []
        self._http: httpx.AsyncClient | None = None
        self.cosigned: dict[str, int] = {}  # witness key -> the largest size it cosigned for us
        self.failures: dict[str, int] = {}  # witness key -> failed pushes in a row
        self._changed = asyncio.Condition()

    def start(self) -> None:
        if not self.witnesses:
            return
        self._http = httpx.AsyncClient(timeout=10)
        self._tasks = [
            asyncio.create_task(self._follow(w, wake))
            for w, wake in zip(self.witnesses, self._wake, strict=True)
        ]

    def poke(self) -> None:
        for wake in self._wake:
            wake.set()

    async def cosigned_by(self, witness: CosignerVerifier, size: int) -> None:
        """Return once ``witness``'s cosignature of a size at least ``size`` is stored."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.cosigned.get(str(witness), 0) >= size)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()

    async def _follow(self, witness: WitnessEndpoint, wake: asyncio.Event) -> None:
        known = -1  # the witness's size as far as we know; a 409 corrects it
        failures = 0
        while True:
            try:
                if known < 0:  # what it cosigned for us before, so a restart pushes nothing twice
                    known = await self._held(witness)
                known = await self.push(witness, known)
                failures = self.failures[str(witness.verifier)] = 0
                delay = self.poll
            except Exception as e:  # never let one failure end the task
                failures += 1
                self.failures[str(witness.verifier)] = failures
                delay = min(self.retry_max, self.retry_min * 2 ** (failures - 1))
                level = logging.ERROR if isinstance(e, PushFailed) and e.alarm else logging.WARNING
                log.log(level, "witness %s: push failed (%s), retry in %.0f s", witness.url, e, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
            wake.clear()

    async def _held(self, witness: WitnessEndpoint) -> int:
        key = str(witness.verifier)
        async with self.engine.connect() as conn:
            size = (
                await conn.execute(
                    text("SELECT max(size) FROM witness_cosignatures WHERE witness_key = :key"), {"key": key}
                )
            ).scalar()
        if size:
            await self._record(key, int(size))
        return int(size or 0)

    async def _record(self, key: str, size: int) -> None:
        async with self._changed:
            self.cosigned[key] = max(size, self.cosigned.get(key, 0))
            self._changed.notify_all()

    async def push(self, witness: WitnessEndpoint, known: int) -> int:
        """Push the latest checkpoint to ``witness`` if it has not cosigned it; returns the
        witness's size afterwards."""
        async with self.engine.connect() as conn:
            latest = await conn.run_sync(store.latest_checkpoint)
        if latest is None or latest.size == 0 or latest.size == self.cosigned.get(str(witness.verifier)):
            return known
        assert self._http is not None
        old = known if known <= latest.size else 0
        for _ in range(2):
            async with self.engine.connect() as conn:
                proof = await conn.run_sync(stored_proofs.consistency_proof, old, latest.size) if old else []
            r = await self._http.post(
                f"{witness.url}/add-checkpoint", content=add_checkpoint_body(old, proof, latest.note)
            )
            if r.status_code == 409 and r.headers.get("content-type", "").startswith(SIZE_MEDIA_TYPE):
                old = parse_size_body(r.text)
                if old > latest.size:  # the witness saw a newer checkpoint (another process's)
                    return old
                continue
            if r.status_code != 200:
                raise PushFailed(f"{r.status_code}: {r.text[:200]}", alarm=r.status_code in (409, 422))
            await self._keep(witness, latest, r.text)
            return latest.size
        raise PushFailed(f"the witness answered 409 twice; its size is {old}")

    async def _keep(self, witness: WitnessEndpoint, cp: store.StoredCheckpoint, answer: str) -> None:
        try:
            found = cosignatures(parse_note(cp.note + answer), [witness.verifier])
            if not found:
                raise IntegrityError("no valid cosignature line by this witness's key")
            cosignature = found[0]
        except (MalformedError, IntegrityError) as e:
            raise PushFailed(f"the witness's answer is not its cosignature of size {cp.size}: {e}") from e
        async with self.engine.begin() as conn:
            await conn.run_sync(
                lambda c: store.write_cosignature(
                    c,
                    size=cp.size,
                    witness_key=str(witness.verifier),
                    name=witness.verifier.name,
                    key_hash=witness.verifier.key_hash,
                    timestamp=cosignature.timestamp,
                    signature=cosignature.signature,
                    line=cosignature.line(),
                    at=datetime.now(UTC),
                )
            )
        await self._record(str(witness.verifier), cp.size)
        log.info("witness %s cosigned size %d", witness.url, cp.size)
