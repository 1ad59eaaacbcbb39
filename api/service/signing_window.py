"""How far an entry's ``signed_at`` may lie from the ledger's clock when it is first submitted.

An admission check at the API boundary, not a rule: the verifier replays records long after they
were signed, and a resubmission of an entry already stored is answered with its receipt whatever
its age, so only entries not yet in the ledger are held to the window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.entry import SignedEntry, parse_time
from ledger.errors import Category, Rejection

# A village office may sign in the morning, lose its connection and submit the day after;
# a signer's clock may run a few minutes fast. Nothing legitimate is signed years away.
DEFAULT_PAST = timedelta(hours=48)
DEFAULT_FUTURE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SignedAtWindow:
    past: timedelta = DEFAULT_PAST
    future: timedelta = DEFAULT_FUTURE

    @classmethod
    def from_env(cls) -> SignedAtWindow:
        """``RURAL_LEDGER_SIGNED_AT_PAST_SECONDS`` and ``..._FUTURE_SECONDS``, else the defaults."""

        def seconds(name: str, default: timedelta) -> timedelta:
            text = os.environ.get(name)
            return timedelta(seconds=int(text)) if text else default

        return cls(
            seconds("RURAL_LEDGER_SIGNED_AT_PAST_SECONDS", DEFAULT_PAST),
            seconds("RURAL_LEDGER_SIGNED_AT_FUTURE_SECONDS", DEFAULT_FUTURE),
        )

    def holds(self, signed: SignedEntry, now: datetime) -> bool:
        at = parse_time(signed.entry["signed_at"])  # its shape was checked by parse_submission
        return now - self.past <= at <= now + self.future

    def refusal(self, signed: SignedEntry, now: datetime) -> Rejection:
        return Rejection(
            "entry.signed_at_out_of_window",
            f"signed_at {signed.entry['signed_at']} is not within {_span(self.past)} before "
            f"and {_span(self.future)} after the ledger's clock; sign the entry again",
            category=Category.INVALID,
        )


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
