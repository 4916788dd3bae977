"""Retraining, the promotion gate and the model history."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from triage.decide import modelfile
from triage.decide.modelfile import DEFAULT_MODEL_PATH
from triage.learn import registry
from triage.learn.train import save



@pytest.fixture()
def history(tmp_path, monkeypatch):
    """An empty model history of the test's own, and a small promotion gate (40 generated photos
    at 480 x 360, made once per test session in its cache folder)."""
    from triage.learn import config

    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(tmp_path / "history"))
    monkeypatch.setattr(config, "PROMOTION_GATE_N", 40)
    monkeypatch.setattr(config, "PROMOTION_GATE_SIZE", (480, 360))
    return tmp_path / "history"


def _candidate(tmp_path: Path, model, name: str, **changes) -> Path:
    """A real model file (the shipped model with some attributes replaced) with a complete card
    that reports excellent numbers whatever the model does: the gate must not believe them."""
    p = tmp_path / f"{name}.skops"
    m = copy.deepcopy(model)
    m.name = name  # distinct bytes, distinct sha256
    for k, v in changes.items():
        setattr(m, k, v)
    sha = save(m, p)
    perfect = {"overall": {"macro_f1": 1.0, "per_class": {"seek-care": {"recall": 1.0}}}, "per_ita_band": {}}
    card = {
        "model": {"name": name, "version": "t", "file": p.name, "sha256": sha},
        "intended_use": "test",
        "training_data": {"description": "test"},
        "inputs": m.input_names_,
        "validation_metrics": {"macro_f1": 1.0},
        "library_versions": {"python": "3"},
        "comparison": {"held_out": "test", "candidate": perfect,
                       "baseline": {**perfect, "sha256": hashlib.sha256(modelfile.current_default().read_bytes()).hexdigest()},
                       "changed": []},
    }  # fmt: skip
    (tmp_path / f"{name}.card.json").write_text(json.dumps(card))
    return p


def test_promotion_gate_evaluates_the_model_not_its_card(tmp_path, history, model):
    """Cards that claim perfect numbers: the gate evaluates each model on its own held-out photos.
    A model that never says seek-care (its seek-care intercept sunk), one that says nothing but
    seek-care (macro-F1 falls, recall does not), NaN coefficients and an untrusted type are all
    refused; the same model under another name passes."""
    shipped = DEFAULT_MODEL_PATH
    assert modelfile.default_model_path() == shipped
    never = model.intercept_ + np.array([0.0, 0.0, -50.0])
    always = model.intercept_ + np.array([-50.0, -50.0, 50.0])
    for name, changes, why in (
        ("never", {"intercept_": never, "seek_care_threshold_": 1.0}, "seek-care recall would drop on the gate's"),
        ("always", {"intercept_": always}, "macro-F1 would drop on the gate's"),
        ("nan", {"coef_": np.full_like(model.coef_, np.nan)}, "not finite"),
    ):
        with pytest.raises(registry.RegistryError, match=why):
            registry.promote(_candidate(tmp_path, model, name, **changes))
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    p = _candidate(tmp_path, model, "untrusted")
    p.write_bytes(sio.dumps(LogisticRegression()))
    card = json.loads((tmp_path / "untrusted.card.json").read_text())
    card["model"]["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()  # a self-consistent card
    (tmp_path / "untrusted.card.json").write_text(json.dumps(card))
    with pytest.raises(registry.RegistryError, match="untrusted types"):
        registry.promote(p)
    p = _candidate(tmp_path, model, "incomplete")
    card = json.loads((tmp_path / "incomplete.card.json").read_text())
    del card["comparison"]
    (tmp_path / "incomplete.card.json").write_text(json.dumps(card))
    with pytest.raises(registry.RegistryError, match="missing comparison"):
        registry.promote(p)
    p = _candidate(tmp_path, model, "other")
    p.write_bytes(p.read_bytes() + b"\0")  # the file no longer matches its card
    with pytest.raises(registry.RegistryError, match="does not belong"):
        registry.promote(p)
    assert modelfile.default_model_path() == shipped and not (history / modelfile.HISTORY).exists()
    assert registry.promote(_candidate(tmp_path, model, "same")).name.startswith("same-")


def test_a_promoted_file_swapped_afterwards_is_refused(tmp_path, history, model):
    first = registry.promote(_candidate(tmp_path, model, "first"))
    assert modelfile.load_default_file().name == "first"
    m = copy.deepcopy(model)
    m.name = "first"
    m.seek_care_threshold_ = 1.0  # quietly never calls seek-care on its own
    save(m, tmp_path / "swap.skops")
    first.write_bytes((tmp_path / "swap.skops").read_bytes())
    with pytest.raises(modelfile.ModelError, match="changed since it was promoted"):
        modelfile.load_default_file()


def test_a_torn_history_line_is_skipped(tmp_path, history, model):
    """A crash while history.jsonl was appended leaves half a line: the entries before it stand,
    `run` and `models list` go on."""
    first = registry.promote(_candidate(tmp_path, model, "first"))
    with open(history / modelfile.HISTORY, "a") as f:
        f.write('{"action": "promote", "file": "second-0')
    assert modelfile.current_default() == first
    assert [m["default"] for m in registry.list_models()].count(True) == 1


def test_promote_and_roll_back_keep_everything(tmp_path, history, model):
    first = registry.promote(_candidate(tmp_path, model, "first"))
    assert modelfile.default_model_path() == first and first.parent == history
    assert modelfile.load(modelfile.default_model_path()).name == "first"
    with pytest.raises(registry.RegistryError, match="already the default"):
        registry.promote(tmp_path / "first.skops")
    second = registry.promote(_candidate(tmp_path, model, "second"))
    files = {f.name: f.read_bytes() for f in history.iterdir()}
    assert registry.rollback() == first
    assert registry.rollback() == DEFAULT_MODEL_PATH
    with pytest.raises(registry.RegistryError, match="nothing to roll back"):
        registry.rollback()
    # nothing was overwritten or deleted: the models are all still there, the history only grew
    for name, data in files.items():
        now = (history / name).read_bytes()
        assert now == data if name != modelfile.HISTORY else now.startswith(data)
    assert [e["action"] for e in modelfile.history()] == ["promote", "promote", "rollback", "rollback"]
    listed = registry.list_models()
    assert [m["default"] for m in listed].count(True) == 1 and listed[0]["shipped"] and listed[0]["default"]
    assert {Path(m["file"]) for m in listed} >= {first, second}


def test_retrain_loop_end_to_end(tmp_path):
    """scripts/retrain_loop.py, small: synth -> retrain (compared with the default on held-out
    photos) -> models list -> promote (as the gate decides) -> run -> rollback."""
    work = tmp_path / "loop"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "retrain_loop.py"), "--work", str(work), "--reviewed", "48",
         "--generated", "60", "--size", "480x360", "--workers", "2"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    card = json.loads((work / "models" / "retrained.card.json").read_text())
    comp = card["comparison"]
    assert comp["baseline"]["sha256"] == hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest()
    held = int(comp["held_out"].split()[0])
    assert comp["candidate"]["overall"]["n"] == comp["baseline"]["overall"]["n"] == held > 0
    assert card["training_data"]["sources"]["reviewed"]["photos"] + card["training_data"]["sources"]["generated"]["photos"] == 108
    promoted = "loop done: promoted=True" in done.stdout
    assert promoted or "loop done: promoted=False" in done.stdout
    run_model = json.loads((work / "run" / "run.json").read_text())["model"]
    assert (run_model["name"] == "retrained") == promoted  # the run used what the gate decided
    # the changed list is exactly the held-out photos whose level differs between the two models
    assert all(c["baseline"] != c["candidate"] for c in comp["changed"])
    assert "photos change level" in done.stdout
