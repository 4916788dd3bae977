"""`triage inspect`: the pipeline's stages of one photo as PNG files, for checking by eye.

normalised.png (after white balance), mask.png (skin = 255), redness.png (delta a* against the
person's untreated skin, 0..20 mapped to a heat scale, non-skin grey), pigment.png (local
darkening -L_loc, 0..20), overlay.png (the report's findings overlay at the working size,
triage.run.previews.render_overlay), result.json (the results.jsonl row).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from ..measure.color import linear_to_srgb
from ..util.files import atomic_write_bytes, atomic_write_text
from .previews import render_overlay


def _png(path: Path, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", rgb[..., ::-1] if rgb.ndim == 3 else rgb)
    atomic_write_bytes(path, buf.tobytes())


def heat(values: np.ndarray, mask: np.ndarray, vmax: float) -> np.ndarray:
    """Map values in [0, vmax] to a heat colour scale (OpenCV INFERNO); outside mask mid grey."""
    v = np.clip(values / vmax, 0, 1)
    rgb = cv2.applyColorMap((v * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
    rgb = rgb.copy()
    rgb[~mask] = 128
    return rgb


def inspect(image: str | Path, out: str | Path, days=None, model=None) -> dict:
    """Write the stage images and result.json of one photo to `out`; returns the row."""
    import hashlib

    from ..decide.modelfile import load_model
    from ..measure.io import ImageError, decode, read_bytes
    from ..measure.photo import measure
    from ..pipeline import error_row, row_for

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = model or load_model()
    name = Path(image).name
    try:
        data = read_bytes(image)
        img = decode(data)
    except ImageError as e:
        row = error_row(name, None, str(e), days, model)
    else:
        mz = measure(img.rgb, (img.width, img.height))
        row = row_for(img, mz, path=name, sha256=hashlib.sha256(data).hexdigest(), days=days, model=model)
        norm = (linear_to_srgb(mz.normalised.linear) * 255 + 0.5).astype(np.uint8)
        _png(out / "normalised.png", norm)
        _png(out / "mask.png", mz.skin.astype(np.uint8) * 255)
        if mz.skin.sum() >= 100:
            m = mz.maps
            _png(out / "redness.png", heat(m.da, mz.skin, 20.0))
            _png(out / "pigment.png", heat(-m.L_loc, mz.skin, 20.0))
            _png(out / "overlay.png", render_overlay(img.rgb, mz, (img.rgb.shape[1], img.rgb.shape[0])))
    atomic_write_text(out / "result.json", json.dumps(row, indent=2) + "\n")
    return row
