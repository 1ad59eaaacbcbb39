"""The collective clerk's forms and the payloads they make: a person (``party.registered``, the
personal fields beside it), a household (``household.registered``), an admission
(``member.admitted``, the meeting's vote and the notice) and a confirmation after the notice
(``member.confirmed``).

Ids the ledger keeps (the party's, the household's) and the person's commitment salt are made
when the form opens and carried in hidden fields, so a second submit of one form is the same
act (``act`` then returns the first receipt). The sex and birth date are read from the resident
ID number, so the clerk types only the name, the ID number and the phone.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from api.console.acting import FormRefusal
from api.console.collective_documents import HEX64, Unfit, unfit
from api.console.forms import Filled, Form, FormField
from contracts.identifiers import InvalidIdentifier, normalise_resident_id, validate_resident_id
from contracts.parties import blind_index, personal_commitment

BASE = "/console/collective"
MEMBER_ROWS = 5  # the household form's rows after the head
RELATIONS = ("spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other")
BASES = ("hukou", "land_contract", "contribution", "birth", "marriage", "adoption", "policy_migration")
MEETINGS = ("members_assembly", "representatives_meeting")
# Where a rule's refusal points on these forms (the payload paths the fields are named by).
FIELD_OF_CODE = {
    "membership.bad_vote_count": "decision.votes_for",
    "membership.quorum_not_met": "decision.attendance",
    "membership.votes_insufficient": "decision.votes_for",
    "membership.notice_too_short": "decision.notice_end",
    "membership.already_member": "party",
    "party.unknown": "party",
    "household.unknown": "household",
    "household.not_a_member": "household",
    "household.member_elsewhere": "members",
    "household.duplicate_member": "members",
    "personal.inconsistent": "personal.id_number",
    "personal.invalid_id_number": "personal.id_number",
    "party.duplicate_person": "personal.id_number",
}


def _choices(prefix: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, f"{prefix}.{v}") for v in values)


PERSON = Form(
    "party.registered",
    (
        FormField("personal.name", "clerk.person.name"),
        FormField("personal.id_number", "clerk.person.id_number", hint="clerk.person.id_number_hint"),
        FormField("personal.phone", "clerk.person.phone"),
        FormField("party", "clerk.party", "hidden"),
        FormField("salt", "clerk.salt", "hidden"),
    ),
    f"{BASE}/people/new",
    "clerk.person.submit",
)


def household_form(people: list[tuple[str, str]]) -> Form:
    """The household form, offering ``people`` (party id, label) as head and members."""
    fields = [
        FormField("household", "clerk.household", "hidden"),
        FormField("head", "clerk.household.head", "select", choices=tuple(people), offered_only=True),
    ]
    for i in range(1, MEMBER_ROWS + 1):
        member = FormField(
            f"member{i}", "clerk.household.member", "select", False, tuple(people), offered_only=True
        )
        fields.append(member)
        fields.append(
            FormField(
                f"relation{i}", "clerk.household.relation", "select", False, _choices("relation", RELATIONS)
            )
        )
    return Form("household.registered", tuple(fields), f"{BASE}/households/new", "clerk.household.submit")


def admission_form(people: list[tuple[str, str]], households: list[tuple[str, str]]) -> Form:
    return Form(
        "member.admitted",
        (
            FormField("party", "clerk.admit.party", "select", choices=tuple(people), offered_only=True),
            FormField("basis", "clerk.admit.basis", "select", choices=_choices("basis", BASES)),
            FormField(
                "household", "clerk.admit.household", "select", False, tuple(households), offered_only=True
            ),
            FormField(
                "decision.meeting", "clerk.admit.meeting", "select", choices=_choices("meeting", MEETINGS)
            ),
            FormField("decision.eligible", "clerk.admit.eligible", "number"),
            FormField("decision.attendance", "clerk.admit.attendance", "number"),
            FormField("decision.votes_for", "clerk.admit.votes_for", "number"),
            FormField("decision.contested", "clerk.admit.contested", "checkbox", False),
            FormField("decision.notice_start", "clerk.admit.notice_start", "date"),
            FormField(
                "decision.notice_end", "clerk.admit.notice_end", "date", hint="clerk.admit.notice_hint"
            ),
            FormField(
                "decision.evidence", "clerk.admit.evidence", "text", False, hint="clerk.admit.evidence_hint"
            ),
        ),
        f"{BASE}/members/admit",
        "clerk.admit.submit",
    )


CONFIRM = Form(
    "member.confirmed",
    (FormField("party", "clerk.admit.party", "hidden"),),
    f"{BASE}/members/confirm",
    "clerk.confirm",
)


def opened_person() -> Filled:
    return PERSON.opened(party=str(uuid.uuid4()), salt=secrets.token_hex(32))


def opened_household(form: Form) -> Filled:
    return form.opened(household=str(uuid.uuid4()))


def refusal_here(refusal: FormRefusal) -> FormRefusal:
    """A refusal pointed at the field of these forms it concerns, when the ledger named none."""
    if refusal.field is None and refusal.code in FIELD_OF_CODE:
        return replace(refusal, field=FIELD_OF_CODE[refusal.code])
    return refusal


def _integer(filled: Filled, name: str) -> int:
    value = filled[name]
    if not re.fullmatch(r"[0-9]{1,7}", value):
        raise unfit("form.not_a_number", name, f"{name}: {value!r} is not a whole number")
    return int(value)


def _date(filled: Filled, name: str) -> str:
    try:
        return date.fromisoformat(filled[name]).isoformat()
    except ValueError as e:
        raise unfit("form.not_a_date", name, f"{name}: {filled[name]!r} is not a date") from e


def person_entry(filled: Filled, secret: bytes, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``party.registered`` payload and the personal fields beside it."""
    id_number = filled["personal.id_number"].upper()
    try:
        born, sex = validate_resident_id(id_number, today)
    except InvalidIdentifier as e:
        raise unfit("personal.invalid_id_number", "personal.id_number", str(e)) from e
    salt = filled["salt"]
    if not HEX64.match(salt) or not re.fullmatch(r"[0-9a-f-]{36}", filled["party"]):
        raise Unfit(FormRefusal("console.form_stale", "the form's hidden fields are damaged: open it again"))
    personal = {
        "name": filled["personal.name"],
        "id_number": normalise_resident_id(id_number),
        "sex": sex,
        "birth_date": born.isoformat(),
        "phone": filled["personal.phone"],
        "salt": salt,
    }
    committed = {k: personal[k] for k in ("name", "id_number", "sex", "birth_date", "phone")}
    payload = {
        "party": filled["party"],
        "commitment": personal_commitment(committed, bytes.fromhex(salt)),
        "blind_index": blind_index(secret, id_number),
    }
    return payload, personal


def household_payload(filled: Filled) -> tuple[dict[str, Any], dict[int, str]]:
    """The ``household.registered`` payload, and which form row each ``members[i]`` came from
    (so that a refusal naming ``members[2]`` is shown beside its row)."""
    head = filled["head"]
    members = [{"party": head, "relation": "head"}]
    rows = {0: "head"}
    for i in range(1, MEMBER_ROWS + 1):
        party, relation = filled[f"member{i}"], filled[f"relation{i}"]
        if not party and not relation:
            continue
        if not party:
            raise unfit("form.required", f"member{i}", f"row {i} has a relation but no person")
        if not relation:
            raise unfit("form.required", f"relation{i}", f"row {i} has a person but no relation")
        rows[len(members)] = f"member{i}"
        members.append({"party": party, "relation": relation})
    return {"household": filled["household"], "head": head, "members": members}, rows


def household_refusal(refusal: FormRefusal, rows: dict[int, str]) -> FormRefusal:
    """A refusal naming ``members[i]...`` pointed at the row it came from."""
    m = re.match(r"members\[(\d+)\]", refusal.field or "")
    if m and int(m.group(1)) in rows:
        return replace(refusal, field=rows[int(m.group(1))])
    return refusal_here(refusal)


def admission_payload(filled: Filled) -> dict[str, Any]:
    evidence = [e for e in re.split(r"[\s,，]+", filled["decision.evidence"].lower()) if e]
    for e in evidence:
        if not HEX64.match(e):
            raise unfit("form.bad_hash", "decision.evidence", f"{e!r} is not a SHA-256 hex digest")
    decision = {
        "meeting": filled["decision.meeting"],
        "eligible": _integer(filled, "decision.eligible"),
        "attendance": _integer(filled, "decision.attendance"),
        "votes_for": _integer(filled, "decision.votes_for"),
        "contested": bool(filled["decision.contested"]),
        "notice_start": _date(filled, "decision.notice_start"),
        "notice_end": _date(filled, "decision.notice_end"),
        "evidence": evidence,
    }
    payload: dict[str, Any] = {"party": filled["party"], "basis": filled["basis"], "decision": decision}
    if filled["household"]:
        payload["household"] = filled["household"]
    return payload
