"""Which refusals an operation can answer, read from the code that answers it.

A refusal is raised where it is decided, as ``ApiProblem(Category.X, "code", detail)`` or
``Rejection("code", detail, category=Category.X)`` (``RuleViolation`` and the error tree's own
subclasses alike), so the codes an operation can return are found by reading its handler and
the functions it calls: ``refusals_of`` parses each function's source and follows the calls it
can resolve without running anything — a function or a module's function by name, a method of
``self`` or of a parameter or variable whose type the annotations give — into this project's
packages. What it cannot see (a code computed at run time, a call through a value whose type is
not annotated, the rules dispatched by kind) a handler names itself (``opt={"problems": ...}``),
and the statuses every request may meet (limits, the database, the server) are added by
``api.http.openapi.problems``.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ledger.errors import Category, ReceiptsUnavailable, Unavailable

PACKAGES = ("api.", "contracts.", "ledger.")
REJECTIONS = frozenset({"Rejection", "RuleViolation"})
RECEIPTS_UNAVAILABLE = "the entries are stored (seqs in results), but their receipts could not be read"


@dataclass(frozen=True, order=True)
class KnownProblem:
    """A refusal an operation can answer: its category, code and, as written where it is
    raised, its detail (``{name}`` where the text is computed)."""

    category: Category
    code: str
    detail: str


def refusals_of(fn: Callable[..., Any]) -> frozenset[KnownProblem]:
    """Every refusal raised by ``fn`` or by a function it calls, as far as the source tells.
    Read once per function and process: the source does not change while it runs. (Of
    functions that call each other in a cycle, the first one read has them all.)"""
    return _READER.read(fn)


def refusals_in_module(module: types.ModuleType) -> frozenset[KnownProblem]:
    """Every refusal constructed anywhere in ``module``, directly or by one of its functions
    that makes a refusal of the code it is given."""
    tree = ast.parse(inspect.getsource(module))
    found = set(_constructed_in(tree))
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        callee = _function(vars(module).get(call.func.id)) if isinstance(call.func, ast.Name) else None
        if callee is not None and (made := _made_by_factory(callee, call)) is not None:
            found.add(made)
    return frozenset(found)


class _Reader:
    def __init__(self) -> None:
        self.found: dict[Any, frozenset[KnownProblem]] = {}

    def read(self, fn: Any) -> frozenset[KnownProblem]:
        fn = inspect.unwrap(fn)
        if fn in self.found:
            return self.found[fn]
        self.found[fn] = frozenset()  # a call cycle adds nothing
        tree = source_tree(fn)
        if tree is None:
            return frozenset()
        scope = Scope(fn, tree)
        found = set(_constructed_in(tree))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            callee = scope.resolve(call.func)
            if callee is not None and (made := _made_by_factory(callee, call)) is not None:
                found.add(made)
                continue
            # A function passed to a call is called by it (``db.run_sync(fn, ...)``).
            passed = (scope.resolve(a) for a in call.args if isinstance(a, ast.Name | ast.Attribute))
            for fn_called in (callee, *passed):
                if fn_called is not None:
                    found |= self.read(fn_called)
        self.found[fn] = frozenset(found)
        return self.found[fn]


_READER = _Reader()


@cache
def source_tree(fn: Any) -> ast.AST | None:
    """The parsed source of ``fn`` (shared: never change it), None for one without source."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError):
        return None


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.startswith(PACKAGES) and not module.startswith("api.http.openapi")


def _function(obj: Any) -> Any | None:
    """``obj`` when it is a function (or method) of this project's packages."""
    obj = getattr(obj, "__func__", obj)
    return obj if inspect.isfunction(obj) and _ours(obj) else None


def _hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception:  # an annotation only a type checker can evaluate
        return {}


def _class_of(hint: Any) -> type | None:
    """The one class of this project a type hint names (``X``, ``X | None``, ``Annotated``)."""
    if isinstance(hint, type):
        return hint if _ours(hint) else None
    found = [a for a in typing.get_args(hint) if isinstance(a, type) and _ours(a)]
    return found[0] if len(found) == 1 else None


class Scope:
    """What the names in one function stand for: its module's globals, ``self``'s class, and
    the classes of its annotated parameters and of variables assigned a resolvable call."""

    def __init__(self, fn: Any, tree: ast.AST) -> None:
        self.globals: dict[str, Any] = fn.__globals__
        self.types: dict[str, type] = {}
        owner = self.globals.get(fn.__qualname__.split(".")[0]) if "." in fn.__qualname__ else None
        if isinstance(owner, type):
            self.types["self"] = owner
        for name, hint in _hints(fn).items():
            if (cls := _class_of(hint)) is not None:
                self.types[name] = cls
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            if isinstance(target, ast.Name) and (cls := self._class_of_value(node.value)) is not None:
                self.types[target.id] = cls

    def _class_of_value(self, value: ast.expr) -> type | None:
        """The class of what ``value`` evaluates to: a call's annotated return, an attribute."""
        value = value.value if isinstance(value, ast.Await) else value
        if isinstance(value, ast.Call):
            callee = self.resolve(value.func)
            return None if callee is None else _class_of(_hints(callee).get("return"))
        found = self._value(value)
        return found if isinstance(found, type) else None

    def resolve(self, expr: ast.expr) -> Any | None:
        """The function ``expr`` calls, when the source and annotations tell."""
        if isinstance(expr, ast.Name):
            return _function(self.globals.get(expr.id))
        if not isinstance(expr, ast.Attribute):
            return None
        holder = self._value(expr.value)
        return None if holder is None else _function(inspect.getattr_static(holder, expr.attr, None))

    def _value(self, expr: ast.expr) -> Any | None:
        """A module or class ``expr`` stands for."""
        if isinstance(expr, ast.Name):
            if expr.id in self.types:
                return self.types[expr.id]
            found = self.globals.get(expr.id)
            return found if isinstance(found, types.ModuleType) else None
        if isinstance(expr, ast.Attribute):  # self.appender, a module's attribute
            holder = self._value(expr.value)
            if isinstance(holder, type):
                return _class_of(_hints(holder).get(expr.attr))
            if isinstance(holder, types.ModuleType):
                found = getattr(holder, expr.attr, None)
                return found if isinstance(found, types.ModuleType) else None
        return None


def _constructed_in(tree: ast.AST) -> Iterator[KnownProblem]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (found := _constructed(node)) is not None:
            yield found


def _callee_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        if call.func.attr == "__init__" and isinstance(call.func.value, ast.Call):
            return "super().__init__"  # a subclass of Rejection names its code
        return call.func.attr
    return None


def _constructed(call: ast.Call) -> KnownProblem | None:
    """The refusal ``call`` constructs, when its code is written in it."""
    name = _callee_name(call)
    if name == "Unavailable" and call.args:
        return KnownProblem(Category.UNAVAILABLE, Unavailable.code, _template(call.args[0]))
    if name == "ReceiptsUnavailable":
        return KnownProblem(Category.UNAVAILABLE, ReceiptsUnavailable.code, RECEIPTS_UNAVAILABLE)
    found = _refusal_arguments(call)
    if found is None:
        return None
    category, code, detail = found
    if not (isinstance(code, ast.Constant) and isinstance(code.value, str) and "." in code.value):
        return None
    return KnownProblem(_category(category), code.value, _template(detail))


def _refusal_arguments(call: ast.Call) -> tuple[ast.expr | None, ast.expr, ast.expr] | None:
    """The category (None: a Rejection's default), code and detail ``call`` gives a refusal
    it constructs."""
    name = _callee_name(call)
    if name == "ApiProblem" and len(call.args) == 3:
        return call.args[0], call.args[1], call.args[2]
    if (name in REJECTIONS or name == "super().__init__") and len(call.args) == 2:
        category = next((k.value for k in call.keywords if k.arg == "category"), None)
        return category, call.args[0], call.args[1]
    return None


@cache
def _factory(fn: Any) -> tuple[int, int, Category] | None:
    """Where ``fn`` takes the code and the detail of the one refusal it makes, when it is a
    factory of refusals (``def _refuse(code, message): return Rejection(code, message, ...)``)."""
    tree = source_tree(fn)
    if tree is None:
        return None
    params = inspect.getfullargspec(fn).args
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        found = _refusal_arguments(call)
        if found is None:
            continue
        category, code, detail = found
        if (
            isinstance(code, ast.Name)
            and code.id in params
            and isinstance(detail, ast.Name)
            and detail.id in params
        ):
            return params.index(code.id), params.index(detail.id), _category(category)
    return None


def _made_by_factory(fn: Any, call: ast.Call) -> KnownProblem | None:
    """The refusal ``call`` makes through the factory ``fn``, when its code is written in it."""
    where = _factory(fn)
    if where is None or max(where[:2]) >= len(call.args):
        return None
    code, detail = call.args[where[0]], call.args[where[1]]
    if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
        return None
    return KnownProblem(where[2], code.value, _template(detail))


def _category(expr: ast.expr | None) -> Category:
    if expr is None:
        return Category.RULE_VIOLATION  # a Rejection's default
    if isinstance(expr, ast.Attribute) and expr.attr in Category.__members__:
        return Category[expr.attr]
    raise ValueError(f"a refusal's category must be written as Category.X, found {ast.unparse(expr)}")


def _template(expr: ast.expr) -> str:
    """A detail as written: its text, with ``{...}`` where it is computed."""
    if isinstance(expr, ast.Constant):
        return str(expr.value)
    if isinstance(expr, ast.JoinedStr):
        return "".join(_template(part) for part in expr.values)
    if isinstance(expr, ast.FormattedValue):
        return "{" + ast.unparse(expr.value) + "}"
    return "{" + ast.unparse(expr) + "}"


def merged(*groups: Iterable[KnownProblem]) -> frozenset[KnownProblem]:
    """The union of ``groups``, one refusal per code (the first written detail of each)."""
    by_code: dict[tuple[Category, str], KnownProblem] = {}
    for problem in sorted(p for group in groups for p in group):
        by_code.setdefault((problem.category, problem.code), problem)
    return frozenset(by_code.values())


@cache
def admission_refusals() -> frozenset[KnownProblem]:
    """What admitting an entry can refuse it for, beyond its envelope: the engine's checks of
    signer, key and payload (``contracts.engine``, ``contracts.registry``), the appender's and
    its group commit's (``ledger.appender``, ``ledger.group_commit``), and everything the
    modules of the rulebook's rules refuse (a rule is found by kind at run time, so no call
    leads to it)."""
    import contracts.engine
    import contracts.registry
    import ledger.appender
    import ledger.group_commit
    from contracts.rulebook import RULEBOOK

    rule_modules = {sys.modules[rule.apply.__module__] for rule in RULEBOOK.rules.values()}
    around = {contracts.engine, contracts.registry, ledger.appender, ledger.group_commit}
    modules = sorted(around | rule_modules, key=str)
    return merged(*(refusals_in_module(m) for m in modules))
