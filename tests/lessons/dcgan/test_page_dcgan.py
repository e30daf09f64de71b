"""AppTest: the DCGAN page (pages/dcgan.py) opens, steps, reacts, loads its pretrained runs and
explores the latent space on Pause."""
import pytest
from apptest_util import is_training, metric, press_pause, press_train, run_page


def test_page_opens_steps_reacts_and_resets():
    at = run_page("pages/dcgan.py", timeout=120)
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert metric(at, "digits seen") == "0 / 10"
    assert at.get("imgs") or at.get("image"), "the digit grids are drawn"
    at.button(key="dcgan_step_0").click().run()
    assert metric(at, "Steps trained") == "1"

    at.select_slider(key="dcgan_lr_g").set_value(0.002).run()           # live: no restart
    assert metric(at, "Steps trained") == "1" and not at.error
    assert at.session_state["dcgan_runner"].trainer.opt_g.param_groups[0]["lr"] == 0.002
    at.slider(key="dcgan_slope").set_value(0.1).run()
    assert at.session_state["dcgan_runner"].trainer.D.slope == 0.1

    at.selectbox(key="dcgan_upsampling").set_value("nearest").run()      # structural: rebuilt
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="dcgan_step_0").click().run()
    at.button(key="dcgan_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


@pytest.mark.parametrize("conditional", [False, True])
def test_pretrained_runs_load_and_the_latent_space_opens(conditional):
    at = run_page("pages/dcgan.py", timeout=120, **({"dcgan_conditional": "true"} if conditional else {}))
    at.button(key="dcgan_pretrained").click().run()
    assert not at.exception and any("pretrained" in s.value for s in at.success)
    assert int(metric(at, "Steps trained").replace(",", "")) > 1000
    assert metric(at, "digits seen") == "10 / 10"
    if conditional:
        assert int(metric(at, "asked digit").rstrip(" %")) >= 90
    text = " ".join(m.value for m in at.markdown)
    assert "A walk in z" in text and "Arithmetic on z" in text
    assert ("A walk between labels" in text) == conditional
    assert not any("Not enough" in w.value for w in at.warning)
    at.number_input(key="dcgan_end").set_value(42).run()
    assert not at.exception


def test_training_hides_the_latent_explorer_until_pause():
    at = run_page("pages/dcgan.py", timeout=120)
    press_train(at, "dcgan")
    assert is_training(at, "dcgan")
    assert any("Pause training to explore" in i.value for i in at.info)
    press_pause(at, "dcgan")
    assert not is_training(at, "dcgan") and not any("Pause training to explore" in i.value for i in at.info)


def test_settings_come_from_the_url():
    at = run_page("pages/dcgan.py", timeout=120, dcgan_seed="7", dcgan_k="2", dcgan_upsampling="bilinear resize + conv 3×3",
                  dcgan_conditional="true")
    cfg = at.session_state["dcgan_runner"].trainer.config
    assert (cfg.seed, cfg.k, cfg.upsampling, cfg.conditional) == (7, 2, "bilinear", True)


def test_blow_up_gets_a_message():
    at = run_page("pages/dcgan.py", timeout=120)
    at.select_slider(key="dcgan_lr_d").set_value(10.0).run()
    at.select_slider(key="dcgan_lr_g").set_value(10.0).run()
    at.session_state["dcgan_runner"].step(40)
    at.run()
    assert not at.exception and any("blew up" in e.value for e in at.error)
    at.button(key="dcgan_reset_btn").click().run()
    assert not any("blew up" in e.value for e in at.error)


def test_the_code_and_the_averaged_generator_are_settings():
    """The InfoGAN code is structural (a rebuilt run), the averaged generator live (no restart)."""
    at = run_page("pages/dcgan.py", timeout=120)
    trainer = at.session_state["dcgan_runner"].trainer
    assert trainer.codes == 30 and trainer.config.average
    at.button(key="dcgan_step_0").click().run()
    at.toggle(key="dcgan_average").set_value(False).run()
    assert metric(at, "Steps trained") == "1" and not at.session_state["dcgan_runner"].trainer.config.average
    at.select_slider(key="dcgan_codes").set_value(0).run()
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    assert at.session_state["dcgan_runner"].trainer.codes == 0 and not at.exception
