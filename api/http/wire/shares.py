"""Shareholdings (股份): cap tables, holdings, dividend payouts."""

from __future__ import annotations

from datetime import date

import msgspec


class ShareScheme(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    scheme_date: date
    management: str
    issued_units: int
    total_units: int
    collective_units: int
    quantified_seq: int


class CapTableHolder(msgspec.Struct, forbid_unknown_fields=True):
    """A holder's units; ``share_bp`` is their share of the total in basis points (rounded
    down); ``changed_seq`` the record that last changed the holding."""

    holder: str
    household: str | None
    units: int
    pledged_units: int
    income_only: bool
    share_bp: int
    changed_seq: int


class CapTable(msgspec.Struct, forbid_unknown_fields=True):
    """A collective's share scheme and holders as of a seq."""

    collective: str
    as_of: int
    scheme: ShareScheme
    holders: list[CapTableHolder]


class Holding(msgspec.Struct, forbid_unknown_fields=True):
    collective: str
    holder: str
    household: str | None
    units: int
    pledged_units: int
    income_only: bool


class HolderHoldings(msgspec.Struct, forbid_unknown_fields=True):
    holder: str
    items: list[Holding]


class HouseholdHoldings(msgspec.Struct, forbid_unknown_fields=True):
    """What a household's members hold, and their units in all."""

    household: str
    items: list[Holding]
    units: int


class Payout(msgspec.Struct, forbid_unknown_fields=True):
    holder: str
    units: int
    amount_fen: int


class DividendPayouts(msgspec.Struct, forbid_unknown_fields=True):
    """A declared dividend (amounts in fen) and its payout per holder."""

    dividend: str
    collective: str
    amount_fen: int
    distributable_fen: int
    units: int
    declared_seq: int
    payouts: list[Payout]
