"""Who may act as a run (the lease on a run token) and the join limit, both kept in the class store,
on both backends (SQLite and a real PostgreSQL server): several workers (each its own ``Store``,
its own engine and pool, as every worker process has) see one lease and count against one limit."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from core.classroom import access
from core.classroom import store as cs
from core.classroom.store import Store

LEASE = access.LEASE_SECONDS


def test_an_open_pages_run_is_not_taken_up_by_a_copied_address(store):
    code, other = store.create_class(), store.create_class()
    token = store.join(code, "ada", holder="page-A", lease=LEASE)
    worker2 = Store(store.url)                      # the copied address lands on another worker
    try:
        with pytest.raises(access.Held):
            access.claim(worker2, code, token, "page-B")
        assert access.claim(store, code, token, "page-A") == "ada"        # the page itself, again
        assert access.renew(store, {token: "page-A"}) == set()
        with pytest.raises(access.Held):
            access.claim(worker2, code, token, "page-B", now=time.time() + LEASE / 2)
        # nothing renews (the worker died): once the lease runs out the address takes the run up
        assert access.claim(worker2, code, token, "page-B", now=time.time() + LEASE + 1) == "ada"
        assert access.renew(store, {token: "page-A"}) == {token}          # page A learns it lost it
        with pytest.raises(access.Held):
            access.claim(store, code, token, "page-A", now=time.time() + LEASE)
        access.release(worker2, {token: "page-B"})                       # page B's tab closed
        assert access.claim(store, code, token, "page-A") == "ada"       # a reload goes on at once
        assert access.claim(store, other, token, "page-C") is None       # another class: no such run
        assert access.claim(store, code, "A" * 22, "page-C") is None     # never issued
        loose = store.join(code, "bo")                                   # joined without a page
        assert access.claim(worker2, code, loose, "page-D") == "bo"
    finally:
        worker2.close()


def test_pages_claiming_one_run_at_once_only_one_wins(store):
    code = store.create_class()
    token = store.join(code, "ada")
    workers = [Store(store.url) for _ in range(6)]
    won, held, errors = [], [], []

    def go(i: int) -> None:
        try:
            access.claim(workers[i], code, token, f"page-{i}")
            won.append(i)
        except access.Held:
            held.append(i)
        except Exception as e:               # noqa: BLE001  reported below
            errors.append(e)
    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for w in workers:
        w.close()
    assert not errors and len(won) == 1 and len(held) == len(workers) - 1, (won, held, errors)


def _rows(store: Store) -> int:
    with store.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(cs.join_attempts)).scalar()


def test_the_join_limit_holds_across_workers(store):
    """A guesser whose tries are spread over the workers behind the proxy gets no more of them."""
    w1, w2 = store, Store(store.url)
    now = time.time()
    try:
        for i in range(5):                          # one session's tries, on whichever worker
            assert access.join_allowed((w1, w2)[i % 2], "s1", now=now + i, per_key=5) is None
        assert "Too many join attempts" in access.join_allowed(w2, "s1", now=now + 5, per_key=5)
        assert "Too many join attempts" in access.join_allowed(w1, "s1", now=now + 6, per_key=5)
        assert access.join_allowed(w1, "s2", now=now + 6, per_key=5) is None      # another session
        for i in range(8):                          # wrong codes from ever new sessions, both workers
            w = (w1, w2)[i % 2]
            assert access.join_allowed(w, f"new{i}", now=now + 7, failures=8) is None
            access.join_failed(w, f"new{i}", now=now + 7)
        for w in (w1, w2):
            assert "wrong class codes" in access.join_allowed(w, "yet-another", now=now + 8, failures=8)
        # the lecturer's key is counted apart: wrong codes do not lock the lecturer out
        assert access.join_allowed(w2, "lect", now=now + 8, failures=8, scope=access.LECTURER) is None
        # a minute on: allowed again, and the old attempts are gone from the table
        assert access.join_allowed(w2, "yet-another", now=now + 70, failures=8) is None
        assert access.join_allowed(w1, "s1", now=now + 70, per_key=5) is None
        assert _rows(w1) == 2
    finally:
        w2.close()


def test_a_version_1_store_is_migrated(store_url):
    """A store made by the first release (members without a lease, no join attempts) is brought
    to the current version by the first worker that starts, keeping its members."""
    old = sa.MetaData()
    for t in cs.metadata.sorted_tables:
        if t.name != cs.join_attempts.name:
            sa.Table(t.name, old, *[sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                    for c in t.columns if c.name not in ("holder", "held_until")])
    engine = sa.create_engine(cs.database_url(store_url))
    now = time.time()
    with engine.begin() as c:
        old.create_all(c)
        c.execute(old.tables[cs.schema_version.name].insert().values(version=1))
        c.execute(old.tables[cs.classes.name].insert().values(code="ACDEFG", created=now))
        c.execute(old.tables[cs.members.name].insert().values(token="T" * 22, class_code="ACDEFG",
                                                               nickname="ada", joined=now))
    engine.dispose()
    s = Store(store_url)
    try:
        assert s.migrate() == 1
        with s.engine.connect() as c:
            assert c.execute(sa.select(cs.schema_version.c.version)).scalars().all() == [cs.SCHEMA_VERSION]
            assert {"holder", "held_until"} <= {col["name"] for col in sa.inspect(c).get_columns(cs.members.name)}
        assert access.claim(s, "ACDEFG", "T" * 22, "page-A") == "ada"          # the old member, leased
        assert access.join_allowed(s, "s1") is None                          # the new table
        nxt = Store(store_url)
        assert nxt.migrate() == cs.SCHEMA_VERSION                           # the next worker: nothing to do
        nxt.close()
    finally:
        s.close()
