"""The camera: the illuminant's colour and the exposure (spec.wb_gains, spec.exposure), lens
blur, the sRGB encoding, sensor noise (stronger in brighter pixels) and 8-bit quantisation; JPEG
encoding last (`encode_jpeg`)."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from ..measure import color
from .spec import PhotoSpec


def capture(img: np.ndarray, spec: PhotoSpec, rng: np.random.Generator) -> np.ndarray:
    """uint8 sRGB (H, W, 3) of a linear scene as the spec's camera records it."""
    L = float(max(img.shape[:2]))
    img = img * np.array(spec.wb_gains, np.float32) * spec.exposure
    blur = spec.blur * L / 1024.0
    if blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    srgb = color.linear_to_srgb(img)
    srgb = srgb + rng.standard_normal(srgb.shape).astype(np.float32) * spec.noise * (0.5 + np.sqrt(np.clip(srgb, 0, 1)))
    rgb8 = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
    return rgb8


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of an RGB array (Pillow, no EXIF)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()
