"""The OpenAPI document finished: Litestar generates the paths and the component schemas of
the wire shapes the routes return; ``finish`` then adds what Litestar cannot see from the
handlers' signatures (the routes read their bodies and raise their refusals themselves):

- the component schemas of the shapes no route returns (``Problem`` and its parts) and those
  of the entry submission (``api.http.openapi.submissions``);
- per operation, its problem responses (``api.http.openapi.problems``) in place of Litestar's
  own error schema, which the service never sends;
- the request body of an operation that reads one: the struct it decodes, or what the handler
  names (``opt={"body": fn}``, returning the body and its components);
- the signed-request security scheme, on the operations that take the signed caller;
- a string schema for a text response Litestar left untyped (a stream).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Controller
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from api.http import routes, wire
from api.http.openapi import security
from api.http.openapi.problems import operation_problems, parameters, problem_responses
from api.http.openapi.refusals import Scope, source_tree
from api.http.wire import COMPONENTS
from api.http.wire.problems import Problem, Refusal, StoredSeq

Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
BODY_READERS = frozenset({"json_body", "decode_json"})  # api.http.body's, given the struct to decode
UNROUTED_SHAPES: tuple[type[msgspec.Struct], ...] = (Problem, Refusal, StoredSeq)


def route_handlers(handlers: Iterable[Any]) -> Iterator[HTTPRouteHandler]:
    """The HTTP route handlers among ``handlers`` and the controllers' handlers."""
    for item in handlers:
        if isinstance(item, HTTPRouteHandler):
            yield item
        elif isinstance(item, type) and issubclass(item, Controller):
            yield from (v for name in dir(item) if isinstance(v := getattr(item, name), HTTPRouteHandler))


def body_shape(handler: HTTPRouteHandler) -> type[msgspec.Struct] | None:
    """The struct the handler decodes its JSON body as (``json_body(request, Shape)``)."""
    tree = source_tree(handler.fn)
    if tree is None:
        return None
    scope = Scope(handler.fn, tree)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        callee = scope.resolve(call.func)
        if callee is None or callee.__name__ not in BODY_READERS or len(call.args) < 2:
            continue
        shape = scope.globals.get(call.args[1].id) if isinstance(call.args[1], ast.Name) else None
        if isinstance(shape, type) and issubclass(shape, msgspec.Struct):
            return shape
    return None


def _is_litestar_error(response: Schema) -> bool:
    """Litestar's own error schema (``status_code``, ``detail``, ``extra``)."""
    content = response.get("content") or {}
    return any("status_code" in (c.get("schema") or {}).get("properties", {}) for c in content.values())


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _typed_text(responses: Schema) -> None:
    for status, response in responses.items():
        if status.startswith("2"):
            for media_type, content in (response.get("content") or {}).items():
                if not content.get("schema") and not _is_json(media_type):
                    content["schema"] = {"type": "string", "contentMediaType": media_type}


def wire_shapes() -> Iterator[type[msgspec.Struct]]:
    """Every struct of ``api.http.wire`` and of the route modules."""
    for package in (wire, routes):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, msgspec.Struct)
                    and value.__module__ == module.__name__
                ):
                    yield value


def _described(schemas: Schema) -> None:
    """Litestar's schema of a wire shape, with the shape's docstring as its description and,
    when the shape forbids unknown fields, saying that it has exactly its fields (as msgspec's
    own schemas do), so that a union of shapes tells them apart by their fields."""
    for shape in wire_shapes():
        schema = schemas.get(shape.__name__)
        if not schema or schema.get("title") != shape.__name__ or "properties" not in schema:
            continue  # not Litestar's schema of this shape
        doc = vars(shape).get("__doc__")
        if doc and "description" not in schema:
            schema["description"] = inspect.cleandoc(doc)
        if shape.__struct_config__.forbid_unknown_fields:
            schema["additionalProperties"] = False


def finish(document: Schema, handlers: Sequence[Any]) -> Schema:
    """``document`` (Litestar's, as a dict) finished as this module says."""
    schemas: Schema = document.setdefault("components", {}).setdefault("schemas", {})
    _described(schemas)
    _, unrouted = msgspec.json.schema_components(UNROUTED_SHAPES, ref_template=COMPONENTS + "{name}")
    schemas.update(unrouted)
    by_id = {h.operation_id: h for h in route_handlers(handlers) if isinstance(h.operation_id, str)}
    signed = False
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            handler = by_id.get(operation.get("operationId")) if operation else None
            if handler is None:
                continue
            signed |= _finish_operation(operation, handler, path, schemas)
    if signed:
        document["components"].setdefault("securitySchemes", {})[security.SCHEME] = security.SIGNED_REQUEST
    return document


def _finish_operation(operation: Schema, handler: HTTPRouteHandler, path: str, schemas: Schema) -> bool:
    """Finish one operation; whether it requires a signed request."""
    responses: Schema = operation.setdefault("responses", {})
    for status in [s for s, r in responses.items() if s[0] in "45" and _is_litestar_error(r)]:
        del responses[status]
    for status, response in problem_responses(operation_problems(handler, operation, path)).items():
        responses.setdefault(status, response)
    _typed_text(responses)
    named_body: Callable[[], tuple[Schema, Schema]] | None = (handler.opt or {}).get("body")
    if named_body is not None:
        operation["requestBody"], components = named_body()
        schemas.update(components)
    elif (shape := body_shape(handler)) is not None:
        (shape_ref,), components = msgspec.json.schema_components([shape], ref_template=COMPONENTS + "{name}")
        schemas.update(components)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": shape_ref}}}
    if security.SIGNED_BY in parameters(handler.fn):
        operation["security"] = security.requirement()
        return True
    return False


class FinishedOpenAPI(OpenAPI):
    """Litestar's document object, whose dict is finished by ``finish``."""

    handlers: Sequence[Any] = ()

    def to_schema(self) -> dict[str, Any]:
        return finish(super().to_schema(), self.handlers)


@dataclass
class DocumentedOpenAPIConfig(OpenAPIConfig):
    """Litestar's OpenAPI configuration, with the route handlers whose operations ``finish``
    documents (the same handlers the app is given)."""

    route_handlers: Sequence[Any] = field(default=())

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        finished = FinishedOpenAPI(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
        finished.handlers = self.route_handlers
        return finished
