"""Identifier checks against the standards' own examples and every kind of corruption."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.identifiers import (
    CREDIT_CODE_ALPHABET,
    InvalidIdentifier,
    credit_code_check_char,
    resident_id_check_char,
    validate_area_code,
    validate_credit_code,
    validate_parcel_code,
    validate_resident_id,
)

TODAY = date(2026, 11, 29)


def test_standard_example_resident_id() -> None:
    assert validate_resident_id("11010519491231002X", TODAY) == (date(1949, 12, 31), "F")


def test_lower_case_x_is_normalised() -> None:
    assert validate_resident_id("11010519491231002x", TODAY)[0] == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("number", "match"),
    [
        ("110105194912310021", "check character"),
        ("11010519490230002X", "not a real date"),
        ("110105203012310011", "in the future"),
        ("1101051949123100", "17 digits"),
        ("11010519491231002Y", "17 digits"),
        ("１１0105194912310021", "17 digits"),
    ],
)
def test_bad_resident_ids(number: str, match: str) -> None:
    with pytest.raises(InvalidIdentifier, match=match):
        validate_resident_id(number, TODAY)


@given(st.dates(date(1900, 1, 1), TODAY), st.integers(0, 999), st.integers(0, 9))
def test_generated_ids_validate_and_any_digit_change_fails(born: date, seq: int, pos: int) -> None:
    first17 = f"371003{born:%Y%m%d}{seq:03d}"
    number = first17 + resident_id_check_char(first17)
    assert validate_resident_id(number, TODAY) == (born, "M" if seq % 2 else "F")
    changed = number[:pos] + str((int(number[pos]) + 1) % 10) + number[pos + 1 :]
    with pytest.raises(InvalidIdentifier):
        validate_resident_id(changed, TODAY)


def test_standard_example_credit_code() -> None:
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "match"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M00010OY43", "18 characters"),  # O is not in the alphabet
        ("913501OOM000100Y43", "18 characters"),
    ],
)
def test_bad_credit_codes(code: str, match: str) -> None:
    with pytest.raises(InvalidIdentifier, match=match):
        validate_credit_code(code)


@given(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9), st.integers(0, 999999))
def test_generated_village_credit_codes(tail: str, area: int) -> None:
    first17 = f"N2{area:06d}{tail}"
    validate_credit_code(first17 + credit_code_check_char(first17))


def test_area_codes_extend_parents() -> None:
    assert validate_area_code("371003105", "township", "371003") == "371003105"
    with pytest.raises(InvalidIdentifier, match="does not extend"):
        validate_area_code("371082105", "township", "371003")
    with pytest.raises(InvalidIdentifier, match="9 digits"):
        validate_area_code("37100310", "township", "371003")


def test_parcel_codes() -> None:
    assert validate_parcel_code("3710031052010000001", "371003105201")
    with pytest.raises(InvalidIdentifier, match="not under"):
        validate_parcel_code("3710031052020000001", "371003105201")
    with pytest.raises(InvalidIdentifier, match="19 digits"):
        validate_parcel_code("371003105201000001", "371003105201")
