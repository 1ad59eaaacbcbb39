"""How often the appending process looks for cyclic garbage.

A batch makes about a hundred container objects per entry (parsed entries, payloads, rows,
staged changes, receipts) that all live until the batch is answered, a few milliseconds. With
CPython's default threshold (a young collection every 700 new containers) they are traced
several times each on their way to the oldest generation, whose collections then trace the
whole heap, the row cache included: 8 full collections took 1.0 s of a 20,000-entry append
(about a fifth of the process's time). Collecting the young generation every 50,000 new
containers lets a batch's objects die of their reference counts first; cycles (rare here) wait
a little longer to be freed. Objects are never frozen: garbage in a frozen cycle would never
be freed, and a service runs for months.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def collect_less_often() -> None:
    """Raise the young generation's threshold to ``YOUNG_THRESHOLD`` unless it is higher
    already (a process that chose its own, like the seeder's) or collection is off (0)."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
