"""The class in the app (AppTest): joining from a link with a nickname, nothing shared before
joining, leaving, a reconnect continuing the saved run, the lecturer's key and view, sending a step
and a sweep to the students, and the page going on when the store is away."""
from __future__ import annotations

import pathlib
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.classroom.publish import publisher
from core.classroom.store import Store

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY = "lecturer-key-for-tests-7f3a"
NASTY = "<b>x</b> **b** [x](y)"        # 22 characters: fits the nickname box


@pytest.fixture(autouse=True)
def publish_every_frame(monkeypatch):
    """Summaries at every frame (the app: every 2 s), so a test's few steps are all published."""
    monkeypatch.setattr("core.ui.classroom.SUMMARY_SECONDS", 0.0)
    # AppTest gives every test's sessions one id: a fresh join limit per test
    from core.classroom import codes
    monkeypatch.setattr(codes, "LIMITER", codes.JoinLimiter())


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


def lesson(params: dict | None = None, home: bool = False) -> AppTest:
    """The 1D GAN page; ``home``: through Home.py's navigation, so page switches work."""
    at = AppTest.from_file(str(ROOT / ("Home.py" if home else "pages/gan1d.py")), default_timeout=90)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if home:
        at.run()
        at.switch_page("pages/gan1d.py")
        for k, v in (params or {}).items():
            at.query_params[k] = v
    return at.run()


def join(at: AppTest, nick: str = "ada") -> AppTest:
    at.text_input(key="class_join_nick").set_value(nick)
    return at.button(key="class_join_btn").click().run()


def step(at: AppTest, times: int = 1) -> AppTest:
    for _ in range(times):
        at.button(key="gan1d_step_0").click().run()
    return at


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


def test_a_reconnect_continues_the_saved_run(sqlite_env):
    """What a student whose worker died sees: a new session on the same address continues from
    the last checkpoint in the store (read back through the upload path) with a notice."""
    code = sqlite_env.create_class()
    first = join(lesson({"class": code}))
    step(first, 40)                                  # 40 single steps; a checkpoint is saved at once
    flushed()
    saved = sqlite_env.load_checkpoint(first.session_state["class_token"], "gan1d")
    assert saved is not None and saved["step"] >= 1
    again = lesson(dict(first.query_params))         # a fresh session: the old one is gone
    assert not again.exception
    assert again.session_state["class_nick"] == "ada"
    assert f"continues from step {saved['step']:,}" in texts(again)
    counter = [m.value for m in again.metric if "trained" in m.label][0]
    assert int(counter.replace(",", "")) == saved["step"]
    runner = again.session_state["gan1d_runner"]
    assert runner.trainer.history.arrays()["step"][0] == 1          # the history, not a fresh run


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
