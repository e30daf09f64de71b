"""What an uploaded file's first bytes say it is: the packed formats the text uploads refuse.

A compressed file is never unpacked on the server (a few kilobytes can unpack to gigabytes); the
student is asked to upload the text itself. No Streamlit.
"""
from __future__ import annotations

# magic numbers at the start of the file -> the format's everyday name
PACKED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"PK\x05\x06": "zip", b"BZh": "bzip2",
          b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstandard", b"7z\xbc\xaf\x27\x1c": "7-Zip",
          b"Rar!\x1a\x07": "RAR"}


def packed_kind(data: bytes) -> str | None:
    """The compressed or archive format ``data`` starts with, else None."""
    return next((kind for magic, kind in PACKED.items() if data.startswith(magic)), None)


def packed_message(name: str, kind: str, what: str) -> str:
    """The refusal for a packed upload, naming what to upload instead."""
    return (f"“{name}” is compressed binary data ({kind}); compressed files are not unpacked here. "
            f"Unpack it on your computer (a spreadsheet: save it as CSV) and upload the {what} itself.")
