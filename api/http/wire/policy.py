"""A county's policy numbers in force, and the records that set them."""

from __future__ import annotations

from typing import Any

import msgspec


class PolicyNumber(msgspec.Struct, forbid_unknown_fields=True):
    """A number in force, its default, and the seq of the ``policy.set`` record that last set
    it (null: never set, the default is in force)."""

    value: Any
    default: Any
    set_seq: int | None


class CountyPolicyInForce(msgspec.Struct, forbid_unknown_fields=True):
    """Every policy number of the organisation's county, by name."""

    org: str
    county: str
    numbers: dict[str, PolicyNumber]
