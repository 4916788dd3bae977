"""Decoding takes bounded memory (issue 4): decompression bombs of every format, 100 MP and small
on disk, are decoded or refused from their header in a worker whose peak RSS stays under 500 MB,
and `decode_cost` (the header's estimate the refusal rests on) bounds what each decoder takes.

Peak RSS is read in a child process, as a batch worker holds it: Python, the pipeline and the
model loaded first, then one file analysed (read, decoded, measured), with the kernel's high-water
mark (/proc/self/status VmHWM) reset before each file (/proc/self/clear_refs). ru_maxrss is no
use here: a child started by a large pytest process inherits its parent's figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from triage.measure import config

PEAK_LIMIT_MB = 500

_CHILD = r"""
import json, sys
from pathlib import Path

def status(key):
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith(key)).split()[1]) / 1024

import triage.pipeline as pipeline
from triage.decide.modelfile import load_default
from triage.measure import io as tio
from PIL import Image

def opened(data):
    import io
    im = Image.open(io.BytesIO(data))
    if im.format in ("JPEG", "MPO"):
        im.draft("RGB", tio.working_size(*im.size))
    return im

def decoded(path):
    try:
        tio.load_image(path)
    except tio.ImageError as e:
        return {"status": "error", "error": str(e)}
    return {"status": "ok", "error": None}

model = load_default()
pipeline.analyze_file(sys.argv[2], "warm-up", None, model)  # every lazy import done, as in a busy worker
out = {}
for path in sys.argv[3:]:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the high-water mark starts again from the current RSS
    before = status("VmRSS")
    if sys.argv[1] == "analyse":
        row = pipeline.analyze_file(path, Path(path).name, None, model)
    else:
        row = decoded(path)
    peak = status("VmHWM")
    data = Path(path).read_bytes()
    try:
        cost = tio.decode_cost(opened(data), data) / 2**20
    except Exception:
        cost = None
    out[Path(path).name] = {"peak_mb": peak, "before_mb": before, "cost_mb": cost,
                            "status": row["status"], "error": row["error"]}
print(json.dumps(out))
"""


def measure_peaks(files: list[Path], warm_up: Path, what: str = "analyse") -> dict[str, dict]:
    """{file name: peak_mb, before_mb, cost_mb (decode_cost in MiB), status, error} per file,
    analysed (or only decoded: what="decode") one after the other in one child process."""
    args = [sys.executable, "-c", _CHILD, what, str(warm_up), *map(str, files)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, photo) -> tuple[Path, dict[str, str], Path]:
    """The bombs of tests/fuzz.py, written by a child process (it holds ~0.5 GB while it does)."""
    folder = tmp_path_factory.mktemp("bombs")
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r}); import fuzz, json; print(json.dumps(fuzz.write_bombs({str(folder)!r})))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    from PIL import Image

    warm = folder / "warm-up.jpg"
    Image.fromarray(photo).save(warm, quality=90)
    return folder, json.loads(res.stdout), warm


@pytest.mark.slow
def test_bombs_of_every_format_stay_under_500_mb(bombs):
    folder, made, warm = bombs
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS between files")
    peaks = measure_peaks([folder / name for name in made], warm)
    table = "\n".join(f"{made[n]:32s} {p['peak_mb']:6.0f} MB  {p['status']}: {p['error'] or ''}" for n, p in peaks.items())
    print("\npeak RSS of a worker per bomb (9999x9999):\n" + table)
    for name, p in peaks.items():
        assert p["peak_mb"] < PEAK_LIMIT_MB, f"{made[name]}: {p['peak_mb']:.0f} MB\n{table}"
        if p["status"] == "error":
            assert "\n" not in p["error"] and (
                "memory limit" in p["error"] or "truncated" in p["error"]
            ), f"{made[name]}: {p['error']}"
    # the ones whose decode needs more than the limit are refused, not decoded
    for name in ("rgba8.png", "float.tif", "rgba-lossless.webp", "rgb.heic", "rgb.tif", "rgb16.png"):
        assert "memory limit" in (peaks[name]["error"] or ""), (name, peaks[name])


def _formats_12mp(folder: Path) -> list[Path]:
    """12 MP images of every format and the modes that cost most (written by the test)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    rgb = small.resize((4000, 3000))
    rgba = rgb.copy()
    rgba.putalpha(200)
    grey16 = Image.fromarray((np.asarray(rgb.convert("L"), np.uint16) * 257))
    files = {
        "rgb.png": (rgb, {}), "rgba.png": (rgba, {}), "grey16.png": (grey16, {}),
        "float.tif": (rgb.convert("F"), {"compression": "tiff_deflate"}),
        "rgb.tif": (rgb, {"compression": "tiff_lzw"}), "grey16.tif": (grey16, {}),
        "lossy.webp": (rgb, {"quality": 80}), "lossless.webp": (rgba, {"lossless": True, "method": 0}),
        "rgb.bmp": (rgb, {}), "rgb.heic": (rgb, {"quality": 60}),
        "progressive.jpg": (rgb, {"quality": 90, "progressive": True}),
    }  # fmt: skip
    out = []
    for name, (im, kw) in files.items():
        im.save(folder / name, **kw)
        out.append(folder / name)
    return out


@pytest.mark.slow
def test_decode_cost_bounds_what_each_decoder_takes(tmp_path, photo):
    """On 12 MP images of every format, the header's estimate (decode_cost, which includes the
    file's bytes) is at least the RSS decoding added: the refusal rests on it."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak RSS between files")
    import triage.measure.io  # noqa: F401 - registers the HEIF codec with Pillow, used to write test files
    from PIL import Image

    files = _formats_12mp(tmp_path)
    warm = tmp_path / "warm-up.jpg"
    Image.fromarray(photo).save(warm, quality=90)
    peaks = measure_peaks(files, warm, "decode")
    slack_mb = 16  # the strips converted to 8-bit and the working-size image
    for name, p in peaks.items():
        assert p["status"] == "ok", (name, p)
        assert p["peak_mb"] - p["before_mb"] <= p["cost_mb"] + slack_mb, (name, p)
        assert p["cost_mb"] * 2**20 < config.DECODE_MAX_BYTES, (name, p)  # 12 MP photos are never refused
