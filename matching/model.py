"""Classify step: the Fellegi-Sunter model (u from random pairs, m by EM, term frequencies, labelled refinement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matching.arrays import counts_of, unique_inverse
from matching.compare import NULL, Comparison, ComparisonVectors
from matching.errors import ModelError

PROB_FLOOR = 1e-6

# Which comparisons a blocking key makes uninformative for EM (pairs blocked on it agree by construction).
KEY_TO_COMPARISONS = {
    "uprn": ("uprn", "address"),
    "postcode": ("postcode", "address"),
    "postcode_sector": ("postcode",),
    "last_initial": ("last_name",),
    "last_name": ("last_name",),
    "last_metaphone": ("last_name",),
    "first_initial": ("first_name",),
    "first_name": ("first_name",),
    "first_name_canon": ("first_name",),
    "first_metaphone": ("first_name",),
    "date_of_birth": ("date_of_birth",),
    "dob_year": ("date_of_birth",),
    "nino": ("nino",),
    "email": ("email",),
    "phone": ("phone",),
    "address_numbers": ("address",),
}


def default_m(levels: int) -> np.ndarray:
    """Starting m: most matches agree exactly, few disagree."""
    m = np.geomspace(1.0, 0.02, levels)
    m[0] = 8.0
    return m / m.sum()


@dataclass
class FellegiSunterModel:
    """Fitted m and u per comparison level, the prior match probability of a candidate pair and term frequencies.

    Match weight of a pair = log2(prior / (1 - prior)) + sum over comparisons of log2(m / u) at the pair's level
    (0 for a null), with exact name agreement using log2(m / tf(value)) instead (term-frequency adjustment).
    """

    comparisons: tuple[Comparison, ...]
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    prior: float = 1e-4
    tf_tables: dict[str, dict[str, float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for comp in self.comparisons:
            for table in (self.m, self.u):
                values = np.asarray(table.get(comp.name, []), dtype=float)
                if values.shape != (len(comp.levels),):
                    raise ModelError(f"comparison '{comp.name}' needs {len(comp.levels)} m and u values")
                table[comp.name] = np.clip(values, PROB_FLOOR, 1.0)
        if not 0 < self.prior < 1:
            raise ModelError(f"prior must be in (0, 1), got {self.prior}")

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def level_weights(self, name: str) -> np.ndarray:
        return np.log2(self.m[name] / self.u[name])

    def tf_adjustment(self, name: str, tf: np.ndarray) -> np.ndarray:
        """Extra weight for exact agreement on a value of frequency ``tf`` (0 where ``tf`` is NaN)."""
        adj = np.log2(self.u[name][0] / np.clip(tf, PROB_FLOOR, 1.0))
        return np.where(np.isnan(tf), 0.0, adj)

    def comparison_weights(self, vectors: ComparisonVectors) -> dict[str, np.ndarray]:
        """Weight contributed by each comparison to each pair (term frequency included)."""
        out = {}
        for comp in self.comparisons:
            g = vectors.gammas[comp.name]
            table = np.append(self.level_weights(comp.name), 0.0)  # index -1 (null) -> 0
            w = table[g]
            if comp.tf and comp.name in vectors.tf:
                w = w + self.tf_adjustment(comp.name, vectors.tf[comp.name])
            out[comp.name] = w.astype(np.float32)
        return out

    def score(self, vectors: ComparisonVectors) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Match weight (log2 Bayes factor incl. prior) per pair and each comparison's part of it."""
        parts = self.comparison_weights(vectors)
        n = len(next(iter(vectors.gammas.values()))) if vectors.gammas else 0
        total = np.full(n, self.prior_weight)
        for w in parts.values():
            total += w
        return total, parts

    def to_dict(self, *, include_tf: bool = True) -> dict[str, Any]:
        """Plain, JSON-serialisable parameters (a run stores this to say which parameters produced it)."""
        return {
            "prior": self.prior,
            "comparisons": [
                {
                    "name": c.name,
                    "levels": list(c.levels),
                    "tf": c.tf,
                    "m": self.m[c.name].tolist(),
                    "u": self.u[c.name].tolist(),
                }
                for c in self.comparisons
            ],
            "tf_tables": self.tf_tables if include_tf else {},
            "settings": self.settings,
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FellegiSunterModel:
        try:
            comps = tuple(Comparison(c["name"], tuple(c["levels"]), bool(c.get("tf", False))) for c in data["comparisons"])
            return cls(
                comparisons=comps,
                m={c["name"]: np.asarray(c["m"], dtype=float) for c in data["comparisons"]},
                u={c["name"]: np.asarray(c["u"], dtype=float) for c in data["comparisons"]},
                prior=float(data["prior"]),
                tf_tables=dict(data.get("tf_tables", {})),
                settings=dict(data.get("settings", {})),
                training=dict(data.get("training", {})),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"model dict is missing or has a bad field: {e}") from e


def level_frequencies(gamma: np.ndarray, levels: int, *, smoothing: float = 0.5) -> np.ndarray:
    """Share of non-null pairs at each level, smoothed so no level is exactly 0."""
    g = gamma[gamma != NULL]
    counts = np.bincount(g.astype(np.int64), minlength=levels)[:levels].astype(float)
    return (counts + smoothing) / (counts.sum() + smoothing * levels)


def estimate_u(comparisons: tuple[Comparison, ...], random_vectors: ComparisonVectors) -> dict[str, np.ndarray]:
    """u from comparison vectors of random pairs (almost all non-matches)."""
    return {c.name: level_frequencies(random_vectors.gammas[c.name], len(c.levels)) for c in comparisons}


def _patterns(gammas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct comparison patterns (rows) and how often each occurs (rows packed into one int64 key)."""
    if len(gammas) == 0:
        return gammas, np.zeros(0, dtype=np.int64)
    key = np.zeros(len(gammas), dtype=np.int64)
    for j in range(gammas.shape[1]):  # column by column: no int64 copy of the whole matrix
        column = gammas[:, j].astype(np.int64) + 1  # -1 (null) -> 0
        key = key * (int(column.max()) + 1) + column
    uniq, inverse, first = unique_inverse(key)
    counts = counts_of(inverse, len(uniq))
    return gammas[first], counts


def run_em(
    comparisons: tuple[Comparison, ...],
    gammas: np.ndarray,
    u: dict[str, np.ndarray],
    m: dict[str, np.ndarray],
    prior: float,
    *,
    include: set[str],
    estimate_m: bool = True,
    max_iterations: int = 40,
    tolerance: float = 1e-5,
) -> tuple[dict[str, np.ndarray], float, int]:
    """EM for the prior and (when ``estimate_m``) m of the comparisons in ``include``, with u fixed.

    Comparisons outside ``include`` (those a session blocked on) are left out of the likelihood.
    Works on distinct patterns with counts, so its cost does not grow with the number of pairs.
    """
    active = [i for i, c in enumerate(comparisons) if c.name in include]
    comps = [comparisons[i] for i in active]
    patterns, counts = _patterns(gammas[:, active])
    m = {k: v.copy() for k, v in m.items()}
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for j, comp in enumerate(comps):
            g = patterns[:, j]
            log_m += np.append(np.log(m[comp.name]), 0.0)[g]
            log_u += np.append(np.log(u[comp.name]), 0.0)[g]
        a = np.log(prior) + log_m
        b = np.log1p(-prior) + log_u
        w = counts * np.exp(a - np.logaddexp(a, b))
        new_prior = min(max(float(w.sum() / counts.sum()), PROB_FLOOR), 1 - PROB_FLOOR)
        change = abs(new_prior - prior) / prior
        prior = new_prior
        if estimate_m:
            for j, comp in enumerate(comps):
                g = patterns[:, j]
                ok = g != NULL
                level_sum = np.bincount(g[ok].astype(np.int64), weights=w[ok], minlength=len(comp.levels))
                if level_sum.sum() <= 0:
                    continue
                new_m = np.clip(level_sum / level_sum.sum(), PROB_FLOOR, 1.0)
                new_m /= new_m.sum()
                change = max(change, float(np.abs(new_m - m[comp.name]).max()))
                m[comp.name] = new_m
        if change < tolerance:
            break
    return m, prior, iteration


def refine_m_with_labels(
    comparisons: tuple[Comparison, ...],
    m: dict[str, np.ndarray],
    labelled_match_vectors: ComparisonVectors,
    pseudo_count: float,
) -> dict[str, np.ndarray]:
    """Blend m with level shares among steward-confirmed matches (EM estimate weighs ``pseudo_count`` pairs)."""
    out = {}
    for comp in comparisons:
        g = labelled_match_vectors.gammas[comp.name]
        g = g[g != NULL].astype(np.int64)
        counts = np.bincount(g, minlength=len(comp.levels))[: len(comp.levels)].astype(float)
        blended = (counts + pseudo_count * m[comp.name]) / (counts.sum() + pseudo_count)
        out[comp.name] = np.clip(blended, PROB_FLOOR, 1.0)
    return out
