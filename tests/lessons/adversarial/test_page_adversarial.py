"""AppTest: the adversarial page (pages/adversarial.py) opens, steps, reacts to live and structural
settings, attacks with FGSM/BIM/PGD (targeted too), loads its pretrained run, reads the URL."""
from apptest_util import metric, run_page


def latex(at) -> str:
    return " ".join(e.value for e in at.get("latex") if hasattr(e, "value")) or str(at.get("latex"))


def test_page_opens_steps_reacts_and_resets():
    at = run_page("pages/adversarial.py", timeout=120)
    assert not at.error
    assert metric(at, "Steps trained") == "0"
    assert at.get("imgs") or at.get("image"), "the digit, its gradient sign, δ and x̃ are drawn"
    assert "sign" in latex(at)
    at.button(key="adversarial_step_0").click().run()
    assert metric(at, "Steps trained") == "1"

    at.select_slider(key="adversarial_lr").set_value(0.0003).run()          # live: no restart
    assert metric(at, "Steps trained") == "1" and not at.error
    assert at.session_state["adversarial_runner"].trainer.opt.param_groups[0]["lr"] == 0.0003
    at.slider(key="adversarial_adv_share").set_value(1.0).run()
    assert at.session_state["adversarial_runner"].trainer.config.adv_share == 1.0

    at.radio(key="adversarial_model").set_value("mlp").run()                 # structural: rebuilt
    assert metric(at, "Steps trained") == "0" and any("rebuilt" in i.value for i in at.info)
    at.button(key="adversarial_step_0").click().run()
    at.button(key="adversarial_reset_btn").click().run()
    assert metric(at, "Steps trained") == "0" and not at.exception


def test_attack_settings_are_live_and_every_method_draws():
    at = run_page("pages/adversarial.py", timeout=120)
    at.button(key="adversarial_step_0").click().run()
    for method in ("bim", "pgd", "fgsm"):
        at.selectbox(key="adversarial_method").set_value(method).run()
        assert not at.exception and metric(at, "Steps trained") == "1"
        assert at.session_state["adversarial_runner"].trainer.config.method == method
    at.toggle(key="adversarial_targeted").set_value(True).run()
    assert "make it say 3" in " ".join(m.value for m in at.markdown)
    at.slider(key="adversarial_eps").set_value(0.35).run()
    assert "0.35" in latex(at) and not at.exception


def test_pretrained_run_loads_and_is_fooled():
    at = run_page("pages/adversarial.py", timeout=120)
    at.button(key="adversarial_pretrained").click().run()
    assert not at.exception and any("pretrained" in s.value for s in at.success)
    assert int(metric(at, "Steps trained").replace(",", "")) >= 1000
    assert int(metric(at, "clean model, clean digits").rstrip(" %")) >= 95
    assert int(metric(at, "clean model, ε = 0.2").rstrip(" %")) <= 30
    assert int(metric(at, "robust model, ε = 0.2").rstrip(" %")) >= 70


def test_settings_come_from_the_url():
    at = run_page("pages/adversarial.py", timeout=120, adversarial_seed="7", adversarial_model="MLP",
                  adversarial_eps="0.1", adversarial_method="PGD", adversarial_size="small")
    cfg = at.session_state["adversarial_runner"].trainer.config
    assert (cfg.seed, cfg.model, cfg.eps, cfg.method, cfg.size) == (7, "mlp", 0.1, "pgd", "small")


def test_blow_up_gets_a_message():
    at = run_page("pages/adversarial.py", timeout=120, adversarial_model="MLP")
    at.select_slider(key="adversarial_lr").set_value(10.0).run()
    at.session_state["adversarial_runner"].step(300)
    at.run()
    assert not at.exception and any("blew up" in e.value for e in at.error)
    at.button(key="adversarial_reset_btn").click().run()
    assert not any("blew up" in e.value for e in at.error)
