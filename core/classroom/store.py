"""THE class store: one database layer (SQLAlchemy 2 Core) for SQLite and PostgreSQL.

    store = Store.from_env()     # DASH_CLASS_DB, default sqlite:///<repo>/.class/class.db

SQLite (WAL, one file) needs nothing installed and serves every worker of one machine; a URL
``postgresql://user:pw@host/db`` (driven by psycopg 3) serves the workers of several machines.
The same statements run on both: SQLAlchemy writes each dialect's SQL, upserts included
(``INSERT … ON CONFLICT DO UPDATE`` exists in both). The app creates its tables and records
the schema's version in ``dash_schema_version``; ``MIGRATIONS`` holds the steps from one version to
the next, run once by whichever worker starts first.

Every call is bounded in time (SQLite's busy timeout, PostgreSQL's connect and statement
timeouts, the pool's wait) and raises ``StoreError`` when the store is away: callers on a
student's path go through ``core.classroom.publish`` (a background thread), never directly.
"""
from __future__ import annotations

import os
import pathlib
import threading
import time
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.classroom import codes

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_URL = f"sqlite:///{ROOT / '.class' / 'class.db'}"
SCHEMA_VERSION = 2
TIMEOUT_SECONDS = 3.0          # the longest any one call may wait for the database
CLASS_HOURS = 12.0             # a class code stops working (and its runs are purged) after this

metadata = sa.MetaData()
# PostgreSQL: rows rewritten every few seconds (runs) or every 10 s with 64 KB each (checkpoints)
# leave a dead version per write; vacuum these tables after a few hundred writes instead of after
# 20 % of the table, so the space is reused during a lecture rather than after it. SQLite rewrites
# in place and ignores this.
_CHURN = {"autovacuum_vacuum_scale_factor": 0.0, "autovacuum_vacuum_threshold": 300,
          "toast.autovacuum_vacuum_scale_factor": 0.0, "toast.autovacuum_vacuum_threshold": 300}
schema_version = sa.Table("dash_schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))
classes = sa.Table(
    "dash_classes", metadata,
    sa.Column("code", sa.String(12), primary_key=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("sweep", sa.JSON, nullable=True),        # {lesson, setting, values, pins, metric}
    sa.Column("message", sa.JSON, nullable=True),      # {id, text, page, params}
)
members = sa.Table(
    "dash_members", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("class_code", sa.String(12), nullable=False, index=True),
    sa.Column("nickname", sa.String(64), nullable=False),
    sa.Column("joined", sa.Float, nullable=False),
    # the live session that acts as this run, until when (core.classroom.access: a copied address
    # with the token does not take over a run whose page is open)
    sa.Column("holder", sa.String(64), nullable=True),
    sa.Column("held_until", sa.Float, nullable=True),
)
runs = sa.Table(
    "dash_runs", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("lesson", sa.String(32), primary_key=True),
    sa.Column("class_code", sa.String(12), nullable=False),
    sa.Column("nickname", sa.String(64), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("history", sa.JSON, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Index("dash_runs_class_lesson", "class_code", "lesson"),
    postgresql_with=_CHURN,
)
checkpoints = sa.Table(
    "dash_checkpoints", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("lesson", sa.String(32), primary_key=True),
    sa.Column("class_code", sa.String(12), nullable=False, index=True),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated", sa.Float, nullable=False),
    postgresql_with=_CHURN,
)
# Join attempts of the last minute, store-wide (core.classroom.access): a limit kept in one worker's
# memory would let a guesser multiply their tries by the number of workers behind the proxy.
join_attempts = sa.Table(
    "dash_join_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(16), nullable=False),      # what is tried: a class, the lecturer key
    sa.Column("key", sa.String(64), nullable=False),        # the client (a session)
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("failed", sa.Boolean, nullable=False),
    sa.Index("dash_join_attempts_key", "scope", "key", "at"),
)


def _v2_leases(conn: Connection) -> None:
    """Version 2: members get their lease (holder, held_until); dash_join_attempts is new and made
    by ``create_all`` before the migrations run. ALTER TABLE … ADD COLUMN reads the same in both
    dialects; the type is written by the dialect."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(members.name)}
    for col in (members.c.holder, members.c.held_until):
        if col.name not in have:
            conn.execute(sa.text(f"ALTER TABLE {members.name} ADD COLUMN {col.name} "
                                 f"{col.type.compile(dialect=conn.dialect)}"))


# version -> the step that brings a store at version-1 to it
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _v2_leases}


class StoreError(RuntimeError):
    """The store could not be reached or answered in time (the page says the class view is away)."""


def database_url(url: str | None = None) -> str:
    """``DASH_CLASS_DB`` or the default SQLite file; ``postgresql://`` and ``postgres://`` are
    driven by psycopg 3 (SQLAlchemy's default PostgreSQL driver would be psycopg2)."""
    url = (url or os.environ.get("DASH_CLASS_DB") or DEFAULT_URL).strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            try:
                pathlib.Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError:          # reported as StoreError on first use, like any store away
                pass
        engine = sa.create_engine(u, connect_args={"timeout": TIMEOUT_SECONDS, "check_same_thread": False},
                                  pool_size=4, max_overflow=4, pool_timeout=TIMEOUT_SECONDS)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL: readers (the lecturer) never block the writers (every worker's publisher);
            # NORMAL: no fsync per commit (a power cut may lose the last seconds, never corrupt).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(TIMEOUT_SECONDS * 1000)}")
            cur.close()
        return engine
    if u.get_backend_name() == "postgresql":
        return sa.create_engine(u, pool_pre_ping=True, pool_size=2, max_overflow=4, pool_timeout=TIMEOUT_SECONDS,
                                connect_args={"connect_timeout": int(TIMEOUT_SECONDS),
                                              "options": f"-c statement_timeout={int(TIMEOUT_SECONDS * 1000)}"})
    raise ValueError(f"DASH_CLASS_DB: {u.get_backend_name()!r} is not supported (sqlite or postgresql)")


def _upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    keys = [c.name for c in table.primary_key.columns]
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys,
                                      set_={c: stmt.excluded[c] for c in rows[0] if c not in keys})
    conn.execute(stmt, rows)


class Store:
    """The class store. Thread-safe (the engine's pool); every method may raise ``StoreError``."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self._ready = False
        self._ready_lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "Store":
        return cls()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ schema
    def _connect(self, write: bool = False) -> Any:
        if not self._ready:
            self.migrate()
        try:
            return self.engine.begin() if write else self.engine.connect()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"the class store is unavailable ({type(e).__name__})") from e

    def migrate(self) -> int:
        """Create the tables and bring the schema to SCHEMA_VERSION; returns the version found."""
        with self._ready_lock:
            if self._ready:
                return SCHEMA_VERSION
            for attempt in range(3):       # several workers may start at once: the loser retries
                try:
                    with self.engine.begin() as conn:
                        metadata.create_all(conn, checkfirst=True)
                        found = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
                        if found is None:
                            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                            found = SCHEMA_VERSION
                        if found > SCHEMA_VERSION:
                            raise StoreError(f"the class store has schema version {found}, newer than this "
                                             f"app's {SCHEMA_VERSION}: update the app on every worker")
                        for v in range(found + 1, SCHEMA_VERSION + 1):
                            MIGRATIONS[v](conn)
                            conn.execute(schema_version.update().values(version=v))
                    self._ready = True
                    return found
                except StoreError:
                    raise
                except sa.exc.SQLAlchemyError as e:
                    if attempt == 2:
                        raise StoreError(f"the class store is unavailable ({type(e).__name__})") from e
                    time.sleep(0.2 * (attempt + 1))
        return SCHEMA_VERSION

    def run(self, fn: Callable[[Connection], Any], write: bool = False) -> Any:
        """``fn(conn)`` in one connection (one transaction if ``write``); StoreError if away."""
        return self._run(fn, write)

    def _run(self, fn: Callable[[Connection], Any], write: bool = False) -> Any:
        try:
            with self._connect(write) as conn:
                return fn(conn)
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"the class store is unavailable ({type(e).__name__})") from e

    # ------------------------------------------------------------------ classes
    def create_class(self, now: float | None = None) -> str:
        now = time.time() if now is None else now

        def go(conn: Connection) -> str:
            self._purge(conn, now)
            for _ in range(20):
                code = codes.new_code()
                if conn.execute(sa.select(classes.c.code).where(classes.c.code == code)).first() is None:
                    conn.execute(classes.insert().values(code=code, created=now))
                    return code
            raise StoreError("could not find a free class code")
        return self._run(go, write=True)

    def _purge(self, conn: Connection, now: float) -> None:
        old = [r.code for r in conn.execute(sa.select(classes.c.code).where(
            classes.c.created < now - CLASS_HOURS * 3600))]
        if old:
            for t in (checkpoints, runs, members):
                conn.execute(t.delete().where(t.c.class_code.in_(old)))
            conn.execute(classes.delete().where(classes.c.code.in_(old)))

    def class_info(self, code: str, now: float | None = None) -> dict[str, Any] | None:
        """The class (created, sweep, message, members) if it exists and has not expired."""
        now = time.time() if now is None else now

        def go(conn: Connection) -> dict[str, Any] | None:
            row = conn.execute(sa.select(classes).where(classes.c.code == code)).first()
            if row is None or row.created < now - CLASS_HOURS * 3600:
                return None
            n = conn.execute(sa.select(sa.func.count()).select_from(members)
                             .where(members.c.class_code == code)).scalar()
            return {"code": row.code, "created": row.created, "sweep": row.sweep, "message": row.message,
                    "members": int(n or 0)}
        return self._run(go)

    def list_classes(self, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        return self._run(lambda conn: [r.code for r in conn.execute(
            sa.select(classes.c.code).where(classes.c.created >= now - CLASS_HOURS * 3600)
            .order_by(classes.c.created.desc()))])

    def set_sweep(self, code: str, sweep: dict[str, Any] | None) -> None:
        self._run(lambda conn: conn.execute(classes.update().where(classes.c.code == code).values(sweep=sweep)),
                  write=True)

    def send_message(self, code: str, message: dict[str, Any] | None) -> None:
        """Replace the class's message (every student sees the newest one once: ``id`` grows)."""
        def go(conn: Connection) -> None:
            old = conn.execute(sa.select(classes.c.message).where(classes.c.code == code)).scalar()
            msg = None if message is None else {**message, "id": int((old or {}).get("id", 0)) + 1}
            conn.execute(classes.update().where(classes.c.code == code).values(message=msg))
        self._run(go, write=True)

    # ------------------------------------------------------------------ members
    def join(self, code: str, nickname: str, now: float | None = None, holder: str | None = None,
             lease: float = 0.0) -> str | None:
        """A new member of class ``code``: their run token, or None if there is no such class.
        ``holder``: the session that joined holds the run for ``lease`` seconds (core.classroom.access)."""
        now = time.time() if now is None else now
        nickname = codes.clean_nickname(nickname)

        def go(conn: Connection) -> str | None:
            row = conn.execute(sa.select(classes.c.created).where(classes.c.code == code)).first()
            if row is None or row.created < now - CLASS_HOURS * 3600:
                return None
            token = codes.new_run_token()
            conn.execute(members.insert().values(token=token, class_code=code, nickname=nickname, joined=now,
                                                 holder=holder, held_until=now + lease if holder else None))
            return token
        return self._run(go, write=True)

    def member(self, code: str, token: str) -> str | None:
        """The nickname of run ``token`` if it is a member of class ``code`` (a reconnect)."""
        return self._run(lambda conn: conn.execute(sa.select(members.c.nickname).where(
            members.c.token == token, members.c.class_code == code)).scalar())

    def leave(self, token: str) -> None:
        """Forget the member and everything they published."""
        def go(conn: Connection) -> None:
            for t in (checkpoints, runs, members):
                conn.execute(t.delete().where(t.c.token == token))
        self._run(go, write=True)

    # ------------------------------------------------------------------ runs
    def publish(self, summaries: Iterable[dict[str, Any]],
                saves: Iterable[tuple[str, str, str, int, bytes]] = ()) -> int:
        """Upsert run summaries ({token, lesson, class_code, settings, step, metrics, history,
        updated}) and checkpoints ((token, lesson, class_code, step, data)) in one transaction;
        anything whose token has left the class (or never joined it) is dropped. Returns how many
        summaries were written."""
        rows, saves = list(summaries), list(saves)
        if not rows and not saves:
            return 0
        now = time.time()

        def go(conn: Connection) -> int:
            known = {(r.token, r.class_code): r.nickname for r in conn.execute(
                sa.select(members.c.token, members.c.class_code, members.c.nickname)
                .where(members.c.token.in_({r["token"] for r in rows} | {s[0] for s in saves})))}
            keep = [{**r, "nickname": known[(r["token"], r["class_code"])]} for r in rows
                    if (r["token"], r["class_code"]) in known]
            cols = ("token", "lesson", "class_code", "nickname", "settings", "step", "metrics", "history", "updated")
            _upsert(conn, runs, [{c: r[c] for c in cols} for r in keep])
            _upsert(conn, checkpoints, [{"token": t, "lesson": l, "class_code": c, "step": int(n), "data": bytes(d),
                                         "updated": now} for t, l, c, n, d in saves if (t, c) in known])
            return len(keep)
        return self._run(go, write=True)

    def class_runs(self, code: str, lesson: str | None = None) -> list[dict[str, Any]]:
        """Every run of class ``code`` (one lesson's, if given), newest first. Lecturer only."""
        q = sa.select(runs).where(runs.c.class_code == code)
        if lesson is not None:
            q = q.where(runs.c.lesson == lesson)
        q = q.order_by(runs.c.nickname, runs.c.token)
        return self._run(lambda conn: [dict(r._mapping) for r in conn.execute(q)])

    def lesson_counts(self, code: str) -> dict[str, int]:
        q = (sa.select(runs.c.lesson, sa.func.count()).where(runs.c.class_code == code)
             .group_by(runs.c.lesson))
        return self._run(lambda conn: {lesson: int(n) for lesson, n in conn.execute(q)})

    def own_run(self, token: str, lesson: str) -> dict[str, Any] | None:
        return self._run(lambda conn: next((dict(r._mapping) for r in conn.execute(
            sa.select(runs).where(runs.c.token == token, runs.c.lesson == lesson))), None))

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, token: str, lesson: str, class_code: str, step: int, data: bytes,
                        now: float | None = None) -> bool:
        """Keep the newest checkpoint of the run (members only). Returns whether it was kept."""
        now = time.time() if now is None else now

        def go(conn: Connection) -> bool:
            if conn.execute(sa.select(members.c.token).where(members.c.token == token,
                                                               members.c.class_code == class_code)).first() is None:
                return False
            _upsert(conn, checkpoints, [{"token": token, "lesson": lesson, "class_code": class_code,
                                         "step": int(step), "data": bytes(data), "updated": now}])
            return True
        return self._run(go, write=True)

    def load_checkpoint(self, token: str, lesson: str) -> dict[str, Any] | None:
        """{step, data, updated} of the run's newest checkpoint, or None."""
        return self._run(lambda conn: next((dict(r._mapping) for r in conn.execute(
            sa.select(checkpoints.c.step, checkpoints.c.data, checkpoints.c.updated)
            .where(checkpoints.c.token == token, checkpoints.c.lesson == lesson))), None))

    # ------------------------------------------------------------------ size (benchmarks)
    def size_bytes(self) -> int:
        """What the store takes on disk: the SQLite file with its WAL, or PostgreSQL's tables."""
        if self.backend == "sqlite":
            path = pathlib.Path(sa.engine.make_url(self.url).database or "")
            return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.is_file())
        names = [t.name for t in metadata.sorted_tables]
        return int(self._run(lambda conn: sum(conn.execute(sa.text("SELECT pg_total_relation_size(:t)"),
                                                           {"t": n}).scalar() or 0 for n in names)))


_STORE: Store | None = None
_STORE_LOCK = threading.Lock()


def shared() -> Store:
    """The process's one store (one engine and pool per worker), built on first use."""
    global _STORE
    with _STORE_LOCK:
        if _STORE is None or _STORE.url != database_url():
            _STORE = Store()
        return _STORE
