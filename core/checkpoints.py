"""Checkpoints as one dict: {'lesson', 'config', 'step', 'model', 'optim', 'history', 'extra', 'rng'}.

Saved with ``torch.save``; read back by ONE loader for shipped files and uploads alike
(``read_checked``), which looks at the file before anything big is allocated:

1. the zip archive: its member list (torch's layout only: ``<name>/data.pkl``, ``<name>/data/<n>``
   and a few small markers) and the declared sizes, against a coarse ceiling;
2. ``data.pkl`` alone, read with a bounded read and unpickled by torch's own weights-only
   unpickler (no code can run) with every tensor placed on the *meta* device: the layout, the
   settings, every tensor's shape and dtype, and which storage record each tensor needs, without
   a byte of tensor data;
3. the lesson's own check of that skeleton (``TrainerBase.vet_layout``): the settings within
   their declarations, every tensor the shape a run with these settings has, the total within
   what such a run holds (plus a small margin);
4. each storage record streamed through a bounded read (a header that lies about a size fails
   its CRC or its length here), then ``torch.load(weights_only=True)`` for real;
5. the lesson's check of the values (``TrainerBase.vet_values``): finite weights and optimiser
   state, step counts and settings in range, random-number states a generator accepts.
"""
from __future__ import annotations

import importlib
import io
import pathlib
import re
import zipfile
from typing import Any

import torch

# The largest checkpoint a page accepts (the server refuses larger uploads too: maxUploadSize).
MAX_UPLOAD_BYTES = 5 * 2**20
# Before the lesson's own budget is known (it needs the file's settings, inside data.pkl), a
# coarse ceiling on what the archive declares: far above any lesson's run (the largest shipped
# file holds 0.7 MB), far below what would hurt a server.
MAX_UNPACKED_BYTES = 32 * 2**20
# data.pkl holds the settings, the histories (at most a few thousand numbers each) and the tensors'
# descriptions; the largest shipped one is 52 KB.
MAX_PICKLE_BYTES = 2**20
_MARKERS = {"version", "byteorder", ".format_version", ".storage_alignment", ".data/serialization_id",
            ".data/version"}
_MARKER_BYTES = 256
_STORAGE = re.compile(r"data/(\d+)")
_CHUNK = 2**20
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained"
HELP = "only .pt files saved by this app's ⬇ Checkpoint button can be loaded"


class CheckpointError(RuntimeError, ValueError):
    """A checkpoint is missing, unreadable, of the wrong lesson or does not fit it (the page says
    so and goes on). Also a ValueError: a file that does not fit the lesson was one before the
    checks moved in front of loading (``from_checkpoint`` raises ValueError for a mismatch)."""


class OwnedCheckpoint(dict):
    """A checkpoint read for one caller only (an upload): nobody else holds its tensors, so a
    trainer may keep them instead of copying (``TrainerBase.from_checkpoint``). ``fresh`` is
    the untrained run it was vetted against, handed once to the loader (no second build)."""

    fresh: Any = None

    def take_fresh(self) -> Any:
        fresh, self.fresh = self.fresh, None
        return fresh


def save_checkpoint(path: str | pathlib.Path, checkpoint: dict[str, Any]) -> None:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(path)  # never leave a half-written file where the app looks


def load_checkpoint(path: str | pathlib.Path, lesson: str | None = None) -> dict[str, Any]:
    """Read a shipped checkpoint through the same checks as an upload; ``CheckpointError`` with
    a readable reason."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path.name} is missing")
    return read_checked(path.read_bytes(), path.name, lesson)[0]


def read_checkpoint_bytes(data: bytes, name: str, lesson: str | None = None,
                          max_bytes: int = MAX_UPLOAD_BYTES, device: torch.device | None = None) -> OwnedCheckpoint:
    """An uploaded checkpoint, checked like a shipped one (a pickle that holds code is refused,
    never run); ``CheckpointError`` with a reason a student can act on."""
    if len(data) > max_bytes:
        raise CheckpointError(f"{name} is {len(data) / 2**20:.1f} MB; a checkpoint of this app is "
                              f"under {max_bytes / 2**20:.0f} MB")
    if not data:
        raise CheckpointError(f"{name} is empty")
    ckpt, fresh = read_checked(data, name, lesson, device)
    owned = OwnedCheckpoint(ckpt)
    owned.fresh = fresh
    return owned


def read_checked(data: bytes, name: str, lesson: str | None,
                 device: torch.device | None = None) -> tuple[dict[str, Any], Any]:
    """The one loader (see the module docstring): (the checkpoint, the fresh run it was vetted
    against, built on ``device``). ``lesson``: its trainer vets the file (None: only the archive
    and the layout are checked, and no run is built)."""
    fresh = None
    vetter = _vetter(lesson)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise CheckpointError(f"{name} could not be read as a checkpoint: it is damaged or incomplete (not a "
                              f"whole .pt archive); {HELP}") from e
    with zf:
        prefix, records = _members(zf, name)
        pkl = _bounded_read(zf, zf.getinfo(f"{prefix}/data.pkl"), name)
        skeleton, storages = _skeleton(pkl, name)
        _layout(skeleton, name, lesson)
        nbytes = _match_storages(storages, records, name)
        if vetter is not None:
            fresh = _vet(lambda: vetter.vet_layout(skeleton, nbytes, device), name)
        for info in records.values():      # a lying header fails here, before torch reads it
            _bounded_read(zf, info, name, keep=False)
    del skeleton
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - anything torch's reader rejects is a damaged file
        raise CheckpointError(f"{name} could not be read as a checkpoint ({type(e).__name__}); {HELP}") from e
    if vetter is not None:
        _vet(lambda: vetter.vet_values(ckpt), name)
    return ckpt, fresh


def _vetter(lesson: str | None) -> Any:
    """The trainer class that vets ``lesson``'s files (None for files outside the lesson table)."""
    from core import registry    # the table imports nothing heavy; the lesson package on demand
    row = registry.BY_KEY.get(lesson) if lesson else None
    if row is None:
        return None
    return getattr(importlib.import_module(row.package), "Trainer", None)


def _vet(check: Any, name: str) -> Any:
    try:
        return check()
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever an untrusted file trips in the checks is a refusal
        what = str(e) if isinstance(e, ValueError) else f"its contents do not fit this lesson ({type(e).__name__}: {e})"
        raise CheckpointError(f"{name} was refused: {what.rstrip('.')}") from e


def _members(zf: zipfile.ZipFile, name: str) -> tuple[str, dict[str, zipfile.ZipInfo]]:
    """(the archive's folder name, storage key -> member); CheckpointError for anything that is
    not torch's layout, or declares more than MAX_UNPACKED_BYTES."""
    infos = zf.infolist()
    if not infos:
        raise CheckpointError(f"{name} is an empty archive; {HELP}")
    prefix = infos[0].filename.split("/", 1)[0]
    records: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    total = 0
    for info in infos:
        inner = info.filename[len(prefix) + 1:] if info.filename.startswith(prefix + "/") else None
        storage = _STORAGE.fullmatch(inner or "")
        if inner is None or inner in seen or not (inner == "data.pkl" or inner in _MARKERS or storage):
            raise CheckpointError(f"{name} holds {info.filename!r}, which no checkpoint of this app has; {HELP}")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"{name} is encrypted or packed in an unusual way; {HELP}")
        if inner in _MARKERS and info.file_size > _MARKER_BYTES:
            raise CheckpointError(f"{name}: its entry {inner!r} is far larger than a checkpoint's; {HELP}")
        seen.add(inner)
        total += info.file_size
        if storage:
            records[storage.group(1)] = info
    if "data.pkl" not in seen:
        raise CheckpointError(f"{name} has no data.pkl, so it is not a checkpoint; {HELP}")
    if zf.getinfo(f"{prefix}/data.pkl").file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(f"{name}: its description part (data.pkl) is over "
                              f"{MAX_PICKLE_BYTES / 2**20:.0f} MB; no run of this app writes one that large")
    if total > MAX_UNPACKED_BYTES:
        raise CheckpointError(f"{name} unpacks to {total / 2**20:.0f} MB; a checkpoint of this app unpacks "
                              f"to under {MAX_UNPACKED_BYTES / 2**20:.0f} MB, so it was not opened")
    return prefix, records


def _bounded_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, keep: bool = True) -> bytes:
    """A member's bytes, read in chunks and never past its declared size (zipfile checks the CRC
    at the end, so a header that understates the size fails); ``keep=False`` only checks."""
    out, got = bytearray(), 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(min(_CHUNK, info.file_size - got + 1)):
                got += len(chunk)
                if got > info.file_size:
                    break
                if keep:
                    out += chunk
    except Exception as e:  # noqa: BLE001 - BadZipFile (CRC), EOFError, zlib.error: all a damaged file
        raise CheckpointError(f"{name} is damaged ({info.filename}: {type(e).__name__}); {HELP}") from e
    if got != info.file_size:
        raise CheckpointError(f"{name} is damaged: {info.filename} holds {got:,} bytes, its header says "
                              f"{info.file_size:,}; {HELP}")
    return bytes(out)


def _skeleton(pkl: bytes, name: str) -> tuple[Any, dict[str, tuple[torch.dtype, int]]]:
    """data.pkl unpickled by torch's weights-only unpickler, every tensor on the meta device (no
    data); also storage key -> (dtype, bytes) as the pickle asks for them."""
    from torch import _weights_only_unpickler as wou     # what torch.load(weights_only=True) uses
    storages: dict[str, tuple[torch.dtype, int]] = {}
    made: dict[str, Any] = {}

    def persistent_load(pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"{name} refers to something other than tensor data")
        _, storage_type, key, _location, numel = pid
        dtype = torch.uint8 if storage_type is torch.UntypedStorage else getattr(storage_type, "dtype", None)
        if not isinstance(dtype, torch.dtype) or not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"{name} describes a tensor in a way torch never writes")
        nbytes = numel * torch._utils._element_size(dtype)
        if key in storages and storages[key][1] != nbytes:
            raise CheckpointError(f"{name} gives one tensor store two sizes")
        if key not in made:
            storages[key] = (dtype, nbytes)
            made[key] = torch.storage.TypedStorage(wrap_storage=torch.UntypedStorage(nbytes, device="meta"),
                                                   dtype=dtype, _internal=True)
        return made[key]

    try:
        unpickler = wou.Unpickler(io.BytesIO(pkl), encoding="utf-8")
        unpickler.persistent_load = persistent_load
        skeleton = unpickler.load()
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - code, foreign classes, truncation: all refused unrun
        raise CheckpointError(f"{name} could not be read as a checkpoint ({type(e).__name__}); it may "
                              f"hold code, which is never run; {HELP}") from e
    return skeleton, storages


def _layout(ckpt: Any, name: str, lesson: str | None) -> None:
    """The layout every lesson's loader relies on (a damaged file that still unpickles, e.g.
    {"config": None, ...}, used to crash the page with a TypeError; tests/test_hostile.py)."""
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{name} is not a checkpoint of this app")
    for key in ("config", "model", "optim", "history", "extra", "rng"):
        if key in ckpt and not isinstance(ckpt[key], dict):
            raise CheckpointError(f"{name} is damaged ({key!r} is not a dict)")
    if "step" in ckpt and (isinstance(ckpt["step"], bool) or not isinstance(ckpt["step"], int)):
        raise CheckpointError(f"{name} is damaged ('step' is not a whole number)")
    if lesson is not None and ckpt.get("lesson") != lesson:
        raise CheckpointError(f"{name} belongs to lesson {ckpt.get('lesson')!r}, not {lesson!r}")


def _match_storages(storages: dict[str, tuple[torch.dtype, int]], records: dict[str, zipfile.ZipInfo],
                    name: str) -> int:
    """Every storage the pickle asks for is a record of exactly its size, and no record is
    unused; returns the total bytes of tensor data."""
    if set(storages) != set(records):
        raise CheckpointError(f"{name} is damaged: its tensor data does not match its description; {HELP}")
    for key, (_dtype, nbytes) in storages.items():
        if records[key].file_size != nbytes:
            raise CheckpointError(f"{name} is damaged: tensor data {key} holds {records[key].file_size:,} "
                                  f"bytes where its description says {nbytes:,}; {HELP}")
    return sum(n for _, n in storages.values())


def checkpoint_bytes(checkpoint: dict[str, Any]) -> bytes:
    """A checkpoint as the bytes of a ``.pt`` file (the download button's content)."""
    buf = io.BytesIO()
    torch.save(checkpoint, buf)
    return buf.getvalue()


def pretrained_path(name: str) -> pathlib.Path:
    return PRETRAINED_DIR / f"{name}.pt"
