"""AppTest: the autoencoder page (pages/autoencoders.py) opens, steps, reacts, loads its pretrained
run and explores the latent space on Pause."""
from apptest_util import is_training, metric, press_pause, press_train, run_page


def test_page_opens_steps_reacts_and_resets():
    at = run_page("pages/autoencoders.py", timeout=120)
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert metric(at, "Steps trained") == "0"
    assert metric(at, "VAE digits") == "0 / 10"
    assert len(at.get("vega_lite_chart")) >= 7, "three latent maps and the loss and quality charts"
    assert at.get("imgs") or at.get("image"), "the reconstructions are drawn"
    assert any("varepsilon" in m.value for m in at.get("latex")), "z = μ + σ·ε is written out"
    at.button(key="autoencoders_step_0").click().run()
    assert metric(at, "Steps trained") == "1"

    at.select_slider(key="autoencoders_beta").set_value(4.0).run()          # live: no restart
    at.slider(key="autoencoders_noise").set_value(0.2).run()
    assert metric(at, "Steps trained") == "1" and not at.error
    t = at.session_state["autoencoders_runner"].trainer
    assert (t.config.beta, t.config.noise) == (4.0, 0.2)
    at.select_slider(key="autoencoders_lr").set_value(0.01).run()
    assert t.opt.param_groups[0]["lr"] == 0.01

    at.select_slider(key="autoencoders_latent_size").set_value(8).run()      # structural: rebuilt
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="autoencoders_step_0").click().run()
    at.button(key="autoencoders_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_pretrained_run_loads_and_the_latent_space_opens():
    at = run_page("pages/autoencoders.py", timeout=120)
    at.button(key="autoencoders_pretrained").click().run()
    assert not at.exception and any("pretrained" in s.value for s in at.success)
    assert int(metric(at, "Steps trained").replace(",", "")) > 1000
    text = " ".join(m.value for m in at.markdown)
    assert "Pick a latent point" in text and "Walk between two digits" in text
    assert any("frames read as digits" in c.value for c in at.caption)
    at.radio(key="autoencoders_model").set_value("ae").run()
    at.slider(key="autoencoders_z1").set_value(3.5).run()
    at.number_input(key="autoencoders_digit_b").set_value(0).run()
    assert not at.exception and not at.error


def test_training_hides_the_explorer_until_pause():
    at = run_page("pages/autoencoders.py", timeout=120)
    press_train(at, "autoencoders")
    assert is_training(at, "autoencoders")
    assert any("Pause training to explore" in i.value for i in at.info)
    press_pause(at, "autoencoders")
    assert not is_training(at, "autoencoders")
    assert not any("Pause training to explore" in i.value for i in at.info)


def test_settings_come_from_the_url():
    at = run_page("pages/autoencoders.py", timeout=120, autoencoders_seed="7", autoencoders_beta="0.25",
                  autoencoders_latent_size="4", autoencoders_noise="0.3")
    cfg = at.session_state["autoencoders_runner"].trainer.config
    assert (cfg.seed, cfg.beta, cfg.latent_size, cfg.noise) == (7, 0.25, 4, 0.3)


def test_blow_up_gets_a_message():
    at = run_page("pages/autoencoders.py", timeout=120)
    at.select_slider(key="autoencoders_lr").set_value(10.0).run()
    at.session_state["autoencoders_runner"].step(40)
    at.run()
    assert not at.exception and any("blew up" in e.value for e in at.error)
    at.button(key="autoencoders_reset_btn").click().run()
    assert not any("blew up" in e.value for e in at.error)
