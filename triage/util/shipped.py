"""Where the files the project ships beside its code live: the trained triage model, the face
models and their licences.

In a checkout (and its editable install) they are in models/ at the project's root; a wheel
carries the same folder inside the package as triage/models/ (pyproject.toml's force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]

#: The installed copy when there is one, else the checkout's models/ folder.
MODELS_DIR = _PACKAGE / "models" if (_PACKAGE / "models").is_dir() else _PACKAGE.parent / "models"


def shipped(name: str) -> Path:
    """Path of a shipped file (default.skops, face_landmark.tflite, ...)."""
    return MODELS_DIR / name
