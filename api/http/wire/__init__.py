"""The wire shapes: what every route answers, declared once as msgspec structs, apart from the
table models, one module per area.

A route builds its answer from these, never from a table row or a bare dict, so that the
OpenAPI document carries a component schema for each and a column renamed in ``contracts``
cannot change the wire silently: a row is converted with ``from_row`` (a renamed column is an
error, not a missing field), and a read model's dict with ``from_dict`` (a key the shape does
not declare is an error too; every struct here forbids unknown fields).

Field order is the order on the wire. A record keeps the order of its canonical bytes (RFC 8785
sorts keys), so that its JSON is the hashed record plus ``leaf_hash``; every other shape lists
its fields as its table model or read model declares them. Optional fields are present with
``null`` unless a struct says ``omit_defaults`` (a problem's extras).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)

COMPONENTS = "#/components/schemas/"


def from_row(shape: type[S], row: Any) -> S:
    """``row`` (a table model instance) as ``shape``: each field read from its attribute."""
    return msgspec.convert(row, shape, from_attributes=True)


def from_dict(shape: type[S], doc: Any) -> S:
    """A read model's JSON-like answer as ``shape`` (dates may be ISO strings)."""
    return msgspec.convert(doc, shape)


def one_of(*shapes: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a value that is one of ``shapes`` (OpenAPI components by name).

    msgspec neither decodes nor describes an untagged union of structs, and these shapes are
    told apart by their fields, not by a tag on the wire: a field that holds one is typed
    ``Any`` and carries this schema in its ``msgspec.Meta``."""
    return {"oneOf": [{"$ref": COMPONENTS + shape.__name__} for shape in shapes]}
