"""Where the files the project ships beside its code live: the models/ folder at the project's
root (the trained triage model, the face models and their licences)."""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def shipped(name: str) -> Path:
    """Path of a shipped file in models/."""
    return MODELS_DIR / name
