"""The class in the app (AppTest): joining from a link with a nickname, nothing shared before
joining, leaving, a reconnect continuing the saved run, the lecturer's key and view, sending a step
and a sweep to the students, and the page going on when the store is away."""
from __future__ import annotations

import pathlib
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.classroom import access
from core.classroom.publish import publisher
from core.classroom.store import Store

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY = "lecturer-key-for-tests-7f3a"
NASTY = "<b>x</b> **b** [x](y)"        # 22 characters: fits the nickname box


@pytest.fixture(autouse=True)
def publish_every_frame(monkeypatch):
    """Summaries at every frame (the app: every 2 s), so a test's few steps are all published."""
    monkeypatch.setattr("core.ui.classroom.SUMMARY_SECONDS", 0.0)


@pytest.fixture
def env(monkeypatch, store_url):
    monkeypatch.setenv("DASH_CLASS_DB", store_url)
    monkeypatch.setenv("DASH_LECTURER_KEY", KEY)
    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_env(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'class.db'}"
    monkeypatch.setenv("DASH_CLASS_DB", url)
    monkeypatch.setenv("DASH_LECTURER_KEY", KEY)
    s = Store(url)
    yield s
    s.close()


def lesson(params: dict | None = None, home: bool = False, name: str = "gan1d") -> AppTest:
    """The lesson's page (the 1D GAN's unless named); ``home``: through Home.py's navigation, so
    page switches work."""
    at = AppTest.from_file(str(ROOT / ("Home.py" if home else f"pages/{name}.py")), default_timeout=90)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if home:
        at.run()
        at.switch_page(f"pages/{name}.py")
        for k, v in (params or {}).items():
            at.query_params[k] = v
    return at.run()


def join(at: AppTest, nick: str = "ada") -> AppTest:
    at.text_input(key="class_join_nick").set_value(nick)
    return at.button(key="class_join_btn").click().run()


def step(at: AppTest, times: int = 1, name: str = "gan1d") -> AppTest:
    for _ in range(times):
        at.button(key=f"{name}_step_0").click().run()
    return at


def trained(at: AppTest) -> int:
    """The page's step (or epoch) counter."""
    return int([m.value for m in at.metric if "trained" in m.label][0].replace(",", ""))


def worker_dies(store: Store, at: AppTest) -> None:
    """What a killed worker leaves behind: nobody renews its page's hold on the run, which runs out
    (``release`` stands in for the LEASE_SECONDS' wait)."""
    token = at.session_state["class_token"]
    publisher().unhold(token)
    access.release(store, {token: None})


def texts(at: AppTest) -> str:
    return "\n".join(str(getattr(e, "value", "")) for e in
                     [*at.markdown, *at.caption, *at.info, *at.error, *at.warning, *at.success])


def flushed() -> None:
    publisher().flush_now()


def test_join_share_and_leave(env):
    code = env.create_class()
    at = lesson({"class": code})                     # the link ?class=K7Q2 fills the code in
    assert at.text_input(key="class_join_code").value == code
    join(at, NASTY)
    assert not at.exception
    token = at.session_state["class_token"]
    assert dict(at.query_params) == {"class": code, "run": token}
    sharing = [m.value for m in at.sidebar.markdown if "Sharing" in m.value][0]
    assert "<b>" not in sharing and "\\*\\*b\\*\\*" in sharing and "\\[x\\]\\(y\\)" in sharing
    step(at)
    flushed()
    runs = env.class_runs(code)
    assert [(r["nickname"], r["lesson"]) for r in runs] == [(" ".join(NASTY.split()), "gan1d")]
    at.button(key="class_leave_btn").click().run()
    flushed()
    assert env.class_runs(code) == [] and "class" not in at.query_params and "run" not in at.query_params
    assert at.text_input(key="class_join_code")       # the join box again


def test_nothing_is_published_before_joining(sqlite_env):
    code = sqlite_env.create_class()
    at = step(lesson({"class": code}), 3)
    flushed()
    assert sqlite_env.class_runs(code) == [] and not at.exception


def test_wrong_codes_are_refused_and_rate_limited(sqlite_env):
    from core.classroom import codes
    at = lesson()
    at.text_input(key="class_join_code").set_value("AAAAAA")
    for _ in range(codes.JOIN_TRIES_PER_MINUTE):
        join(at)
        assert "no class with that code" in texts(at)
    join(at)
    assert "Too many join attempts" in texts(at) and "class_token" not in at.session_state


@pytest.mark.parametrize("name, steps", [("gan1d", 40), ("forecast", 3)])
def test_a_reconnect_continues_the_saved_run(sqlite_env, name, steps):
    """What a student whose worker died sees: a new session on the same address continues from
    the last checkpoint in the store (read back through the upload path, rebuilt by the lesson's
    own ``from_checkpoint``: forecasting's slices its epochs) with a notice."""
    code = sqlite_env.create_class()
    first = join(lesson({"class": code}, name=name))
    step(first, steps, name)                         # single steps; a checkpoint is saved at once
    flushed()
    saved = sqlite_env.load_checkpoint(first.session_state["class_token"], name)
    assert saved is not None and saved["step"] >= 1
    worker_dies(sqlite_env, first)
    again = lesson(dict(first.query_params), name=name)          # a fresh session: the old one is gone
    assert not again.exception
    assert again.session_state["class_nick"] == "ada"
    assert f"continues from step {saved['step']:,}" in texts(again)
    assert trained(again) == saved["step"]
    runner = again.session_state[f"{name}_runner"]
    assert runner.trainer.history.arrays()["step"][0] == 1          # the history, not a fresh run
    assert type(runner.trainer) is type(first.session_state[f"{name}_runner"].trainer)
    if name == "forecast":                           # the live page's slicing, as its own runs have
        from core.lessons import forecast
        assert runner.trainer.slice_seconds == forecast.LIVE_SLICE_SECONDS
    step(again, 1, name)                             # and it goes on from there
    assert trained(again) == saved["step"] + 1 and not again.exception


def test_the_lecturer_view_needs_the_key_which_stays_out_of_the_url(env, caplog, capsys):
    code = env.create_class()
    student = join(lesson({"class": code}), "ada")
    step(student)
    flushed()
    at = AppTest.from_file(str(ROOT / "pages/class.py"), default_timeout=90).run()
    assert "ada" not in texts(at) and not at.dataframe          # a student sees only the key box
    at.text_input(key="lecturer_key_try").set_value("guess")
    at.button[0].click().run()
    assert "not the lecturer key" in texts(at) and not at.dataframe
    at.text_input(key="lecturer_key_try").set_value(KEY)
    at.button[0].click().run()
    assert not at.exception and at.session_state["lecturer_ok"]
    assert KEY not in str(dict(at.query_params)) and at.session_state["lecturer_key_try"] == ""
    captured = capsys.readouterr()
    assert KEY not in caplog.text and KEY not in captured.out and KEY not in captured.err      # nor in a log
    assert code in texts(at)
    table = at.dataframe[0].value
    assert list(table["nickname"]) == ["ada"] and list(table["step"]) == [1]


def test_the_lecturer_view_is_off_without_a_key(sqlite_env, monkeypatch):
    monkeypatch.delenv("DASH_LECTURER_KEY")
    at = AppTest.from_file(str(ROOT / "pages/class.py"), default_timeout=90).run()
    assert "DASH_LECTURER_KEY" in texts(at) and not at.text_input


def lecturer(code: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/class.py"), default_timeout=90).run()
    at.text_input(key="lecturer_key_try").set_value(KEY)
    at.button[0].click().run()
    at.selectbox(key="lecturer_class").set_value(code).run()
    return at


def _wait_for_class_info(code: str) -> None:
    publisher().class_info(code)
    flushed()
    deadline = time.time() + 10
    while time.time() < deadline and not (publisher().class_info(code) or {}).get("message") \
            and not (publisher().class_info(code) or {}).get("sweep"):
        time.sleep(0.1)


def test_send_a_step_and_a_sweep(sqlite_env):
    code = sqlite_env.create_class()
    student = join(lesson({"class": code}, home=True))
    lec = lecturer(code)
    lec.segmented_control(key="lecturer_part").set_value("Send a step").run()
    lec.number_input(key="lecturer_send_step").set_value(3).run()
    lec.button(key="lecturer_send").click().run()
    assert not lec.exception
    _wait_for_class_info(code)
    student.run()
    assert "From your lecturer" in texts(student) and "Open step 3 of 1D GAN" in texts(student)
    student.button(key="class_msg_open").click().run()
    assert not student.exception
    # followed: the lesson at step 3 (the guide reads ?gan1d_step=3), still in the class
    assert student.query_params["gan1d_step"] == ["3"] or student.query_params["gan1d_step"] == "3"
    assert student.query_params["class"] in (code, [code]) and student.session_state["class_msg_done"] == 1
    assert "From your lecturer" not in texts(student)
    # a sweep: the lecturer pins everything but lr_d; each student is dealt a value and a link
    lec.segmented_control(key="lecturer_part").set_value("Sweep").run()
    lec.selectbox(key="lecturer_sweep_setting").set_value("lr_d").run()
    lec.multiselect(key="lecturer_sweep_options").set_value([1e-4, 1e-3]).run()
    lec.button(key="lecturer_sweep_start").click().run()
    sweep = sqlite_env.class_info(code)["sweep"]
    assert sweep["setting"] == "lr_d" and "lr_d" not in sweep["pins"] and sweep["pins"]["lr_g"] == 1e-3
    publisher()._infos.clear()
    _wait_for_class_info(code)
    student.run()
    assert "Class sweep" in texts(student)
    dealt = student.selectbox(key="class_sweep_value").value
    assert dealt in (1e-4, 1e-3)
    from core.classroom import view
    page, params = view.sweep_link(sweep, dealt)
    assert page == "pages/gan1d.py" and params["gan1d_lr_g"] == "0.001" and "lr_d" in params["gan1d_hide"]
    # two runs with the sweep's settings fill the chart's points
    runs = [{"lesson": "gan1d", "settings": {**sweep["pins"], "lr_d": v}, "metrics": {sweep["metric"]: 0.5},
             "step": 100, "nickname": n, "token": n * 8} for n, v in (("a", 1e-4), ("b", 1e-3))]
    runs.append({**runs[0], "settings": {**runs[0]["settings"], "lr_g": 0.01}})          # off the pins
    assert [p["value"] for p in view.sweep_points(runs, sweep)] == [1e-4, 1e-3]


def test_the_page_goes_on_when_the_store_is_away(monkeypatch):
    monkeypatch.setenv("DASH_CLASS_DB", "postgresql://nobody@127.0.0.1:9/none")
    at = lesson({"class": "ACDEFG"})
    join(at)
    assert "class view is unavailable" in texts(at) and not at.exception
    step(at, 3)                                       # training and frames unaffected
    counter = [m.value for m in at.metric if "trained" in m.label][0]
    assert counter == "3"


def test_a_link_with_someone_elses_or_an_old_token_does_not_join(sqlite_env):
    one, two = sqlite_env.create_class(), sqlite_env.create_class()
    token = sqlite_env.join(one, "ada")
    at = lesson({"class": two, "run": token})         # a token of class one does not open class two
    assert "class_token" not in at.session_state and "expired" in texts(at)
    assert "run" not in at.query_params
    at = lesson({"class": one, "run": "A" * 22})      # well-formed, never issued
    assert "class_token" not in at.session_state and "expired" in texts(at)
    at = lesson({"class": one, "run": token})         # the right pair: back in, no new member
    assert at.session_state["class_nick"] == "ada" and sqlite_env.class_info(one)["members"] == 1


def test_a_copied_address_does_not_take_over_an_open_run(sqlite_env):
    """A student hands on their address (it carries their run token while their page is open):
    the second browser neither acts as the run nor can delete it, and gets the join box."""
    code = sqlite_env.create_class()
    owner = join(lesson({"class": code}))
    token = owner.session_state["class_token"]
    step(owner, 2)
    other = lesson(dict(owner.query_params))         # the copied address, in another browser
    assert "class_token" not in other.session_state and "open in another window" in texts(other)
    assert not [b for b in other.button if b.key == "class_leave_btn"]    # no way to delete the run
    step(other, 5)                                   # their steps are their own, not the run's
    flushed()
    assert sqlite_env.own_run(token, "gan1d")["step"] == 2
    other.session_state["class_wait"] = (code, token, 0.0)               # WAIT_SECONDS later
    other.run()
    assert "does not take it over" in texts(other) and "run" not in other.query_params
    assert other.text_input(key="class_join_code").value == code         # they may join as themselves
    step(owner)                                      # the owner goes on, unaffected
    flushed()
    assert owner.session_state["class_token"] == token and sqlite_env.own_run(token, "gan1d")["step"] == 3
    assert sqlite_env.class_info(code)["members"] == 1


def test_a_reload_takes_its_run_up_once_the_old_page_has_gone(sqlite_env):
    """The same address in a new session while the old page still holds the run (a reload, a
    reconnect): it waits, and continues the run once the old session is gone."""
    code = sqlite_env.create_class()
    old = join(lesson({"class": code}))
    token = old.session_state["class_token"]
    step(old, 4)
    flushed()
    saved = sqlite_env.load_checkpoint(token, "gan1d")
    new = lesson(dict(old.query_params))
    assert "class_token" not in new.session_state and "continues here in a few seconds" in texts(new)
    step(new, 2)                                     # meanwhile a fresh run of its own: never saved as the run
    # the old tab's session disconnected: at its next round the publisher gives the run back
    publisher().hold(token, old.session_state["class_holder"], alive=lambda: False)
    publisher()._renew()
    new.run()                                        # the waiting box asks again (every RETRY_SECONDS)
    assert not new.exception and new.session_state["class_token"] == token
    assert f"continues from step {saved['step']:,}" in texts(new) and trained(new) == saved["step"]
    assert "class_wait" not in new.session_state
    flushed()
    assert sqlite_env.load_checkpoint(token, "gan1d")["step"] == saved["step"]


def test_the_lesson_link_to_share_leaves_the_run_token_out(sqlite_env):
    from core import export
    code = sqlite_env.create_class()
    at = join(lesson({"class": code}))
    token = at.session_state["class_token"]
    assert at.query_params["run"] in (token, [token])            # the student's own address has it
    at.toggle(key="gan1d_takehome_open").set_value(True).run()
    links = [c.value for c in at.code if f"class={code}" in c.value]
    assert links and not any(token in c.value for c in at.code), links    # the class, never the run
    link = export.lesson_link("http://hall:8501/gan1d", {"class": [code], "run": [token], "gan1d_lr_d": ["0.001"]},
                              "gan1d", ["lr_d"], present=True)
    assert token not in link and "run=" not in link and f"class={code}" in link and "gan1d_lr_d=0.001" in link
