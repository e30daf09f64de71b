"""Who may act as a run, and how often anyone may try to get into a class. Both live in the class
store, not in a worker's memory, so they hold across every worker behind the proxy.

**The run lease.** A student's run token travels in their page's address (``?run=…``), because the
address is the one thing a reconnect to another worker, or a reload, still has. So a student who
copies their address and hands it on hands on the token. Whoever holds the token can publish as
that run, continue it and delete it (Leave), so a live run is held by its session: the member's
``holder`` and ``held_until`` in the store. ``claim`` takes up a run only when no other session
holds it; the holding worker's publisher renews the lease every RENEW_SECONDS while that session is
connected, and gives it back as soon as the session goes away (a closed tab, a reload). A reload
therefore continues its run a few seconds later, and a student whose worker died continues once
the dead worker's lease has run out (LEASE_SECONDS). A copied address opened while its run's page
is open is refused. (The links the app makes to share, ``core.export.lesson_link``, never carry the
token.)

**The join limit.** Every attempt to get into a class (a typed code, a token from an address) is a
row of ``dash_join_attempts``. A session gets JOIN_TRIES_PER_MINUTE of them; the whole store
FAILED_JOINS_PER_MINUTE failed ones, however many workers serve it. Rows older than the window
are deleted by the next attempt. Two attempts at the same instant on two workers may both pass
the count (read, then insert): the limit may be exceeded by the number of workers once, never
multiplied.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.classroom import codes
from core.classroom.store import Store, join_attempts, members

LEASE_SECONDS = 20.0     # a dead worker's students wait at most this long to continue their runs
RENEW_SECONDS = 4.0      # how often a worker renews its sessions' leases (several per lease)
WINDOW_SECONDS = 60.0
JOIN, LECTURER = "join", "lecturer"     # class codes and run tokens; the lecturer's key (core.ui.lecturer)
# (too many failed tries store-wide, too many tries by one client), per scope
_TOO_MANY = {JOIN: ("Too many wrong class codes on this server just now; wait a minute and try again.",
                    "Too many join attempts; wait a minute and check the code with your lecturer."),
             LECTURER: ("Too many wrong lecturer keys on this server just now; wait a minute and try again.",
                        "Too many tries; wait a minute.")}


class Held(Exception):
    """The run is held by another session that is open right now."""


# ------------------------------------------------------------------------------ the run lease

def claim(store: Store, code: str, token: str, holder: str, now: float | None = None) -> str | None:
    """Take up run ``token`` of class ``code`` for the session ``holder``: the member's nickname;
    None if there is no such member (never issued, left, another class's, expired); ``Held`` if
    another session holds it and its lease has not run out."""
    now = time.time() if now is None else now

    def go(conn: Connection) -> str | None:
        row = conn.execute(sa.select(members.c.nickname).where(
            members.c.token == token, members.c.class_code == code)).first()
        if row is None:
            return None
        # one statement decides, so two sessions claiming at once cannot both win
        took = conn.execute(members.update().where(
            members.c.token == token, members.c.class_code == code,
            sa.or_(members.c.holder.is_(None), members.c.holder == holder,
                   members.c.held_until.is_(None), members.c.held_until <= now))
            .values(holder=holder, held_until=now + LEASE_SECONDS)).rowcount
        if took != 1:
            raise Held(token)
        return row.nickname
    return store.run(go, write=True)


def renew(store: Store, holds: dict[str, str], now: float | None = None) -> set[str]:
    """Extend the leases of ``holds`` ({token: holder}); returns the tokens this holder no longer
    has (taken up elsewhere after the lease ran out while the store was away, left, or purged)."""
    now = time.time() if now is None else now

    def go(conn: Connection) -> set[str]:
        lost = set()
        for token, holder in holds.items():
            n = conn.execute(members.update().where(members.c.token == token, members.c.holder == holder)
                             .values(held_until=now + LEASE_SECONDS)).rowcount
            if n != 1:
                lost.add(token)
        return lost
    return store.run(go, write=True) if holds else set()


def release(store: Store, holds: dict[str, str | None]) -> None:
    """Give the runs back at once ({token: holder}; holder None: whoever holds it), so that a
    reload or the next worker takes them up without waiting for the lease to run out."""
    def go(conn: Connection) -> None:
        for token, holder in holds.items():
            q = members.update().where(members.c.token == token)
            if holder is not None:
                q = q.where(members.c.holder == holder)
            conn.execute(q.values(held_until=0.0))
    if holds:
        store.run(go, write=True)


# ------------------------------------------------------------------------------ the join limit

def join_allowed(store: Store, key: str, now: float | None = None, per_key: int = codes.JOIN_TRIES_PER_MINUTE,
                 failures: int = codes.FAILED_JOINS_PER_MINUTE, scope: str = JOIN) -> str | None:
    """None if client ``key`` may try now (the try is counted), else the reason to show."""
    now = time.time() if now is None else now
    key = str(key)[:64]
    t = join_attempts

    def go(conn: Connection) -> str | None:
        conn.execute(t.delete().where(t.c.at < now - WINDOW_SECONDS))         # the table stays small
        recent = t.c.at >= now - WINDOW_SECONDS
        failed = conn.execute(sa.select(sa.func.count()).select_from(t).where(
            t.c.scope == scope, t.c.failed.is_(True), recent)).scalar() or 0
        if failed >= failures:
            return _TOO_MANY[scope][0]
        tries = conn.execute(sa.select(sa.func.count()).select_from(t).where(
            t.c.scope == scope, t.c.key == key, t.c.failed.is_(False), recent)).scalar() or 0
        if tries >= per_key:
            return _TOO_MANY[scope][1]
        conn.execute(t.insert().values(scope=scope, key=key, at=now, failed=False))
        return None
    return store.run(go, write=True)


def join_failed(store: Store, key: str, now: float | None = None, scope: str = JOIN) -> None:
    """Count a wrong code (or token) against the store-wide limit."""
    now = time.time() if now is None else now
    store.run(lambda conn: conn.execute(join_attempts.insert().values(
        scope=scope, key=str(key)[:64], at=now, failed=True)), write=True)
