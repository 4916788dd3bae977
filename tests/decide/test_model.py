"""The classifier: exact contributions, safety policy, trusted persistence."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from triage.decide import modelfile
from triage.decide.explain import feature_contributions
from triage.decide.model import input_feature
from triage.learn.train import save
from triage.pipeline import analyze


def test_contributions_add_up_to_the_score(model, photo):
    for days in (None, 1, 9):
        row = analyze(photo, days_since_treatment=days, model=model).to_dict()
        x = model.inputs(row["features"], days, row["quality"]["ok"])
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
    d = model.decide(model.inputs(row["features"], None, row["quality"]["ok"]))
    p = np.exp(d.scores - d.scores.max())
    p /= p.sum()
    assert np.allclose([d.probabilities[lvl] for lvl in model.levels_], p)


def test_safety_policy_overrides_are_said(model, photo):
    row = analyze(photo, model=model).to_dict()
    x = model.inputs(row["features"], 3)
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
    x_max = model.inputs(dict(row["features"], **{name: at_max}), 5)
    x_far = model.inputs(dict(row["features"], **{name: far}), 5)
    d_max, d_far = model.decide(x_max), model.decide(x_far)
    d_own = model.decide(model.inputs(row["features"], 5))
    assert name in d_far.beyond_training and name not in d_own.beyond_training
    assert d_far.label != "normal"
    if [input_feature(n) for n in model.input_names_].count(name) == 1:  # no day interaction
        assert np.allclose(d_far.scores, d_max.scores)
    summary = analyze(photo, days_since_treatment=5, model=model).to_dict()["explanation"]["summary"]
    assert "beyond anything" not in summary  # an ordinary photo is within the training range


def test_untrusted_model_files_are_refused(tmp_path):
    import os

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    p = tmp_path / "sk.skops"
    p.write_bytes(sio.dumps(LogisticRegression()))
    with pytest.raises(modelfile.ModelError, match="untrusted types"):
        modelfile.load(p)
    p2 = tmp_path / "fn.skops"
    p2.write_bytes(sio.dumps({"run": os.system}))
    with pytest.raises(modelfile.ModelError, match="untrusted types"):
        modelfile.load(p2)
    p3 = tmp_path / "pickle.skops"
    p3.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(modelfile.ModelError, match="not a triage model"):
        modelfile.load(p3)
    with pytest.raises(modelfile.ModelError, match="not found"):
        modelfile.load(tmp_path / "missing.skops")


def test_model_round_trip(tmp_path, model, photo):
    p = tmp_path / "m.skops"
    sha = save(model, p)
    again = modelfile.load(p)
    assert again.sha256 == sha
    x = model.inputs(analyze(photo, model=model).to_dict()["features"], 2)
    assert np.array_equal(again.predict_proba(x[None]), model.predict_proba(x[None]))


def test_own_reader_matches_skops_and_imports_no_sklearn(tmp_path, model):
    """The strict reader gives exactly what skops' own loader gives, and a fresh process that
    loads the model imports neither skops nor scikit-learn."""
    import subprocess
    import sys
    import zipfile

    import skops.io as sio

    p = tmp_path / "m.skops"
    save(model, p)
    data = p.read_bytes()
    ours, ref = modelfile.load(p), sio.loads(data, trusted=sorted(modelfile.types_in(data)))
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
    code = f"import sys; from triage.decide.modelfile import load; load({str(p)!r}); print('sklearn' in sys.modules, 'skops' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    # a schema edited to build another class is refused, even though every type name is trusted
    with zipfile.ZipFile(p) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["schema.json"] = files["schema.json"].replace(b'"ObjectNode"', b'"ReduceNode"', 1)
    with zipfile.ZipFile(tmp_path / "edited.skops", "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    with pytest.raises(modelfile.ModelError, match="cannot read model file"):
        modelfile.load(tmp_path / "edited.skops")


# --- issue 20, items 1 and 21: a model file can never turn photos "normal" or crash every row ---
def _saved(tmp_path, model, name="m", **changes):
    """The model saved with some attributes replaced (as a crafted file would hold them)."""
    import copy

    m = copy.deepcopy(model)
    for k, v in changes.items():
        setattr(m, k, v)
    p = tmp_path / f"{name}.skops"
    save(m, p)
    return p


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda m: {"coef_": np.full_like(m.coef_, np.nan)}, "coef_ holds values that are not finite"),
        (lambda m: {"coef_": m.coef_[:, :-3]}, "coef_ is not a numeric array of shape"),
        (lambda m: {"mean_": np.append(m.mean_, 0.0)}, "mean_ is not a numeric array of shape"),
        (lambda m: {"temperature_": 0.0}, "temperature is not a positive number"),
        (lambda m: {"temperature_": float("nan")}, "temperature is not a positive number"),
        (lambda m: {"seek_care_threshold_": 1.5}, "threshold is not in \\[0, 1\\]"),
        (lambda m: {"scale_": -m.scale_}, "scales or ranges are not positive"),
        (lambda m: {"input_names_": m.input_names_[::-1]}, "inputs or levels are not those"),
        (lambda m: {"extra_payload": [1, 2, 3]}, "unknown attributes \\(extra_payload\\)"),
    ],
)
def test_model_files_that_do_not_fit_together_are_refused(tmp_path, model, change, why):
    with pytest.raises(modelfile.ModelError, match=why):
        modelfile.load(_saved(tmp_path, model, **change(model)))


def test_oversized_members_are_refused_before_they_are_inflated(tmp_path, model):
    """A schema.json of 2 GB zipped to a few MB, and an array member whose header claims 1 GiB:
    refused from the zip's own sizes, without inflating anything."""
    import zipfile

    p = tmp_path / "m.skops"
    save(model, p)
    with zipfile.ZipFile(p) as z:
        files = {n: z.read(n) for n in z.namelist()}
    bomb = tmp_path / "bomb.skops"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in files.items():
            z.writestr(n, b if n != "schema.json" else b + b" " * 30_000_000)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(modelfile.ModelError, match="inflates to|larger than"):
        modelfile.load(bomb)


def test_non_finite_probabilities_are_an_error_never_normal(model, photo):
    import copy

    broken = copy.deepcopy(model)
    broken.coef_ = np.full_like(broken.coef_, np.inf)  # what no file can hold any more (above)
    row = analyze(photo, model=model).to_dict()
    with pytest.raises(ValueError, match="non-finite"):
        broken.decide(broken.inputs(row["features"], 2))


def test_a_refused_model_is_a_usage_error_of_run(tmp_path, model, photo):
    """`triage run --model` with a crafted file: exit 2 and one line, before any photo."""
    from PIL import Image
    from typer.testing import CliRunner

    from triage.cli import app

    bad = _saved(tmp_path, model, "bad", extra_payload=[0])
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photo).save(src / "a.jpg")
    res = CliRunner().invoke(app, ["run", str(src), "--out", str(tmp_path / "out"), "--model", str(bad), "--workers", "1"])
    assert res.exit_code == 2
    assert "unknown attributes" in res.output and "Traceback" not in res.output


def test_no_finding_ever_argues_for_a_lower_level():
    """A model fitted by fit_monotone on data whose papule count bends back (many papules
    labelled normal, as generated photos at counts they rarely reach did for the issue-4 model)
    still never lets a finding lower the level: raising any input that can only raise it, all
    else equal, never lowers P(seek-care) nor raises P(normal), anywhere in its range."""
    from triage.decide.model import TriageModel, input_vector, raises_level
    from triage.learn.train import MODEL_FEATURES

    rng = np.random.default_rng(3)
    rows, y = [], []
    for _ in range(1500):
        f = {name: float(rng.exponential(0.05)) for name in MODEL_FEATURES}
        f |= {"redness_delta_a": float(rng.uniform(0, 12)), "papule_count": float(rng.integers(0, 25))}
        bend = f["papule_count"] if f["papule_count"] < 12 else 24 - f["papule_count"]  # bends back past 12
        score = f["redness_delta_a"] / 4 + bend / 4 + rng.logistic() * 0.4
        rows.append(input_vector(MODEL_FEATURES, f, int(rng.integers(0, 15))))
        y.append("normal" if score < 1.5 else "monitor" if score < 3 else "seek-care")
    model = TriageModel(MODEL_FEATURES).fit(np.array(rows), np.array(y, dtype=object), C=1.0)
    base = np.array(rows[0])
    ordered = [j for j, n in enumerate(model.input_names_) if raises_level(n)]
    assert "papule_count" in [model.input_names_[j] for j in ordered] and len(ordered) >= 10
    seek, normal = model.levels_.index("seek-care"), model.levels_.index("normal")
    for j in ordered:
        grid = np.linspace(model.lower_[j], model.upper_[j], 25)
        X = np.repeat(base[None], len(grid), axis=0)
        X[:, j] = grid
        p = model.predict_proba(X)
        assert np.all(np.diff(p[:, seek]) >= -1e-12), model.input_names_[j]
        assert np.all(np.diff(p[:, normal]) <= 1e-12), model.input_names_[j]


def test_monotone_fit_is_scikit_learns_when_no_constraint_binds():
    """fit_monotone minimises scikit-learn's multinomial objective: without ordered columns it
    finds LogisticRegression's solution; with them, the coefficients come out ordered."""
    from sklearn.linear_model import LogisticRegression

    from triage.decide.model import fit_monotone

    rng = np.random.default_rng(0)
    U = rng.normal(size=(600, 4))
    score = U @ np.array([1.5, -1.0, 0.5, 0.0])
    y = np.digitize(score + rng.logistic(size=600) * 0.7, [-0.5, 1.0])  # ordered levels 0 < 1 < 2
    W, b = fit_monotone(U, y, np.zeros(4, bool), C=0.5)
    lr = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(U, y)
    assert np.allclose(W, lr.coef_ - lr.coef_.mean(axis=0), atol=2e-4)
    assert np.allclose(b, lr.intercept_ - lr.intercept_.mean(), atol=2e-4)
    W2, _ = fit_monotone(U, y, np.ones(4, bool), C=0.5)
    assert np.all(np.diff(W2, axis=0) >= -1e-9)  # normal <= monitor <= seek-care, every column
    assert W2[2, 1] - W2[0, 1] == pytest.approx(0.0, abs=1e-6)  # the negative column is held at 0
    assert W2[2, 0] - W2[0, 0] > 1.0  # the positive one is free


def test_an_optional_input_missing_contributes_nothing():
    """Inputs comparing a patient's photos (triage.course) are optional: fitted on the photos that
    have them, and exactly zero contribution where they are missing, so a photo without a
    baseline or history is judged on its own measurements only."""
    from triage.decide.model import TriageModel, input_vector

    rng = np.random.default_rng(1)
    names = ["redness_delta_a", "redness_kept"]
    rows, y = [], []
    for i in range(900):
        red = float(rng.uniform(0, 12))
        kept = float(rng.uniform(0, 2)) if i % 2 else None
        score = red / 4 + (2.5 * (kept - 1) if kept is not None else 0) + rng.logistic() * 0.5
        rows.append(input_vector(names, {"redness_delta_a": red, "redness_kept": kept}, 5))
        y.append("normal" if score < 1 else "monitor" if score < 2.5 else "seek-care")
    m = TriageModel(names, optional=["redness_kept"]).fit(np.array(rows), np.array(y, dtype=object), C=1.0)
    j = m.input_names_.index("redness_kept")
    alone = m.decide(input_vector(names, {"redness_delta_a": 5.0, "redness_kept": None}, 5))
    assert np.all(alone.contributions[:, j] == 0.0)
    low = m.decide(input_vector(names, {"redness_delta_a": 5.0, "redness_kept": 0.2}, 5))
    high = m.decide(input_vector(names, {"redness_delta_a": 5.0, "redness_kept": 1.8}, 5))
    assert low.probabilities["seek-care"] < alone.probabilities["seek-care"] < high.probabilities["seek-care"]
    assert m.optional_inputs_[j] and not m.optional_inputs_[m.input_names_.index("redness_delta_a")]


def test_an_input_that_never_varied_in_training_is_never_beyond_it():
    """Generated training photos show no face, so a facial region's measure (cheek asymmetry) is 0
    in all of them: the fit gives it no effect, and a face's value above 0 changes nothing and is
    not 'beyond training' (it would hold every face back from normal). A finding that varied
    keeps the safety net."""
    from triage.decide.model import TriageModel, input_vector

    rng = np.random.default_rng(2)
    names = ["redness_delta_a", "cheek_redness_asymmetry"]
    rows, y = [], []
    for _ in range(600):
        red = float(rng.uniform(0, 12))
        score = red / 4 + rng.logistic() * 0.5
        rows.append(input_vector(names, {"redness_delta_a": red, "cheek_redness_asymmetry": 0.0}, 5))
        y.append("normal" if score < 1 else "monitor" if score < 2.5 else "seek-care")
    m = TriageModel(names).fit(np.array(rows), np.array(y, dtype=object), C=1.0)
    flat = m.decide(input_vector(names, {"redness_delta_a": 1.0, "cheek_redness_asymmetry": 0.0}, 5))
    face = m.decide(input_vector(names, {"redness_delta_a": 1.0, "cheek_redness_asymmetry": 6.0}, 5))
    assert face.beyond_training == [] and face.label == flat.label == "normal"
    assert np.allclose(face.scores, flat.scores)
    far = m.decide(input_vector(names, {"redness_delta_a": 40.0, "cheek_redness_asymmetry": 0.0}, 5))
    assert far.beyond_training == ["redness_delta_a"] and far.label != "normal"


def test_reasons_are_what_argues_for_the_level_against_normal(model, photo):
    """A photo with three papules and nothing else: the reasons are what argues for its level
    against normal (each quoted feature's term in the log-odds against normal is positive), so
    absent findings ("marked redness covers 0.0%", "0 pinpoint bleeding spots"), which the model
    weighs alike at every level, are never quoted; and a photo failing the quality gate says so
    in words."""
    from triage.decide.explain import explain

    features = dict(analyze(photo, model=model).to_dict()["features"])
    findings = ("pustule_count", "vesicle_count", "crust_area_fraction", "bleeding_spot_count", "track_aligned_dots",
                "redness_strong_area_fraction", "bruise_area_fraction", "dark_macule_area_fraction", "dark_macule_count")  # fmt: skip
    features |= {name: 0.0 for name in findings} | {"papule_count": 3.0}
    d = model.decide(model.inputs(features, 3))
    assert d.label != "normal"
    reasons = explain(model, d, features, 3, [])["reasons"]
    toward, normal = feature_contributions(model, d, d.label), feature_contributions(model, d, "normal")
    assert "papule_count" in [r["feature"] for r in reasons]
    for r in reasons:
        assert toward[r["feature"]] - normal[r["feature"]] > 0
        assert r["feature"] not in findings
    failed = model.decide(model.inputs(features, 3, quality_ok=False), quality_ok=False)
    summary = explain(model, failed, features, 3, ["blurry"])["summary"]
    assert "could not be measured" not in summary


def test_reasons_for_monitor_or_seek_care_are_findings_the_photo_shows(model):
    """A monitor decision whose terms against normal all argue for monitor: an absent finding (0
    bleeding spots), the skin tone, a redness spread within its expected range for the day and 3
    papules. Spline terms are relative to the training photos' average, so a fit can give the
    first three such terms (the shipped model did, 2026-12-02); only the papules are quoted."""
    from triage.decide.bands import day_band
    from triage.decide.explain import explain
    from triage.decide.model import Decision

    spread_ok = 0.5 * model.expected_ranges_["redness_spread"][day_band(None)]
    features = {"bleeding_spot_count": 0.0, "ita_deg": -57.0, "redness_spread": spread_ok, "papule_count": 3.0}
    push = {"bleeding_spot_count": 1.0, "ita_deg": 0.8, "redness_spread": 0.6, "papule_count": 0.5}
    contributions = np.zeros((3, len(model.input_names_)))
    for j, name in enumerate(model.input_names_):
        contributions[model.levels_.index("monitor"), j] = push.get(input_feature(name), 0.0)
    d = Decision("monitor", "monitor", {"normal": 0.3, "monitor": 0.6, "seek-care": 0.1}, None, [],
                 contributions.sum(axis=1), contributions, np.zeros(3))  # fmt: skip
    reasons = explain(model, d, features, None, [])["reasons"]
    assert [r["feature"] for r in reasons] == ["papule_count"]


def test_flagged_sample_photos_quote_only_findings_beyond_their_expected_range(model):
    """The same rule on what the shipped model says of the shipped sample photos it flags."""
    from pathlib import Path

    from triage.decide.bands import day_band
    from triage.decide.explain import explain
    from triage.measure.io import load_image

    for path in sorted((Path(__file__).resolve().parents[2] / "sample_images").glob("*.jpg")):
        features = analyze(load_image(path).rgb, model=model).to_dict()["features"]
        d = model.decide(model.inputs(features, None))
        if d.label == "normal":
            continue
        for r in explain(model, d, features, None, [])["reasons"]:
            expected = model.expected_ranges_.get(r["feature"], {}).get(day_band(None))
            assert r["value"] != 0 and r["feature"] not in ("ita_deg", "skin_fraction"), (path.name, r["text"])
            assert expected is None or r["value"] > expected, (path.name, r["text"])
