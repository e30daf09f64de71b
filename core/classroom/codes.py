"""Class codes, run tokens, nicknames and the join limit's figures (no Streamlit, no database: the
limit is counted in the class store, core.classroom.access).

A class code is what a lecturer writes on the board, so it is short, typed by hand and read off a
projector: 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
25^6 ≈ 2.4e8 codes; with joins limited to JOIN_TRIES_PER_MINUTE per session and
FAILED_JOINS_PER_MINUTE for the whole class store (core.classroom.access counts them in the store,
so every worker behind the proxy shares one budget), finding one live code by guessing takes about
2.4e8 / 2 / 3,600 ≈ 33,000 hours however many workers serve it, and a class expires after
CLASS_HOURS (core.classroom.store). A run token (the student's own run, in their page's address so
a reconnect finds it) is 128 random bits; a copied address does not take over a run whose page is
open (core.classroom.access's lease), and the links the app makes to share leave it out.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # 25 symbols, none confusable with another on a projector
CODE_LENGTH = 6
NICK_MAX = 24
JOIN_TRIES_PER_MINUTE = 5          # one session: a mistyped code or two, not a scan
FAILED_JOINS_PER_MINUTE = 60       # the whole store: every worker's sessions together (new tabs included)
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
