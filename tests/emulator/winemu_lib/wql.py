"""WQL, the subset WMI clients send over WS-Enumeration.

``SELECT <* | prop, ...> FROM <Class> [WHERE <condition>]`` with ``=``, ``<>``, ``!=``, ``<``, ``>``,
``<=``, ``>=``, ``LIKE``, ``IS [NOT] NULL``, ``AND``, ``OR``, ``NOT`` and parentheses. Literals are
strings in single or double quotes (backslash escapes the next character, as in WQL), integers,
``TRUE``/``FALSE`` and ``NULL``. Keywords, class and property names are case-insensitive, and so are
string comparisons, as in WMI. A NULL property makes every comparison except ``IS [NOT] NULL`` false
(``= NULL`` and ``<> NULL`` are the same as ``IS NULL`` and ``IS NOT NULL``; slmgr.vbs writes
``PartialProductKey <> null``).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import typing as t

from . import cim

# Assumption: NULL handling follows SQL's three-valued logic (a comparison with a NULL property is unknown, so
# neither it nor its NOT matches); the WMI documentation only says to test NULL with IS [NOT] NULL.


class WqlError(ValueError):
    """The query is not valid WQL, or names a property the class does not have."""


Literal = str | int | float | bool | None

_OPERATORS = ("<>", "!=", "<=", ">=", "=", "<", ">")
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "LIKE"}


@dataclasses.dataclass(frozen=True)
class Comparison:
    prop: str
    op: str  # one of =, <>, <, >, <=, >= (!= is normalised to <>)
    value: Literal


@dataclasses.dataclass(frozen=True)
class IsNull:
    prop: str
    negated: bool


@dataclasses.dataclass(frozen=True)
class Like:
    prop: str
    pattern: str
    negated: bool


@dataclasses.dataclass(frozen=True)
class Not:
    operand: Expr


@dataclasses.dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR
    operands: tuple[Expr, ...]


Expr = Comparison | IsNull | Like | Not | BoolOp


@dataclasses.dataclass(frozen=True)
class Query:
    text: str
    properties: tuple[str, ...] | None  # None for SELECT *
    class_name: str
    where: Expr | None


# --------------------------------------------------------------------------- tokenizer


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # ident | keyword | string | number | op | punct | end
    value: t.Any
    pos: int


_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in "'\"":
            value, pos = _read_string(text, pos)
            tokens.append(_Token("string", value, pos))
            continue
        number = _NUMBER.match(text, pos)
        if number and (char != "-" or not tokens or tokens[-1].kind in ("op", "keyword", "punct")):
            literal = number.group(0)
            tokens.append(_Token("number", float(literal) if "." in literal else int(literal), pos))
            pos = number.end()
            continue
        ident = _IDENT.match(text, pos)
        if ident:
            word = ident.group(0)
            if word.upper() in _KEYWORDS:
                tokens.append(_Token("keyword", word.upper(), pos))
            else:
                tokens.append(_Token("ident", word, pos))
            pos = ident.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, pos):
                tokens.append(_Token("op", "<>" if op == "!=" else op, pos))
                pos += len(op)
                break
        else:
            if char in "(),*":
                tokens.append(_Token("punct", char, pos))
                pos += 1
            else:
                raise WqlError(f"unexpected character {char!r} at position {pos}")
    tokens.append(_Token("end", None, len(text)))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if char == quote:
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    raise WqlError(f"unterminated string starting at position {start}")


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def accept(self, kind: str, value: t.Any = None) -> _Token | None:
        token = self.current
        if token.kind == kind and (value is None or token.value == value):
            return self.advance()
        return None

    def expect(self, kind: str, value: t.Any = None, what: str = "") -> _Token:
        token = self.accept(kind, value)
        if token is None:
            found = self.current.value if self.current.kind != "end" else "end of query"
            raise WqlError(f"expected {what or value or kind} at position {self.current.pos}, found {found!r}")
        return token

    def query(self) -> Query:
        self.expect("keyword", "SELECT")
        properties: tuple[str, ...] | None
        if self.accept("punct", "*"):
            properties = None
        else:
            names = [self.expect("ident", what="a property name").value]
            while self.accept("punct", ","):
                names.append(self.expect("ident", what="a property name").value)
            properties = tuple(names)
        self.expect("keyword", "FROM")
        class_name = self.expect("ident", what="a class name").value
        where = None
        if self.accept("keyword", "WHERE"):
            where = self.or_expr()
        if self.current.kind != "end":
            raise WqlError(f"unexpected {self.current.value!r} at position {self.current.pos}")
        return Query(text=self.text, properties=properties, class_name=class_name, where=where)

    def or_expr(self) -> Expr:
        operands = [self.and_expr()]
        while self.accept("keyword", "OR"):
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def and_expr(self) -> Expr:
        operands = [self.not_expr()]
        while self.accept("keyword", "AND"):
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def not_expr(self) -> Expr:
        if self.accept("keyword", "NOT"):
            return Not(self.not_expr())
        if self.accept("punct", "("):
            inner = self.or_expr()
            self.expect("punct", ")")
            return inner
        return self.condition()

    def operand(self) -> tuple[str, t.Any]:
        token = self.current
        if token.kind == "ident":
            self.advance()
            return "prop", token.value
        if token.kind in ("string", "number"):
            self.advance()
            return "literal", token.value
        if token.kind == "keyword" and token.value in ("TRUE", "FALSE", "NULL"):
            self.advance()
            return "literal", {"TRUE": True, "FALSE": False, "NULL": None}[token.value]
        raise WqlError(f"expected a property or a literal at position {token.pos}")

    def condition(self) -> Expr:
        left_kind, left = self.operand()
        if self.accept("keyword", "IS"):
            negated = self.accept("keyword", "NOT") is not None
            self.expect("keyword", "NULL")
            return IsNull(self._prop(left_kind, left), negated)
        negated_like = False
        if self.accept("keyword", "NOT"):
            negated_like = True
            self.expect("keyword", "LIKE")
            return self._like(left_kind, left, negated_like)
        if self.accept("keyword", "LIKE"):
            return self._like(left_kind, left, False)
        op = self.expect("op", what="a comparison operator").value
        right_kind, right = self.operand()
        if left_kind == "prop" and right_kind == "literal":
            prop, value = left, right
        elif left_kind == "literal" and right_kind == "prop":
            prop, value = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        else:
            raise WqlError("a comparison needs one property and one literal")
        if value is None:
            if op not in ("=", "<>"):
                raise WqlError(f"NULL cannot be compared with {op}")
            return IsNull(prop, negated=op == "<>")
        return Comparison(prop, op, value)

    def _prop(self, kind: str, value: t.Any) -> str:
        if kind != "prop":
            raise WqlError("IS NULL needs a property on its left")
        return t.cast(str, value)

    def _like(self, kind: str, value: t.Any, negated: bool) -> Like:
        prop = self._prop(kind, value)
        pattern = self.expect("string", what="a LIKE pattern").value
        return Like(prop, pattern, negated)


def parse(text: str) -> Query:
    """Parse a WQL ``SELECT``; raise :class:`WqlError` when it is not one."""
    if not text or not text.strip():
        raise WqlError("the query is empty")
    return _Parser(text).query()


# --------------------------------------------------------------------------- binding to a class


@dataclasses.dataclass(frozen=True)
class BoundQuery:
    """A query checked against its class: canonical property names, literals typed like the properties."""

    query: Query
    class_def: cim.ClassDef
    selected: tuple[tuple[str, str], ...] | None  # (name, CIM type) for SELECT a, b; None for SELECT *
    where: Expr | None

    def matches(self, instance: t.Mapping[str, cim.CimValue]) -> bool:
        return self.where is None or _evaluate(self.where, instance, self.class_def.properties) is True


def bind(query: Query, class_def: cim.ClassDef) -> BoundQuery:
    """Check property names and literal types against ``class_def`` (WMI answers WBEM_E_INVALID_QUERY)."""
    names = {name.lower(): name for name in class_def.properties}

    def canonical(prop: str) -> str:
        try:
            return names[prop.lower()]
        except KeyError:
            raise WqlError(f"class {class_def.name} has no property {prop!r}") from None

    selected = None
    if query.properties is not None:
        seen: dict[str, str] = {}
        for prop in query.properties:
            name = canonical(prop)
            seen.setdefault(name, class_def.properties[name])
        selected = tuple(seen.items())

    def rebind(expr: Expr) -> Expr:
        if isinstance(expr, BoolOp):
            return BoolOp(expr.op, tuple(rebind(operand) for operand in expr.operands))
        if isinstance(expr, Not):
            return Not(rebind(expr.operand))
        if isinstance(expr, IsNull):
            return IsNull(canonical(expr.prop), expr.negated)
        prop = canonical(expr.prop)
        cim_type = class_def.properties[prop]
        if cim.is_array(cim_type):
            raise WqlError(f"array property {prop} cannot be used in a WHERE clause")
        if isinstance(expr, Like):
            if cim_type != "string":
                raise WqlError(f"LIKE needs a string property; {prop} is {cim_type}")
            return Like(prop, expr.pattern, expr.negated)
        return Comparison(prop, expr.op, _coerce(prop, cim_type, expr.value))

    where = rebind(query.where) if query.where is not None else None
    return BoundQuery(query=query, class_def=class_def, selected=selected, where=where)


def _coerce(prop: str, cim_type: str, value: Literal) -> t.Any:
    try:
        if cim_type == "string":
            if isinstance(value, str):
                return value
            raise WqlError(f"{prop} is a string; compare it with a quoted literal")
        if cim_type == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, str)):
                return cim.text_to_cim("boolean", str(value))
        if cim_type == "datetime":
            if isinstance(value, str):
                return cim.parse_datetime(value)
            raise WqlError(f"{prop} is a datetime; compare it with a quoted datetime literal")
        if cim_type.startswith(("uint", "sint")):
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, (int, float)):
                return value
            if isinstance(value, str):
                return int(value.strip())
    except ValueError as exc:
        raise WqlError(f"{value!r} is not a valid {cim_type} for {prop}: {exc}") from None
    raise WqlError(f"{value!r} cannot be compared with {prop} ({cim_type})")


# --------------------------------------------------------------------------- evaluation (three-valued)


def _evaluate(expr: Expr, instance: t.Mapping[str, cim.CimValue], types: t.Mapping[str, str]) -> bool | None:
    if isinstance(expr, BoolOp):
        results = [_evaluate(operand, instance, types) for operand in expr.operands]
        if expr.op == "AND":
            if any(result is False for result in results):
                return False
            return None if any(result is None for result in results) else True
        if any(result is True for result in results):
            return True
        return None if any(result is None for result in results) else False
    if isinstance(expr, Not):
        result = _evaluate(expr.operand, instance, types)
        return None if result is None else not result
    if isinstance(expr, IsNull):
        is_null = instance.get(expr.prop) is None
        return not is_null if expr.negated else is_null
    value = instance.get(expr.prop)
    if value is None:
        return None
    if isinstance(expr, Like):
        matched = _like_regex(expr.pattern).fullmatch(str(value)) is not None
        return not matched if expr.negated else matched
    return _compare(expr.op, value, expr.value)


def _compare(op: str, left: t.Any, right: t.Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.casefold(), right.casefold()
    elif isinstance(left, datetime.datetime) and isinstance(right, datetime.datetime):
        pass
    elif isinstance(left, bool) or isinstance(right, bool):
        left, right = bool(left), bool(right)
    try:
        if op == "=":
            return bool(left == right)
        if op == "<>":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == ">":
            return bool(left > right)
        if op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    except TypeError:
        return False


def _like_regex(pattern: str) -> re.Pattern[str]:
    """WQL LIKE: ``%`` any run, ``_`` one character, ``[abc]``/``[a-z]``/``[^abc]`` one of a set."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                negate = body.startswith("^")
                body = body[1:] if negate else body
                escaped = "".join("\\" + c if c in "\\]^[" else c for c in body)
                out.append(f"[{'^' if negate else ''}{escaped}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
