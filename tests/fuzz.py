"""Bad inputs for the decoder (triage.measure.io.decode): valid small images of every supported
format, a corpus of hand-made bad inputs, and a mutation fuzzer. Everything is deterministic per
seed. Used by tests/measure/test_fuzz.py (a short run) and scripts/fuzz_decode.py (the long run).

The property: decoding any bytes ends in a DecodedImage or an ImageError whose message is one
line; any other exception, or a message over several lines, is a defect.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from typing import Iterator

import numpy as np
from PIL import Image

import triage.measure.io as tio  # registers the HEIF codec with Pillow, used to write seeds

FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "HEIF")


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _picture(w: int = 64, h: int = 48) -> Image.Image:
    """Small RGB picture with gradients and an edge (enough structure for every codec)."""
    x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, np.full_like(x, 90)], -1)
    rgb[h // 3 : h // 2, w // 4 : w // 2] = (220, 40, 60)
    return Image.fromarray(rgb.astype(np.uint8))


def seeds() -> dict[str, bytes]:
    """Valid small images, named 'FORMAT/variant': each supported format in the modes it is met in
    (alpha, palette, grey, 16-bit, float, progressive, EXIF-rotated, compressed and not)."""
    rgb = _picture()
    rgba = rgb.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    exif = Image.Exif()
    exif[0x0112] = 6
    grey16 = Image.fromarray((np.asarray(rgb.convert("L"), np.uint16) * 257))
    out = {
        "JPEG/baseline": _save(rgb, "JPEG", quality=90),
        "JPEG/progressive": _save(rgb, "JPEG", quality=90, progressive=True),
        "JPEG/grey": _save(rgb.convert("L"), "JPEG", quality=90),
        "JPEG/cmyk": _save(rgb.convert("CMYK"), "JPEG", quality=90),
        "JPEG/exif-rotated": _save(rgb, "JPEG", quality=90, exif=exif),
        "PNG/rgb": _save(rgb, "PNG"),
        "PNG/rgba": _save(rgba, "PNG"),
        "PNG/palette-transparent": _save(rgba.quantize(16), "PNG", transparency=0),
        "PNG/grey16": _save(grey16, "PNG"),
        "PNG/la": _save(rgba.convert("LA"), "PNG"),
        "PNG/bilevel": _save(rgb.convert("1"), "PNG"),
        "TIFF/raw": _save(rgb, "TIFF"),
        "TIFF/deflate": _save(rgb, "TIFF", compression="tiff_deflate"),
        "TIFF/lzw": _save(rgba, "TIFF", compression="tiff_lzw"),
        "TIFF/float": _save(rgb.convert("F"), "TIFF"),
        "TIFF/grey16": _save(grey16, "TIFF"),
        "WEBP/lossy": _save(rgb, "WEBP", quality=80),
        "WEBP/lossless-alpha": _save(rgba, "WEBP", lossless=True),
        "BMP/rgb": _save(rgb, "BMP"),
        "BMP/palette": _save(rgb.quantize(16), "BMP"),
        "HEIF/rgb": _save(rgb, "HEIF", quality=80),
    }
    return out


# --- hand-made bad inputs ----------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int, *, depth: int = 8, colour: int = 2, rows: int = 1) -> bytes:
    """A PNG whose header says width x height but whose data holds only `rows` rows (or all
    rows, when rows >= height: a real image of that size, compressed to almost nothing)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\0" + bytes((width * channels * depth + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(min(rows, height))) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def jpeg_claiming(data: bytes, width: int, height: int) -> bytes:
    """A JPEG's bytes with its frame header (SOF) saying width x height."""
    out = bytearray(data)
    i = next(m.start() for m in re.finditer(rb"\xff[\xc0-\xc3]", data))
    out[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(out)


def _tiff_ifd_loop() -> bytes:
    """A little-endian TIFF whose first IFD points back to itself as the next IFD."""
    entries = [(256, 3, 1, 8), (257, 3, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 200), (277, 3, 1, 1), (278, 3, 1, 8), (279, 4, 1, 64)]  # fmt: skip
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 8)
    body = b"II*\0" + struct.pack("<I", 8) + ifd
    return body + bytes(200 - len(body)) + bytes(range(64))


def _exif_loop_jpeg(seed_jpeg: bytes) -> bytes:
    """A JPEG whose EXIF IFD0 names itself as the EXIF sub-IFD (a reference loop)."""
    tiff = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 8) + struct.pack("<I", 0)
    app1 = b"Exif\0\0" + tiff
    return seed_jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + seed_jpeg[2:]


def corpus() -> dict[str, bytes]:
    """Named bad inputs: empty, truncated, header-mutated, wrong format for the extension,
    huge claimed dimensions, nested or looping structures and formats that are not supported."""
    s = seeds()
    jpeg, png = s["JPEG/baseline"], s["PNG/rgb"]
    out: dict[str, bytes] = {"empty": b"", "one-byte": b"\xff", "text": b"a note, not a photo\n"}
    for name, data in s.items():
        for n in (2, 8, 20, 64, len(data) // 2, len(data) - 1):
            out[f"cut-{n}/{name}"] = data[:n]
        out[f"zeroed-header/{name}"] = bytes(32) + data[32:]
        out[f"ff-header/{name}"] = data[:4] + b"\xff" * 28 + data[32:]
    out["jpeg-named-png"] = jpeg  # the content decides, not the name
    out["jpeg-claims-10000x10000"] = jpeg_claiming(jpeg, 10000, 10000)
    out["jpeg-claims-10000x10000-cut-with-eoi"] = jpeg_claiming(jpeg, 10000, 10000)[:-200] + b"\xff\xd9"
    out["jpeg-claims-0x0"] = jpeg_claiming(jpeg, 0, 0)
    out["jpeg-claims-65535x65535"] = jpeg_claiming(jpeg, 65535, 65535)
    out["jpeg-exif-loop"] = _exif_loop_jpeg(jpeg)
    out["png-claims-100000x100000"] = png_claiming(100_000, 100_000)
    out["png-claims-9999x9999-one-row"] = png_claiming(9999, 9999, colour=6)
    out["png-claims-1x1000000"] = png_claiming(1, 1_000_000)
    out["png-bad-crc"] = png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]
    out["png-huge-text"] = png[:33] + _png_chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(50_000_000), 9)) + png[33:]
    out["png-no-idat"] = png[:33] + _png_chunk(b"IEND", b"")
    out["tiff-ifd-loop"] = _tiff_ifd_loop()
    out["bmp-claims-huge"] = s["BMP/rgb"][:18] + struct.pack("<ii", 60000, -60000) + s["BMP/rgb"][26:]
    out["webp-riff-size-lies"] = s["WEBP/lossy"][:4] + struct.pack("<I", 0xFFFFFFF0) + s["WEBP/lossy"][8:]
    out["gif"] = _save(_picture(), "GIF")
    out["ico"] = _save(_picture(), "ICO")
    out["eps-header"] = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10000 10000\nshowpage\n"
    out["pdf"] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    out["svg"] = b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"/>'
    out["zip"] = b"PK\x03\x04" + bytes(40)
    return out


# --- mutation fuzzer ----------------------------------------------------------------------------


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """1 to 4 edits: flip bits, overwrite with boundary values, insert or delete bytes, or cut;
    half the edits land in the first 512 bytes, where the headers are."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        if not b:
            break
        span = min(len(b), 512) if rng.random() < 0.5 else len(b)
        i = int(rng.integers(0, span))
        kind = int(rng.integers(0, 6))
        if kind == 0:
            b[i] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            b[i] = int(rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]))
        elif kind == 2:
            b[i:i] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        elif kind == 3:
            del b[i : i + int(rng.integers(1, 17))]
        elif kind == 4:
            b[i : i + 4] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        else:
            del b[max(1, i) :]
    return bytes(b)


def mutants(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """n mutants of the seed images, taking the seeds in turn: (seed name, bytes). The same n
    and seed give the same bytes."""
    base = seeds()
    names = sorted(base)
    for k in range(n):
        name = names[k % len(names)]
        yield name, mutate(base[name], np.random.default_rng([seed, k]))


def outcome(data: bytes) -> tuple[str, str]:
    """("decoded", format), ("refused", the reason's kind) or ("defect", what went wrong)."""
    try:
        d = tio.decode(data)
    except tio.ImageError as e:
        msg = str(e)
        if not msg or "\n" in msg or "\r" in msg:
            return "defect", f"ImageError message not one line: {msg!r}"
        return "refused", reason_kind(msg)
    except Exception as e:  # noqa: BLE001 - that is what the fuzzer looks for
        return "defect", f"{type(e).__name__}: {str(e)[:120]}"
    if d.rgb.dtype != np.uint8 or d.rgb.ndim != 3 or d.rgb.shape[2] != 3:
        return "defect", f"decoded array {d.rgb.dtype} {d.rgb.shape}"
    return "decoded", d.format


def reason_kind(msg: str) -> str:
    """An ImageError's message without its particulars (numbers, the library's own words in
    parentheses), to count reasons by kind."""
    return re.sub(r"\s*[(:].*", "", msg).strip()


def tally(items) -> Counter:
    """Counter of (outcome, detail) over (name, bytes) items."""
    return Counter(outcome(data) for _name, data in items)


# --- memory bombs ---------------------------------------------------------------------------------

#: a 9999x9999 flat HEIF (60 KB; encoding one takes ~20 s, so it is kept, not made)
HEIF_BOMB = __import__("pathlib").Path(__file__).resolve().parent / "data" / "bomb-9999x9999.heic"


def bmp_rle8(width: int, height: int, index: int = 1) -> bytes:
    """An 8-bit palette BMP compressed with RLE8: every row runs of one palette index."""
    row = b"".join(bytes([min(255, width - x), index]) for x in range(0, width, 255)) + b"\0\0"
    pixels = row * height + b"\0\1"
    palette = b"".join(bytes([k, k, k, 0]) for k in range(256))
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    return header + info + palette + pixels


def write_bombs(folder) -> dict[str, str]:
    """Decompression bombs of every format, 9999x9999 (100 MP, just under the pixel limit) and
    small on disk, written into `folder`: {file name: what it is}. Takes ~20 s and ~0.5 GB in the
    process that writes them (Pillow holds the TIFF and WebP images whole to encode them)."""
    from pathlib import Path

    folder = Path(folder)
    w = h = 9999
    made = {
        "rgba8.png": ("RGBA 8-bit PNG", lambda: png_claiming(w, h, colour=6, rows=h)),
        "rgb16.png": ("RGB 16-bit PNG", lambda: png_claiming(w, h, depth=16, colour=2, rows=h)),
        "grey16.png": ("grey 16-bit PNG", lambda: png_claiming(w, h, depth=16, colour=0, rows=h)),
        "palette-rle8.bmp": ("palette RLE8 BMP", lambda: bmp_rle8(w, h)),
        "float.tif": ("32-bit float TIFF, deflate", lambda: _save(Image.new("F", (w, h), 0.5), "TIFF", compression="tiff_deflate")),
        "rgb.tif": ("RGB TIFF, deflate", lambda: _save(Image.new("RGB", (w, h), (200, 150, 120)), "TIFF", compression="tiff_deflate")),
        "rgba-lossless.webp": ("lossless RGBA WebP", lambda: _save(Image.new("RGBA", (w, h), (200, 150, 120, 255)), "WEBP", lossless=True)),
        "progressive.jpg": ("progressive JPEG, 10000x10000", lambda: _save(Image.new("RGB", (10000, 10000), (200, 150, 120)), "JPEG", quality=90, progressive=True)),
        "baseline.jpg": ("baseline JPEG, 10000x10000", lambda: _save(Image.new("RGB", (10000, 10000), (200, 150, 120)), "JPEG", quality=90)),
        "rgb.heic": ("HEIF", lambda: HEIF_BOMB.read_bytes()),
    }
    for name, (_what, make) in made.items():
        (folder / name).write_bytes(make())
    return {name: what for name, (what, _make) in made.items()}
