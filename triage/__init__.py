"""triage: skin-reaction photo triage after microneedling (normal / monitor / seek-care).

Decision support for clinic staff, not a diagnosis. Public API (lazy: importing the package
costs nothing until a function is used):

    from triage import analyze, load_model, skin_mask
"""

from __future__ import annotations

import os

from .config import MAX_IMAGE_PIXELS

# OpenCV reads its decoder pixel limit once, when it loads: set before any module imports cv2
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

__version__ = "0.1.0"
__all__ = ["analyze", "load_model", "skin_mask", "__version__"]


def __getattr__(name: str):
    if name == "analyze":
        from .pipeline import analyze

        return analyze
    if name == "load_model":
        from .model import load_model

        return load_model
    if name == "skin_mask":
        from .skin import skin_mask

        return skin_mask
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
