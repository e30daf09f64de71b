"""A safe parser for the formulas students type, such as ``x**2 + 0.5*sin(3*x)``.

The text is parsed with ``ast.parse`` (which only builds a syntax tree, it runs nothing) and
the tree is checked against a whitelist: numbers, the variable ``x``, the constants ``pi`` and
``e``, + − × ÷ ** and a few numpy functions. Anything else (names, attributes, calls of other
things, lambdas, comprehensions, subscripts, strings…) is rejected with a message saying what
is wrong. The accepted tree is compiled into a chain of numpy closures; nothing is ever passed
to ``eval`` or ``exec``. Size and time are bounded: at most ``MAX_CHARS`` characters and
``MAX_NODES`` syntax nodes, constants and exponents of bounded size, and evaluation only on
arrays of at most ``MAX_POINTS`` values, so one evaluation is a bounded number of vector ops.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

import numpy as np

MAX_CHARS = 200
MAX_NODES = 80
MAX_DEPTH = 16
MAX_CONSTANT = 1e6
MAX_EXPONENT = 16.0
MAX_POINTS = 1_000_000

FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
    "arctan": np.arctan, "atan": np.arctan, "sign": np.sign, "floor": np.floor,
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
}
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}

_BINOPS = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
    ast.Div: np.divide, ast.Pow: np.power,
}


class FormulaError(ValueError):
    """The formula is not acceptable; the message says why, in words a student can act on."""


@dataclass(frozen=True)
class Formula:
    """A checked formula. ``f(x)`` maps an array x: [n] to y: [n] (float64)."""

    text: str
    _fn: Callable[[np.ndarray], np.ndarray]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.size > MAX_POINTS:
            raise FormulaError(f"at most {MAX_POINTS:,} points can be evaluated at once")
        with np.errstate(all="ignore"):
            y = self._fn(x)
        return np.broadcast_to(np.asarray(y, dtype=np.float64), x.shape).copy()


def _normalise(text: str) -> str:
    # Students write x^2, x², 2×x, 1÷x and a typographic minus: accept them.
    table = {"^": "**", "×": "*", "÷": "/", "−": "-", "²": "**2", "³": "**3", "·": "*"}
    for a, b in table.items():
        text = text.replace(a, b)
    return text.strip()


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return "attribute access (the '.' in np.sin) is not allowed; write sin(x)"
    if isinstance(node, ast.Lambda):
        return "lambdas are not allowed; type only the expression in x"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "comprehensions are not allowed"
    if isinstance(node, ast.Subscript):
        return "indexing with [ ] is not allowed"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return "lists, tuples and dicts are not allowed"
    if isinstance(node, ast.Compare):
        return "comparisons (<, >, ==) are not allowed"
    if isinstance(node, (ast.BoolOp, ast.IfExp)):
        return "'and', 'or' and 'if' are not allowed"
    if isinstance(node, ast.NamedExpr):
        return "assignments are not allowed"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__} is not allowed; use + - * / **"
    if isinstance(node, ast.UnaryOp):
        return f"the operator {type(node.op).__name__} is not allowed"
    return f"{type(node).__name__} is not allowed in a formula"


def parse_formula(text: str) -> Formula:
    """Check ``text`` and return a ``Formula``; raise ``FormulaError`` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula is empty; type an expression in x, such as x**2")
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is longer than {MAX_CHARS} characters")
    src = _normalise(text)
    if "__" in src:
        raise FormulaError("names with double underscores are not allowed")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = f" near character {e.offset}" if e.offset else ""
        raise FormulaError(f"this is not a formula{col}: only an expression in x is allowed "
                           "(no statements, imports or assignments)") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise FormulaError(f"the formula is too long ({nodes} parts, at most {MAX_NODES})")
    fn, _ = _compile(tree.body, 0)
    return Formula(text=text.strip(), _fn=fn)


def _const(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormulaError(f"only numbers are allowed as constants, not {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v) or abs(v) > MAX_CONSTANT:
        raise FormulaError(f"the number {value!r} is too large (at most {MAX_CONSTANT:g})")
    return v


def _compile(node: ast.AST, depth: int) -> tuple[Callable[[np.ndarray], np.ndarray], float | None]:
    """Return (function of x, constant value if the subtree has no x)."""
    if depth > MAX_DEPTH:
        raise FormulaError("the formula is nested too deeply")
    if isinstance(node, ast.Constant):
        v = _const(node.value)
        return (lambda x, v=v: np.full_like(x, v)), v
    if isinstance(node, ast.Name):
        if node.id == "x":
            return (lambda x: x), None
        if node.id in CONSTANTS:
            v = CONSTANTS[node.id]
            return (lambda x, v=v: np.full_like(x, v)), v
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} is a function: write {node.id}(x)")
        raise FormulaError(f"unknown name {node.id!r}: the only variable is x "
                           f"(constants: pi, e; functions: {', '.join(sorted(FUNCTIONS))})")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        f, c = _compile(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return (lambda x, f=f: -f(x)), (None if c is None else -c)
        return f, c
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        fa, ca = _compile(node.left, depth + 1)
        fb, cb = _compile(node.right, depth + 1)
        op = _BINOPS[type(node.op)]
        if isinstance(node.op, ast.Pow) and cb is not None and abs(cb) > MAX_EXPONENT:
            raise FormulaError(f"the exponent {cb:g} is too large (at most {MAX_EXPONENT:g}): "
                               "towers such as 9**9**9 blow up")
        if isinstance(node.op, ast.Pow) and cb is None and ca is not None and abs(ca) > 10:
            raise FormulaError(f"{ca:g}**(…x…) grows too fast; use a base of at most 10")
        const = None
        if ca is not None and cb is not None:
            with np.errstate(all="ignore"):
                const = float(op(np.float64(ca), np.float64(cb)))
            if not np.isfinite(const) or abs(const) > 1e12:
                raise FormulaError("a constant part of the formula is too large or undefined")
        return (lambda x, fa=fa, fb=fb, op=op: op(fa(x), fb(x))), const
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise FormulaError(_describe(node.func) if isinstance(node.func, ast.Attribute)
                               else "only the listed functions can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            raise FormulaError(f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise FormulaError(f"{name} takes exactly one argument, e.g. {name}(x)")
        f, c = _compile(node.args[0], depth + 1)
        g = FUNCTIONS[name]
        const = None
        if c is not None:
            with np.errstate(all="ignore"):
                const = float(g(np.float64(c)))
        return (lambda x, f=f, g=g: g(f(x))), const
    raise FormulaError(_describe(node))


def check_on_range(formula: Formula, lo: float, hi: float, n: int = 2001) -> np.ndarray:
    """Evaluate on [lo, hi]; raise ``FormulaError`` if any value is NaN/inf or huge.

    Returns y: [n] for x = linspace(lo, hi, n).
    """
    x = np.linspace(lo, hi, n)
    y = formula(x)
    bad = ~np.isfinite(y)
    if bad.any():
        raise FormulaError(f"{formula.text} is undefined or infinite at x = {x[bad][0]:.3g} "
                           f"(the range is [{lo:g}, {hi:g}])")
    if np.abs(y).max() > 1e6:
        raise FormulaError(f"{formula.text} reaches {np.abs(y).max():.3g} on [{lo:g}, {hi:g}]; "
                           "keep values within ±1e6")
    return y


# The functions as numpy spells them (for exported scripts); sigmoid has no numpy name.
NUMPY_NAMES = {"atan": "arctan", "abs": "abs"}


def numpy_source(text: str) -> str:
    """A checked formula as a numpy expression in x, for a standalone script:
    ``sin(3*x) + x^2`` -> ``np.sin(3 * x) + x ** 2``. Raises ``FormulaError`` like parse_formula;
    evaluates to the same values as the parsed formula (tests/framework/test_export.py)."""
    parse_formula(text)                               # refuse whatever the app refuses

    class ToNumpy(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in CONSTANTS:
                return ast.Attribute(ast.Name("np", ast.Load()), node.id, ast.Load())
            return node

        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            name = node.func.id
            if name == "sigmoid":            # 1 / (1 + e^(−v))
                return ast.BinOp(ast.Constant(1.0), ast.Div(), ast.BinOp(ast.Constant(1.0), ast.Add(), ast.Call(
                    ast.Attribute(ast.Name("np", ast.Load()), "exp", ast.Load()),
                    [ast.UnaryOp(ast.USub(), node.args[0])], [])))
            node.func = ast.Attribute(ast.Name("np", ast.Load()), NUMPY_NAMES.get(name, name), ast.Load())
            return node

    tree = ToNumpy().visit(ast.parse(_normalise(text), mode="eval"))
    return ast.unparse(ast.fix_missing_locations(tree))
