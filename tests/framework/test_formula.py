"""The formula parser: built-ins accepted, everything dangerous rejected without running it."""
import numpy as np
import pytest

from core.formula import FormulaError, check_on_range, parse_formula
from core.lessons.gan1d import TARGETS


@pytest.mark.parametrize("text", list(TARGETS.values()))
def test_builtin_targets_parse_and_evaluate(text):
    f = parse_formula(text)
    x = np.linspace(-0.5, 0.5, 11)
    y = check_on_range(f, -0.5, 0.5)
    assert y.shape == (2001,)
    assert np.all(np.isfinite(f(x)))


@pytest.mark.parametrize("text,expected", [
    ("x**2", lambda x: x ** 2),
    ("x^2 + 1", lambda x: x ** 2 + 1),
    ("x² − 2×x", lambda x: x ** 2 - 2 * x),
    ("sin(3*x) + abs(x)/2", lambda x: np.sin(3 * x) + np.abs(x) / 2),
    ("-x + pi*e", lambda x: -x + np.pi * np.e),
    ("exp(-x**2)", lambda x: np.exp(-x ** 2)),
    ("3", lambda x: np.full_like(x, 3.0)),
])
def test_values_match_numpy(text, expected):
    x = np.linspace(-1, 1, 21)
    assert np.allclose(parse_formula(text)(x), expected(x))


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os').system('echo hi')", "double underscores"),
    ("import os", "not a formula"),
    ("x.real", "attribute"),
    ("np.sin(x)", "attribute"),
    ("(lambda: 1)()", "only the listed functions"),
    ("lambda x: x", "lambda"),
    ("[x for x in range(3)]", "comprehension"),
    ("x[0]", "indexing"),
    ("9**9**9", "too large"),
    ("2**2**2**2**2", "too large"),
    ("10**x**2 + 99**x", "grows too fast"),
    ("y + 1", "unknown name"),
    ("eval('1')", "unknown function"),
    ("open('f')", "unknown function"),
    ("sin", "is a function"),
    ("sin(x, 2)", "exactly one argument"),
    ("x if x else 1", "'if' are not allowed"),
    ("x < 1", "comparisons"),
    ("'abc'", "only numbers"),
    ("", "empty"),
    ("x + " * 100 + "x", "longer than"),
    ("(x := 3)", "assignments"),
    ("1e300", "too large"),
])
def test_rejections_say_why(text, fragment):
    with pytest.raises(FormulaError) as e:
        parse_formula(text)
    assert fragment in str(e.value)


def test_nothing_is_executed(tmp_path, monkeypatch):
    """A rejected formula has no side effect: the file it tries to create never appears."""
    target = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FormulaError):
        parse_formula(f"__import__('pathlib').Path('{target}').touch()")
    with pytest.raises(FormulaError):
        parse_formula("open('pwned', 'w')")
    assert not target.exists() and not (tmp_path / "pwned").exists()


def test_undefined_on_range_is_reported():
    with pytest.raises(FormulaError, match="undefined or infinite"):
        check_on_range(parse_formula("log(x)"), -0.5, 0.5)
    with pytest.raises(FormulaError, match="undefined or infinite"):
        check_on_range(parse_formula("1/x"), -1, 1)
    with pytest.raises(FormulaError, match="keep values"):
        check_on_range(parse_formula("exp(x)**16"), 0, 3)


def test_point_cap():
    with pytest.raises(FormulaError, match="at most"):
        parse_formula("x")(np.zeros(2_000_001))
