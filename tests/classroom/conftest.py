"""Store fixtures: every store test runs on SQLite (a file in a temp folder) and on a real
PostgreSQL server (tests/classroom/pg.py). PostgreSQL is skipped only where it cannot exist: on a
developer's machine without Debian's ``postgresql`` package; under CI=true its absence fails."""
from __future__ import annotations

import os

import pytest

from classroom import pg as pgserver  # tests/classroom/pg.py

BACKENDS = ["sqlite", "postgresql"]


def _no_postgres(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must have PostgreSQL (scripts/test.sh installs Debian's postgresql): {why}")
    pytest.skip(f"no PostgreSQL on this machine ({why}; apt-get install postgresql)")


@pytest.fixture(scope="session")
def pg_url():
    if os.environ.get("DASH_TEST_PG_URL"):
        yield os.environ["DASH_TEST_PG_URL"]
        return
    if pgserver.bin_dir() is None:
        _no_postgres("initdb and pg_ctl not found")
    try:
        scratch = pgserver.Scratch()
    except KeyError:
        _no_postgres("no postgres user")
    try:
        url = scratch.start()
        pgserver.wait_ready(url)
        yield url
    finally:
        scratch.stop()


_DB_NUMBER = iter(range(1, 10**6))


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A fresh, empty store URL on each backend (PostgreSQL: a new database per test, so no
    engine of an earlier test holds plans or connections on its tables)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'class.db'}"
        return
    url = request.getfixturevalue("pg_url")
    import sqlalchemy as sa

    from core.classroom import store as st
    name = f"dash_test_{os.getpid()}_{next(_DB_NUMBER)}"
    engine = sa.create_engine(st.database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    yield url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def store(store_url):
    from core.classroom.store import Store
    s = Store(store_url)
    yield s
    s.close()
