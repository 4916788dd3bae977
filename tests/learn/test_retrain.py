"""Retraining, the promotion gate and the model history."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from triage.decide import modelfile
from triage.decide.modelfile import DEFAULT_MODEL_PATH
from triage.learn import registry
from triage.learn.train import save



@pytest.fixture()
def history(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(tmp_path / "history"))
    return tmp_path / "history"


def _candidate(tmp_path: Path, model, name: str, seek_new=1.0, seek_old=0.9, f1_new=0.8, f1_old=0.8) -> Path:
    """A real model file with a card whose comparison numbers are chosen by the test (what the
    gate reads), compared against whatever is the default now."""
    p = tmp_path / f"{name}.skops"
    m = copy.deepcopy(model)
    m.name = name  # distinct bytes, distinct sha256
    sha = save(m, p)

    def result(seek, f1):
        return {"overall": {"macro_f1": f1, "per_class": {"seek-care": {"recall": seek}}}, "per_ita_band": {}}

    card = {
        "model": {"name": name, "version": "t", "file": p.name, "sha256": sha},
        "intended_use": "test",
        "training_data": {"description": "test"},
        "inputs": m.input_names_,
        "validation_metrics": {"macro_f1": 0.8},
        "library_versions": {"python": "3"},
        "comparison": {
            "held_out": "test",
            "candidate": result(seek_new, f1_new),
            "baseline": {**result(seek_old, f1_old), "sha256": hashlib.sha256(modelfile.current_default().read_bytes()).hexdigest()},
            "changed": [],
        },
    }
    (tmp_path / f"{name}.card.json").write_text(json.dumps(card))
    return p


def test_promotion_gate(tmp_path, history, model):
    shipped = DEFAULT_MODEL_PATH
    assert modelfile.default_model_path() == shipped
    for kwargs, why in (
        ({"seek_new": 0.85}, "seek-care recall would drop"),
        ({"f1_new": 0.7}, "macro-F1 would drop"),
    ):
        bad = _candidate(tmp_path, model, "bad", **kwargs)
        with pytest.raises(registry.RegistryError, match=why):
            registry.promote(bad)
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


def test_promote_and_roll_back_keep_everything(tmp_path, history, model):
    first = registry.promote(_candidate(tmp_path, model, "first"))
    assert modelfile.default_model_path() == first and first.parent == history
    assert modelfile.load(modelfile.default_model_path()).name == "first"
    with pytest.raises(registry.RegistryError, match="already the default"):
        registry.promote(tmp_path / "first.skops")
    # a card compared against the shipped model is stale once `first` is the default
    stale = tmp_path / "stale"
    stale.mkdir()
    p = _candidate(stale, model, "second")
    card = json.loads((stale / "second.card.json").read_text())
    card["comparison"]["baseline"]["sha256"] = hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest()
    (stale / "second.card.json").write_text(json.dumps(card))
    with pytest.raises(registry.RegistryError, match="another model than the current default"):
        registry.promote(p)
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
    new = comp["candidate"]["overall"]
    old = comp["baseline"]["overall"]
    gate = (new["per_class"]["seek-care"]["recall"] >= old["per_class"]["seek-care"]["recall"]
            and new["macro_f1"] >= old["macro_f1"] - 0.02)  # fmt: skip
    assert f"loop done: promoted={gate}" in done.stdout
    run_model = json.loads((work / "run" / "run.json").read_text())["model"]
    assert (run_model["name"] == "retrained") == gate
    # the changed list is exactly the held-out photos whose level differs between the two models
    assert all(c["baseline"] != c["candidate"] for c in comp["changed"])
    assert "photos change level" in done.stdout
