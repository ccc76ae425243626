"""The few facts pixlm reads straight from a font file (TrueType/OpenType, or a face of a
collection): its tables, family names and vertical metrics. Plain Python, so that choosing
fonts needs neither Skia (which needs the system's EGL and GL libraries) nor Pango."""

from __future__ import annotations

import struct
from dataclasses import dataclass


class FontFileError(ValueError):
    """A font file that cannot be read as a font (not sfnt, or cut short)."""


@dataclass(frozen=True)
class FaceInfo:
    """What pixlm needs to know of one face before drawing with it."""

    tables: dict[str, tuple[int, int]]  # tag -> (offset, length) in the file
    names: dict[int, str]  # name ID -> name (Windows Unicode records first, else Macintosh Roman)
    units_per_em: int
    ascender: int  # hhea (what FreeType, and so Pango and Cairo, use)
    descender: int  # hhea, negative below the baseline
    line_gap: int
    file_size: int

    @property
    def family(self) -> str:
        """The family name as fonts are asked for by it (name ID 1, as PIXEL reads it)."""
        return self.names.get(1) or self.names.get(16) or ""

    @property
    def typographic_family(self) -> str:
        """The family without its style (name ID 16 where the font has one, else 1)."""
        return self.names.get(16) or self.names.get(1) or ""

    @property
    def is_color(self) -> bool:
        return bool({"CBDT", "COLR", "sbix", "SVG "} & set(self.tables))


def read_face(path: str, index: int = 0) -> FaceInfo:
    """Read the table directory, names and metrics of face `index` of the font file `path`.

    Raises FontFileError naming the file when it is not a font, when a table lies past the end
    of the file (a cut download), or when the tables every font needs are missing.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        return _parse(data, index, path)
    except (struct.error, IndexError, UnicodeDecodeError) as e:
        raise FontFileError(f"font file {path!r} is damaged ({e}); download or copy it again") from None


def _parse(data: bytes, index: int, path: str) -> FaceInfo:
    start = 0
    if data[:4] == b"ttcf":
        count = struct.unpack_from(">I", data, 8)[0]
        if not 0 <= index < count:
            raise FontFileError(f"font collection {path!r} has {count} faces; face {index} does not exist")
        start = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    elif index:
        raise FontFileError(f"font file {path!r} holds one face; face {index} does not exist")
    version = data[start : start + 4]
    if version not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise FontFileError(f"{path!r} is not a TrueType or OpenType font (it starts with {data[:4]!r})")
    num_tables = struct.unpack_from(">H", data, start + 4)[0]
    tables = {}
    for k in range(num_tables):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, start + 12 + 16 * k)
        tables[tag.decode("latin-1")] = (offset, length)
    for tag in ("cmap", "head", "hhea"):
        if tag not in tables:
            raise FontFileError(f"font file {path!r} has no {tag!r} table")
    for tag, (offset, length) in tables.items():
        if offset + length > len(data):
            raise FontFileError(
                f"font file {path!r} is cut short: its {tag!r} table ends at byte {offset + length} but the file "
                f"has {len(data)}; download or copy it again"
            )
    upem = struct.unpack_from(">H", data, tables["head"][0] + 18)[0]
    ascender, descender, line_gap = struct.unpack_from(">hhh", data, tables["hhea"][0] + 4)
    names = _names(data, *tables["name"]) if "name" in tables else {}
    return FaceInfo(tables, names, upem, ascender, descender, line_gap, len(data))


def _names(data: bytes, offset: int, length: int) -> dict[int, str]:
    count, strings = struct.unpack_from(">2xHH", data, offset)
    windows: dict[int, str] = {}
    mac: dict[int, str] = {}
    for k in range(count):
        platform, encoding, language, name_id, size, at = struct.unpack_from(">6H", data, offset + 6 + 12 * k)
        raw = data[offset + strings + at : offset + strings + at + size]
        if platform == 3 and encoding in (0, 1, 10) and (name_id not in windows or language == 0x409):
            windows[name_id] = raw.decode("utf-16-be", "replace")
        elif platform == 0 and name_id not in windows:
            windows[name_id] = raw.decode("utf-16-be", "replace")
        elif platform == 1 and encoding == 0 and name_id not in mac:
            mac[name_id] = raw.decode("mac-roman", "replace")
    return {**mac, **windows}
