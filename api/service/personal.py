"""Personal data at the API boundary: the clear fields of a person, checked against the
party's commitment and blind index when submitted, stored apart from the ledger (erasable),
shown only to organisations that govern the person's registration or membership."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from contracts.identifiers import InvalidIdentifier, normalise_resident_id, validate_resident_id
from contracts.parties import blind_index, personal_commitment
from ledger.entry import SignedEntry
from ledger.errors import Category, Rejection


class PersonalData(SQLModel, table=True):
    """Never part of the ledger: deleting a row erases the person and leaves the log intact."""

    __tablename__ = "personal_data"
    party_id: str = Field(primary_key=True)
    name: str
    id_number: str
    sex: str
    birth_date: date
    phone: str
    salt: str
    registered_by: str
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class PersonalFields(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    id_number: Annotated[str, msgspec.Meta(min_length=18, max_length=18)]
    sex: Literal["M", "F"]
    birth_date: date
    phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9-]{5,20}$")]
    salt: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]

    def committed(self) -> dict[str, str]:
        """The five fields the commitment covers, as strings."""
        return {
            "name": self.name,
            "id_number": normalise_resident_id(self.id_number),
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "phone": self.phone,
        }


def _refuse(code: str, message: str) -> Rejection:
    return Rejection(code, message, category=Category.INVALID)


def check_personal(
    signed: SignedEntry, personal: Any, secret: bytes, today: date, now: datetime
) -> PersonalData:
    """The personal-data row for a ``party.registered`` entry, or a ``Rejection`` naming the
    first check that fails: shape, ID number, consistency with the ID, commitment, blind index."""
    try:
        fields = msgspec.convert(personal, PersonalFields, strict=True)
    except msgspec.ValidationError as e:
        raise _refuse("personal.invalid", f"personal fields: {e}") from e
    try:
        born, sex = validate_resident_id(fields.id_number, today)
    except InvalidIdentifier as e:
        raise _refuse("personal.invalid_id_number", str(e)) from e
    if (born, sex) != (fields.birth_date, fields.sex):
        raise _refuse(
            "personal.inconsistent",
            f"the ID number says born {born} and sex {sex}; the fields say "
            f"{fields.birth_date} and {fields.sex}",
        )
    payload = signed.payload
    committed = fields.committed()
    if personal_commitment(committed, bytes.fromhex(fields.salt)) != payload.get("commitment"):
        raise _refuse(
            "personal.commitment_mismatch", "the personal fields do not match the entry's commitment"
        )
    if blind_index(secret, fields.id_number) != payload.get("blind_index"):
        raise _refuse(
            "personal.blind_index_mismatch", "the blind index is not this ledger's index of this ID number"
        )
    return PersonalData(
        party_id=str(payload.get("party")),
        name=fields.name,
        id_number=committed["id_number"],
        sex=fields.sex,
        birth_date=fields.birth_date,
        phone=fields.phone,
        salt=fields.salt,
        registered_by=signed.actor,
        created_at=now,
    )
