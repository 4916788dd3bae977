"""Model history: trained models kept side by side, the default chosen by an append-only log.

Folder: triage.decide.modelfile.registry_dir() ($TRIAGE_MODELS_DIR, else
$XDG_DATA_HOME/triage/models, else ~/.local/share/triage/models); which model is the default is
read there too (modelfile.current_default), so that running never depends on training code.
- Registered models are copied in as <name>-<sha256[:12]>.skops with their .card.json: the name
  carries the content's hash, so nothing is ever overwritten.
- history.jsonl: one line per promotion or rollback ({"action", "file", "sha256", "at"}).
  Promotions push a model, rollbacks pop one; the default is the top of that stack, and with an
  empty stack the shipped models/default.skops. TRIAGE_MODEL still overrides everything.

Promotion gate (`check_promotable`): the card is complete (CARD_FIELDS, its sha256 is the
file's), the model passes the strict reader, and on the gate's own held-out photos (generated,
never trained on) its seek-care recall does not drop against the current default, nor its
macro-F1 by more than PROMOTION_MAX_MACRO_F1_DROP (a model that calls everything seek-care
keeps its recall). A promoted file is checked against the sha256 history.jsonl recorded for it
at every load (triage.decide.modelfile.load_default_file).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..decide.modelfile import (
    DEFAULT_MODEL_PATH,
    HISTORY,
    current_default,
    promoted,
    registry_dir,
)
from ..util.files import atomic_write_bytes, file_sha256
from . import config
from .train import card_path

CARD_FIELDS = ("model", "intended_use", "training_data", "inputs", "validation_metrics", "library_versions", "comparison")


class RegistryError(Exception):
    """A refused registry action; str() is one line."""


def card_of(model_path: Path) -> dict | None:
    try:
        return json.loads(card_path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def register(model_path: str | Path) -> Path:
    """Copy a model and its card into the registry (once: the file name carries its hash)."""
    src = Path(model_path)
    if not src.is_file():
        raise RegistryError(f"model file not found: {src}")
    sha = file_sha256(src)
    name = src.name.split(".")[0]
    dest = registry_dir() / f"{name}-{sha[:12]}.skops"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dest, src.read_bytes())
        if card_path(src).is_file():
            shutil.copyfile(card_path(src), card_path(dest))
    return dest


def _append(entry: dict) -> None:
    d = registry_dir()
    d.mkdir(parents=True, exist_ok=True)
    entry["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with open(d / HISTORY, "a", encoding="utf-8") as f:  # one short line: appended whole
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def gate_photos(workers: int | None = None) -> list:
    """The promotion gate's own held-out photos: PROMOTION_GATE_N generated photos (seed
    PROMOTION_GATE_SEED) no model is trained on, made and measured once (kept in the cache
    folder, features cached by sha256)."""
    from ..util.pool import default_workers
    from .dataset import generated_photos, measure_dataset, read_labels

    workers = workers or default_workers()
    folder = generated_photos(config.PROMOTION_GATE_N, config.PROMOTION_GATE_SEED, config.PROMOTION_GATE_SIZE, workers)
    measured, _failed = measure_dataset(folder, read_labels(folder), workers)
    return measured


def check_promotable(model_path: Path, workers: int | None = None) -> dict:
    """The card of a model that passes the promotion gate; RegistryError says why not.

    The gate trusts no number a card reports: it reads the candidate with the strict reader
    (triage.decide.modelfile: types, shapes, finite values, ranges) and evaluates it and the
    current default on its own held-out photos (gate_photos): seek-care recall may not drop,
    macro-F1 not by more than PROMOTION_MAX_MACRO_F1_DROP, and every probability must be finite.
    The card must still be complete and belong to the file."""
    from ..decide.modelfile import ModelError, load, load_default_file
    from .evaluate import evaluate_measured

    card = card_of(model_path)
    if card is None:
        raise RegistryError(f"no model card beside {model_path}")
    missing = [k for k in CARD_FIELDS if not card.get(k)]
    if missing:
        hint = " (train it with `triage retrain`, which compares it with the default)" if "comparison" in missing else ""
        raise RegistryError(f"model card incomplete: missing {', '.join(missing)}{hint}")
    if not isinstance(card.get("model"), dict) or card["model"].get("sha256") != file_sha256(model_path):
        raise RegistryError("model card does not belong to this file (sha256 differs)")
    try:
        candidate = load(model_path)
    except ModelError as e:
        raise RegistryError(str(e)) from None
    try:
        baseline = load_default_file()
    except ModelError as e:
        raise RegistryError(f"the current default cannot be read ({e}): roll back first") from None
    held = gate_photos(workers)
    try:
        new, old = evaluate_measured(held, candidate), evaluate_measured(held, baseline)
    except ValueError as e:
        raise RegistryError(f"on the gate's held-out photos: {e}") from None
    where = f"on the gate's {len(held)} held-out photos"
    rec_new = new["overall"]["per_class"]["seek-care"]["recall"]
    rec_old = old["overall"]["per_class"]["seek-care"]["recall"]
    if rec_new < rec_old:
        raise RegistryError(f"seek-care recall would drop {where} ({rec_old:.3f} -> {rec_new:.3f})")
    f1_new, f1_old = new["overall"]["macro_f1"], old["overall"]["macro_f1"]
    if f1_new < f1_old - config.PROMOTION_MAX_MACRO_F1_DROP:
        raise RegistryError(f"macro-F1 would drop {where} ({f1_old:.3f} -> {f1_new:.3f})")
    return card


def promote(model_path: str | Path) -> Path:
    """Make a model the default after the gate; returns its registry path."""
    src = Path(model_path)
    if not src.is_file():
        raise RegistryError(f"model file not found: {src}")
    if file_sha256(src) == file_sha256(current_default()):
        raise RegistryError(f"{src.name} is already the default")
    check_promotable(src)
    dest = register(src)
    _append({"action": "promote", "file": dest.name, "sha256": file_sha256(dest)})
    return dest


def rollback() -> Path:
    """Return to the default before the current one; returns the new default's path."""
    if not promoted():
        raise RegistryError("nothing to roll back: the shipped model is the default")
    _append({"action": "rollback"})
    return current_default()


def list_models() -> list[dict]:
    """The shipped model and every registered one, with their cards' key figures."""
    default = current_default().resolve()
    paths = [DEFAULT_MODEL_PATH] + sorted(registry_dir().glob("*.skops"))
    out = []
    for p in paths:
        card = card_of(p) or {}
        comp = card.get("comparison") or {}
        test = comp.get("candidate") or card.get("test_metrics") or {}
        overall = test.get("overall") or {}
        out.append({
            "file": str(p),
            "default": p.resolve() == default,
            "shipped": p == DEFAULT_MODEL_PATH,
            "version": (card.get("model") or {}).get("version"),
            "created": card.get("created"),
            "macro_f1": overall.get("macro_f1"),
            "seek_care_recall": ((overall.get("per_class") or {}).get("seek-care") or {}).get("recall"),
            "evaluated_on": comp.get("held_out") or (card.get("test_metrics") or {}).get("dataset"),
        })  # fmt: skip
    return out
