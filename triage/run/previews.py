"""The report's preview images of a photo, drawn from its measurements: a thumbnail and an overlay
of the findings, both THUMB_LONG_SIDE px on the long side, named by the photo's sha256
(results.preview_paths) so that a rebuilt report, a resumed run and duplicate files all find the
same pair:

  <sha256>.thumb.jpg    the photo
  <sha256>.overlay.jpg  redness as a translucent red wash (delta a* above REDNESS_DELTA_A,
                        stronger where redder), dark macules outlined blue, bruises purple,
                        crusts orange, pustule-like spots yellow rings, vesicle-like spots
                        white rings, bleeding spots cyan rings, papules pink rings; non-skin
                        dimmed.

Both are encoded from pixel arrays (cv2.imencode), so they carry no EXIF, GPS or camera data.
`preview_images` runs in the batch workers, which already hold the measurements, and the run
writes the bytes they return (`save_images`); `remake_images` makes them again from a source
photo for `triage report`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..measure import config as measure_config
from ..util.files import atomic_write_bytes
from . import config
from .results import preview_paths

#: overlay colours (RGB) and what they mark, in the order of the legend
LEGEND = (
    ("redness", (235, 30, 30), "red wash: redness above the person's untreated skin"),
    ("macules", (40, 110, 255), "blue outline: dark patches (pigment)"),
    ("bruises", (150, 60, 200), "purple outline: bruise-like areas"),
    ("crusts", (255, 150, 0), "orange outline: yellow crust-like areas"),
    ("pustules", (255, 235, 0), "yellow ring: pustule-like spots"),
    ("vesicles", (255, 255, 255), "white ring: grouped vesicle-like spots"),
    ("bleeding", (0, 230, 230), "cyan ring: pinpoint bleeding"),
    ("papules", (255, 120, 200), "pink ring: papule-like bumps"),
)
_COLOUR = {key: colour for key, colour, _text in LEGEND}



def _jpeg(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, config.THUMB_JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _reduce(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """img brought down to size (w, h): exact 2x area averages while more than 2x remains, then
    bilinear (a 2 x 2 average below 2x). OpenCV's area reduction by a fraction (1024 -> 320 px)
    costs 5x these."""
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        h, w = img.shape[:2]
        img = cv2.resize(img[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)


def render_overlay(rgb: np.ndarray, measured, size: tuple[int, int], small: np.ndarray | None = None) -> np.ndarray:
    """The overlay image (see module docstring) of a working-size photo at `size` (w, h); small:
    the photo already reduced to `size`, when it is."""
    w, h = size
    if small is None:
        small = _reduce(rgb, size)
    skin = _reduce(measured.skin.astype(np.float32), size)
    out = small.astype(np.float32) * (0.45 + 0.55 * skin[..., None])  # non-skin dimmed: shows what was measured
    m = measured.maps
    if m.n_skin < 100:
        return np.clip(out, 0, 255).astype(np.uint8)
    da = _reduce(m.da_smooth.astype(np.float32), size)  # at the preview's size:
    alpha = 0.6 * np.clip((da - measure_config.REDNESS_DELTA_A) / 10.0, 0, 1) * skin  # what it shows, cheaply
    out = out * (1 - alpha[..., None]) + np.array(_COLOUR["redness"], np.float32) * alpha[..., None]
    out = np.clip(out, 0, 255).astype(np.uint8)
    scale = w / m.skin.shape[1]
    for key, mask in (("macules", m.macules), ("bruises", m.bruises), ("crusts", m.crusts)):
        if mask.any():
            small_mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
            contours, _ = cv2.findContours(small_mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, _COLOUR[key], 1, cv2.LINE_AA)
    radius = max(3, round(max(size) / 80))  # 4 px on a 320-px preview
    for key, points in (("pustules", m.pustules), ("vesicles", m.vesicles), ("bleeding", m.bleeding_spots), ("papules", m.papules)):
        for x, y in points:
            cv2.circle(out, (round(x * scale), round(y * scale)), radius, _COLOUR[key], 1, cv2.LINE_AA)
    return out


def thumb_size(width: int, height: int) -> tuple[int, int]:
    """(w, h) of a preview of an image of width x height: long side THUMB_LONG_SIDE (never up)."""
    f = min(1.0, config.THUMB_LONG_SIDE / max(width, height))
    return max(1, round(width * f)), max(1, round(height * f))


def preview_images(rgb: np.ndarray, measured) -> tuple[bytes, bytes]:
    """JPEG bytes of the thumbnail and overlay of one analysed photo (working-size RGB and its
    measurements)."""
    size = thumb_size(rgb.shape[1], rgb.shape[0])
    small = _reduce(rgb, size)
    return _jpeg(small), _jpeg(render_overlay(rgb, measured, size, small))


def save_images(out: Path, sha256: str, thumb: bytes, overlay: bytes) -> None:
    """Write a photo's previews into a run folder (each file whole or not at all)."""
    thumb_path, overlay_path = preview_paths(out, sha256)
    thumb_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(thumb_path, thumb)
    atomic_write_bytes(overlay_path, overlay)


def write_images(out: Path, sha256: str, rgb: np.ndarray, measured) -> None:
    """Draw and write the previews of one analysed photo."""
    save_images(out, sha256, *preview_images(rgb, measured))


def remake_images(args: tuple[str, str, str]) -> bool:
    """Worker job: re-read a source photo and write its previews when its bytes still have the
    row's sha256 (a changed or vanished file gets none). True when written."""
    import hashlib

    from ..measure.io import ImageError, decode, read_bytes
    from ..measure.photo import measure

    source, sha256, out = args
    try:
        data = read_bytes(source)
        if hashlib.sha256(data).hexdigest() != sha256:
            return False
        img = decode(data)
    except ImageError:
        return False
    write_images(Path(out), sha256, img.rgb, measure(img.rgb, (img.width, img.height)))
    return True
