"""The class store on both backends (a real PostgreSQL server and SQLite): schema and version,
joining, publishing, one class never reading another's runs, leaving, checkpoints read back through
the uploads' path, and several writers at once."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from core.classroom import store as cs
from core.classroom.publish import checkpoint_of, resume_state, summarize
from core.classroom.store import Store, StoreError


def summary(token: str, code: str, lesson: str = "gan1d", step: int = 5) -> dict:
    return {"token": token, "class_code": code, "lesson": lesson, "settings": {"lr_d": 0.001}, "step": step,
            "metrics": {"d_loss": 0.69}, "history": {"step": [1, step], "d_loss": [0.7, 0.69]},
            "updated": time.time()}


def test_schema_is_created_and_versioned(store):
    assert store.migrate() == cs.SCHEMA_VERSION
    again = Store(store.url)
    assert again.migrate() == cs.SCHEMA_VERSION          # a second worker: nothing to do
    with store.engine.connect() as c:
        assert c.execute(sa.select(cs.schema_version.c.version)).scalars().all() == [cs.SCHEMA_VERSION]
        c.execute(cs.schema_version.update().values(version=cs.SCHEMA_VERSION + 1))
        c.commit()
    newer = Store(store.url)
    with pytest.raises(StoreError, match="newer"):
        newer.migrate()
    again.close()
    newer.close()


def test_join_publish_and_read(store):
    code = store.create_class()
    a, b = store.join(code, "ada"), store.join(code, "bo")
    assert a and b and a != b and store.member(code, a) == "ada"
    assert store.publish([summary(a, code), summary(b, code, "lstm", 9)]) == 2
    assert store.publish([summary(a, code, step=50)]) == 1                    # an upsert, not a new row
    runs = store.class_runs(code)
    assert sorted((r["nickname"], r["lesson"], r["step"]) for r in runs) == [("ada", "gan1d", 50), ("bo", "lstm", 9)]
    assert [r["nickname"] for r in store.class_runs(code, "lstm")] == ["bo"]
    assert store.lesson_counts(code) == {"gan1d": 1, "lstm": 1}
    assert runs[0]["history"]["d_loss"] == [0.7, 0.69]                       # JSON comes back as JSON
    store.send_message(code, {"text": "go"})
    store.send_message(code, {"text": "again"})
    store.set_sweep(code, {"lesson": "gan1d", "setting": "lr_d", "values": [1e-4, 1e-3]})
    info = store.class_info(code)
    assert info["message"] == {"text": "again", "id": 2} and info["members"] == 2
    assert info["sweep"]["values"] == [1e-4, 1e-3]


def test_one_class_cannot_read_or_write_another(store):
    one, two = store.create_class(), store.create_class()
    a, b = store.join(one, "ada"), store.join(two, "bo")
    # a token of class one claiming class two is dropped, and so is a token that never joined
    assert store.publish([summary(a, one), summary(b, two), summary(a, two), summary("x" * 22, one)]) == 2
    assert [r["nickname"] for r in store.class_runs(one)] == ["ada"]
    assert [r["nickname"] for r in store.class_runs(two)] == ["bo"]
    assert store.member(two, a) is None                     # a's token does not open class two
    assert store.save_checkpoint(a, "gan1d", two, 5, b"x") is False
    store.publish([], [(a, "gan1d", two, 5, b"x")])          # the publisher's batched form too
    assert store.load_checkpoint(a, "gan1d") is None


def test_unknown_and_expired_classes_cannot_be_joined(store):
    assert store.join("AAAAAA", "ada") is None
    old = store.create_class(now=time.time() - (cs.CLASS_HOURS + 1) * 3600)
    assert store.join(old, "ada") is None and store.class_info(old) is None
    fresh = store.create_class()              # creating a class purges the expired ones
    assert store.list_classes() == [fresh]


def test_leaving_deletes_what_was_shared(store):
    code = store.create_class()
    a = store.join(code, "ada")
    store.publish([summary(a, code)])
    assert store.save_checkpoint(a, "gan1d", code, 5, b"data")
    store.leave(a)
    assert store.class_runs(code) == [] and store.load_checkpoint(a, "gan1d") is None
    assert store.publish([summary(a, code)]) == 0            # a summary still queued when leaving
    assert store.member(code, a) is None


def test_checkpoint_round_trip_through_the_upload_path(store):
    """A real run saved as the ⬇ Checkpoint bytes and read back by ``read_checkpoint_bytes`` and the
    lesson's ``from_checkpoint``: same step, same history, same weights."""
    import torch
    from core.lessons.gan1d import Gan1DConfig, Gan1DTrainer
    code = store.create_class()
    token = store.join(code, "ada")
    t = Gan1DTrainer(Gan1DConfig(seed=3))
    t.step(120)
    data = checkpoint_of(t)
    assert store.save_checkpoint(token, "gan1d", code, t.step_count, data)
    state = resume_state(store, token, "gan1d")
    assert state.pop("_saved_at") <= time.time()
    back = Gan1DTrainer.from_checkpoint(state)
    assert back.step_count == 120
    h0, h1 = t.history.arrays(), back.history.arrays()
    assert all((h0[k] == h1[k]).all() for k in h0)
    assert torch.equal(torch.as_tensor(t.snapshot()["fake"]), torch.as_tensor(back.snapshot()["fake"]))
    # the same run's summary is small: settings, step, metrics and a thinned history
    s = summarize(t, token, code)
    assert s["step"] == 120 and len(s["history"]["step"]) <= 60 and s["metrics"]["d_loss"] is not None
    # a damaged checkpoint is refused by the uploads' checks, not loaded
    store.save_checkpoint(token, "gan1d", code, 1, b"not a checkpoint")
    from core.checkpoints import CheckpointError
    with pytest.raises(CheckpointError):
        resume_state(store, token, "gan1d")


def test_several_writers_at_once(store):
    """Four workers' stores (engines of their own) publishing into one class at the same time."""
    code = store.create_class()
    tokens = [store.join(code, f"s{i}") for i in range(40)]
    errors = []

    def worker(k: int) -> None:
        s = Store(store.url)
        try:
            for rnd in range(10):
                s.publish([summary(t, code, step=rnd) for t in tokens[k::4]])
        except Exception as e:          # pragma: no cover - shown on failure
            errors.append(e)
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    runs = store.class_runs(code)
    assert len(runs) == 40 and {r["step"] for r in runs} == {9}


def test_a_store_that_is_away_raises_store_error_quickly():
    dead = Store("postgresql://nobody@127.0.0.1:9/none")      # port 9: nothing listens
    t0 = time.perf_counter()
    with pytest.raises(StoreError):
        dead.class_info("AAAAAA")
    assert time.perf_counter() - t0 < 3 * cs.TIMEOUT_SECONDS + 2
    dead.close()
