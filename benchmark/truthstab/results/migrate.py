"""Read older result files: a schema-2 result rewritten as schema 3 (in memory; the file is untouched).

Schema 3 (this truthstab) differs from schema 2 in five ways, each undone here:

- one interval type everywhere: the probe and behavioural metrics' ``{estimate, low, high}`` become
  ``{value, ci_low, ci_high}`` (the headline's spelling), each with an optional ``reason``;
- the probe metrics no longer repeat the protocol record (mode, seed, probes, layers, bootstrap and refit
  counts, noise rows, layer choice, timings), and the protocol record drops its derived ``sweep_curves``
  (the metrics' ``sweeps`` hold the curves) and its ``seeds`` (every one was the run's seed);
- the behavioural metrics no longer repeat the seed, the bootstrap count or the per-statement answers
  (the behaviour side file holds them), and their timings join the result's as ``behaviour.*``;
- the model record is the loader's own ``ModelSpec``: no-template and no-quantisation are "" there;
- a hand-made result without probe metrics says so with None, not an empty object.

Schema 1 predates fit-aware stability and cannot be migrated (its headline means something else).
"""

from __future__ import annotations

import copy
from typing import Any

#: Keys of the probe metrics that schema 2 stored twice (the protocol record has them).
DUPLICATED_METRICS = (
    "mode",
    "seed",
    "n_bootstrap",
    "probes",
    "n_refits",
    "noise_rows",
    "layer_choice",
    "layers",
    "timings",
)
#: Keys of the behavioural metrics that schema 2 stored twice: the seed and bootstrap count (the protocol
#: record's) and the per-statement answers (the behaviour side file's). Its timings join the result's.
DUPLICATED_BEHAVIOURAL = ("seed", "n_bootstrap", "answers")
_OLD_INTERVAL = {"estimate": "value", "low": "ci_low", "high": "ci_high"}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a parsed result file of schema 2 or 3) as schema 3; schema 3 comes back unchanged."""
    if str(data.get("schema_version", "")).split(".")[0] != "2":
        return data
    out = copy.deepcopy(data)
    out["schema_version"] = "3.0"
    protocol = out.get("protocol", {})
    protocol.pop("sweep_curves", None)
    protocol.pop("seeds", None)
    model = out.get("model", {})
    for key in ("chat_template_sha256", "quantization_note"):
        if model.get(key) is None:
            model[key] = ""
    model.setdefault("alias", None)
    metrics = out.get("metrics") or None
    if metrics is not None:
        metrics = {k: v for k, v in metrics.items() if k not in DUPLICATED_METRICS}
    out["metrics"] = metrics
    behavioural = out.get("behavioural")
    if behavioural is not None:
        for key in DUPLICATED_BEHAVIOURAL:
            behavioural.pop(key, None)
        out["timings"] = {
            **out.get("timings", {}),
            **{f"behaviour.{k}": v for k, v in behavioural.pop("timings", {}).items()},
        }
    for key in ("metrics", "behavioural"):
        if out.get(key) is not None:
            out[key] = _rename_intervals(out[key])
    return out


def _rename_intervals(node: Any) -> Any:
    """Every ``{estimate, low, high[, reason]}`` object below ``node`` in the schema-3 spelling."""
    if isinstance(node, list):
        return [_rename_intervals(x) for x in node]
    if not isinstance(node, dict):
        return node
    if set(_OLD_INTERVAL) <= set(node) <= {*_OLD_INTERVAL, "reason"}:
        return {_OLD_INTERVAL.get(k, k): v for k, v in node.items()}
    return {k: _rename_intervals(v) for k, v in node.items()}
