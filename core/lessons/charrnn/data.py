"""The texts: the three shipped corpora (core/data/charrnn_*.txt, sources in scripts/
make_charrnn_corpora.py) and a student's own text, checked before any use (size, UTF-8, binary,
number of distinct characters). A text is only ever read as characters, never run.

A ``Corpus`` is read-only and cached (one copy per text for the whole server); every trainer
copies the ids it trains on, so sessions never share a tensor.
"""
from __future__ import annotations

import functools
import hashlib
import pathlib
from dataclasses import dataclass

import numpy as np

from core.sniff import packed_kind, packed_message

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
FILES = {"names": "charrnn_names.txt", "prose": "charrnn_prose.txt", "play": "charrnn_play.txt"}
LINE_CORPORA = ("names",)       # one item per line: shuffled (fixed seed) before the split
HELD_OUT = 0.1                  # the last tenth is never trained on
MIN_CHARS = 2_000
MAX_CHARS = 300_000             # ~0.3 MB: the n-gram tables and one epoch stay quick
MAX_UPLOAD_BYTES = 1_000_000
MAX_VOCAB = 200
EVAL_LEN = 128                  # held-out rows of this many predictions
EVAL_CHARS = 4096               # at most this many held-out predictions per measurement (bounded cost)


class TextError(ValueError):
    """A student's text that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Corpus:
    name: str
    text: str                   # as trained on (a line corpus shuffled)
    vocab: str                  # the distinct characters, sorted: id i is vocab[i]
    ids: np.ndarray             # [N] uint8 character ids of ``text``
    split: int                  # ids[:split] train, ids[split:] held out
    lines: frozenset[str]       # a line corpus's items (novelty is measured against them), else empty
    digest: str                 # names the text in caches

    def eval_rows(self) -> np.ndarray:
        """Start of each held-out evaluation row: [R]. Row r reads ids[s : s+EVAL_LEN] and predicts
        ids[s+1 : s+EVAL_LEN+1], from a zero state; every model is scored on these positions."""
        R = max(1, min(EVAL_CHARS, len(self.ids) - self.split - 1) // EVAL_LEN)
        return self.split + EVAL_LEN * np.arange(R)

    def eval_positions(self) -> np.ndarray:
        """The scored positions, [R · EVAL_LEN]: what held-out bits/char averages over."""
        return (self.eval_rows()[:, None] + 1 + np.arange(EVAL_LEN)[None, :]).ravel()

    @property
    def V(self) -> int:
        return len(self.vocab)

    def encode(self, s: str) -> tuple[np.ndarray, str]:
        """Ids of the characters of ``s`` that the text uses, and the ones left out (as a string)."""
        index = {c: i for i, c in enumerate(self.vocab)}
        keep = [index[c] for c in s if c in index]
        return np.asarray(keep, dtype=np.int64), "".join(sorted({c for c in s if c not in index}))

    def decode(self, ids: np.ndarray) -> str:
        return "".join(self.vocab[int(i)] for i in ids)


def make_corpus(name: str, text: str, lines: bool = False) -> Corpus:
    if lines:
        items = [s for s in text.split("\n") if s.strip()]
        order = np.random.default_rng(0).permutation(len(items))
        text = "\n".join(items[i] for i in order) + "\n"
    vocab = "".join(sorted(set(text)))
    lookup = np.zeros(0x110000 if any(ord(c) > 0xFFFF for c in vocab) else 0x10000, dtype=np.uint8)
    lookup[[ord(c) for c in vocab]] = np.arange(len(vocab), dtype=np.uint8)
    ids = lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]
    split = int(len(ids) * (1 - HELD_OUT))
    items = frozenset(s for s in text.split("\n") if s) if lines else frozenset()
    return Corpus(name, text, vocab, ids, split, items, hashlib.sha1(text.encode("utf-8")).hexdigest())


@functools.lru_cache(maxsize=3)
def shipped(key: str) -> Corpus:
    """One of the shipped texts (read once per server)."""
    text = (DATA / FILES[key]).read_text(encoding="utf-8")
    return make_corpus(key, text, lines=key in LINE_CORPORA)


@functools.lru_cache(maxsize=8)
def _custom(digest: str, text: str) -> Corpus:
    return make_corpus("your text", text)


def corpus_for(key: str, custom_text: str = "") -> Corpus:
    if key != "custom":
        return shipped(key)
    check_text(custom_text)
    return _custom(hashlib.sha1(custom_text.encode("utf-8")).hexdigest(), custom_text)


def check_text(text: str) -> None:
    """Raise TextError unless ``text`` can be trained on."""
    if not text.strip():
        raise TextError("paste a text or upload a .txt file first (at least "
                        f"{MIN_CHARS:,} characters, e.g. a few pages of a book)")
    if len(text) < MIN_CHARS:
        raise TextError(f"the text has {len(text):,} characters; at least {MIN_CHARS:,} are needed "
                        "(a tenth is kept aside to measure the model on text it never saw)")
    if len(text) > MAX_CHARS:
        raise TextError(f"the text has {len(text):,} characters; the limit is {MAX_CHARS:,} "
                        "(about a 150-page book): use a part of it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:       # a lone surrogate from a broken paste
        raise TextError(f"the text holds an invalid character at position {e.start:,}; paste it again") from e
    distinct = len(set(text))
    if distinct > MAX_VOCAB:
        raise TextError(f"the text uses {distinct:,} different characters; at most {MAX_VOCAB} "
                        "(plain prose in one alphabet uses 60–100)")


def read_upload(name: str, data: bytes) -> str:
    """The text of an uploaded file (never executed); TextError for each unusable case."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TextError(f"“{name}” is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB")
    kind = packed_kind(data)
    if kind:
        raise TextError(packed_message(name, kind, "plain-text (.txt) file"))
    if b"\x00" in data[:4096]:
        raise TextError(f"“{name}” holds binary data (a PDF, Word or image file?): save it as plain "
                        "text (.txt, UTF-8) and upload that")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TextError(f"“{name}” is not UTF-8 text (byte {e.start:,} is not valid UTF-8): save it "
                        "as UTF-8 plain text and upload it again") from e
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_text(text)
    return text


def clean_paste(text: str) -> str:
    """A pasted text with Windows line ends made plain (the check happens in ``corpus_for``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
