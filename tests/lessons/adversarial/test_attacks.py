"""The attacks against torch: FGSM's perturbation is ε·sign of the input gradient that
torch.autograd gives (here through ``loss.backward()`` and ``x.grad``, the textbook way), images
stay in [0, 1], BIM/PGD never leave the ε-ball, and the batched accuracy curve equals one FGSM per ε."""
import pytest
import torch
import torch.nn.functional as F

from core.lessons.adversarial import (fgsm, fgsm_curve, fgsm_perturbation, input_gradient, make_model, pgd, project,
                                      to_unit)
from core.lessons.adversarial.trainer import heldout_interleaved

torch.set_num_threads(1)


@pytest.fixture(scope="module", params=["mlp", "convnet"])
def setup(request):
    torch.manual_seed(0)
    model = make_model(request.param, 16 if request.param == "convnet" else 64).double()
    x, y = heldout_interleaved(torch.device("cpu"))
    return model, x[:40].double(), y[:40]


def autograd_gradient(model, x, label):
    """∇ₓ of the summed cross-entropy by ``backward()`` on a leaf copy of x."""
    xx = x.clone().requires_grad_(True)
    F.cross_entropy(model(xx), label, reduction="sum").backward()
    return xx.grad


@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.05, 0.2, 0.5])
def test_fgsm_perturbation_is_eps_sign_of_the_autograd_gradient(setup, eps, targeted):
    model, x, y = setup
    label = torch.full_like(y, 3) if targeted else y
    g = autograd_gradient(model, x, label)
    expected = (-1.0 if targeted else 1.0) * eps * g.sign()
    eta = fgsm_perturbation(model, x, label, eps, targeted)
    assert torch.allclose(eta, expected, atol=1e-12, rtol=0)
    assert torch.allclose(input_gradient(model, x, label), g, atol=1e-10, rtol=1e-6)
    x_adv = fgsm(model, x, label, eps, targeted)
    inside = ((x + expected) >= 0) & ((x + expected) <= 1)         # where the clip does not bite
    assert torch.allclose((x_adv - x)[inside], expected[inside], atol=1e-12)
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    assert float((x_adv - x).abs().max()) <= eps + 1e-12


@pytest.mark.parametrize("method_start", [False, True])
@pytest.mark.parametrize("eps,alpha,steps", [(0.1, 0.02, 10), (0.2, 0.1, 7), (0.05, 0.1, 3), (0.3, 0.005, 40)])
def test_pgd_never_leaves_the_eps_ball_and_stays_an_image(setup, eps, alpha, steps, method_start):
    model, x, y = setup
    gen = torch.Generator().manual_seed(1)
    path = pgd(model, x, y, eps, alpha, steps, random_start=method_start, gen=gen)
    assert path.linf.shape == (steps + 1, len(y)) and path.p_label.shape == (steps + 1, len(y))
    assert float(path.linf.max()) <= eps + 1e-12                   # every iterate, not only the last
    assert float((path.x_adv - x).abs().max()) <= eps + 1e-12
    assert float(path.x_adv.min()) >= 0.0 and float(path.x_adv.max()) <= 1.0
    assert torch.all((path.p_label >= 0) & (path.p_label <= 1))


def test_bim_first_step_is_fgsm_with_alpha_when_alpha_fits_in_the_ball(setup):
    model, x, y = setup
    one = pgd(model, x, y, eps=0.3, alpha=0.1, steps=1).x_adv
    assert torch.allclose(one, fgsm(model, x, y, 0.1), atol=1e-12)


def test_project_is_the_clip_to_the_ball_and_to_images():
    x = torch.tensor([0.0, 0.5, 1.0, 0.95])
    z = torch.tensor([-1.0, 0.9, 0.2, 2.0])
    # Π(z) = clip(z, max(x − ε, 0), min(x + ε, 1))
    assert torch.allclose(project(z, x, 0.1), torch.tensor([0.0, 0.6, 0.9, 1.0]))


def test_the_batched_curve_equals_one_fgsm_per_eps(setup):
    model, x, y = setup
    grid = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.4], dtype=torch.float64)
    curve = fgsm_curve(model, x, y, grid)
    with torch.no_grad():
        one_by_one = [float((model(fgsm(model, x, y, float(e))).argmax(1) == y).double().mean()) for e in grid]
    assert curve.tolist() == pytest.approx(one_by_one, abs=1e-6)     # counts of 40 digits


def test_targeted_attack_descends_the_target_loss():
    torch.manual_seed(0)
    model = make_model("mlp", 64)
    x, y = heldout_interleaved(torch.device("cpu"))
    t = torch.full_like(y[:50], 3)
    before = F.cross_entropy(model(x[:50]), t)
    after = F.cross_entropy(model(fgsm(model, x[:50], t, 0.05, targeted=True)), t)
    assert after < before


def test_pixels_are_converted_to_unit_range():
    x = torch.tensor([-1.0, 0.0, 1.0])
    assert to_unit(x).tolist() == [0.0, 0.5, 1.0]
    xh, _ = heldout_interleaved(torch.device("cpu"))
    assert float(xh.min()) >= 0.0 and float(xh.max()) <= 1.0
