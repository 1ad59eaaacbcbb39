"""Console forms: a form is an entry kind and the fields a person fills in for it.

A ``Form`` names its kind, its fields (``FormField``: the name the payload path starts with,
the label's phrase key, the input type, whether it is required, the choices of a select) and
its submit button's phrase. ``Form.opened(request)`` is the form as first shown: empty, with a
new entry id (a UUID made when the form opens, carried in a hidden ``entry_id`` field, so a
second click of the same form returns the first receipt and adds nothing). ``Form.filled(form
data)`` is what was typed, kept as typed, with the same entry id; a refusal is set on it
(``Filled.refused``) and ``_form.html``'s ``form_body`` macro shows it beside the field it
concerns (``FormRefusal.field``: ``members[0].party`` belongs to the field ``members``,
``personal.id_number`` to ``personal.id_number``), or above the form when it names none.

``submit(request, console, kind, payload, entry_id)`` acts through ``api.console.acting.act``
with the app's service and the held keys' custody (``CONSOLE_CUSTODY`` in the app's state):
the receipt, or a ``FormRefusal``. A console with no key-encryption key configured, or one that
cannot open the held key, answers a refusal saying so (``console.kek_missing`` ...), never a
500; ``custody_problem(request)`` tells a form page so when it opens, and ``noticed(request,
form)`` is a form as a page first shows it, with that said above it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from litestar import Request

from api.console.acting import FormRefusal, act
from api.console.custody import Custody, CustodyError
from api.console.render import catalogue
from api.console.sessions import ConsoleSession
from api.console.vouchers_pages_reads import fen_of
from api.home import Home
from api.service.service import LedgerService
from ledger.entry import UUID_PATTERN

ENTRY_ID_FIELD = "entry_id"
MAX_VALUE = 2000  # a typed value is kept at most this long (no field needs more)
# The refusals the console says in its own words (``refusal.<code>`` in the catalogues); any
# other is shown as ``refusal.other`` with the ledger's code and message beside it.
REFUSAL_PREFIX = "refusal."


class HeldKeys:
    """The console's custody of organisations' keys, resolved when first needed: a KEK set up
    after the service started is found at the next act, and a missing one is a refusal the
    forms show, not a failure of the service's start."""

    def __init__(self, home: Home, custody: Custody | None = None) -> None:
        self.home = home
        self._custody = custody

    def custody(self) -> Custody:
        """The configured custody; ``CustodyError`` (``console.kek_missing`` or
        ``console.kek_invalid``) when no usable KEK is configured."""
        if self._custody is None:
            self._custody = Custody.configured(self.home)
        return self._custody


@dataclass(frozen=True)
class FormField:
    """One field of a form: ``name`` is the payload path the refusals name (a refusal of
    ``name`` or of a path under it is shown here), ``label`` its phrase key, ``input`` the HTML
    input type (``text``, ``number``, ``date``, ``select``, ``textarea``, ``checkbox``, ``file``,
    ``hidden``), ``choices`` a select's ``(value, phrase key)`` pairs, ``hint`` a phrase shown
    under the label."""

    name: str
    label: str
    input: str = "text"
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    hint: str | None = None
    placeholder: str = ""
    # Only a value the page offered is taken (a select of the organisation's own people, whose
    # ids are public: a hand-made post naming someone else's is refused, ``form.not_offered``).
    offered_only: bool = False

    @property
    def html_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    def concerns(self, path: str | None) -> bool:
        """Whether a refusal naming ``path`` belongs beside this field."""
        if path is None:
            return False
        return path == self.name or path.startswith((self.name + ".", self.name + "["))


@dataclass(frozen=True)
class Form:
    """An entry kind's form: its fields, its action (the path it posts to) and its button."""

    kind: str
    fields: tuple[FormField, ...]
    action: str
    submit_label: str = "form.submit"

    def opened(self, **initial: str) -> Filled:
        """The form as first opened: the initial values given, and a new entry id."""
        return Filled(self, {f.name: initial.get(f.name, "") for f in self.fields}, str(uuid.uuid4()))

    def filled(self, data: Mapping[str, Any]) -> Filled:
        """What was typed, kept as typed (trimmed of surrounding spaces), with the form's
        entry id (a new one if it carries none that is valid)."""
        values: dict[str, str] = {}
        for f in self.fields:
            raw = data.get(f.name, "")
            value = raw if isinstance(raw, str) else ""
            values[f.name] = value.strip()[:MAX_VALUE]
        entry_id = data.get(ENTRY_ID_FIELD)
        if not isinstance(entry_id, str) or not UUID_PATTERN.match(entry_id):
            entry_id = str(uuid.uuid4())
        return Filled(self, values, entry_id)


@dataclass(frozen=True)
class Filled:
    """A form with what was typed in it, its entry id and the refusal (if any) to show."""

    form: Form
    values: dict[str, str]
    entry_id: str
    refusal: FormRefusal | None = None
    notice: FormRefusal | None = None  # said above the form when it opens (no KEK, say)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    def refused(self, refusal: FormRefusal | None) -> Filled:
        """This form with ``refusal`` to show (None: none)."""
        return replace(self, refusal=refusal)

    def missing(self) -> FormRefusal | None:
        """The first required field left empty, or the first ``offered_only`` select holding a
        value it did not offer (a form posted by hand: a person of another collective, say), as
        a refusal beside it."""
        for f in self.form.fields:
            value = self.values.get(f.name)
            if f.required and f.input != "checkbox" and not value:
                return FormRefusal("form.required", f"{f.name} is required", f.name)
            if f.offered_only and value and value not in {v for v, _ in f.choices}:
                return FormRefusal("form.not_offered", f"{f.name}: {value!r} is not one offered", f.name)
        return None

    def error_for(self, form_field: FormField) -> FormRefusal | None:
        if self.refusal is not None and form_field.concerns(self.refusal.field):
            return self.refusal
        return None

    @property
    def general_error(self) -> FormRefusal | None:
        """The refusal to show above the form: one naming no field of this form."""
        r = self.refusal
        if r is None or any(f.concerns(r.field) for f in self.form.fields):
            return None
        return r


def amounts_in_fen(filled: Filled, fields: Mapping[str, str]) -> dict[str, int] | FormRefusal:
    """The amounts typed in yuan, in fen, by payload name (``fields``: each payload name and the
    field it is typed in); the refusal beside the first field that holds no amount."""
    found: dict[str, int] = {}
    for name, typed in fields.items():
        fen = fen_of(filled[typed])
        if fen is None:
            return FormRefusal("form.not_an_amount", f"{typed} is not an amount in yuan", typed)
        found[name] = fen
    return found


def refusal_key(refusal: FormRefusal) -> str:
    """The phrase key a refusal is said by: its own when the catalogue has one, else the
    general one (shown with the ledger's code and message)."""
    key = REFUSAL_PREFIX + refusal.code
    return key if key in catalogue("zh") else REFUSAL_PREFIX + "other"


def held_keys(request: Request[Any, Any, Any]) -> HeldKeys:
    keys: HeldKeys = request.app.state.console_keys
    return keys


def custody_problem(request: Request[Any, Any, Any]) -> FormRefusal | None:
    """Why this console cannot act now (no KEK configured, say), or None."""
    try:
        held_keys(request).custody()
    except CustodyError as e:
        return FormRefusal(e.code, e.message)
    return None


def noticed(request: Request[Any, Any, Any], form: Filled) -> Filled:
    """``form`` with the custody problem said above it when this console cannot act now (no
    KEK, say); a form re-shown with its refusal, or already saying one, as it is."""
    if form.refusal is not None or form.notice is not None:
        return form
    notice = custody_problem(request)
    return replace(form, notice=notice) if notice is not None else form


async def submit(
    request: Request[Any, Any, Any],
    console: ConsoleSession,
    kind: str,
    payload: dict[str, Any],
    entry_id: str,
    *,
    beside: dict[str, Any] | None = None,
) -> dict[str, Any] | FormRefusal:
    """Record ``kind`` with ``payload`` as the signed-in user's act for their organisation,
    under the form's ``entry_id``: the receipt, or the refusal to show on the form."""
    service: LedgerService = request.app.state.service
    try:
        custody = held_keys(request).custody()
        return await act(service, custody, console.user, kind, payload, entry_id, beside=beside)
    except CustodyError as e:
        # The operator's to mend (no KEK, a wrong one, a corrupt row): said plainly on the form.
        return FormRefusal(e.code, e.message)
