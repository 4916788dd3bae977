"""triage: skin-reaction photo triage after microneedling (normal / monitor / seek-care).

Decision support for clinic staff, not a diagnosis. Public API (lazy: importing the package
costs nothing until a function is used):

    from triage import analyze, load_model, skin_mask

The package, one subpackage per stage, imports pointing down only (pyproject.toml's
import-linter contract, checked in CI):

    cli       the command line: thin wiring
    review    the staff review app                 (rows in, decisions out)
    learn     datasets, training, evaluation, the model history
    run       folders to result files: the batch, previews, the report, the feature cache
    synth     generated photos with ground truth
    pipeline  one photo: measure, then decide, then one results.jsonl row
    measure   pixels to numbers   |   decide   numbers to a level and words
    util      file and process helpers that know nothing of skin
"""

from __future__ import annotations

import os

from .measure.config import MAX_IMAGE_PIXELS

# OpenCV reads its decoder pixel limit once, when it loads: set before any module imports cv2
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

__version__ = "0.1.0"
__all__ = ["analyze", "load_model", "skin_mask", "__version__"]


def __getattr__(name: str):
    if name == "analyze":
        from .pipeline import analyze

        return analyze
    if name == "load_model":
        from .decide.modelfile import load_model

        return load_model
    if name == "skin_mask":
        from .measure.photo import skin_mask

        return skin_mask
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
