"""Every string field of every entry kind refuses text PostgreSQL or the canonical form cannot hold.

The fields are found by introspection of the registered payload types, so a kind added later is
covered without touching this test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import contracts.engine  # noqa: F401  (registers every kind)
from contracts.errors import RuleViolation
from contracts.rulebook import RULEBOOK

# Every kind of every rule version (a later version of a kind keeps its payload schema or adds one).
RULES = {kind: r for (kind, _), r in sorted(RULEBOOK.rules.items())}

FieldPath = tuple[str | int, ...]


def string_fields(t: mi.Type, path: FieldPath = ()) -> list[FieldPath]:
    """Paths to every string in a payload type: field names, list positions (0), dict keys ("{k}")
    and dict values ("{v}")."""
    if isinstance(t, mi.StructType):
        return [p for f in t.fields for p in string_fields(f.type, (*path, f.encode_name))]
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return string_fields(t.item_type, (*path, 0))
    if isinstance(t, mi.DictType):
        return string_fields(t.key_type, (*path, "{k}")) + string_fields(t.value_type, (*path, "{v}"))
    if isinstance(t, mi.UnionType):
        return [p for x in t.types for p in string_fields(x, path)]
    if isinstance(t, mi.StrType | mi.LiteralType) and (
        not isinstance(t, mi.LiteralType) or all(isinstance(v, str) for v in t.values)
    ):
        return [path]
    return []


def place(path: FieldPath, text: str) -> Any:
    """A payload holding ``text`` at ``path`` and nothing else."""
    if not path:
        return text
    head, rest = path[0], path[1:]
    if head == 0:
        return [place(rest, text)]
    if head == "{k}":
        return {text: 1}
    if head == "{v}":
        return {"k": place(rest, text)}
    return {head: place(rest, text)}


CASES = [
    (kind, path) for kind, r in sorted(RULES.items()) for path in string_fields(mi.type_info(r.payload_type))
]
UNSAFE = [chr(c) for c in [*range(0x20), 0x7F, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFE, 0xFFFF]]


def test_every_kind_has_string_fields_found() -> None:
    assert len(CASES) > 100
    assert {k for k, _ in CASES} >= {"org.registered", "key.revoked", "land.contract_issued"}


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}:{p}" for k, p in CASES])
@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff"], ids=["nul", "high", "low"])
def test_field_refuses_nul_and_lone_surrogate(kind: str, path: FieldPath, bad: str) -> None:
    with pytest.raises(RuleViolation) as e:
        RULES[kind].decode(place(path, f"a{bad}b"))
    assert e.value.code == "payload.invalid"
    named = [p for p in path if isinstance(p, str) and p not in ("{k}", "{v}")]
    assert all(n in str(e.value) for n in named)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CASES), st.text(max_size=8), st.sampled_from(UNSAFE), st.text(max_size=8))
def test_unsafe_character_anywhere_is_refused(
    case: tuple[str, FieldPath], pre: str, bad: str, post: str
) -> None:
    kind, path = case
    with pytest.raises(RuleViolation) as e:
        RULES[kind].decode(place(path, pre + bad + post))
    assert e.value.code == "payload.invalid"


def doc_path(path: FieldPath) -> str:
    """A path as docs/reliability.md writes it: ``parcels[].boundaries.east``, ``numbers{key}``."""
    out = ""
    for p in path:
        out += "[]" if p == 0 else "{key}" if p == "{k}" else "{value}" if p == "{v}" else f".{p}"
    return out.lstrip(".")


def test_payload_strings_table_lists_every_string_field() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "reliability.md").read_text()
    listed = {
        tuple(c.strip().strip("`") for c in line.strip("|").split("|")[:2])
        for line in doc.splitlines()
        if line.startswith("| `")
    }
    assert listed == {(kind, doc_path(path)) for kind, path in CASES}
