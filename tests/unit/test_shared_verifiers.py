"""The ledgers of one process share its signature-checking processes (api.service.service)."""

from __future__ import annotations

import pytest

from api.service.service import SharedVerifiers
from ledger.signing import verify_batch


def test_ledgers_share_one_pool_until_the_last_gives_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a process serving no ledger yet, whatever services other tests left open.
    monkeypatch.setattr(SharedVerifiers, "_pool", None)
    monkeypatch.setattr(SharedVerifiers, "_users", 0)
    first, second = SharedVerifiers.take(), SharedVerifiers.take()
    assert first is second  # two ledgers, one pool
    SharedVerifiers.give_back(first)
    assert second.submit(verify_batch, []).result(timeout=60) == []  # still serving the other
    SharedVerifiers.give_back(second)
    with pytest.raises(RuntimeError):  # the last one gone: shut down
        second.submit(verify_batch, [])
    third = SharedVerifiers.take()
    assert third is not first  # a new one for the next ledger to open
    SharedVerifiers.give_back(third)
