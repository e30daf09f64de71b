"""Class codes and nicknames; the publisher that never blocks a frame (the join limit, counted in the
store: test_access.py)."""
from __future__ import annotations

import re
import time

import pytest

from core.classroom import codes, publish
from core.classroom.publish import Publisher
from core.classroom.store import Store, StoreError


def test_class_codes_are_unambiguous_and_unguessable_enough():
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000                               # 2.4e8 possible: no collision expected
    assert all(len(c) == codes.CODE_LENGTH >= 6 and set(c) <= set(codes.ALPHABET) for c in made)
    assert not set(codes.ALPHABET) & set("0O1IL5S2Z8B")    # nothing a projector makes ambiguous
    assert len(codes.ALPHABET) ** codes.CODE_LENGTH > 2e8
    code = codes.new_code()
    assert codes.normal_code(f" {code[:3].lower()}-{code[3:]} ") == code
    assert codes.normal_code("ABC") is None and codes.normal_code("AAAAAA<script>") is None
    assert codes.valid_token(codes.new_run_token()) and not codes.valid_token("../../etc")


@pytest.mark.parametrize("raw, shown", [
    ("  ada\u0000\u202e lovelace  ", "ada lovelace"),
    ("x" * 100, "x" * codes.NICK_MAX),
])
def test_nicknames_are_plain_text(raw, shown):
    assert codes.clean_nickname(raw) == shown


def test_nicknames_cannot_inject_markdown_or_html():
    for nasty in ["<img src=x onerror=alert(1)>", "[click](https://evil.example)", "**big** _it_ `c`",
                  "# heading", "$x^2$", "![i](http://x/p.png)", "a\\*b"]:
        out = codes.escape_markdown(codes.clean_nickname(nasty))
        assert "<" not in out and ">" not in out
        # every Markdown character is escaped: nothing left that could start a link, emphasis, math…
        assert not re.search(r"(?<!\\)[\[\]()*_`#$!]", out), out
    with pytest.raises(ValueError):
        codes.clean_nickname(" \u200b\n\t ")


def _summary(i: int = 0) -> dict:
    return {"token": f"tok{i:020d}", "class_code": "AAAAAA", "lesson": "gan1d", "settings": {}, "step": 1,
            "metrics": {}, "history": {"step": []}, "updated": time.time()}


def test_a_dead_store_never_blocks_the_frame():
    pub = Publisher(Store("postgresql://nobody@127.0.0.1:9/none"))
    t0 = time.perf_counter()
    for i in range(200):
        assert pub.offer(_summary(i), b"x" * 1000)
        pub.class_info("AAAAAA")
    assert time.perf_counter() - t0 < 0.5                  # 200 offers: dict inserts, no I/O
    pub.flush_now(timeout=20)
    ok, why = pub.status()
    assert not ok and "unavailable" in why


def test_a_slow_store_drops_instead_of_queueing_without_bound(monkeypatch, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    pub = Publisher(store)
    monkeypatch.setattr(publish, "MAX_PENDING", 50)
    monkeypatch.setattr(store, "publish", lambda rows: time.sleep(2) or len(list(rows)))
    t0 = time.perf_counter()
    results = [pub.offer(_summary(i)) for i in range(500)]
    assert time.perf_counter() - t0 < 0.5
    assert results.count(False) >= 400 and pub.dropped == results.count(False)
    assert pub.offer(_summary(3))                          # a newer summary of a queued run replaces it


def test_the_publisher_writes_and_reads_the_class(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    code = store.create_class()
    token = store.join(code, "ada")
    store.send_message(code, {"text": "hi", "page": "pages/gan1d.py", "params": {}})
    pub = Publisher(store)
    assert pub.class_info(code) is None                    # not read yet: the page never waits
    pub.offer({**_summary(), "token": token, "class_code": code}, b"ckpt")
    pub.flush_now()
    assert [r["nickname"] for r in store.class_runs(code)] == ["ada"]
    assert store.load_checkpoint(token, "gan1d")["data"] == b"ckpt"
    assert pub.class_info(code)["message"]["text"] == "hi" and pub.status() == (True, "")
    with pytest.raises(StoreError):
        Store("sqlite:////proc/no/such/dir/x.db").create_class()
