"""canonical_bytes must equal the rfc8785 reference on its whole domain, and refuse the rest."""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import MAX_SAFE_INTEGER, canonical_bytes
from ledger.errors import MalformedError


def reference(value: object) -> bytes:
    """The rfc8785 package's encoding, the reference we must match byte for byte."""
    return rfc8785.dumps(value)  # type: ignore[arg-type]


CHINESE = "村集体经济组织转移备案证书宅基地房票威海环翠张村镇"
CONTROL = "".join(chr(c) for c in range(0x20)) + '\x7f\u2028\u2029"\\/'
# Text from everywhere (hypothesis leaves out lone surrogates), weighted to the tricky parts.
text = st.one_of(
    st.text(),
    st.text(alphabet=CHINESE + CONTROL + "aZ09 é😀\U0001f600\uffff\ue000"),
)
safe_int = st.one_of(
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, -1, 10**15]),
)
scalar = st.one_of(st.none(), st.booleans(), safe_int, text)
json_tree = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(text, inner, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=600)
@given(json_tree)
def test_equals_rfc8785_reference(value: object) -> None:
    assert canonical_bytes(value) == reference(value)


@given(st.dictionaries(text, scalar, min_size=2, max_size=8))
def test_object_keys_sort_like_the_reference(value: dict[str, object]) -> None:
    assert canonical_bytes(value) == reference(value)


def test_typical_entry_with_chinese_text() -> None:
    entry = {
        "v": 1,
        "kind": "member.admitted",
        "payload": {"village": "威海市环翠区张村镇北山村", "area_m2": 3335, "price_fen": 12800000},
        "signed_at": "2024-05-01T08:29:58Z",
        "ok": True,
        "note": None,
    }
    expected = (
        '{"kind":"member.admitted","note":null,"ok":true,"payload":{"area_m2":3335,'
        '"price_fen":12800000,"village":"威海市环翠区张村镇北山村"},'
        '"signed_at":"2024-05-01T08:29:58Z","v":1}'
    ).encode()
    assert canonical_bytes(entry) == expected == reference(entry)


def test_control_characters_escaped_as_jcs_requires() -> None:
    value = '\x00\x08\t\n\x0c\r\x1f\x7f\u2028"\\/'
    assert canonical_bytes(value) == b'"\\u0000\\b\\t\\n\\f\\r\\u001f\x7f\xe2\x80\xa8\\"\\\\/"'


def test_tuples_encode_as_arrays() -> None:
    assert canonical_bytes({"a": (1, "x")}) == b'{"a":[1,"x"]}'


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER])
def test_integers_at_the_safe_bounds(value: int) -> None:
    assert canonical_bytes([value]) == reference([value]) == f"[{value}]".encode()


def test_key_outside_bmp_sorts_by_utf16_code_units() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFF in UTF-16.
    value = {"\uffff": 2, "\U0001f600": 1, "a": {"\U00020000": 0, "\ue000": 1}}
    assert canonical_bytes(value) == reference(value)
    assert canonical_bytes(value) != msgspec.json.Encoder(order="sorted").encode(value)
    assert canonical_bytes(value).startswith('{"a":{"\U00020000"'.encode())


def test_float_refused_with_its_path() -> None:
    with pytest.raises(MalformedError, match=r"at \$\.payload\.items\[1\]\.area: float 1\.5"):
        canonical_bytes({"payload": {"items": [{"area": 1}, {"area": 1.5}]}})


def test_integral_float_refused() -> None:
    with pytest.raises(MalformedError, match=r"float 2\.0 is not allowed"):
        canonical_bytes([2.0])


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**30])
def test_integer_beyond_safe_range_refused(value: int) -> None:
    with pytest.raises(MalformedError, match=r"at \$\.n: integer .* outside"):
        canonical_bytes({"n": value})


def test_top_level_big_integer_refused() -> None:
    with pytest.raises(MalformedError, match=r"at \$: integer"):
        canonical_bytes(2**53)


@pytest.mark.parametrize("key", [1, None, True, ("a",), b"k"])
def test_non_str_key_refused(key: object) -> None:
    with pytest.raises(MalformedError, match=r"at \$\.outer: object key .* is not a str"):
        canonical_bytes({"outer": {key: 1}})


def test_key_needing_quotes_in_path() -> None:
    with pytest.raises(MalformedError, match=r"at \$\['面积 m2'\]: float"):
        canonical_bytes({"面积 m2": 0.5})


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (b"bytes", "bytes"),
        ({1, 2}, "set"),
        (Decimal("1"), "Decimal"),
        (Colour.RED, "Colour"),
        (Level.ONE, "Level"),
        (object(), "object"),
    ],
)
def test_other_types_refused(value: object, type_name: str) -> None:
    with pytest.raises(MalformedError, match=rf"at \$\[0\]: {type_name} is not a JSON type"):
        canonical_bytes([value])


def test_lone_surrogate_refused_with_path() -> None:
    with pytest.raises(MalformedError, match=r"at \$\['a'\]\[0\]: string is not valid Unicode"):
        canonical_bytes({"a": ["\ud800"]})


def test_lone_surrogate_in_key_refused() -> None:
    with pytest.raises(MalformedError, match="not valid Unicode"):
        canonical_bytes({"\udfff": 1})


def test_lone_surrogate_beside_key_outside_bmp_refused() -> None:
    with pytest.raises(MalformedError, match=r"at \$\['b'\]: string is not valid Unicode"):
        canonical_bytes({"\U0001f600": 1, "b": "\ud800"})


def test_malformed_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        canonical_bytes(1.0)
