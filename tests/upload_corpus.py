"""Hostile checkpoint files for every lesson (issue 33), built from one good checkpoint each: no
file here is made by allocating what it declares (the bomb's 256 MiB of zeros are deflated in
1 MiB pieces), so building the whole corpus stays cheap."""
from __future__ import annotations

import io
import pathlib
import re
import struct
import zipfile
from typing import Any, Callable

import torch

from core.checkpoints import checkpoint_bytes

PLACEHOLDER = 123_457            # a tensor length that appears nowhere else in a checkpoint's pickle
BOMB_FLOATS = 64 * 2**20         # 256 MiB of float32 zeros, about 0.25 MB deflated
BIG_FLOATS = 5 * 2**20           # 20 MiB: under the coarse ceiling, over every lesson's budget
NUMPY_RNG = {"charrnn": "_rng", "seq2seq": "_rng"}   # lessons whose first generator is numpy's


class Pwn:
    """Unpickling this would create a file: a weights-only load must refuse it, unrun."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def _with_foreign(data: bytes, name: str, content: bytes) -> bytes:
    """The archive ``data`` with one more member, ``<its folder>/<name>``."""
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
        out.writestr(f"{src.infolist()[0].filename.split('/')[0]}/{name}", content)
    return buf.getvalue()


def forged(state: dict[str, Any], n_floats: int) -> bytes:
    """``state`` with one more tensor in its extra state, declared as ``n_floats`` float32 zeros
    and stored deflated (a decompression bomb when large)."""
    data = checkpoint_bytes({**state, "extra": {**state.get("extra", {}), "forged": torch.ones(PLACEHOLDER)}})
    src = zipfile.ZipFile(io.BytesIO(data))
    pkl_name = next(n for n in src.namelist() if n.endswith("/data.pkl"))
    old, new = struct.pack("<i", PLACEHOLDER), struct.pack("<i", n_floats)
    pkl = src.read(pkl_name)
    assert pkl.count(b"J" + old) == 2, "the placeholder's length and shape, nothing else"
    pkl = pkl.replace(b"J" + old, b"J" + new)
    key = _forged_key(src)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            if info.filename != key:
                out.writestr(info.filename, pkl if info.filename == pkl_name else src.read(info.filename))
    # the zeros go in deflated: the file is small, what it declares is not
    return _with_member(buf.getvalue(), key, n_floats * 4)


def _forged_key(src: zipfile.ZipFile) -> str:
    """The storage record of the placeholder tensor (the only one of its size)."""
    return next(i.filename for i in src.infolist() if i.file_size == 4 * PLACEHOLDER)


def _with_member(raw: bytes, name: str, nbytes: int) -> bytes:
    """``raw`` (a zip) with member ``name`` (re)written as ``nbytes`` zeros, deflated as they are
    written (never held whole)."""
    src, buf, zeros = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO(), bytes(2**20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            if info.filename != name:
                out.writestr(info, src.read(info.filename))
        member = zipfile.ZipInfo(name)
        member.compress_type = zipfile.ZIP_DEFLATED
        with out.open(member, "w") as f:
            for _ in range(nbytes // len(zeros)):
                f.write(zeros)
            f.write(bytes(nbytes % len(zeros)))
    return buf.getvalue()


def first_tensor(tree: Any, want: Callable[[torch.Tensor], bool], path: str = "") -> str | None:
    """The path (keys joined by '/') of the first tensor in ``tree`` that ``want`` accepts."""
    if torch.is_tensor(tree):
        return path if want(tree) else None
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else ()
    for k, v in items:
        found = first_tensor(v, want, f"{path}/{k}" if path else str(k))
        if found is not None:
            return found
    return None


def replaced(state: Any, path: str, value: Any) -> Any:
    """A copy of ``state`` (dicts and lists copied along ``path`` only) with ``value`` there."""
    key, _, rest = path.partition("/")
    if isinstance(state, dict):
        k = next(k for k in state if str(k) == key)
        return {**state, k: replaced(state[k], rest, value) if rest else value}
    out = list(state)
    out[int(key)] = replaced(out[int(key)], rest, value) if rest else value
    return out if isinstance(state, list) else tuple(out)


def hostile(lesson: str, state: dict[str, Any], other: dict[str, Any], pwn_path: str, bomb: bytes) -> dict[str, bytes]:
    """case -> file bytes, every one of which the lesson must refuse (``bomb``: one for all
    lessons, refused before its lesson is even read)."""
    is_float = lambda t: t.is_floating_point() and t.numel() > 0   # noqa: E731
    weight = first_tensor(state["model"] if lesson != "gan2d" else state["extra"], is_float)
    part = "model" if lesson != "gan2d" else "extra"
    opt_part = "optim" if lesson != "gan2d" else "extra"
    good = checkpoint_bytes(state)
    rng_bad: Any = ({"bit_generator": "PCG64", "state": {"state": "garbage", "inc": -1}, "has_uint32": 0, "uinteger": 0}
                    if lesson in NUMPY_RNG else torch.zeros(17, dtype=torch.uint8))
    nan = torch.full_like(_at(state[part], weight), float("nan"))
    cases = {
        "bomb": bomb,
        "oversized": forged(state, BIG_FLOATS),
        "nan": checkpoint_bytes({**state, part: replaced(state[part], weight, nan)}),
        "inf": checkpoint_bytes({**state, part: replaced(state[part], weight, torch.full_like(nan, float("inf")))}),
        "optimizer_shape": checkpoint_bytes({**state, opt_part: _bad_moments(lesson, state)}),
        "rng": checkpoint_bytes({**state, "rng": {NUMPY_RNG.get(lesson, "_gen"): rng_bad}}),
        "wrong_weight_shape": checkpoint_bytes({**state, part: replaced(state[part], weight, torch.zeros(3, 33))}),
        "other_lesson": checkpoint_bytes({**other, "lesson": lesson}),
        "truncated": good[: len(good) // 2],
        "extra_member": _with_foreign(good, "evil.py", b"import os\n"),
        "code": checkpoint_bytes({**state, "extra": {**state.get("extra", {}), "x": Pwn(pwn_path)}}),
        "lying_header": _lying(good),
    }
    return cases


def _bad_moments(lesson: str, state: dict[str, Any]) -> Any:
    """The optimiser part of ``state`` with Adam moments of shape (33,) for its first parameter
    (torch optimisers: an entry mapped through param_groups; the flat ones: their m tensor)."""
    if lesson == "gan2d":
        return replaced(state["extra"], f"runs/{next(iter(state['extra']['runs']))}/opt_g/m/0", torch.zeros(33))
    optim = state["optim"]
    sd = optim if "param_groups" in optim else next((v for v in optim.values() if isinstance(v, dict) and "param_groups" in v), None)
    if sd is None:                                   # gan1d's flat Adam
        return replaced(optim, first_tensor(optim, lambda t: t.is_floating_point() and t.dim() > 0), torch.zeros(33))
    first = sd["param_groups"][0]["params"][0]
    bad = {**sd, "state": {first: {"step": torch.tensor(5.0), "exp_avg": torch.zeros(33), "exp_avg_sq": torch.zeros(33)}}}
    return bad if sd is optim else {k: bad if v is sd else v for k, v in optim.items()}


def _at(tree: Any, path: str) -> Any:
    for key in path.split("/"):
        tree = next(v for k, v in tree.items() if str(k) == key) if isinstance(tree, dict) else tree[int(key)]
    return tree


def _lying(good: bytes) -> bytes:
    """``good`` with its largest tensor record's sizes understated by half in both zip headers."""
    src = zipfile.ZipFile(io.BytesIO(good))
    info = max((i for i in src.infolist() if re.search(r"/data/\d+$", i.filename)), key=lambda i: i.file_size)
    raw = bytearray(good)
    true, lie = struct.pack("<I", info.file_size), struct.pack("<I", info.file_size // 2)
    for sig, off in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):      # local header, central directory
        start = 0
        while (start := raw.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", raw, start + (26 if sig == b"PK\x03\x04" else 28))[0]
            head = 30 if sig == b"PK\x03\x04" else 46
            if raw[start + head:start + head + name_len].decode("utf-8", "replace") == info.filename:
                for f in (off, off + 4):              # compressed and uncompressed size (stored: equal)
                    if raw[start + f:start + f + 4] == true:
                        raw[start + f:start + f + 4] = lie
            start += 4
    return bytes(raw)
