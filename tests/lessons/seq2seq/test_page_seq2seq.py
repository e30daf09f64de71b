"""AppTest: the seq2seq page (pages/seq2seq.py) opens, steps, reacts to live and structural
settings, explains a bad typed input, and loads the pretrained run."""
from apptest_util import is_training, metric, press_pause, press_train, run_page


def test_page_opens_steps_reacts_and_resets():
    at = run_page("pages/seq2seq.py")
    assert metric(at, "Steps trained") == "0"
    assert len(at.get("vega_lite_chart")) == 4, "accuracy, attention map, by length, loss"
    assert at.latex, "the context-vector equation is written out"
    at.button(key="seq2seq_step_0").click().run()
    assert metric(at, "Steps trained") == "1" and not at.exception

    # live: the learning rate and the decoding apply without a restart
    at.select_slider(key="seq2seq_lr").set_value(0.01).run()
    at.radio(key="seq2seq_decoding").set_value("beam").run()
    runner = at.session_state["seq2seq_runner"]
    assert metric(at, "Steps trained") == "1" and runner.trainer.opt.param_groups[0]["lr"] == 0.01
    assert runner.trainer.config.decoding == "beam"

    # structural: the attention type rebuilds both models with a notice
    at.selectbox(key="seq2seq_attention").set_value("dot").run()
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    assert at.session_state["seq2seq_runner"].trainer.models["attn"].attention == "dot"
    at.button(key="seq2seq_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_typed_input_is_used_or_gets_a_clear_message():
    at = run_page("pages/seq2seq.py")
    at.text_input(key="seq2seq_probe").set_value("3rd of May 1999").run()
    assert not at.warning
    assert any("`3rd of may 1999`" in m.value and "1999-05-03" in m.value for m in at.markdown)
    at.text_input(key="seq2seq_probe").set_value("3rd of may 1999 ☺").run()
    assert any("not in this task's alphabet" in w.value for w in at.warning) and not at.exception
    at.selectbox(key="seq2seq_task").set_value("reverse").run()
    at.text_input(key="seq2seq_probe").set_value("1" * 17).run()
    assert any("at most 16" in w.value for w in at.warning)
    at.text_input(key="seq2seq_probe").set_value("12345").run()
    assert any("`54321`" in m.value for m in at.markdown)


def test_train_toggles_and_pretrained_loads():
    at = run_page("pages/seq2seq.py")
    press_train(at, "seq2seq")
    assert is_training(at, "seq2seq")
    press_pause(at, "seq2seq")
    assert not is_training(at, "seq2seq")
    at.button(key="seq2seq_pretrained").click().run()
    assert any("pretrained" in s.value for s in at.success)
    assert float(metric(at, "Exact match, with attention").split()[0]) >= 99.0
    at.selectbox(key="seq2seq_task").set_value("reverse").run()      # the task's own shipped run
    at.button(key="seq2seq_pretrained").click().run()
    assert at.session_state["seq2seq_runner"].trainer.config.task == "reverse" and not at.exception


def test_settings_come_from_the_url():
    at = run_page("pages/seq2seq.py", seq2seq_task="Reverse a digit string", seq2seq_max_len="10", seq2seq_seed="3")
    cfg = at.session_state["seq2seq_runner"].trainer.config
    assert (cfg.task, cfg.max_len, cfg.seed) == ("reverse", 10, 3)
