"""Console password hashes: Argon2id PHC strings whose parameters are read back from the
string, and a stored string that is not one matches nothing."""

from __future__ import annotations

import pytest

from api.console.passwords import COST, MAX_LENGTH, Cost, hash_password, password_problem, verify_password

PASSWORD = "correct horse battery"


def test_a_hash_is_a_phc_string_of_owasps_minimum() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert Cost(19456, 2, 1) == COST
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + " ", stored)
    assert hash_password(PASSWORD) != stored  # a fresh salt each time


def test_the_parameters_are_read_from_the_stored_string() -> None:
    stronger = hash_password(PASSWORD, Cost(memory_kib=32768, passes=3, lanes=2))
    assert "$m=32768,t=3,p=2$" in stronger
    assert verify_password(PASSWORD, stronger)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("$argon2id$", "$argon2i$"),
        lambda s: s.replace("m=19456", "m=4"),
        lambda s: s.replace("t=2", "t=99"),
        lambda s: s[:-20] + ("A" if s[-20] != "A" else "B") + s[-19:],
        lambda s: s.rsplit("$", 1)[0],
        lambda s: "",
        lambda s: PASSWORD,
    ],
    ids=["argon2i", "too little memory", "too many passes", "hash changed", "no hash", "empty", "clear text"],
)
def test_a_stored_string_that_is_not_a_sound_hash_matches_nothing(mangle: object) -> None:
    stored = mangle(hash_password(PASSWORD))  # type: ignore[operator]
    assert not verify_password(PASSWORD, stored)


def test_a_password_too_long_is_not_checked_at_all() -> None:
    long = "x" * (MAX_LENGTH + 1)
    assert not verify_password(long, hash_password("x" * MAX_LENGTH))
    assert password_problem(long) is not None
    assert password_problem("short") is not None
    assert password_problem(PASSWORD) is None
