"""Training and evaluation: reproducible models, complete cards, evaluation outputs, and the
calibration error on a case worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from triage.decide import modelfile


def test_train_is_reproducible_and_evaluate_writes_metrics(small_dataset, tmp_path):
    from triage.learn.evaluate import evaluate
    from triage.learn.train import card_path, train

    a, b = tmp_path / "a.skops", tmp_path / "b.skops"
    card = train(small_dataset, a, seed=3, workers=1)
    train(small_dataset, b, seed=3, workers=2)
    ma, mb = modelfile.load(a), modelfile.load(b)  # same data and seed (1 or 2 workers): the same model
    for attr in ("coef_", "intercept_", "mean_", "scale_", "impute_"):
        assert np.array_equal(getattr(ma, attr), getattr(mb, attr)), attr
    assert (ma.temperature_, ma.seek_care_threshold_) == (mb.temperature_, mb.seek_care_threshold_)
    card_file = json.loads(card_path(a).read_text())
    for key in ("training_data", "features", "validation_metrics", "library_versions"):
        assert card_file[key]
    assert card_file["training_data"]["sha256"] == card["training_data"]["sha256"]
    m = modelfile.load(a)
    res = evaluate(small_dataset, m, tmp_path / "eval", workers=1)
    for f in ("metrics.json", "predictions.csv", "confusion_matrix.png", "reliability.png"):
        assert (tmp_path / "eval" / f).stat().st_size > 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    cm = np.array(metrics["overall"]["confusion_matrix"]["rows_truth_cols_pred"])
    assert cm.sum() == metrics["overall"]["n"] == 60
    assert set(metrics["per_ita_band"]) <= {"very_light", "light", "intermediate", "tan", "brown", "dark"}
    assert metrics["rules_baseline"]["n"] == 60
    assert 0 <= metrics["overall"]["ece"] <= 1
    assert res["overall"]["macro_f1"] == metrics["overall"]["macro_f1"]


def test_ece_on_a_known_case():
    from triage.learn.evaluate import expected_calibration_error

    # 10 predictions at confidence 0.8, 8 right: perfectly calibrated -> 0; 5 right -> 0.3
    proba = np.tile([0.8, 0.1, 0.1], (10, 1))
    assert expected_calibration_error(["normal"] * 8 + ["monitor"] * 2, proba) == pytest.approx(0.0)
    assert expected_calibration_error(["normal"] * 5 + ["monitor"] * 5, proba) == pytest.approx(0.3)
