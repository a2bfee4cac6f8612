"""Shared benchmark helpers: FEBRL loading, pair metrics from clusters, peak-memory measurement."""

from __future__ import annotations

import itertools
import resource

import numpy as np
import pandas as pd

FEBRL_MAP = {
    "first_name": "given_name",
    "last_name": "surname",
    "house_number": "street_number",
    "street": "address_1",
    "address_line_2": "address_2",
    "town": "suburb",
    "postcode": "postcode",
    "date_of_birth": "date_of_birth",
    "soc_sec_id": "soc_sec_id",
}


def febrl_records(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A FEBRL frame (index rec_id) as canonical person records plus the true entity id."""
    raw = frame.reset_index()
    out = pd.DataFrame({canonical: raw[column] for canonical, column in FEBRL_MAP.items()})
    out["unique_id"] = source + ":" + raw["rec_id"].astype(str)
    out["source"] = source
    out["entity"] = raw["rec_id"].str.extract(r"^(rec-\d+)", expand=False)
    return out


def pairs_from_labels(ids: pd.Series, labels: pd.Series) -> set[tuple[str, str]]:
    """Every unordered pair of ids sharing a label (clusters are small, so this is cheap)."""
    out: set[tuple[str, str]] = set()
    frame = pd.DataFrame({"id": ids.to_numpy(), "label": labels.to_numpy()})
    for _, group in frame.groupby("label")["id"]:
        if len(group) > 1:
            out.update(tuple(sorted(p)) for p in itertools.combinations(group.tolist(), 2))
    return out


def pair_metrics(predicted: set, truth: set, *, only_cross: callable | None = None) -> dict[str, float]:
    if only_cross is not None:
        predicted = {p for p in predicted if only_cross(p)}
        truth = {p for p in truth if only_cross(p)}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": len(predicted) - tp,
            "fn": len(truth) - tp}


def fast_pair_metrics(ids: np.ndarray, pred_label: np.ndarray, true_label: np.ndarray) -> dict[str, float]:
    """Pairwise precision/recall via contingency counts (no pair enumeration): for big runs."""
    def pairs(counts: np.ndarray) -> int:
        counts = counts.astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    pred = pd.factorize(pred_label)[0]
    true = pd.factorize(true_label)[0]
    both = pd.Series(pred.astype(np.int64) * (true.max() + 1) + true).value_counts().to_numpy()
    tp = pairs(both)
    pp = pairs(np.bincount(pred))
    tt = pairs(np.bincount(true))
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": pp - tp, "fn": tt - tp}


def peak_mib() -> float:
    """This process's peak resident memory (MiB): VmHWM, which starts afresh at exec, unlike ru_maxrss (which
    carries the forking parent's resident size into the child and so overstated a small engine's peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
