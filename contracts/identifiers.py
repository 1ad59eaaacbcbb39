"""Identifiers the rules and the API boundary validate: resident ID numbers (GB 11643),
unified social credit codes (GB 32100), administrative area codes and land parcel codes."""

from __future__ import annotations

import re
from datetime import date

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
RESIDENT_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$")
VILLAGE_COLLECTIVE_PREFIX = "N2"  # N1 group level, N2 village level, N3 township level

AREA_CODE_LENGTHS = {"county": 6, "township": 9, "village": 12}
PARCEL_CODE_LENGTH = 19


class InvalidIdentifier(ValueError):
    """An identifier that fails its standard's checks; the message says which check."""


def normalise_resident_id(text: str) -> str:
    return text.strip().upper()


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(text: str, today: date) -> tuple[date, str]:
    """Check an 18-character resident ID number; return its birth date and sex ("M"/"F").

    The birth date must be a real date, not after ``today``; the 18th character must be the
    check character of the first 17.
    """
    number = normalise_resident_id(text)
    if not RESIDENT_ID_SHAPE.match(number):
        raise InvalidIdentifier("a resident ID number is 17 digits and a check digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as e:
        raise InvalidIdentifier(f"birth date {number[6:14]} is not a real date") from e
    if born > today:
        raise InvalidIdentifier(f"birth date {born.isoformat()} is in the future")
    if born.year < 1890:
        raise InvalidIdentifier(f"birth year {born.year} is not plausible")
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise InvalidIdentifier(f"check character is {number[17]}, expected {expected}")
    return born, "M" if int(number[16]) % 2 else "F"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(text: str) -> str:
    """Check an 18-character unified social credit code; returns it."""
    if not CREDIT_CODE_SHAPE.match(text):
        raise InvalidIdentifier(
            "a unified social credit code is 18 characters of "
            f"{CREDIT_CODE_ALPHABET} with a 6-digit area code at 3-8"
        )
    expected = credit_code_check_char(text[:17])
    if text[17] != expected:
        raise InvalidIdentifier(f"check character is {text[17]}, expected {expected}")
    return text


def validate_area_code(code: str, level: str, parent: str | None = None) -> str:
    """A county (6 digits), township (9) or village (12) code, extending its parent's."""
    length = AREA_CODE_LENGTHS[level]
    if len(code) != length or not code.isdigit() or not code.isascii():
        raise InvalidIdentifier(f"a {level} area code is {length} digits, found {code!r}")
    if parent is not None and not code.startswith(parent):
        raise InvalidIdentifier(f"{level} code {code} does not extend its parent's code {parent}")
    return code


def validate_parcel_code(code: str, village_code: str) -> str:
    """A 19-digit parcel code under a 12-digit village code."""
    if len(code) != PARCEL_CODE_LENGTH or not code.isdigit() or not code.isascii():
        raise InvalidIdentifier(f"a parcel code is {PARCEL_CODE_LENGTH} digits, found {code!r}")
    if not code.startswith(village_code):
        raise InvalidIdentifier(f"parcel {code} is not under village {village_code}")
    return code
