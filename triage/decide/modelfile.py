"""Model files: the strict reader, and which file is the default.

Models are written with skops (triage.learn.train.save) and read back here by our own reader of
that format, which rebuilds only an allow-list of types (TRUSTED_TYPES: plain values, numpy
arrays without pickle, the TriageModel's attribute dict); anything else is refused with
ModelError, and reading needs neither skops nor scikit-learn.

The default model: TRIAGE_MODEL when set, else the last model promoted in the model history
($TRIAGE_MODELS_DIR/history.jsonl, written by triage.learn.registry), else the shipped
models/default.skops.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from ..util.shipped import shipped
from . import config
from .model import KNOT_QUANTILES, TriageModel, input_names

#: Every type a model file may hold. skops on its own trusts much more (all of scikit-learn,
#: for instance); this list is checked first, against every node of the file's schema.
#: The model class under the names files give it: triage.model (files written before the
#: package was split by stage, such as the shipped default) and triage.decide.model.
MODEL_TYPES = frozenset({"triage.model.TriageModel", "triage.decide.model.TriageModel"})
TRUSTED_TYPES = MODEL_TYPES | frozenset({
    "numpy.ndarray", "builtins.dict", "builtins.list", "builtins.tuple",
    "builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.NoneType",
    "numpy.float64", "numpy.int64",
})  # fmt: skip


class ModelError(Exception):
    """A model file that is missing, unreadable or not trusted; str() is one line."""


def _member(files, name: str, limit: int) -> bytes:
    """A zip member's bytes, refused past `limit` (its header's size first, then what it really
    inflates to: a header can lie)."""
    if files.getinfo(name).file_size > limit:
        raise ModelError(f"model file refused: {name} is larger than {limit:,} bytes")
    with files.open(name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ModelError(f"model file refused: {name} is larger than {limit:,} bytes")
    return data


def types_in(data: bytes) -> set[str]:
    """module.class of every object in a skops file (read from its schema, nothing loaded)."""
    import io as _io
    import zipfile

    with zipfile.ZipFile(_io.BytesIO(data)) as z:
        schema = json.loads(_member(z, "schema.json", config.MAX_MODEL_SCHEMA_BYTES))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _read_node(node, files):
    """Rebuild one node of a skops schema whose types passed TRUSTED_TYPES: plain JSON values,
    lists, dicts with str keys, numpy arrays (np.load without pickle) and the TriageModel's
    attribute dict. Nothing is imported or called by name."""
    loader = node.get("__loader__")
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "ListNode":
        return [_read_node(n, files) for n in node["content"]]
    if loader == "TupleNode":
        return tuple(_read_node(n, files) for n in node["content"])
    if loader == "DictNode":
        key_types = {(t.get("__loader__"), t.get("__module__"), t.get("__class__")) for t in node["key_types"]["content"]}
        if key_types - {("TypeNode", "builtins", "str")}:
            raise ValueError("dict keys other than str")
        return {k: _read_node(v, files) for k, v in node["content"].items()}
    if loader == "NdArrayNode" and node.get("type") == "numpy":
        import io as _io

        return np.load(_io.BytesIO(_member(files, node["file"], config.MAX_MODEL_ARRAY_BYTES)), allow_pickle=False)
    if loader == "ObjectNode" and f"{node['__module__']}.{node['__class__']}" in MODEL_TYPES:
        model = TriageModel.__new__(TriageModel)
        model.__dict__.update(_read_node(node["content"], files))
        return model
    raise ValueError(f"unexpected node {loader} {node.get('__class__')}")


def read_model_bytes(data: bytes) -> TriageModel:
    """A TriageModel from the bytes of a skops file written by `save`, read with our own strict
    reader (skops writes the file; reading it needs neither skops nor scikit-learn, which would
    cost every process of a batch 1.3 s and ~110 MB) and checked whole (`validate`): sizes are
    capped before anything is inflated. Raises ModelError."""
    import io as _io
    import zipfile

    if len(data) > config.MAX_MODEL_FILE_BYTES:
        raise ModelError(f"model file refused: larger than {config.MAX_MODEL_FILE_BYTES:,} bytes")
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
        if inflated > config.MAX_MODEL_FILE_BYTES:
            raise ModelError(f"model file refused: it inflates to {inflated:,} bytes")
        found = types_in(data)
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - anything that is not a skops archive is not a model
        raise ModelError(f"not a triage model file ({type(e).__name__})") from None
    extra = sorted(found - TRUSTED_TYPES)
    if extra:
        raise ModelError(f"model file refused: it contains untrusted types ({', '.join(extra[:5])})")
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as files:
            model = _read_node(json.loads(_member(files, "schema.json", config.MAX_MODEL_SCHEMA_BYTES)), files)
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"cannot read model file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(model, TriageModel):
        raise ModelError(f"model file refused: it holds a {type(model).__name__}, not a TriageModel")
    validate(model)
    model.sha256 = hashlib.sha256(data).hexdigest()
    return model


def validate(model: TriageModel) -> None:
    """Refuse (ModelError) a model whose parts do not fit together: its attributes exactly those
    of a TriageModel; its inputs the features then the day terms (model.input_names); every array
    the shape its inputs and knots imply, finite, scales positive; temperature > 0; the
    seek-care threshold in [0, 1]. A model that passes gives finite probabilities for any row."""
    expected = set(TriageModel().__dict__)
    if "optional_inputs_" not in model.__dict__ and "input_names_" in model.__dict__:
        model.optional_inputs_ = [False] * len(model.input_names_)  # a model from before optional inputs has none
    attrs = set(model.__dict__)
    if attrs - expected:
        raise ModelError(f"model file refused: unknown attributes ({', '.join(sorted(attrs - expected)[:3])})")
    if expected - attrs:
        raise ModelError(f"model file is from an older triage: missing {', '.join(sorted(expected - attrs)[:3])}; retrain it")

    def bad(why: str) -> ModelError:
        return ModelError(f"model file refused: {why}")

    names = model.input_names_
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names) and "days_since_treatment" in names):
        raise bad("its input names are not a list of names")
    if names != input_names(model.feature_names) or list(model.levels_) != list(config.LEVELS):
        raise bad("its inputs or levels are not those of this triage")
    n = len(names)
    opt = model.optional_inputs_
    if not (isinstance(opt, list) and len(opt) == n and all(isinstance(v, bool) for v in opt)):
        raise bad("its optional inputs do not match its inputs")
    knots = model.knots_
    if not (isinstance(knots, list) and len(knots) == n and all(isinstance(k, np.ndarray) and k.ndim == 1 and len(k) <= len(KNOT_QUANTILES) for k in knots)):
        raise bad("its spline knots do not match its inputs")
    nb = sum(1 + len(k) for k in knots)
    shapes = {
        "impute_": (n,), "mean_": (n,), "scale_": (n,), "lower_": (n,), "upper_": (n,),
        "basis_mean_": (nb,), "basis_scale_": (nb,), "basis_input_": (nb,), "coef_": (len(config.LEVELS), nb),
        "intercept_": (len(config.LEVELS),),
    }  # fmt: skip
    for attr, shape in shapes.items():
        v = getattr(model, attr)
        if not isinstance(v, np.ndarray) or v.shape != shape or v.dtype.kind not in "fiu":
            raise bad(f"{attr} is not a numeric array of shape {shape}")
        if not np.all(np.isfinite(v)):
            raise bad(f"{attr} holds values that are not finite")
    for k in knots:
        if k.dtype.kind != "f" or not np.all(np.isfinite(k)):
            raise bad("its spline knots are not finite numbers")
    if not np.array_equal(model.basis_input_, np.repeat(np.arange(n), [1 + len(k) for k in knots])):
        raise bad("its basis columns do not match its inputs")
    if np.any(model.scale_ <= 0) or np.any(model.basis_scale_ <= 0) or np.any(model.lower_ > model.upper_):
        raise bad("its scales or ranges are not positive")
    t, thr = model.temperature_, model.seek_care_threshold_
    if not (isinstance(t, (float, int)) and math.isfinite(t) and t > 0):
        raise bad("its temperature is not a positive number")
    if not (isinstance(thr, (float, int)) and 0.0 <= thr <= 1.0):
        raise bad("its seek-care threshold is not in [0, 1]")
    ranges = model.expected_ranges_
    if not (isinstance(ranges, dict) and all(isinstance(b, dict) and all(isinstance(v, (float, int)) and math.isfinite(v) for v in b.values()) for b in ranges.values())):
        raise bad("its expected ranges are not finite numbers")
    if not (isinstance(model.name, str) and isinstance(model.version, str)):
        raise bad("its name or version is not text")


def load(path: str | Path) -> TriageModel:
    """Load a model file (see `read_model_bytes`); the model's sha256 attribute is the file's."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror or e}") from None
    try:
        return read_model_bytes(data)
    except ModelError as e:
        raise ModelError(f"{e}: {path}" if str(e).startswith("not a triage model") else str(e)) from None


#: The shipped model (triage.util.shipped: models/default.skops).
DEFAULT_MODEL_PATH = shipped("default.skops")


# --- the model history (written by triage.learn.registry) ----------------------------------
HISTORY = "history.jsonl"


def registry_dir() -> Path:
    """$TRIAGE_MODELS_DIR, else $XDG_DATA_HOME/triage/models, else ~/.local/share/triage/models."""
    where = os.environ.get("TRIAGE_MODELS_DIR")
    if where:
        return Path(where)
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "triage" / "models"


def history() -> list[dict]:
    """The promotions and rollbacks, oldest first. A line that is not a complete entry (torn by a
    crash while it was written) is skipped: the history is append-only, so what came before it
    stands."""
    try:
        lines = (registry_dir() / HISTORY).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("action") in ("promote", "rollback"):
            if entry["action"] == "rollback" or (isinstance(entry.get("file"), str) and isinstance(entry.get("sha256"), str)):
                out.append(entry)
    return out


def promoted() -> list[dict]:
    """The stack of promoted models: promotions push, rollbacks pop; the last is the default."""
    stack: list[dict] = []
    for entry in history():
        if entry["action"] == "promote":
            stack.append(entry)
        elif entry["action"] == "rollback" and stack:
            stack.pop()
    return stack


def current_default() -> Path:
    """The default model file (without TRIAGE_MODEL): the last promoted one, else the shipped."""
    stack = promoted()
    return registry_dir() / Path(stack[-1]["file"]).name if stack else DEFAULT_MODEL_PATH


def default_model_path() -> Path:
    """TRIAGE_MODEL when set, else the promoted default of the model history, else the shipped
    model."""
    if os.environ.get("TRIAGE_MODEL"):
        return Path(os.environ["TRIAGE_MODEL"])
    return current_default()


def load_default_file() -> TriageModel:
    """The default model (default_model_path), read; a promoted model's file must still have the
    sha256 the history recorded when it was promoted (a file swapped in the registry folder
    afterwards is refused)."""
    path = default_model_path()
    model = load(path)
    stack = promoted()
    if not os.environ.get("TRIAGE_MODEL") and stack and model.sha256 != stack[-1]["sha256"]:
        raise ModelError(f"model file refused: {path.name} changed since it was promoted (sha256 differs from the model history)")
    return model


_DEFAULT: TriageModel | None = None


def load_default() -> TriageModel:
    """The shipped model, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_default_file()
    return _DEFAULT


def load_model(path: str | Path | None = None) -> TriageModel:
    """Public API: the shipped model (path None) or the model file at `path`; untrusted content
    is refused with ModelError."""
    return load_default() if path is None else load(path)
