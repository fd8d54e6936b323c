"""`$filter` compiled to a SQLAlchemy Core condition over an entity set's table.

odata-query's lexer and parser (OData ABNF subset, SLY) read the text; the compiler here walks
its tree with our entity model: public property names → columns, literals checked against the
property's type, `contains`/`startswith`/`endswith` as case-insensitive LIKE (escaped), and
finance and operations' two dialect features — enum literals (`Microsoft.Dynamics.
DataEntities.NoYes'Yes'`) and `eq '*text*'` wildcards. Every fault is a 400 that names the
position or the property."""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from odata_query import ast
from odata_query import exceptions as oq
from odata_query.grammar import ODataLexer, ODataParser
from sqlalchemy import ColumnElement, and_, false, func, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement as Element

from dualwrite.odata.errors import ODataError, bad_request
from dualwrite.odata.model import EntitySet, Kind, Property
from dualwrite.odata.values import parse_datetime

MAX_FILTER_LENGTH = 8000

# A string literal (skipped as a whole) or a qualified enum literal: Namespace.Type'Member'.
_ENUM = re.compile(r"'(?:[^']|'')*'|((?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*)'((?:[^']|'')*)'")

_OPERATORS = {
    ast.Eq: ("Equal", operator.eq),
    ast.NotEq: ("NotEqual", operator.ne),
    ast.Lt: ("LessThan", operator.lt),
    ast.LtE: ("LessThanOrEqual", operator.le),
    ast.Gt: ("GreaterThan", operator.gt),
    ast.GtE: ("GreaterThanOrEqual", operator.ge),
}

_LITERAL_EDM = {
    ast.String: "Edm.String",
    ast.Integer: "Edm.Int32",
    ast.Float: "Edm.Decimal",
    ast.Boolean: "Edm.Boolean",
    ast.GUID: "Edm.Guid",
    ast.DateTime: "Edm.DateTimeOffset",
    ast.Date: "Edm.Date",
    ast.Time: "Edm.TimeOfDay",
    ast.Duration: "Edm.Duration",
}


@dataclass(frozen=True)
class _Prop:
    prop: Property
    expr: ColumnElement[Any]


@dataclass(frozen=True)
class _Enum:
    type_name: str
    member: str


@dataclass(frozen=True)
class Dialect:
    """What compiling needs to know of the platform and the database."""

    enum_types: dict[str, tuple[tuple[str, int], ...]]
    wildcards: bool = False  # F&O: `eq '*text*'`
    aware_datetimes: bool = True  # PostgreSQL keeps zones; SQLite and MariaDB get naive UTC


def db_moment(value: datetime, aware: bool) -> datetime:
    moment = value.astimezone(UTC)
    return moment if aware else moment.replace(tzinfo=None)


class _Compiler:
    def __init__(self, entity: EntitySet, dialect: Dialect, enums: dict[int, _Enum]) -> None:
        self.entity = entity
        self.dialect = dialect
        self.enums = enums  # String literal id → the enum literal it stood for

    # -- terms ---------------------------------------------------------------------------
    def term(self, node: Any) -> Any:
        if isinstance(node, ast.Identifier):
            if node.namespace:
                raise bad_request(
                    f"Type or namespace '{'.'.join(node.namespace)}' in '$filter' is not "
                    "supported here."
                )
            prop = self.entity.prop(node.name)
            return _Prop(prop, prop.column)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise bad_request(
                "Filtering on properties of related records (navigation paths) is not supported."
            )
        return node  # a literal, list or sub-expression: the caller decides

    def boolean(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, ast.BoolOp):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return and_(left, right) if isinstance(node.op, ast.And) else or_(left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not_(self.boolean(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Boolean):
            return true() if node.py_val else false()
        term = self.term(node)
        if isinstance(term, _Prop) and term.prop.kind in (Kind.BOOL, Kind.ENUM_NOYES):
            return term.expr == true()
        if isinstance(term, Element):
            return term
        raise bad_request("The $filter expression must evaluate to a single boolean value.")

    # -- comparisons ---------------------------------------------------------------------
    def compare(self, node: ast.Compare) -> ColumnElement[bool]:
        if isinstance(node.comparator, ast.In):
            return self.among(node)
        op_name, op = _OPERATORS[type(node.comparator)]
        left, right = self.term(node.left), self.term(node.right)
        if isinstance(right, _Prop) and not isinstance(left, _Prop):
            left, right = right, left
            op_name, op = _OPERATORS[_MIRROR[type(node.comparator)]]
        if not isinstance(left, _Prop):
            raise bad_request(
                "A comparison in $filter needs a property on one side; "
                f"found {type(node.left).__name__} and {type(node.right).__name__}."
            )
        if isinstance(right, _Prop):
            if right.prop.kind is not left.prop.kind:
                raise _incompatible(left.prop.edm, right.prop.edm, op_name)
            return cast(ColumnElement[bool], op(left.expr, right.expr))
        if isinstance(right, ast.Null):
            if op_name == "Equal":
                return left.expr.is_(None)
            if op_name == "NotEqual":
                return left.expr.is_not(None)
            raise bad_request(f"The operator '{op_name}' cannot compare with null.")
        ordered = op_name not in ("Equal", "NotEqual")
        if ordered and left.prop.kind in (Kind.BOOL, Kind.ENUM_NOYES):
            raise _incompatible(left.prop.edm, _edm_of(right, self.enums), op_name)
        if (
            self.dialect.wildcards
            and isinstance(right, ast.String)
            and "*" in right.py_val
            and left.prop.kind is Kind.STRING
            and op_name in ("Equal", "NotEqual")
        ):
            like = self.wildcard(left, right.py_val)
            return like if op_name == "Equal" else not_(like)
        value = self.literal(left.prop, right, op_name)
        return cast(ColumnElement[bool], op(left.expr, value))

    def among(self, node: ast.Compare) -> ColumnElement[bool]:
        left = self.term(node.left)
        if not isinstance(left, _Prop) or not isinstance(node.right, ast.List):
            raise bad_request("The 'in' operator needs a property and a list of values.")
        values = [self.literal(left.prop, item, "In") for item in node.right.val]
        return left.expr.in_(values)

    def wildcard(self, left: _Prop, pattern: str) -> ColumnElement[bool]:
        # "/" escapes: a backslash means something to MariaDB's string literals.
        escaped = pattern.replace("/", "//").replace("%", "/%").replace("_", "/_")
        like = escaped.replace("*", "%")
        if left.prop.upper:
            like = like.upper()
        return left.expr.ilike(like, escape="/")

    # -- literals ------------------------------------------------------------------------
    def literal(self, prop: Property, node: Any, op_name: str) -> Any:
        kind = prop.kind
        enum = self.enums.get(id(node))
        try:
            if isinstance(node, ast.Null):
                return None
            if kind is Kind.ENUM_NOYES:
                member = (
                    enum.member if enum else node.py_val if isinstance(node, ast.String) else None
                )
                if enum is not None and enum.type_name != prop.enum_type:
                    raise _incompatible(prop.edm, enum.type_name, op_name)
                if isinstance(node, ast.Boolean):
                    return bool(node.py_val)
                if member not in ("Yes", "No"):
                    raise bad_request(
                        f"The value '{member}' is not a member of the enum type '{prop.edm}'."
                    )
                return member == "Yes"
            if enum is not None:
                raise _incompatible(prop.edm, enum.type_name, op_name)
            if kind is Kind.STRING and isinstance(node, ast.String):
                return node.py_val.upper() if prop.upper else node.py_val
            if kind is Kind.GUID and isinstance(node, ast.GUID | ast.String):
                return str(uuid.UUID(node.val))
            if kind in (Kind.INT, Kind.BIGINT) and isinstance(node, ast.Integer):
                number = int(node.val)
                if not -(2**63) <= number < 2**63:
                    raise ValueError(node.val)
                return number
            if kind in (Kind.INT, Kind.BIGINT, Kind.DECIMAL) and isinstance(
                node, ast.Integer | ast.Float
            ):
                return Decimal(node.val)
            if kind is Kind.BOOL and isinstance(node, ast.Boolean):
                return node.val.lower() == "true"
            if kind is Kind.DATETIME and isinstance(node, ast.DateTime | ast.Date):
                moment = (
                    parse_datetime(node.val)
                    if isinstance(node, ast.DateTime)
                    else datetime.combine(date.fromisoformat(node.val), time(), UTC)
                )
                return db_moment(moment, self.dialect.aware_datetimes)
            if kind is Kind.DATE and isinstance(node, ast.Date):
                return date.fromisoformat(node.val)
        except (ValueError, InvalidOperation):
            raise bad_request(
                f"The literal '{getattr(node, 'val', node)}' is not a valid {prop.edm} value "
                f"for the property '{prop.name}'."
            ) from None
        raise _incompatible(prop.edm, _edm_of(node, self.enums), op_name)

    # -- functions -----------------------------------------------------------------------
    def call(self, node: ast.Call) -> Any:
        name = node.func.name.lower()
        if name in ("contains", "startswith", "endswith"):
            if len(node.args) != 2:
                raise bad_request(f"The function '{name}' takes 2 arguments.")
            field, text = self.term(node.args[0]), node.args[1]
            if not isinstance(field, _Prop) or field.prop.kind is not Kind.STRING:
                raise bad_request(f"The first argument of '{name}' must be a string property.")
            if not isinstance(text, ast.String):
                raise bad_request(f"The second argument of '{name}' must be a string literal.")
            value = text.py_val.upper() if field.prop.upper else text.py_val
            method = {"contains": "icontains", "startswith": "istartswith"}.get(name, "iendswith")
            clause: ColumnElement[bool] = getattr(field.expr, method)(value, autoescape=True)
            return clause
        if name in ("tolower", "toupper"):
            field = self.term(node.args[0]) if len(node.args) == 1 else None
            if not isinstance(field, _Prop) or field.prop.kind is not Kind.STRING:
                raise bad_request(f"The argument of '{name}' must be a string property.")
            fn: Callable[..., Any] = func.lower if name == "tolower" else func.upper
            return _Prop(field.prop, fn(field.expr))
        raise bad_request(f"The function '{node.func.name}' is not supported in $filter.")


_MIRROR = {
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
    ast.Lt: ast.Gt,
    ast.LtE: ast.GtE,
    ast.Gt: ast.Lt,
    ast.GtE: ast.LtE,
}


def _edm_of(node: Any, enums: dict[int, _Enum]) -> str:
    if id(node) in enums:
        return enums[id(node)].type_name
    return _LITERAL_EDM.get(type(node), type(node).__name__)


def _incompatible(left: str, right: str, op_name: str) -> ODataError:
    return bad_request(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{left}' and '{right}' for operator kind '{op_name}'."
    )


def _rewrite_enums(text: str, dialect: Dialect) -> tuple[str, list[tuple[int, str, str]]]:
    """Replace enum literals by plain string literals the parser reads; remember where."""
    out, found, last = [], [], 0
    for match in _ENUM.finditer(text):
        if match.group(1) is None:
            continue
        type_name, member = match.group(1), match.group(2)
        if type_name not in dialect.enum_types:
            raise bad_request(
                f"The enum type '{type_name}' at position {match.start()} is unknown."
            )
        out.append(text[last : match.start()])
        position = sum(len(p) for p in out)
        out.append(f"'{member}'")
        found.append((position, type_name, member.replace("''", "'")))
        last = match.end()
    out.append(text[last:])
    return "".join(out), found


def parse_filter(text: str) -> Any:
    """The syntax tree of a $filter (odata-query's AST), or a 400 naming the position."""
    try:
        return ODataParser().parse(ODataLexer().tokenize(text))
    except oq.TokenizingException as exc:
        raise _syntax(text, exc.token.index) from None
    except oq.ParsingException as exc:
        raise _syntax(
            text, len(text) if exc.eof or exc.token is None else exc.token.index
        ) from None
    except oq.ODataException as exc:
        raise bad_request(f"Invalid $filter '{text}': {exc}") from None


def _syntax(text: str, position: int) -> ODataError:
    return bad_request(f"Syntax error at position {position} in '{text}'.")


def _mark_enums(tree: Any, found: list[tuple[int, str, str]], text: str) -> dict[int, _Enum]:
    """Find the String nodes that came from enum literals (by value and order of appearance)."""
    if not found:
        return {}
    strings: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.String):
            strings.append(node)
        for value in vars(node).values() if hasattr(node, "__dict__") else ():
            if isinstance(value, list):
                for item in value:
                    walk(item)
            elif isinstance(value, ast._Node):
                walk(value)

    walk(tree)
    # String literals in text order: those at the rewritten positions are enum literals.
    positions = [m.start() for m in re.finditer(r"'(?:[^']|'')*'", text)]
    enum_at = {pos: _Enum(t, m) for pos, t, m in found}
    # walk() visits in source order (left before right), like the literals in the text.
    return {
        id(node): enum_at[pos]
        for node, pos in zip(strings, positions, strict=False)
        if pos in enum_at
    }


def compile_filter(text: str, entity: EntitySet, dialect: Dialect) -> ColumnElement[bool]:
    """The condition `text` describes over `entity`'s table."""
    if len(text) > MAX_FILTER_LENGTH:
        raise bad_request(f"The $filter is longer than {MAX_FILTER_LENGTH} characters.")
    rewritten, found = _rewrite_enums(text, dialect)
    tree = parse_filter(rewritten)
    enums = _mark_enums(tree, found, rewritten)
    return _Compiler(entity, dialect, enums).boolean(tree)
