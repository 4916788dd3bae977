"""The only place that decodes image files.

`decode(data)` turns the bytes of a JPEG, PNG (8/16-bit, palette, alpha), TIFF, WebP, BMP or
HEIC/HEIF file into an 8-bit sRGB array at the working resolution (`config.WORK_LONG_SIDE`):

- JPEG is decoded at reduced size by DCT scaling (Pillow `Image.draft`, libjpeg's 1/2, 1/4, 1/8
  IDCT), to the smallest scale whose long side is still >= the working size, then reduced with
  area averaging. A 12 MP photo costs a 3 MP decode instead of 12 MP.
- EXIF orientation is applied exactly once, here (Pillow never rotates on its own; OpenCV is
  never used to decode).
- Pixel limits: images above `config.MAX_IMAGE_PIXELS` are refused from the header, before any
  pixel is decoded; Pillow's own bomb check and OpenCV's `OPENCV_IO_MAX_IMAGE_PIXELS` are set to
  the same limit.

Every failure is an `ImageError` with a one-line reason.
"""

from __future__ import annotations

import io as _io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2  # the package's __init__ has set OPENCV_IO_MAX_IMAGE_PIXELS before this import
import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from . import config

pillow_heif.register_heif_opener()
Image.MAX_IMAGE_PIXELS = config.MAX_IMAGE_PIXELS

_ROTATING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height


class ImageError(Exception):
    """A file that cannot be read or decoded; str() is a one-line reason."""


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  #: uint8 (H, W, 3) sRGB at the working resolution, upright
    width: int  #: the photo's full-resolution width after orientation
    height: int  #: the photo's full-resolution height after orientation
    format: str  #: container format as Pillow names it (JPEG, PNG, HEIF, TIFF, WEBP, BMP)


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, mapping OS errors to one-line reasons."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ImageError("file not found (moved or deleted after discovery)") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except IsADirectoryError:
        raise ImageError("is a directory, not an image file") from None
    except OSError as e:
        raise ImageError(f"cannot read file: {e.strerror or e}") from None
    if not data:
        raise ImageError("empty file (0 bytes)")
    return data


def working_size(width: int, height: int, long_side: int = config.WORK_LONG_SIDE) -> tuple[int, int]:
    """(w, h) with the long side equal to `long_side`, aspect ratio kept."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode(data: bytes, long_side: int = config.WORK_LONG_SIDE) -> DecodedImage:
    """Decode image bytes to an upright uint8 RGB array whose long side is `long_side`."""
    fmt = "image"  # until the header names the format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged metadata: decoded or refused, never printed
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(_io.BytesIO(data))
            fmt = im.format or "unknown"
            full_w, full_h = im.size
            if full_w * full_h > config.MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"image larger than the pixel limit ({full_w}x{full_h} > {config.MAX_IMAGE_PIXELS:,} pixels)"
                )
            orientation = im.getexif().get(0x0112, 1)
            if orientation in _ROTATING_ORIENTATIONS:
                full_w, full_h = full_h, full_w
            if fmt in ("JPEG", "MPO"):
                w, h = im.size
                target = working_size(w, h, long_side)
                im.draft("RGB", target)  # DCT scaling: decode at 1/2, 1/4 or 1/8 when that still covers target
            im = ImageOps.exif_transpose(im)  # loads pixels; rotation applied here and nowhere else
            rgb = _to_rgb8(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image larger than the pixel limit ({config.MAX_IMAGE_PIXELS:,} pixels)") from None
    except UnidentifiedImageError:
        raise ImageError("not an image (unrecognised file format)") from None
    except MemoryError:
        raise ImageError("image too large to decode in memory") from None
    except Exception as e:  # noqa: BLE001 - damaged data reaches any corner of a decoder
        raise ImageError(_damaged(fmt, e)) from None
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ImageError(f"image too small ({rgb.shape[1]}x{rgb.shape[0]} pixels)")
    return DecodedImage(to_working_size(rgb, long_side), full_w, full_h, fmt)


def _damaged(fmt: str, e: Exception) -> str:
    """One line for a decoder's exception on damaged data."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if not isinstance(e, (OSError, SyntaxError, ValueError, EOFError)):
        msg = f"{type(e).__name__}: {msg}"
    if "truncated" in msg or isinstance(e, EOFError):
        return f"truncated or damaged {fmt} file ({msg})"
    return f"cannot decode {fmt} file ({msg})"


def to_working_size(rgb: np.ndarray, long_side: int = config.WORK_LONG_SIDE) -> np.ndarray:
    """Resize an RGB array so its long side is `long_side`: area averaging when shrinking,
    bilinear when enlarging."""
    out_w, out_h = working_size(rgb.shape[1], rgb.shape[0], long_side)
    if (out_w, out_h) != (rgb.shape[1], rgb.shape[0]):
        shrinking = out_w < rgb.shape[1]
        rgb = cv2.resize(rgb, (out_w, out_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return np.ascontiguousarray(rgb)


def load_image(path: str | Path, long_side: int = config.WORK_LONG_SIDE) -> DecodedImage:
    """Read and decode one file (see `decode`)."""
    return decode(read_bytes(path), long_side)


def _to_rgb8(im: Image.Image) -> np.ndarray:
    """Any Pillow mode to uint8 RGB: alpha composited over white, 16-bit and float scaled down,
    palette expanded, CMYK/YCbCr/LAB converted."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else 255.0
        if mode == "F" and a.max(initial=0) <= 1.0:
            top = 1.0
        g = np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode in ("PA", "LA", "La"):
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "RGBa"):
        if im.mode == "RGBa":
            im = im.convert("RGBA")
        a = np.asarray(im, dtype=np.float32)
        alpha = a[..., 3:4] / 255.0
        rgb = a[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)
