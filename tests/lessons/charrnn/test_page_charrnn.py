"""AppTest: the character page opens, steps, writes, reacts to live and structural settings,
takes a pasted or uploaded text (with messages for bad ones), and loads the pretrained runs."""
from apptest_util import is_training, metric, press_pause, press_train, run_page

PAGE = "pages/charrnn.py"
TEXT = "Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\n" * 40


def samples_shown(at) -> str:
    return next(m.value for m in at.markdown if "T = " in m.value and "display:flex" in m.value)


def test_page_opens_steps_and_writes():
    at = run_page(PAGE)
    assert not at.error and metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) == 3            # bits/char, candidates heatmap, temperature bars
    html = samples_shown(at)
    assert all(f"T = {T:g}" in html for T in (0.2, 0.5, 1, 1.5))
    at.button(key="charrnn_step_0").click().run()
    assert metric(at, "Steps trained") == "1"
    assert float(metric(at, "3-gram (to beat)")) < float(metric(at, "held-out bits/char"))
    # a live setting: no restart
    at.select_slider(key="charrnn_lr").set_value(0.01).run()
    assert metric(at, "Steps trained") == "1" and at.session_state["charrnn_runner"].trainer.opt.param_groups[0]["lr"] == 0.01
    at.multiselect(key="charrnn_temperatures").set_value([0.5, 2.0]).run()
    assert "T = 2" in samples_shown(at) and metric(at, "Steps trained") == "1"
    # a structural setting: rebuilt, with a notice
    at.selectbox(key="charrnn_cell").set_value("gru").run()
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="charrnn_step_0").click().run()
    at.button(key="charrnn_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_train_pause_and_pretrained():
    at = run_page(PAGE)
    press_train(at, "charrnn")
    assert is_training(at, "charrnn") and int(metric(at, "Steps trained").replace(",", "")) > 0
    press_pause(at, "charrnn")
    assert not is_training(at, "charrnn") and at.session_state["charrnn_runner"].held
    at.button(key="charrnn_pretrained").click().run()
    assert any("pretrained" in s.value for s in at.success), [w.value for w in at.warning]
    assert float(metric(at, "held-out bits/char")) < float(metric(at, "3-gram (to beat)"))
    assert any("Interpretable" in m.value for m in at.markdown)
    at.selectbox(key="charrnn_corpus").set_value("names").run()
    at.button(key="charrnn_pretrained").click().run()
    tr = at.session_state["charrnn_runner"].trainer
    assert tr.config.corpus == "names" and any("not in the list" in m.value for m in at.markdown)


def test_own_text_pasted_uploaded_and_refused():
    at = run_page(PAGE)
    at.selectbox(key="charrnn_corpus").set_value("custom").run()
    assert any("paste a text" in e.value for e in at.error) and not at.exception
    at.text_area(key="charrnn_paste").input("too short").run()
    assert any("at least 2,000" in e.value for e in at.error)
    at.text_area(key="charrnn_paste").input(TEXT).run()
    assert not at.error
    at.button(key="charrnn_step_0").click().run()
    tr = at.session_state["charrnn_runner"].trainer
    assert tr.corpus.name == "your text" and tr.step_count == 1
    at.file_uploader(key="charrnn_upload").set_value(("b.txt", b"\x00PK" * 2000, "text/plain")).run()
    assert any("binary" in e.value for e in at.error) and not at.exception
    at.file_uploader(key="charrnn_upload").set_value(("l.txt", TEXT.replace("a", "é").encode("latin-1"),
                                                     "text/plain")).run()
    assert any("not UTF-8" in e.value for e in at.error)
    at.file_uploader(key="charrnn_upload").set_value(("u.txt", TEXT.upper().encode(), "text/plain")).run()
    assert not at.error and at.session_state["charrnn_runner"].trainer.corpus.text.startswith("CALL ME")


def test_settings_come_from_the_url():
    at = run_page(PAGE, charrnn_seed="7", charrnn_sampling="top-p (nucleus)", charrnn_prompt="Of ")
    cfg = at.session_state["charrnn_runner"].trainer.config
    assert cfg.seed == 7 and cfg.sampling == "top-p" and cfg.prompt == "Of "
