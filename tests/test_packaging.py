"""The wheel is the product as users install it: built from this checkout, installed into a fresh
virtualenv outside it, it must carry every file the package reads at run time and triage photos
exactly as the checkout does."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Two generated sample photos and a real face (which needs the shipped face models).
PHOTOS = [*sorted((ROOT / "sample_images").glob("*.jpg"))[:2], ROOT / "tests" / "data" / "astronaut_face.jpg"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("triage-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed; its dependencies come from this test's
    environment (a .pth line), so nothing is downloaded and the checkout is not importable."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "test-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--ignore-installed", str(wheel)],
        check=True, capture_output=True,
    )
    return env_dir


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_") and k != "PYTHONPATH"}
    env["TRIAGE_MODELS_DIR"] = str(tmp / "no-registry")  # the shipped model, whatever this machine promoted
    return env


def test_wheel_carries_the_models_and_every_package_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "models").iterdir() if p.is_file()}
    assert shipped >= {"default.skops", "face_landmark.tflite", "face_detection_short_range.tflite"}
    assert {f"triage/models/{n}" for n in shipped} <= names
    tracked = subprocess.run(["git", "ls-files", "triage"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    package_files = tracked or [str(p.relative_to(ROOT)) for p in (ROOT / "triage").rglob("*") if p.is_file()]
    assert {f for f in package_files if "__pycache__" not in f} <= names


def test_installed_wheel_triages_like_the_checkout(installed, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = _clean_env(tmp_path)
    photos = [str(p) for p in PHOTOS]
    from_wheel = subprocess.run(
        [str(installed / "bin" / "triage"), "run", *photos, "--out", str(tmp_path / "wheel-run")],
        cwd=outside, env=env, capture_output=True, text=True,
    )
    assert from_wheel.returncode == 0, from_wheel.stderr
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import triage; print(triage.__file__)"],
        cwd=outside, env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert str(installed) in where and str(ROOT) not in where
    from_checkout = subprocess.run(
        [sys.executable, "-m", "triage", "run", *photos, "--out", str(tmp_path / "checkout-run")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert from_checkout.returncode == 0, from_checkout.stderr
    rows = (tmp_path / "wheel-run" / "results.jsonl").read_bytes()
    assert rows and rows == (tmp_path / "checkout-run" / "results.jsonl").read_bytes()
    assert b'"face": true' in rows  # the face models were found too


def test_version_is_the_project_version(installed, tmp_path):
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    out = subprocess.run([str(installed / "bin" / "triage"), "--version"], env=_clean_env(tmp_path),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"triage {expected}"
