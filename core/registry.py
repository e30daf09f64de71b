"""THE table of lessons. Home, the sidebar, the pretrain command, device choice and the tests all
read it; adding a lesson is a package under ``core/lessons/<key>/``, a page ``pages/<key>.py`` and
one row here (README, "Adding a lesson").

A lesson's one name, ``key``, is its package, its page file, its URL path and the prefix of its
URL parameters and session keys, its checkpoint files' prefix and its guide ``docs/<key>.md``.
No Streamlit in here.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Topic groups, in the order the sidebar and Home show them (the suggested order of a course).
GROUPS = ("GANs", "Recurrent networks", "Convolutions", "Representations")


@dataclass(frozen=True)
class Lesson:
    key: str                          # the one name
    title: str
    icon: str
    group: str                        # one of GROUPS
    blurb: str                        # one sentence for the Home card
    seeds: str                        # the lectures it teaches from
    checkpoints: tuple[str, ...] = () # shipped files pretrained/<stem>.pt (all start with key)
    # Headless steps/s of the default trainer on (one CPU thread, CUDA), measured with
    # ``python benchmarks/bench_devices.py`` on the lent NVIDIA H100 (torch 2.11.0+cu130),
    # 2026-11-24. Auto uses the GPU only where it was measured faster. None = not measured.
    measured: tuple[float, float] | None = None
    # Links handed out before the lessons had one name: the old page path and parameter prefix.
    old_path: str | None = None
    old_prefix: str | None = None
    aliases: tuple[str, ...] = field(default=())   # further old parameter prefixes, if any
    # URL parameters that open the page on its live (training) view, for pages with several views
    live_query: dict[str, str] = field(default_factory=dict)
    # The two to four settings the lesson is about: drawn in a row above the live view (the
    # rest stay folded in ⚙️ Settings). Names of the trainer config's declared fields.
    key_settings: tuple[str, ...] = ()
    # The main live view: the box ``st-key-<key>_<main>_view`` (a chart's or a picture's; a
    # prefix where the page draws one per model). The first screen and Home's card show it.
    main: str = ""

    @property
    def page(self) -> str:
        return f"pages/{self.key}.py"

    @property
    def package(self) -> str:
        return f"core.lessons.{self.key}"

    @property
    def picture(self) -> str:
        return f"assets/{self.key}.png"

    @property
    def main_selector(self) -> str:
        """CSS selector of the main view's box (a prefix where the page draws one box per model)."""
        if self.main.endswith("_"):
            return f'[class*="st-key-{self.key}_{self.main}"]'
        return f".st-key-{self.key}_{self.main}_view"

    @property
    def guide(self) -> str:
        return f"docs/{self.key}.md"

    @property
    def built(self) -> bool:
        return (ROOT / self.page).is_file()


LESSONS: tuple[Lesson, ...] = (
    Lesson("gan1d", "1D GAN", "🎯", "GANs",
           "A generator learns to emit points (x, y) on a curve such as y = x², judged by a discriminator.",
           "seed 000 activity 4, seed 003", ("gan1d_x2",), (1603.2, 545.0), "1D_GAN", None,
           key_settings=("g_loss", "k", "lr_d", "lr_g"), main="chart_field"),
    Lesson("gan2d", "Mode collapse", "🌀", "GANs",
           "A GAN on 2D mixtures drops modes; WGAN-GP, unrolling, packing and labels bring them back.",
           "seed 000, seed 001, seed 003",
           ("gan2d_vanilla", "gan2d_minimax", "gan2d_wgangp", "gan2d_unrolled", "gan2d_pacgan",
            "gan2d_mbstd", "gan2d_cgan"), (222.4, 129.1), "Mode_Collapse", None,
           key_settings=("methods", "dataset", "k"), main="chart_samples_"),
    Lesson("dcgan", "DCGAN on digits", "✍️", "GANs",
           "A convolutional GAN draws handwritten digits; a conditional one draws the digit you ask for.",
           "seed 000 activity 5, seed 002, seeds 001 and 004", ("dcgan_digits", "dcgan_conditional"),
           key_settings=("conditional", "lr_d", "lr_g"), main="fake"),
    Lesson("forecast", "LSTM forecasting", "📈", "Recurrent networks",
           "An LSTM forecasts airline passengers (or your own CSV) against an MLP on a sliding window.",
           "seed 000 activities 1–2, seed 003", ("forecast_airline_lstm",), (50.9, 32.8),
           "LSTM_Forecast", "fc",
           key_settings=("model", "look_back", "hidden", "lr"), main="chart_series"),
    Lesson("lstm", "Inside an LSTM", "🔬", "Recurrent networks",
           "Gates, cell state and gradients through time, live — and why vanilla RNN gradients vanish.",
           "seed 001, seed 000", ("lstm_lstm", "lstm_gru", "lstm_rnn"), (301.8, 264.3), "Inside_LSTM", None,
           key_settings=("task", "cell", "seq_len"), main="chart_loss"),
    Lesson("charrnn", "Text, one character at a time", "✒️", "Recurrent networks",
           "An LSTM learns to write names or prose one character at a time; temperature, sampling and its cells, live.",
           "seed 004, seed 001, seed 000", ("charrnn_names", "charrnn_prose"),
           key_settings=("cell", "lr", "temperatures"), main="chart_bits"),
    Lesson("seq2seq", "Sequence to sequence, and attention", "🔁", "Recurrent networks",
           "An encoder-decoder translates dates and reverses digits; attention fixes the one-vector bottleneck, and you watch it align.",
           "seed 001", ("seq2seq_dates", "seq2seq_reverse"),
           key_settings=("task", "attention", "lr"), main="chart_attn"),
    Lesson("upsampling", "Upsampling vs transposed convolution", "🧩", "Convolutions",
           "Nearest, bilinear and transposed convolution side by side, and where checkerboards come from.",
           "seed 000, seed 002", ("upsampling_decoders",), (51.1, 121.3), "Upsampling", "up",
           live_query={"upsampling_view": "decoders"}, key_settings=("resolution", "lr"), main="decoders"),
    Lesson("conv1d", "Convolutions for sequences", "〰️", "Convolutions",
           "Conv1D, a WaveNet-style dilated causal stack and an LSTM race on the same series; receptive fields drawn.",
           "seed 000 activity 3, seed 004, seed 002", ("conv1d_longrange", "conv1d_control"),
           key_settings=("task", "seq_len", "lr"), main="chart_acc"),
    Lesson("autoencoders", "Autoencoders and a VAE", "🗺️", "Representations",
           "Digits squeezed into a 2-D latent space you can walk through: an autoencoder, a denoising one and a VAE.",
           "seed 004, seed 001", ("autoencoders_digits",),
           key_settings=("beta", "noise", "lr"), main="chart_map_"),
    Lesson("adversarial", "Adversarial examples", "🐼", "Representations",
           "A nudge no one can see makes a digit classifier say 3; FGSM, PGD and adversarial training, live.",
           "seed 001", ("adversarial_digits",),
           key_settings=("eps", "method", "digit"), main="attack"),
)

BY_KEY: dict[str, Lesson] = {lesson.key: lesson for lesson in LESSONS}


def lesson(key: str) -> Lesson:
    return BY_KEY[key]


def built() -> list[Lesson]:
    """The lessons whose page exists, in course order (group, then table order)."""
    return sorted((l for l in LESSONS if l.built), key=lambda l: GROUPS.index(l.group))


def default_trainers(seed: int = 0) -> dict[str, tuple[type, object]]:
    """key -> (the lesson's Trainer class, its default config with ``seed``) for every built
    lesson; a run of set length (epochs) gets its largest allowed length, so it keeps training
    as long as a benchmark or test wants. Imports the lesson packages (torch) on demand."""
    import dataclasses
    import importlib

    from core import settings
    out = {}
    for row in built():
        cls = importlib.import_module(row.package).Trainer
        cfg = cls.Config(seed=seed)
        decl = settings.declarations(cls.Config).get("epochs")
        if decl is not None:
            cfg = dataclasses.replace(cfg, epochs=max(decl.options or decl.bounds))
        out[row.key] = (cls, cfg)
    return out


def prefix_aliases() -> dict[str, str]:
    """Old URL-parameter prefix -> the lesson key that replaced it (``fc`` -> ``forecast``)."""
    out = {}
    for l in LESSONS:
        for old in ((l.old_prefix,) if l.old_prefix else ()) + l.aliases:
            out[old] = l.key
    return out
