"""Each setting declared once: declarations, checks and the config helpers (core.settings)."""
import dataclasses

import pytest

from core import settings
from core.settings import live_field, lr_field, seed_field, structural_field


@dataclasses.dataclass
class Toy:
    width: int = structural_field(8, label="Width", bounds=(2, 64), help="hidden units")
    act: str = structural_field("relu", label="Activation", options=("relu", "tanh"))
    lr: float = lr_field(1e-3)
    batch: int = live_field(32, options=(8, 16, 32), widget="select_slider")
    panels: tuple = live_field(("a",), options=("a", "b", "c"), max_items=2)
    on: bool = live_field(True)
    seed: int = seed_field()
    hidden: float = structural_field(0.5)


def test_declarations_carry_what_the_widgets_need():
    d = settings.declarations(Toy)
    assert d["width"].widget == "slider" and d["width"].bounds == (2, 64) and d["width"].help == "hidden units"
    assert d["act"].widget == "select" and not d["act"].live
    assert d["lr"].widget == "select_slider" and d["lr"].live and d["lr"].show(0.001) == "0.001"
    assert d["panels"].widget == "multiselect" and d["on"].widget == "toggle"
    assert d["seed"].widget == "number" and d["seed"].bounds == settings.SEED_BOUNDS
    assert d["hidden"].widget == "none" and d["hidden"].label == "Hidden"


def test_check_accepts_the_defaults_and_names_the_field_out_of_bounds():
    settings.check(Toy())
    with pytest.raises(ValueError, match="Width must be between 2 and 64"):
        settings.check(Toy(width=1))
    with pytest.raises(ValueError, match="Width"):
        settings.check(Toy(width=float("nan")))
    with pytest.raises(ValueError, match="Activation: 'gelu' is not one of the choices"):
        settings.check(Toy(act="gelu"))
    with pytest.raises(ValueError, match="at most 2"):
        settings.check(Toy(panels=("a", "b", "c")))
    # learning rates: the options are stops on a slider; any value inside the bounds is fine
    settings.check(Toy(lr=0.05))
    with pytest.raises(ValueError, match="Learning rate"):
        settings.check(Toy(lr=100.0))


def test_changed_fields_split_live_and_structural():
    live, structural = settings.changed_fields(Toy(), Toy(lr=0.1, width=9))
    assert live == ["lr"] and structural == ["width"]
    merged = settings.with_live_fields(Toy(), Toy(lr=0.1, width=9))
    assert merged.lr == 0.1 and merged.width == 8


def test_config_round_trip_keeps_tuples_and_drops_unknown_keys():
    cfg = Toy(panels=("b", "c"))
    data = settings.config_to_dict(cfg)
    data["panels"] = list(data["panels"])      # as a checkpoint stores it
    data["retired_setting"] = 3
    assert settings.config_from_dict(Toy, data) == cfg
