"""Drawing primitives of the generator: band-limited noise, Gaussian stamps, soft discs and
irregular blobs, a random point of a mask. Sizes in pixels; every random draw from the rng given."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(rng, h, w, cells, octaves=3):
    """Band-limited noise in about [-1, 1]: random grids of `cells` across, upsampled bicubically."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = max(2, int(cells * 2**o))
        grid = rng.standard_normal((max(2, round(c * h / w)), c)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    return out / total


def stamp(field, cx, cy, sigma, amp):
    """Add amp * exp(-r^2 / (2 sigma^2)) around (cx, cy), in a window of 4 sigma."""
    h, w = field.shape
    r = int(4 * sigma + 1)
    x0, x1, y0, y1 = max(0, int(cx) - r), min(w, int(cx) + r + 1), max(0, int(cy) - r), min(h, int(cy) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    field[y0:y1, x0:x1] += amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))


def disc(field, cx, cy, radius, value, soft=1.0):
    """Blend towards `value` (scalar or colour) inside a soft-edged disc: returns nothing, edits field."""
    h, w = field.shape[:2]
    r = int(radius + 3 * soft + 1)
    x0, x1, y0, y1 = max(0, int(cx) - r), min(w, int(cx) + r + 1), max(0, int(cy) - r), min(h, int(cy) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    alpha = np.clip((radius - d) / soft + 0.5, 0, 1)
    if field.ndim == 3:
        alpha = alpha[..., None]
    field[y0:y1, x0:x1] = field[y0:y1, x0:x1] * (1 - alpha) + np.asarray(value, np.float32) * alpha


def random_point(rng, mask):
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    i = int(rng.integers(len(ys)))
    return float(xs[i]), float(ys[i])


def blob_mask(rng, h, w, cx, cy, rx, ry, wobble=0.25):
    """Soft (0-1) irregular elliptical blob."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    c, s = np.cos(ang), np.sin(ang)
    u = ((xx - cx) * c + (yy - cy) * s) / rx
    v = (-(xx - cx) * s + (yy - cy) * c) / ry
    r = np.sqrt(u**2 + v**2) + wobble * smooth_noise(rng, h, w, 3, 2)
    return np.clip((1.0 - r) / 0.25, 0, 1).astype(np.float32)
