"""What the audit's worker processes run: ``ledger.checks_ahead`` and the process's peak memory
with each answer, so that the auditor can say how much its workers took. Imported by the
workers: keep its imports to ``ledger`` and the standard library."""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path

from ledger.checks_ahead import ChecksAhead, check_ahead

# With a worker on every core, the replay shares a core with one: the main process, which
# no worker can stand in for, should have it whenever it can run, the workers the rest.
WORKER_NICENESS = 5


def yield_to_the_replay() -> None:
    """Make this worker process less urgent than the audit's main process."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB: Linux's ``VmHWM``, which counts from the
    process's own program (``ru_maxrss`` keeps the high-water mark of the process it was
    forked from, before the exec, and a spawned worker is forked from the auditor)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def check_ahead_measured(
    origin: str, first_seq: int, bodies: list[bytes], keys: dict[str, bytes]
) -> tuple[ChecksAhead, int, int]:
    """``check_ahead``, with the worker's process id and peak memory (KiB)."""
    return check_ahead(origin, first_seq, bodies, keys), os.getpid(), peak_rss_kib()
