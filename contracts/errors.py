"""Rule violations: the client's fault, with a stable machine code."""

from __future__ import annotations

from ledger.errors import Rejection


class RuleViolation(Rejection):
    """An entry that breaks a domain rule (``membership.already_member``, ...)."""
