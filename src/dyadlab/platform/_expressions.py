"""A small, safe evaluator for the XLSForm expression subset used in protocols.

Protocols use expressions for skip logic (``relevant``) and answer checks
(``constraint``). They are parsed into a tree of small immutable nodes and evaluated by
walking that tree; nothing is ever passed to Python's ``eval``.

The grammar (lowest precedence first)::

    expr     := or
    or       := and ("or" and)*
    and      := equality ("and" equality)*
    equality := relation (("=" | "!=") relation)*
    relation := additive (("<" | "<=" | ">" | ">=") additive)*
    additive := multiply (("+" | "-") multiply)*
    multiply := unary (("*" | "div" | "mod") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | STRING | "${" NAME "}" | "." | NAME "(" [expr ("," expr)*] ")"
              | "(" expr ")"

Functions: ``not(x)``, ``selected(${item}, 'value')``, ``count-selected(${item})``,
``selected-at(${item}, n)``, ``string-length(x)``, ``true()``, ``false()``,
``if(c, a, b)``, ``concat(a, …)``, ``coalesce(a, b)``, ``round(x[, digits])`` (half
up), ``int(x)`` (towards zero), ``number(x)``, ``string(x)``, ``boolean(x)``,
``floor(x)``, ``ceiling(x)``, ``abs(x)``, ``pow(x, y)``, ``min(…)``, ``max(…)``,
``contains(a, b)``, ``starts-with(a, b)``, ``ends-with(a, b)``, ``substr(s, start[,
end])`` (0-based, end excluded), ``regex(s, pattern)``, ``today()`` (``YYYY-MM-DD``),
``now()`` (``YYYY-MM-DDTHH:MM``) and ``once(x)`` (``x``). The participant pages'
script evaluates the same functions the same way.

Semantics follow ODK/XLSForm where it matters for skip logic:

- an unanswered item is the empty string;
- ``=`` and ``!=`` compare numerically when both sides look like numbers and as text
  otherwise (so ``${likert} = 3`` and ``${likert} = '3'`` agree);
- ``<``, ``<=``, ``>``, ``>=`` compare numbers (text if both sides are non-numeric
  text, which orders ISO dates and times correctly); with an empty side they are false;
- arithmetic with an empty or non-numeric side, and division by zero, give "no value"
  (NaN in ODK), which is false in a condition and makes every comparison false;
- a condition is true when its value is true, a non-zero number, a non-empty text or a
  non-empty selection.

Examples
--------
>>> expr = parse_expression("${conflict} = 'yes' and ${intensity} >= 3")
>>> sorted(expr.references)
['conflict', 'intensity']
>>> expr.evaluate({"conflict": "yes", "intensity": 4})
True
>>> parse_expression(". <= 10 div 2").evaluate({}, current=6)
False
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dyadlab._validation import closest
from dyadlab.exceptions import ProtocolError

__all__ = [
    "CHOICE_PREFIX",
    "Expression",
    "ExpressionError",
    "fill_references",
    "is_true",
    "parse_choice_filter",
    "parse_expression",
    "unparse",
]

#: function name -> (minimum, maximum) number of arguments
_FUNCTIONS: dict[str, tuple[int, int]] = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "string-length": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "if": (3, 3),
    "concat": (1, 20),
    "coalesce": (2, 2),
    "round": (1, 2),
    "int": (1, 1),
    "number": (1, 1),
    "string": (1, 1),
    "boolean": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "abs": (1, 1),
    "pow": (2, 2),
    "min": (1, 20),
    "max": (1, 20),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "regex": (2, 2),
    "selected-at": (2, 2),
    "today": (0, 0),
    "now": (0, 0),
    "once": (1, 1),
}
#: A regex with a quantified group that itself repeats (``(a+)+``) can take exponential
#: time on a long answer; such patterns are refused.
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[*+}][^()]*\)\s*[*+{]")
_KEYWORDS = ("and", "or", "div", "mod")
_MAX_LENGTH = 2000  # characters of one expression
_MAX_DEPTH = 40  # nested parentheses, calls and unary minus
_MAX_OPERATORS = 200  # binary operators (evaluation recurses through them)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.-]*)\s*\})
    |(?P<number>\d+\.\d*|\.\d+|\d+)
    |(?P<string>'[^']*'|"[^"]*")
    |(?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<dot>\.)
    """,
    re.VERBOSE,
)


class ExpressionError(ProtocolError):
    """An expression cannot be parsed or uses something that is not supported."""


# --------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class _Literal:
    value: str | float | int


@dataclass(frozen=True)
class _Ref:
    name: str


@dataclass(frozen=True)
class _Current:
    pass


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


_Node = _Literal | _Ref | _Current | _Unary | _Binary | _Call


# --------------------------------------------------------------------------- parser
@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(
                f"expression {text!r} at position {pos + 1}: unexpected character {text[pos]!r}"
            )
        kind = match.lastgroup or ""
        if match.group("ref") is not None:
            tokens.append(_Token("ref", match.group("refname"), pos))
        elif kind != "space":
            tokens.append(_Token(kind, match.group(kind), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, *, choice_columns: bool = False) -> None:
        self.choice_columns = choice_columns
        if len(text) > _MAX_LENGTH:
            raise ExpressionError(
                f"expression of {len(text)} characters is too long (at most {_MAX_LENGTH})"
            )
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.operators = 0

    def _deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self._fail(token, f"nested more than {_MAX_DEPTH} levels deep")

    def _peek(self) -> _Token:
        return self.tokens[self.i]

    def _next(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def _fail(self, token: _Token, problem: str) -> ExpressionError:
        where = "at the end" if token.kind == "end" else f"at position {token.pos + 1}"
        return ExpressionError(f"expression {self.text!r} {where}: {problem}")

    def _is(self, *texts: str) -> bool:
        token = self._peek()
        return token.kind in ("op", "name") and token.text in texts

    def parse(self) -> _Node:
        if self._peek().kind == "end":
            raise ExpressionError("expression is empty; write a condition such as ${item} = 'yes'")
        node = self._binary(0)
        token = self._peek()
        if token.kind != "end":
            raise self._fail(token, f"unexpected {token.text!r}")
        return node

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("or",),
        ("and",),
        ("=", "!="),
        ("<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "div", "mod"),
    )

    def _binary(self, level: int) -> _Node:
        if level == len(self._LEVELS):
            return self._unary()
        node = self._binary(level + 1)
        while self._is(*self._LEVELS[level]):
            token = self._next()
            self.operators += 1
            if self.operators > _MAX_OPERATORS:
                raise self._fail(token, f"more than {_MAX_OPERATORS} operators; simplify it")
            node = _Binary(token.text, node, self._binary(level + 1))
        return node

    def _unary(self) -> _Node:
        if self._is("-"):
            self._deeper(self._next())
            node = _Unary("-", self._unary())
            self.depth -= 1
            return node
        return self._primary()

    def _primary(self) -> _Node:
        token = self._next()
        if token.kind == "number":
            number = float(token.text)
            return _Literal(int(number) if "." not in token.text else number)
        if token.kind == "string":
            return _Literal(token.text[1:-1])
        if token.kind == "ref":
            return _Ref(token.text)
        if token.kind == "dot":
            return _Current()
        if token.kind == "op" and token.text == "(":
            self._deeper(token)
            node = self._binary(0)
            self._expect(")")
            self.depth -= 1
            return node
        if token.kind == "name":
            return self._call(token)
        if token.kind == "end":
            raise self._fail(token, "the expression stops too early")
        raise self._fail(token, f"unexpected {token.text!r}")

    def _expect(self, text: str) -> None:
        token = self._next()
        if not (token.kind == "op" and token.text == text):
            raise self._fail(token, f"expected {text!r} but found {token.text or 'nothing'!r}")

    def _call(self, token: _Token) -> _Node:
        name = token.text
        if not self._is("(") and self.choice_columns and name not in _KEYWORDS:
            return _Ref(CHOICE_PREFIX + name)  # a column of the choice (choice_filter)
        if not self._is("("):
            if name in _KEYWORDS:
                raise self._fail(token, f"{name!r} needs a value on both sides")
            raise self._fail(
                token, f"unknown name {name!r}; refer to an item as ${{{name}}}, text as '{name}'"
            )
        if name not in _FUNCTIONS:
            hint = closest(name, _FUNCTIONS)
            did_you_mean = f" (did you mean {hint}()?)" if hint else ""
            raise self._fail(
                token,
                f"unknown function {name}(){did_you_mean}; supported: "
                + ", ".join(f"{f}()" for f in _FUNCTIONS),
            )
        self._deeper(self._next())
        args: list[_Node] = []
        if not self._is(")"):
            args.append(self._binary(0))
            while self._is(","):
                self._next()
                args.append(self._binary(0))
        self._expect(")")
        self.depth -= 1
        low, high = _FUNCTIONS[name]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self._fail(token, f"{name}() takes {wanted} argument(s), got {len(args)}")
        return _Call(name, tuple(args))


# --------------------------------------------------------------------------- evaluation
def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list) and not value)


def is_true(value: Any) -> bool:
    """Return the truth of an expression value (XPath ``boolean()``).

    Examples
    --------
    >>> is_true(""), is_true("no"), is_true(0.0), is_true(["a"])
    (False, True, False, True)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    return not _is_empty(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return None if math.isnan(number) or math.isinf(number) else number
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def _selection(value: Any) -> list[str]:
    if _is_empty(value):
        return []
    if isinstance(value, list):
        return [_text(v) for v in value]
    return _text(value).split()


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            same = is_true(left) == is_true(right)
        else:
            a, b = _number(left), _number(right)
            same = a == b if a is not None and b is not None else _text(left) == _text(right)
        return same if op == "=" else not same
    if _is_empty(left) or _is_empty(right):
        return False
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if isinstance(left, str) and isinstance(right, str):
            a_text, b_text = left, right
            return {
                "<": a_text < b_text,
                "<=": a_text <= b_text,
                ">": a_text > b_text,
                ">=": a_text >= b_text,
            }[op]
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arithmetic(op: str, left: Any, right: Any) -> float:
    a, b = _number(left), _number(right)
    if a is None or b is None:
        return math.nan
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return math.nan
    if op == "div":
        return a / b
    return math.fmod(a, b)


def _evaluate(node: _Node, values: dict[str, Any], current: Any) -> Any:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Ref):
        return values.get(node.name)
    if isinstance(node, _Current):
        return current
    if isinstance(node, _Unary):
        number = _number(_evaluate(node.operand, values, current))
        return math.nan if number is None else -number
    if isinstance(node, _Binary):
        if node.op == "and":
            return is_true(_evaluate(node.left, values, current)) and is_true(
                _evaluate(node.right, values, current)
            )
        if node.op == "or":
            return is_true(_evaluate(node.left, values, current)) or is_true(
                _evaluate(node.right, values, current)
            )
        left = _evaluate(node.left, values, current)
        right = _evaluate(node.right, values, current)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(node.op, left, right)
        return _arithmetic(node.op, left, right)
    if node.name == "if":  # only the branch taken is evaluated
        branch = node.args[1] if is_true(_evaluate(node.args[0], values, current)) else node.args[2]
        return _evaluate(branch, values, current)
    args = [_evaluate(arg, values, current) for arg in node.args]
    if node.name in _MORE:
        return _MORE[node.name](args)
    if node.name == "not":
        return not is_true(args[0])
    if node.name == "selected":
        return _text(args[1]) in _selection(args[0])
    if node.name == "count-selected":
        return len(_selection(args[0]))
    if node.name == "string-length":
        return len(_text(args[0]))
    return node.name == "true"


def _numbers(args: list[Any]) -> list[float]:
    out = [_number(a) for a in args]
    return [math.nan if n is None else n for n in out]


def _round(args: list[Any]) -> float:
    x = _numbers(args[:1])[0]
    digits = int(_numbers(args[1:2])[0]) if len(args) > 1 else 0
    factor = 10.0**digits
    return math.floor(x * factor + 0.5) / factor if not math.isnan(x) else math.nan


def _min_max(args: list[Any], pick: Any) -> float:
    numbers = _numbers(args)
    return math.nan if any(math.isnan(n) for n in numbers) else float(pick(numbers))


def _substr(args: list[Any]) -> str:
    text = _text(args[0])
    start = _numbers(args[1:2])[0]
    end = _numbers(args[2:3])[0] if len(args) > 2 else float(len(text))
    if math.isnan(start) or math.isnan(end):
        return ""
    return text[max(int(start), 0) : max(int(end), 0)]


def _regex(args: list[Any]) -> bool:
    pattern = _text(args[1])
    if _NESTED_QUANTIFIER.search(pattern):
        return False
    try:
        return re.search(pattern, _text(args[0])) is not None
    except re.error:
        return False


def _selected_at(args: list[Any]) -> str:
    chosen = _selection(args[0])
    n = _numbers(args[1:2])[0]
    return chosen[int(n)] if not math.isnan(n) and 0 <= int(n) < len(chosen) else ""


def _one_number(function: Any) -> Any:
    def apply(args: list[Any]) -> float:
        x = _numbers(args)[0]
        return math.nan if math.isnan(x) else float(function(x))

    return apply


def _today(args: list[Any]) -> str:
    return _dt.date.today().isoformat()


def _now(args: list[Any]) -> str:
    return _dt.datetime.now().strftime("%Y-%m-%dT%H:%M")


_MORE: dict[str, Any] = {
    "concat": lambda a: "".join(_text(v) for v in a),
    "coalesce": lambda a: a[1] if _is_empty(a[0]) else a[0],
    "round": _round,
    "int": _one_number(math.trunc),
    "number": lambda a: _numbers(a)[0],
    "string": lambda a: _text(a[0]),
    "boolean": lambda a: is_true(a[0]),
    "floor": _one_number(math.floor),
    "ceiling": _one_number(math.ceil),
    "abs": _one_number(abs),
    "pow": lambda a: _pow(*_numbers(a)),
    "min": lambda a: _min_max(a, min),
    "max": lambda a: _min_max(a, max),
    "contains": lambda a: _text(a[1]) in _text(a[0]),
    "starts-with": lambda a: _text(a[0]).startswith(_text(a[1])),
    "ends-with": lambda a: _text(a[0]).endswith(_text(a[1])),
    "substr": _substr,
    "regex": _regex,
    "selected-at": _selected_at,
    "today": _today,
    "now": _now,
    "once": lambda a: a[0],
}


def _pow(x: float, y: float) -> float:
    try:
        result = math.pow(x, y)
    except (ValueError, OverflowError):
        return math.nan
    return result if math.isfinite(result) else math.nan


def _collect_refs(node: _Node, into: set[str]) -> bool:
    """Add the item names ``node`` refers to; return whether it uses ``.``."""
    if isinstance(node, _Ref):
        into.add(node.name)
        return False
    if isinstance(node, _Current):
        return True
    if isinstance(node, _Unary):
        return _collect_refs(node.operand, into)
    if isinstance(node, _Binary):
        left = _collect_refs(node.left, into)
        return _collect_refs(node.right, into) or left
    if isinstance(node, _Call):
        uses = False
        for arg in node.args:
            uses = _collect_refs(arg, into) or uses
        return uses
    return False


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source text, the items it refers to, and ``evaluate``.

    Attributes
    ----------
    text : str
        The expression as written.
    references : frozenset of str
        The item names referred to as ``${name}``.
    uses_current : bool
        Whether the expression uses ``.`` (the item's own answer).

    Examples
    --------
    >>> parse_expression("count-selected(${reasons}) <= 2").evaluate({"reasons": ["a", "b"]})
    True
    """

    text: str
    root: _Node = field(repr=False)
    references: frozenset[str]
    uses_current: bool

    def evaluate(self, values: dict[str, Any], *, current: Any = None) -> Any:
        """Return the value of the expression given the item ``values``.

        Parameters
        ----------
        values : dict
            Item name -> answer (None or missing means unanswered; a multiple-choice
            answer is a list).
        current : object, optional
            The value of ``.`` (the item's own answer, for constraints).
        """
        return _evaluate(self.root, values, current)

    def is_true(self, values: dict[str, Any], *, current: Any = None) -> bool:
        """Return the expression's value as a condition (see :func:`is_true`)."""
        return is_true(self.evaluate(values, current=current))


#: How a choice_filter's bare names (the choices sheet's columns) are passed as values.
CHOICE_PREFIX = "@"


@lru_cache(maxsize=1024)
def parse_choice_filter(text: str) -> Expression:
    """Parse an XLSForm ``choice_filter``: bare names are the choice's columns.

    ``name`` is the choice's value, ``label`` its label and any other name one of its
    ``properties``; they are evaluated as ``values["@name"]`` (see
    :data:`CHOICE_PREFIX`). ``label::English`` is read as ``label``.

    Examples
    --------
    >>> expr = parse_choice_filter("cf = ${state}")
    >>> expr.evaluate({"state": "texas", "@cf": "texas"})
    True
    >>> sorted(expr.references)
    ['@cf', 'state']
    """
    # a column in one language (label::English) is read as the column (label)
    root = _Parser(re.sub(r"\b([A-Za-z_]\w*)::\w+", r"\1", text), choice_columns=True).parse()
    refs: set[str] = set()
    uses_current = _collect_refs(root, refs)
    return Expression(text=text, root=root, references=frozenset(refs), uses_current=uses_current)


@lru_cache(maxsize=1024)
def parse_expression(text: str) -> Expression:
    """Parse an XLSForm expression; raise :class:`ExpressionError` if it is not valid.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"${conflict} = 'yes'"``.

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        Naming the position and the problem, e.g. an unknown function with the closest
        supported one.

    Examples
    --------
    >>> parse_expression("selected(${mood}, 'calm')").references
    frozenset({'mood'})
    """
    root = _Parser(text).parse()
    refs: set[str] = set()
    uses_current = _collect_refs(root, refs)
    return Expression(text=text, root=root, references=frozenset(refs), uses_current=uses_current)


_REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")


def fill_references(text: str, values: dict[str, Any]) -> str:
    """A label or hint with each ``${name}`` replaced by the current answer of ``name``.

    XLSForm semantics: an item without an answer gives the empty text; a multiple choice
    gives its values separated by spaces. The result is plain text (the page escapes it).
    The participant page script does the same as answers change.

    Examples
    --------
    >>> fill_references("How old is ${child}? (${ages})", {"child": "Ann", "ages": [3, 5]})
    'How old is Ann? (3 5)'
    >>> fill_references("Hello ${nobody}!", {})
    'Hello !'
    """
    return _REFERENCE.sub(lambda m: _text(values.get(m.group(1))), text)


def unparse(expression: Expression, *, ref: str = "${{{name}}}") -> str:
    """Write a parsed expression back as text, with item references formatted by ``ref``.

    Used to translate XLSForm expressions to REDCap branching logic (``ref="[{name}]"``).

    Examples
    --------
    >>> unparse(parse_expression("${a}=1 and not(${b} >2)"))
    '${a} = 1 and not(${b} > 2)'
    >>> unparse(parse_expression("${a} = 'x'"), ref="[{name}]")
    "[a] = 'x'"
    """
    return _unparse(expression.root, ref, 0)


_PRECEDENCE = {
    op: level for level, ops in enumerate(_Parser._LEVELS) for op in ops
}  # higher binds tighter


def _unparse(node: _Node, ref: str, parent: int) -> str:
    if isinstance(node, _Literal):
        if isinstance(node.value, str):
            quote = "'" if "'" not in node.value else '"'
            return f"{quote}{node.value}{quote}"
        return repr(node.value)
    if isinstance(node, _Ref):
        return ref.format(name=node.name)
    if isinstance(node, _Current):
        return "."
    if isinstance(node, _Unary):
        return "-" + _unparse(node.operand, ref, len(_Parser._LEVELS))
    if isinstance(node, _Binary):
        level = _PRECEDENCE[node.op]
        text = f"{_unparse(node.left, ref, level)} {node.op} {_unparse(node.right, ref, level + 1)}"
        return f"({text})" if level < parent else text
    return f"{node.name}({', '.join(_unparse(a, ref, 0) for a in node.args)})"
