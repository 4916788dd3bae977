"""Shared fixtures: real image files made by the tests (small, generated, with known content)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

_DROP_ROOT = """
import os
# warm imports: the child cannot read root's Python installation once it is 'nobody'
import triage.run.batch, triage.pipeline, triage.decide.modelfile, triage.decide.explain, triage.measure.features, triage.util.pool, triage.run.report, triage.run.previews, scipy.spatial
import multiprocessing.pool, html.parser
triage.decide.modelfile.load_default()
if os.geteuid() == 0:  # root reads anything: drop to 'nobody' so file permissions apply
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
"""


def run_unprivileged(code: str):
    """Run `code` in a child Python that has dropped root (if any) after importing triage, so
    that file permissions are enforced as for a clinic user. Returns the CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", _DROP_ROOT + code], capture_output=True, text=True, timeout=300)


def open_dir(tmp_path: Path) -> Path:
    """A folder that an unprivileged process can enter and write (pytest's tmp is 0700)."""
    import os
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="triage-test-"))
    os.chmod(d, 0o777)
    (tmp_path / "open_dir").write_text(str(d))
    return d


@pytest.fixture(autouse=True, scope="session")
def _feature_cache(tmp_path_factory):
    """Tests measure with a fresh feature cache and an empty model history of their own, never
    the user's (a model the user promoted must not change what the tests see)."""
    import os

    os.environ["TRIAGE_CACHE_DIR"] = str(tmp_path_factory.mktemp("feature-cache"))
    os.environ["TRIAGE_MODELS_DIR"] = str(tmp_path_factory.mktemp("model-history"))
    os.environ.pop("TRIAGE_MODEL", None)
    yield


ROOT = Path(__file__).resolve().parent.parent  # the repository
#: a real portrait, public domain (tests/measure/test_face.py says where it comes from)
PORTRAIT = Path(__file__).resolve().parent / "data" / "astronaut_face.jpg"
REAL_DEV = ROOT.parent / "shared" / "real-dev"


def skin_photo(seed: int = 3, size=(320, 240)) -> np.ndarray:
    """A generated skin photo (uint8 RGB) from the project's generator."""
    from triage import synth

    data, _mask, _row = synth.make_photo(seed, 0, size)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    return skin_photo()


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    """60 generated photos at 480x360 with labels.csv (session-wide: made once)."""
    from triage import synth

    out = tmp_path_factory.mktemp("dataset")
    synth.generate(out, 60, seed=77, size=(480, 360))
    return out


def copy_photos(dataset: Path, dest: Path, n: int) -> list[dict]:
    """Copy the first n photos of a generated dataset flat into dest; returns their label rows."""
    import csv
    import shutil

    rows = list(csv.DictReader(io.StringIO((dataset / "labels.csv").read_text())))[:n]
    for r in rows:
        shutil.copy(dataset / r["file"], dest / Path(r["file"]).name)
    return rows


@pytest.fixture(scope="session")
def model():
    from triage import load_model

    return load_model()
