"""The two toy translations, generated from a seed (nothing is downloaded).

* ``dates``: a date written the way people write it ("3rd of may 1999", "05/03/99",
  "monday, may 3, 1999" …, eight formats, 6–37 characters) → its ISO form "1999-05-03".
  Numeric dates are month/day (US order); two-digit years mean 1950–2049.
* ``reverse``: a digit string (1 … max_len digits) → the same digits backwards. Its attention
  map is the anti-diagonal, the easiest alignment to read.

One character vocabulary serves both tasks and both sides (PAD, start, end, then the alphabet).
The held-out set is fixed by the seed; for dates its *days* never occur in training, in any
format, so held-out accuracy measures generalisation, not memory.

Shapes: ``Pairs.src``: [N, S] token ids (right-padded with PAD), ``src_len``: [N],
``tgt``: [N, T] (the answer followed by END, then PAD).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import torch

PAD, START, END = 0, 1, 2
SPECIALS = ("·", "▶", "■")
ALPHABET = " ,./-0123456789abcdefghijklmnopqrstuvwxyz"
VOCAB = SPECIALS + tuple(ALPHABET)
INDEX = {c: i for i, c in enumerate(VOCAB)}
V = len(VOCAB)

DATE_INPUT_MAX = 40            # longest typed date accepted (the longest generated is 37)
FIRST_DAY = dt.date(1950, 1, 1)
N_DAYS = (dt.date(2049, 12, 31) - FIRST_DAY).days + 1
N_HELD = 1000                  # held-out pairs per seed (all evaluated, both models)
N_POOL = 30_000                # training pairs drawn once per run (the batches sample from them)
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TASK_ALPHABET = {"dates": ALPHABET, "reverse": "0123456789"}


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_date(d: dt.date, fmt: int) -> str:
    """One of eight human ways to write ``d`` (lower case)."""
    m, wd = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return (
        f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",          # 05/03/99
        f"{d.month}/{d.day}/{d.year}",                             # 5/3/1999
        f"{d.day} {m} {d.year}",                                   # 3 may 1999
        f"{m} {d.day}, {d.year}",                                  # may 3, 1999
        f"{ordinal(d.day)} of {m} {d.year}",                       # 3rd of may 1999
        f"{wd}, {m} {d.day}, {d.year}",                            # monday, may 3, 1999
        f"{wd[:3]}, {d.day} {m[:3]} {d.year % 100:02d}",           # mon, 3 may 99
        f"{wd}, the {ordinal(d.day)} of {m} {d.year}",             # monday, the 3rd of may 1999
    )[fmt]


N_FORMATS = 8
_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%d %B %Y", "%B %d, %Y", "%d of %B %Y", "%A, %B %d, %Y",
            "%a, %d %b %y", "%A, the %d of %B %Y")


def parse_date(text: str) -> str | None:
    """The ISO answer for a typed date in one of the eight formats, else None (reference only)."""
    s = re.sub(r"\b(\d{1,2})(st|nd|rd|th)\b", r"\1", text.strip().lower())
    for f in _FORMATS:
        try:
            d = dt.datetime.strptime(s, f).date()
        except ValueError:
            continue
        if f.endswith("%y"):                      # two-digit years: 1950–2049, as in the data
            d = d.replace(year=(1900 if d.year % 100 >= 50 else 2000) + d.year % 100)
        return d.isoformat()
    return None


def reference(task: str, text: str) -> str | None:
    """The correct output for an input, where the generator's rules give one."""
    return text[::-1] if task == "reverse" else parse_date(text)


def max_input(task: str, max_len: int) -> int:
    return DATE_INPUT_MAX if task == "dates" else max_len


def check_input(task: str, text: str, max_len: int) -> str:
    """The typed input normalised (lower case, outer spaces off); ValueError with a clear message."""
    s = text.strip().lower()
    if not s:
        raise ValueError("the input is empty")
    allowed = TASK_ALPHABET[task]
    bad = sorted({c for c in s if c not in allowed})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5]) + (" …" if len(bad) > 5 else "")
        what = "digits 0–9" if task == "reverse" else "letters a–z, digits, space and , . / -"
        raise ValueError(f"{shown} {'is' if len(bad) == 1 else 'are'} not in this task's alphabet ({what})")
    limit = max_input(task, max_len)
    if len(s) > limit:
        raise ValueError(f"the input has {len(s)} characters; this task takes at most {limit}")
    return s


def encode(texts: list[str], width: int, end: bool = False) -> torch.Tensor:
    """Token ids [N, width], right-padded with PAD; END after each text when ``end``."""
    out = np.zeros((len(texts), width), dtype=np.int64)
    for i, t in enumerate(texts):
        ids = [INDEX[c] for c in t] + ([END] if end else [])
        out[i, :len(ids)] = ids
    return torch.from_numpy(out)


def decode(ids: list[int] | np.ndarray) -> str:
    """Characters up to the first END (PAD and START skipped)."""
    out = []
    for i in ids:
        if int(i) == END:
            break
        if int(i) > END:
            out.append(VOCAB[int(i)])
    return "".join(out)


@dataclass
class Pairs:
    """A set of (input, answer) pairs as strings and as padded token tensors."""

    inputs: list[str]
    answers: list[str]
    src: torch.Tensor          # [N, S]
    src_len: torch.Tensor      # [N]
    tgt: torch.Tensor          # [N, T]

    @classmethod
    def of(cls, inputs: list[str], answers: list[str]) -> "Pairs":
        s = max(len(t) for t in inputs)
        t = max(len(a) for a in answers) + 1
        return cls(inputs, answers, encode(inputs, s), torch.tensor([len(x) for x in inputs]),
                   encode(answers, t, end=True))


def _dates(days: np.ndarray, fmts: np.ndarray) -> tuple[list[str], list[str]]:
    ds = [FIRST_DAY + dt.timedelta(days=int(k)) for k in days]
    return [format_date(d, int(f)) for d, f in zip(ds, fmts)], [d.isoformat() for d in ds]


def _digits(rng: np.random.Generator, n: int, max_len: int) -> tuple[list[str], list[str]]:
    lens = rng.integers(1, max_len + 1, n)
    xs = ["".join(map(str, rng.integers(0, 10, k))) for k in lens]
    return xs, [x[::-1] for x in xs]


def make_data(task: str, seed: int, max_len: int, n_pool: int = N_POOL,
              n_held: int = N_HELD) -> tuple[Pairs, Pairs]:
    """(training pool, held-out set), both fixed by ``seed``."""
    rng = np.random.default_rng([seed, 2024])
    if task == "dates":
        held_days = rng.choice(N_DAYS, n_held, replace=False)
        held = _dates(held_days, rng.integers(0, N_FORMATS, n_held))
        free = np.setdiff1d(np.arange(N_DAYS), held_days)       # training never sees a held-out day
        pool = _dates(rng.choice(free, n_pool), rng.integers(0, N_FORMATS, n_pool))
    else:
        held, pool = _digits(rng, n_held, max_len), _digits(rng, n_pool, max_len)
    return Pairs.of(*pool), Pairs.of(*held)


def length_buckets(task: str, max_len: int) -> list[tuple[int, int]]:
    """Input-length ranges (inclusive) for the accuracy-by-length chart."""
    if task == "dates":
        return [(1, 10), (11, 15), (16, 20), (21, 25), (26, 30), (31, DATE_INPUT_MAX)]
    step = max(1, -(-max_len // 6))
    return [(lo, min(lo + step - 1, max_len)) for lo in range(1, max_len + 1, step)]
