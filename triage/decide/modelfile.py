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
import os
from pathlib import Path

import numpy as np

from ..util.shipped import shipped
from .model import TriageModel

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


def types_in(data: bytes) -> set[str]:
    """module.class of every object in a skops file (read from its schema, nothing loaded)."""
    import io as _io
    import zipfile

    with zipfile.ZipFile(_io.BytesIO(data)) as z:
        schema = json.loads(z.read("schema.json"))
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
        with files.open(node["file"]) as f:
            return np.load(f, allow_pickle=False)
    if loader == "ObjectNode" and f"{node['__module__']}.{node['__class__']}" in MODEL_TYPES:
        model = TriageModel.__new__(TriageModel)
        model.__dict__.update(_read_node(node["content"], files))
        return model
    raise ValueError(f"unexpected node {loader} {node.get('__class__')}")


def read_model_bytes(data: bytes) -> TriageModel:
    """A TriageModel from the bytes of a skops file written by `save`, read with our own strict
    reader (skops writes the file; reading it needs neither skops nor scikit-learn, which would
    cost every process of a batch 1.3 s and ~110 MB). Raises ModelError."""
    import io as _io
    import zipfile

    try:
        found = types_in(data)
    except Exception as e:  # noqa: BLE001 - anything that is not a skops archive is not a model
        raise ModelError(f"not a triage model file ({type(e).__name__})") from None
    extra = sorted(found - TRUSTED_TYPES)
    if extra:
        raise ModelError(f"model file refused: it contains untrusted types ({', '.join(extra[:5])})")
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as files:
            model = _read_node(json.loads(files.read("schema.json")), files)
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"cannot read model file ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if not isinstance(model, TriageModel):
        raise ModelError(f"model file refused: it holds a {type(model).__name__}, not a TriageModel")
    missing = sorted(set(TriageModel().__dict__) - set(model.__dict__))
    if missing:
        raise ModelError(f"model file is from an older triage: missing {', '.join(missing[:3])}; retrain it")
    model.sha256 = hashlib.sha256(data).hexdigest()
    return model


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
    """The promotions and rollbacks, oldest first."""
    try:
        lines = (registry_dir() / HISTORY).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


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
    return registry_dir() / stack[-1]["file"] if stack else DEFAULT_MODEL_PATH


def default_model_path() -> Path:
    """TRIAGE_MODEL when set, else the promoted default of the model history, else the shipped
    model."""
    if os.environ.get("TRIAGE_MODEL"):
        return Path(os.environ["TRIAGE_MODEL"])
    return current_default()


_DEFAULT: TriageModel | None = None


def load_default() -> TriageModel:
    """The shipped model, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load(default_model_path())
    return _DEFAULT


def load_model(path: str | Path | None = None) -> TriageModel:
    """Public API: the shipped model (path None) or the model file at `path`; untrusted content
    is refused with ModelError."""
    return load_default() if path is None else load(path)
