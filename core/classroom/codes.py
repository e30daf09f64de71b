"""Class codes, run tokens, nicknames and the join rate limit (no Streamlit, no database).

A class code is what a lecturer writes on the board, so it is short, typed by hand and read off a
projector: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
25^6 ≈ 2.4e8 codes; with joins limited to JOIN_TRIES_PER_MINUTE per session and
FAILED_JOINS_PER_MINUTE per server process, finding one live code by guessing takes about
2.4e8 / 2 / 3,600 ≈ 33,000 process-hours (1,400 hours for a hall of 24 workers), and a class
expires after CLASS_HOURS (core.classroom.store). A run token (the student's own run, in their page's address so a reconnect finds it)
is 128 random bits: it is never shown to anyone else.
"""
from __future__ import annotations

import collections
import re
import secrets
import threading
import time
import unicodedata

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # 25 symbols, none confusable with another on a projector
CODE_LENGTH = 6
NICK_MAX = 24
JOIN_TRIES_PER_MINUTE = 5          # one session: a mistyped code or two, not a scan
FAILED_JOINS_PER_MINUTE = 60       # one server process, all sessions together (new tabs included)
_CODE_RE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_run_token() -> str:
    return secrets.token_urlsafe(16)


def normal_code(text: str) -> str | None:
    """A typed code as stored (upper case, spaces and dashes dropped), or None if it cannot be one."""
    code = re.sub(r"[\s\-]", "", str(text or "")).upper()
    return code if _CODE_RE.match(code) else None


def valid_token(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_\-]{16,64}", str(text or "")))


def clean_nickname(text: str) -> str:
    """A nickname as plain text: control and format characters dropped, white space collapsed,
    at most NICK_MAX characters. Raises ValueError when nothing is left. It is still drawn
    escaped everywhere (``escape_markdown``): Markdown and HTML in it are shown, never run."""
    s = "".join(ch for ch in unicodedata.normalize("NFC", str(text or ""))
                if unicodedata.category(ch)[0] not in "C")
    s = " ".join(s.split())[:NICK_MAX].strip()
    if not s:
        raise ValueError("Choose a nickname (any name but your real one).")
    return s


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def escape_markdown(text: str) -> str:
    """Text to put inside Streamlit Markdown so that it shows as typed: HTML characters become
    entities (Streamlit shows raw HTML as text anyway unless told otherwise; this is belt and
    braces) and every Markdown character gets a backslash (links, emphasis, headings, LaTeX)."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


class JoinLimiter:
    """Join attempts per key (a session) in a sliding minute, and failed ones per process.

    ``allow(key)`` is asked before the store is; ``failed()`` after a wrong code. Thread-safe: every
    session of a worker shares the one instance (``LIMITER``)."""

    def __init__(self, per_key: int = JOIN_TRIES_PER_MINUTE, failures: int = FAILED_JOINS_PER_MINUTE,
                 window: float = 60.0, clock=time.monotonic) -> None:
        self.per_key, self.failures, self.window, self.clock = per_key, failures, window, clock
        self._tries: dict[str, collections.deque] = {}
        self._failed: collections.deque = collections.deque()
        self._lock = threading.Lock()

    def _trim(self, q: collections.deque, now: float) -> None:
        while q and now - q[0] > self.window:
            q.popleft()

    def allow(self, key: str) -> str | None:
        """None if an attempt may go ahead now (and counts it), else the reason to show."""
        now = self.clock()
        with self._lock:
            self._trim(self._failed, now)
            if len(self._failed) >= self.failures:
                return "Too many wrong class codes on this server just now; wait a minute and try again."
            q = self._tries.setdefault(key, collections.deque())
            self._trim(q, now)
            if len(q) >= self.per_key:
                return "Too many join attempts; wait a minute and check the code with your lecturer."
            q.append(now)
            if len(self._tries) > 10_000:          # sessions long gone: keep memory bounded
                for k in [k for k, v in self._tries.items() if not v or now - v[-1] > self.window][:5_000]:
                    del self._tries[k]
            return None

    def failed(self) -> None:
        with self._lock:
            self._failed.append(self.clock())


LIMITER = JoinLimiter()
