"""The classifier: exact contributions, safety policy, trusted persistence, reproducible training,
evaluation outputs."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from triage import model as tm
from triage.explain import feature_contributions
from triage.pipeline import analyze


def test_contributions_add_up_to_the_score(model, photo):
    for days in (None, 1, 9):
        row = analyze(photo, days_since_treatment=days, model=model).to_dict()
        x = tm.input_vector(row["features"], days, row["quality"]["ok"])
        d = model.decide(x, quality_ok=row["quality"]["ok"])
        for k, level in enumerate(model.levels_):
            contrib = feature_contributions(model, d, level)
            assert abs(sum(contrib.values()) + d.intercepts[k] - d.scores[k]) < 1e-6
            # and the same score as the model's own vectorised path
            assert abs(model.scores(x[None])[0, k] - d.scores[k]) < 1e-9
        chosen = row["label"]
        reasons = row["explanation"]["reasons"]
        contrib = feature_contributions(model, d, chosen)
        for r in reasons:  # the reasons quote the model's own numbers, and the row's feature values
            assert r["contribution"] == pytest.approx(contrib[r["feature"]], abs=1e-6)
            if r["feature"] in row["features"]:
                assert r["value"] == pytest.approx(row["features"][r["feature"]], abs=1e-5)


def test_probabilities_are_softmax_of_scores(model, photo):
    row = analyze(photo, model=model).to_dict()
    d = model.decide(tm.input_vector(row["features"], None, row["quality"]["ok"]))
    p = np.exp(d.scores - d.scores.max())
    p /= p.sum()
    assert np.allclose([d.probabilities[lvl] for lvl in model.levels_], p)


def test_safety_policy_overrides_are_said(model, photo):
    row = analyze(photo, model=model).to_dict()
    x = tm.input_vector(row["features"], 3)
    d = model.decide(x, quality_ok=False)
    assert d.label != "normal"
    old = model.seek_care_threshold_
    try:
        model.seek_care_threshold_ = 0.0  # everything above the threshold: seek-care, and said so
        d = model.decide(x)
        assert d.label == "seek-care"
        assert d.argmax == "seek-care" or "safety threshold" in d.override
    finally:
        model.seek_care_threshold_ = old


@pytest.mark.parametrize("name", ["pustule_count", "redness_area_fraction", "bleeding_spot_count"])
def test_findings_beyond_training_are_clamped_and_never_normal(model, photo, name):
    """A real photo can measure far outside the generated training data (salt noise read as
    200 pustules): the spline must not extrapolate. Beyond the training maximum the scores are
    those at the maximum, the finding is named, and the level is never normal."""
    row = analyze(photo, days_since_treatment=5, model=model).to_dict()
    j = model.input_names_.index(name)
    top = model.upper_[j]  # on the model's input scale: log1p for counts, sqrt for fractions
    at_max = float(np.expm1(top)) if name.endswith("_count") else float(top) ** 2
    far = at_max * 10 if name.endswith("_count") else 1.0
    assert far > at_max
    x_max = tm.input_vector(dict(row["features"], **{name: at_max}), 5)
    x_far = tm.input_vector(dict(row["features"], **{name: far}), 5)
    d_max, d_far = model.decide(x_max), model.decide(x_far)
    d_own = model.decide(tm.input_vector(row["features"], 5))
    assert name in d_far.beyond_training and name not in d_own.beyond_training
    assert d_far.label != "normal"
    if [tm.input_feature(n) for n in model.input_names_].count(name) == 1:  # no day interaction
        assert np.allclose(d_far.scores, d_max.scores)
    summary = analyze(photo, days_since_treatment=5, model=model).to_dict()["explanation"]["summary"]
    assert "beyond anything" not in summary  # an ordinary photo is within the training range


def test_untrusted_model_files_are_refused(tmp_path):
    import os

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    p = tmp_path / "sk.skops"
    p.write_bytes(sio.dumps(LogisticRegression()))
    with pytest.raises(tm.ModelError, match="untrusted types"):
        tm.load(p)
    p2 = tmp_path / "fn.skops"
    p2.write_bytes(sio.dumps({"run": os.system}))
    with pytest.raises(tm.ModelError, match="untrusted types"):
        tm.load(p2)
    p3 = tmp_path / "pickle.skops"
    p3.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(tm.ModelError, match="not a triage model"):
        tm.load(p3)
    with pytest.raises(tm.ModelError, match="not found"):
        tm.load(tmp_path / "missing.skops")


def test_model_round_trip(tmp_path, model, photo):
    p = tmp_path / "m.skops"
    sha = tm.save(model, p)
    again = tm.load(p)
    assert again.sha256 == sha
    x = tm.input_vector(analyze(photo, model=model).to_dict()["features"], 2)
    assert np.array_equal(again.predict_proba(x[None]), model.predict_proba(x[None]))


def test_own_reader_matches_skops_and_imports_no_sklearn(tmp_path, model):
    """The strict reader gives exactly what skops' own loader gives, and a fresh process that
    loads the model imports neither skops nor scikit-learn."""
    import subprocess
    import sys
    import zipfile

    import skops.io as sio

    p = tmp_path / "m.skops"
    tm.save(model, p)
    data = p.read_bytes()
    ours, ref = tm.load(p), sio.loads(data, trusted=sorted(tm.types_in(data)))
    assert set(ours.__dict__) == set(ref.__dict__)
    for k, v in ref.__dict__.items():
        w = ours.__dict__[k]
        if k == "sha256":
            continue
        if isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            assert len(v) == len(w) and all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(v, w)), k
        elif isinstance(v, np.ndarray):
            assert np.array_equal(v, w) and v.dtype == w.dtype, k
        else:
            assert v == w and type(v) is type(w), k
    code = f"import sys; from triage.model import load; load({str(p)!r}); print('sklearn' in sys.modules, 'skops' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    # a schema edited to build another class is refused, even though every type name is trusted
    with zipfile.ZipFile(p) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["schema.json"] = files["schema.json"].replace(b'"ObjectNode"', b'"ReduceNode"', 1)
    with zipfile.ZipFile(tmp_path / "edited.skops", "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    with pytest.raises(tm.ModelError, match="cannot read model file"):
        tm.load(tmp_path / "edited.skops")


def test_train_is_reproducible_and_evaluate_writes_metrics(small_dataset, tmp_path):
    from triage.evaluate import evaluate
    from triage.train import card_path, train

    a, b = tmp_path / "a.skops", tmp_path / "b.skops"
    card = train(small_dataset, a, seed=3, workers=1)
    train(small_dataset, b, seed=3, workers=2)
    ma, mb = tm.load(a), tm.load(b)  # same data and seed (1 or 2 workers): the same model
    for attr in ("coef_", "intercept_", "mean_", "scale_", "impute_"):
        assert np.array_equal(getattr(ma, attr), getattr(mb, attr)), attr
    assert (ma.temperature_, ma.seek_care_threshold_) == (mb.temperature_, mb.seek_care_threshold_)
    card_file = json.loads(card_path(a).read_text())
    for key in ("training_data", "features", "validation_metrics", "library_versions"):
        assert card_file[key]
    assert card_file["training_data"]["sha256"] == card["training_data"]["sha256"]
    m = tm.load(a)
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
    from triage.evaluate import expected_calibration_error

    # 10 predictions at confidence 0.8, 8 right: perfectly calibrated -> 0; 5 right -> 0.3
    proba = np.tile([0.8, 0.1, 0.1], (10, 1))
    assert expected_calibration_error(["normal"] * 8 + ["monitor"] * 2, proba) == pytest.approx(0.0)
    assert expected_calibration_error(["normal"] * 5 + ["monitor"] * 5, proba) == pytest.approx(0.3)
