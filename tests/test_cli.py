"""The command line: explain, inspect, synth, train/evaluate errors; the public API."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from triage.cli import app

runner = CliRunner()


def write_jpeg(path, rgb):
    Image.fromarray(rgb).save(path, quality=92)
    return path


def test_explain_text_and_json(tmp_path, photo):
    p = write_jpeg(tmp_path / "p.jpg", photo)
    r = runner.invoke(app, ["explain", str(p), "--days", "2"])
    assert r.exit_code == 0, r.output
    assert "not a diagnosis" in r.output and "probabilities:" in r.output
    r = runner.invoke(app, ["explain", str(p), "--json"])
    row = json.loads(r.output)
    assert row["path"] == "p.jpg" and row["status"] == "ok" and row["days_since_treatment"] is None
    assert "judged as days 2-3" in row["explanation"]["summary"]
    for reason in row["explanation"]["reasons"]:
        assert reason["text"] and reason["feature"]


def test_explain_bad_file(tmp_path):
    p = tmp_path / "bad.jpg"
    p.write_bytes(b"\xff\xd8\xff garbage")
    r = runner.invoke(app, ["explain", str(p)])
    assert r.exit_code == 1 and "cannot be triaged" in r.output
    r = runner.invoke(app, ["explain", str(tmp_path / "none.jpg")])
    assert r.exit_code == 2


def test_inspect_writes_every_stage(tmp_path, photo):
    p = write_jpeg(tmp_path / "p.jpg", photo)
    out = tmp_path / "stages"
    r = runner.invoke(app, ["inspect", str(p), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("normalised.png", "mask.png", "redness.png", "pigment.png", "overlay.png"):
        with Image.open(out / name) as im:
            assert im.size == (1024, 768)
    with Image.open(out / "mask.png") as im:
        mask = np.asarray(im)
    assert set(np.unique(mask)) <= {0, 255}
    row = json.loads((out / "result.json").read_text())
    assert abs((mask == 255).mean() - row["features"]["skin_fraction"]) < 1e-6


def test_synth_cli_and_size_errors(tmp_path):
    r = runner.invoke(app, ["synth", "--out", str(tmp_path / "s"), "--n", "2", "--seed", "1", "--size", "200x150", "--workers", "1"])
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "s" / "images" / "s1_00000.jpg") as im:
        assert im.size in ((200, 150), (300, 225))
    r = runner.invoke(app, ["synth", "--out", str(tmp_path / "s"), "--n", "2", "--seed", "1", "--size", "big"])
    assert r.exit_code == 2 and "--size" in r.output


def test_train_and_evaluate_usage_errors(tmp_path):
    r = runner.invoke(app, ["train", str(tmp_path), "--out", str(tmp_path / "m.skops")])
    assert r.exit_code == 2 and "no labels.csv" in r.output
    (tmp_path / "labels.csv").write_text("file,label\nx.jpg,unknown\n")
    r = runner.invoke(app, ["evaluate", str(tmp_path), "--out", str(tmp_path / "e")])
    assert r.exit_code == 2 and "no rows labelled" in r.output


def test_public_api(photo, tmp_path):
    import triage

    res = triage.analyze(photo, days_since_treatment=1)
    row = res.to_dict()
    assert row["path"] == "<array>" and row["label"] == res.label
    assert row["image"]["width"] == photo.shape[1]
    mask = triage.skin_mask(photo)
    assert mask.shape == photo.shape[:2] and mask.dtype == bool and 0.05 < mask.mean() <= 1
    p = write_jpeg(tmp_path / "x.jpg", photo)
    assert triage.analyze(p).to_dict()["sha256"]
    m = triage.load_model()
    assert m.name == "default" and len(m.sha256) == 64


def test_help_is_fast_to_import():
    """`triage --help` must not import the heavy stack (numpy, cv2, sklearn)."""
    import subprocess
    import sys

    code = "import sys, triage.cli; print(sorted(m for m in ('cv2','sklearn','numpy','scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
