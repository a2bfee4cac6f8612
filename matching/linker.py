"""People linkage end to end: standardise -> Index -> Compare -> Classify -> Cluster."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from matching.arrays import isin
from matching.blocking import CandidatePairs, block_rule, candidate_pairs
from matching.cluster import cluster_records
from matching.compare import CompareContext, Comparison, ComparisonVectors, compare_pairs, comparisons_for
from matching.model import (
    KEY_TO_COMPARISONS,
    FellegiSunterModel,
    default_m,
    estimate_u,
    refine_m_with_labels,
    run_em,
)
from matching.settings import Constraints, MatchSettings
from matching.standardise import STANDARDISED_FLAG, standardise_people
from schemas.columns import Band, ClusterFrame, PairFrame
from schemas.columns import PersonRecord as P

log = logging.getLogger(__name__)


def _rss_mib() -> float:
    """Peak resident memory of this process so far (MiB), for the per-stage log."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
BANDS = np.array([Band.NONE, Band.REVIEW, Band.AUTO], dtype=object)
MIN_EM_PAIRS = 200
START_PRIOR = 0.1  # EM's starting share of matches among candidate pairs


@dataclass
class MatchResult:
    """Scored pairs (with per-comparison levels and weights), clusters, the blocking report and the model."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    blocking_report: pd.DataFrame
    model: FellegiSunterModel
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Classified:
    """Decisions for a batch of pairs."""

    weight: np.ndarray
    probability: np.ndarray
    band: np.ndarray  # 0 none, 1 review, 2 auto
    rule: np.ndarray  # object: deciding rule or ""
    coherent: np.ndarray  # may share a cluster
    parts: dict[str, np.ndarray]


def probability(weight: np.ndarray) -> np.ndarray:
    """log2 Bayes factor (prior included) to match probability."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def _flag(vectors: ComparisonVectors, name: str, n: int) -> np.ndarray:
    """A hard-negative flag of the vectors, all False when the producer did not compute it."""
    value = getattr(vectors, name)
    return np.zeros(n, dtype=bool) if value is None else value


def classify(model: FellegiSunterModel, vectors: ComparisonVectors, settings: MatchSettings) -> Classified:
    """Score, band by threshold, then apply hard-negative caps and the deterministic NINO + dob rule.

    Caps (with ``hard_negatives``), each naming itself in ``rule``:
    - ``first_name_conflict`` / ``dob_conflict``: auto -> review (twins; a same-name pair with another date);
      lifted when a person-unique identifier (NINO, extra ids) agrees. A first-name conflict with no person-level
      agreement at all (no dob, NINO, id or email) is no match: two members of one household.
    - ``same_deduplicated_source``: no match (the source holds each person once).
    - ``first_name_and_dob_conflict`` (spouses), ``generation_conflict`` (Sr/Jr, or the same name with dates of
      birth a generation apart: parent and child): -> no match.
    - ``name_only`` / ``namesake_household`` / ``initial_only``: auto -> review when no person-level evidence
      agrees (dob, NINO, extra id, email) and the pair does not share a place (UPRN, or address where UPRNs are
      missing), or its household holds two people of that name, or both first names are initials
      (``no_person_evidence``, with ``auto_needs_person_evidence``: whenever no person-level evidence agrees).
    - ``no_name``: auto -> review when neither the first name nor the surname agrees at any level (one side has
      no name, or only a placeholder) and no person-unique identifier agrees: a place and a date of birth do not
      name a person.
    """
    weight, parts = model.score(vectors)
    n = len(weight)
    prob = probability(weight)
    band = np.where(prob >= settings.auto_threshold, 2, np.where(prob >= settings.review_threshold, 1, 0))
    rule = np.full(n, "", dtype=object)
    conflict = np.zeros(n, dtype=bool)
    if settings.hard_negatives:
        lifted = _flag(vectors, "identifier_agrees", n)
        first = _flag(vectors, "first_conflict", n) & ~lifted
        dob = _flag(vectors, "dob_conflict", n) & ~lifted
        gen = _flag(vectors, "generation_conflict", n)
        for mask, name in ((first, "first_name_conflict"), (dob, "dob_conflict")):
            capped = mask & (band == 2)
            band = np.where(capped, 1, band)
            rule = np.where(capped, name, rule)
        weak = _flag(vectors, "weak_evidence", n)
        # different first names and nothing person-level in common: two members of one household, not a task
        for mask, name in ((first & dob, "first_name_and_dob_conflict"), (gen, "generation_conflict"),
                           (first & weak, "first_name_conflict")):  # fmt: skip
            capped = mask & (band > 0)
            band = np.where(capped, 0, band)
            rule = np.where(capped, name, rule)
        conflict = first | dob | gen
        if vectors.name_agrees is not None:  # no name in common: a place and a birth date do not name a person
            capped = ~vectors.name_agrees & ~lifted & (band == 2)
            band = np.where(capped, 1, band)
            rule = np.where(capped, "no_name", rule)
        if settings.auto_needs_person_evidence:
            caps = ((weak, "no_person_evidence"),)
        else:  # "M Walker" / "M Walker": an initial stands for anyone in the household with that initial
            caps = ((weak & ~_flag(vectors, "place_agrees", n), "name_only"),
                    (weak & _flag(vectors, "namesake", n), "namesake_household"),
                    (weak & _flag(vectors, "initial_only", n), "initial_only"))  # fmt: skip
        for mask, name in caps:
            capped = mask & (band == 2)
            band = np.where(capped, 1, band)
            rule = np.where(capped, name, rule)
    same = _flag(vectors, "same_dedup_source", n)
    rule = np.where(same & (band >= 1), "same_deduplicated_source", rule)  # declared: two people, no task
    band = np.where(same, 0, band)
    conflict = conflict | same
    if settings.deterministic_nino_dob:
        det = _flag(vectors, "nino_dob_match", n) & ~_flag(vectors, "generation_conflict", n) & ~same
        band = np.where(det, 2, band)
        rule = np.where(det, "nino_dob", rule)
        conflict = conflict & ~det
    return Classified(weight, prob, band, rule, (band >= 1) & ~conflict, parts)


def _random_pairs(frame: pd.DataFrame, settings: MatchSettings) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    rng = np.random.default_rng(settings.seed)
    size = int(min(settings.u_sample_pairs, max(n * (n - 1) // 2, 1)))
    left, right = rng.integers(0, n, size * 2), rng.integers(0, n, size * 2)
    keep = left != right
    if settings.link_only:
        src = pd.factorize(frame[P.source])[0]
        keep &= src[left] != src[right]
    return left[keep][:size], right[keep][:size]


def _gamma_matrix(comps: tuple[Comparison, ...], vectors: ComparisonVectors) -> np.ndarray:
    return np.column_stack([vectors.gammas[c.name] for c in comps]).astype(np.int8)


def fit_model(
    frame: pd.DataFrame,
    ctx: CompareContext,
    cands: CandidatePairs,
    vectors: ComparisonVectors,
    settings: MatchSettings,
    labelled: tuple[np.ndarray, np.ndarray] | None = None,
) -> FellegiSunterModel:
    """u from random pairs; m by EM per blocking rule (blocked-on comparisons held out); prior by EM over all."""
    comps = ctx.comparisons
    rl, rr = _random_pairs(frame, settings)
    ctx.address_fallback = False  # u of the address levels: how often random addresses agree at all
    try:
        u = estimate_u(comps, compare_pairs(ctx, rl, rr))
    finally:
        ctx.address_fallback = True
    m = {c.name: default_m(len(c.levels)) for c in comps}
    estimates: dict[str, list[np.ndarray]] = {c.name: [] for c in comps}
    sessions = []
    rng = np.random.default_rng(settings.seed)
    source_codes = pd.factorize(frame[P.source])[0] if settings.link_only else None
    for rule in settings.em_blocking_rules:
        el, er, _ = block_rule(frame, rule, max_block_size=settings.max_block_size, source_codes=source_codes)
        if len(el) > settings.em_max_pairs_per_rule:
            pick = rng.choice(len(el), settings.em_max_pairs_per_rule, replace=False)
            el, er = el[pick], er[pick]
        if len(el) < MIN_EM_PAIRS:
            continue
        held = {c for k in rule.keys for c in KEY_TO_COMPARISONS.get(k, (k,))}
        include = {c.name for c in comps} - held
        if not include:
            continue
        m_rule, prior_rule, iterations = run_em(
            comps, _gamma_matrix(comps, compare_pairs(ctx, el, er)), u, m, 0.3, include=include,
            max_iterations=settings.em_max_iterations, tolerance=settings.em_tolerance,
        )  # fmt: skip
        for name in include:
            estimates[name].append(m_rule[name])
        sessions.append({"rule": rule.name, "pairs": int(len(el)), "iterations": iterations, "prior": prior_rule})
    m = {name: np.mean(v, axis=0) if v else m[name] for name, v in estimates.items()}
    m = {c.name: floor_partial_levels(m[c.name], u[c.name]) for c in comps}
    if labelled is not None and len(labelled[0]):
        m = refine_m_with_labels(comps, m, compare_pairs(ctx, *labelled), settings.labelled_pseudo_count)
    gammas = _gamma_matrix(comps, vectors)
    if len(gammas) > settings.em_max_pairs_per_rule:  # the prior needs a sample, not every candidate pair
        gammas = gammas[rng.choice(len(gammas), settings.em_max_pairs_per_rule, replace=False)]
    prior = START_PRIOR  # no candidate pairs (a tiny or brand-new hub): nothing to learn the rate from
    if len(gammas):
        _, prior, _ = run_em(
            comps, gammas, u, m, START_PRIOR, include={c.name for c in comps}, estimate_m=False,
            max_iterations=settings.em_max_iterations, tolerance=settings.em_tolerance,
        )  # fmt: skip
    # Score with the probability that two *random* records match (as Splink does), not the candidate-set
    # rate: blocking keys are evidence already counted by the comparisons, so the prior must not count them.
    n_cands = len(cands)
    if settings.link_only:
        sizes = frame[P.source].value_counts().to_numpy(dtype=float)
        total_pairs = (sizes.sum() ** 2 - (sizes**2).sum()) / 2
    else:
        total_pairs = len(frame) * (len(frame) - 1) / 2
    candidate_prior = prior
    prior = float(np.clip(candidate_prior * n_cands / max(total_pairs, 1.0), 1e-9, 0.5))
    training = {"candidate_prior": candidate_prior, "candidate_pairs": int(n_cands), "sessions": sessions, "u_pairs": int(len(rl)), "labelled_matches": int(len(labelled[0])) if labelled else 0}
    return FellegiSunterModel(comps, m, u, prior, settings=settings.to_dict(), training=training)


def floor_partial_levels(m: np.ndarray, u: np.ndarray, *, min_weight: float = 0.0) -> np.ndarray:
    """A partial agreement (any level but "else") is never evidence against a match (weight >= 0).

    EM can drive m of a level to ~0 when the training pairs happen to lack it (e.g. initials only occur in
    sources without dates of birth), which would make "J" vs "John" a near-veto.
    """
    m = m.copy()
    m[:-1] = np.maximum(m[:-1], u[:-1] * 2.0**min_weight)
    return m / m.sum()


def _positions(index: pd.Index, pairs: Collection[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(list(pairs), dtype=object)
    a, b = index.get_indexer(arr[:, 0]), index.get_indexer(arr[:, 1])
    ok = (a >= 0) & (b >= 0)
    return a[ok].astype(np.int64), b[ok].astype(np.int64)


def _cluster_chain(index: pd.Index, clusters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Existing clusters as must-link chains (each member linked to the next)."""
    pos = index.get_indexer(clusters[ClusterFrame.unique_id].astype(str))
    frame = pd.DataFrame({"pos": pos, "cid": clusters[ClusterFrame.cluster_id].to_numpy()})
    frame = frame[frame["pos"] >= 0].sort_values(["cid", "pos"])
    same = frame["cid"].to_numpy()[1:] == frame["cid"].to_numpy()[:-1]
    p = frame["pos"].to_numpy()
    return p[:-1][same].astype(np.int64), p[1:][same].astype(np.int64)


def link_people(
    records: pd.DataFrame,
    *,
    settings: MatchSettings = MatchSettings(),  # noqa: B008 - frozen dataclass
    constraints: Constraints = Constraints(),  # noqa: B008
    model: FellegiSunterModel | None = None,
    new_ids: Collection[str] | None = None,
    labelled_pairs: pd.DataFrame | None = None,
    existing_clusters: pd.DataFrame | None = None,
) -> MatchResult:
    """Deduplicate person records across and within sources.

    Args:
        records: raw or standardised records (``unique_id``, ``source`` + canonical fields).
        settings: thresholds, blocking rules, comparisons, EM settings, seed.
        constraints: steward must-link / cannot-link pairs of ``unique_id``.
        model: a fitted model to reuse (no EM re-fit), e.g. for nightly incremental runs.
        new_ids: only score candidate pairs touching at least one of these ids; cluster over all records.
        labelled_pairs: ``unique_id_l, unique_id_r, is_match`` from stewards; matches refine m.
        existing_clusters: ``unique_id, cluster_id`` of the previous run, kept together (as must-link) when
            ``new_ids`` is given, so unchanged people stay as they were.

    Examples:
        >>> df = pd.DataFrame({"unique_id": ["a:1", "b:1"], "first_name": ["Ann", "Ann"], "last_name": ["Lee", "Lee"],
        ...                    "date_of_birth": ["1970-01-02", "02/01/1970"], "nino": ["JK482913C", "JK482913C"]})
        >>> link_people(df).clusters["cluster_id"].nunique()
        1
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if records.attrs.get(STANDARDISED_FLAG):
        frame = records.reset_index(drop=True)
    else:
        frame = standardise_people(records, extra_columns=settings.extra_id_columns)
    timings["standardise"] = time.perf_counter() - t0
    log.info("standardise done: %.1f s, peak %.0f MiB", timings["standardise"], _rss_mib())
    n = len(frame)
    index = pd.Index(frame[P.unique_id].astype(str))
    comps = model.comparisons if model is not None else comparisons_for(settings)
    ctx = CompareContext(frame, comps, deduplicated_sources=settings.deduplicated_sources)
    is_new = index.isin(pd.Index([str(i) for i in new_ids])) if new_ids is not None else None

    t = time.perf_counter()
    cands = candidate_pairs(frame, settings, is_new=is_new)
    timings["block"] = time.perf_counter() - t
    log.info("block done: %.1f s, peak %.0f MiB", timings["block"], _rss_mib())
    t = time.perf_counter()
    vectors = compare_pairs(ctx, cands.left, cands.right)
    timings["compare"] = time.perf_counter() - t
    log.info("compare done: %.1f s, peak %.0f MiB", timings["compare"], _rss_mib())
    t = time.perf_counter()
    tf_tables = {k: v.to_dict() for k, v in ctx.tf_tables.items()}
    if model is None:
        labelled = None
        if labelled_pairs is not None and len(labelled_pairs):
            lab = labelled_pairs[labelled_pairs["is_match"].astype(bool)]
            labelled = _positions(index, list(zip(lab[PairFrame.unique_id_l].astype(str), lab[PairFrame.unique_id_r].astype(str))))
        model = fit_model(frame, ctx, cands, vectors, settings, labelled)
    model = replace(model, tf_tables=tf_tables, m=dict(model.m), u=dict(model.u))
    timings["fit"] = time.perf_counter() - t
    log.info("fit done: %.1f s, peak %.0f MiB", timings["fit"], _rss_mib())

    t = time.perf_counter()
    decided = classify(model, vectors, settings)
    log.info("classify done: %d pairs, peak %.0f MiB", len(cands), _rss_mib())
    keys = cands.left.astype(np.int64) * n + cands.right
    must = _positions(index, constraints.must_link)
    cannot = _positions(index, constraints.cannot_link)
    if existing_clusters is not None and len(existing_clusters):
        chain = _cluster_chain(index, existing_clusters)
        must = (np.concatenate([must[0], chain[0]]), np.concatenate([must[1], chain[1]]))
    for (pl, pr), band, name in ((must, 2, "must_link"), (cannot, 0, "cannot_link")):
        if len(pl):
            hit = isin(keys, np.minimum(pl, pr) * n + np.maximum(pl, pr))
            decided.band[hit] = band
            decided.rule[hit] = name

    def coherent(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        pos = np.searchsorted(keys, lo * n + hi)
        pos_c = np.minimum(pos, max(len(keys) - 1, 0))
        found = (pos < len(keys)) & (keys[pos_c] == lo * n + hi) if len(keys) else np.zeros(len(lo), bool)
        out = np.zeros(len(lo), dtype=bool)
        out[found] = decided.coherent[pos_c[found]]
        if (~found).any():
            extra = classify(model, compare_pairs(ctx, lo[~found], hi[~found]), settings)
            out[~found] = extra.coherent
        return out

    auto = decided.band == 2
    labels = cluster_records(
        n, cands.left[auto], cands.right[auto], decided.weight[auto], coherent,
        must_link=must, cannot_link=cannot, max_check=settings.max_cluster_check,
        ambiguity_margin=settings.ambiguity_margin,
    )  # fmt: skip
    timings["cluster"] = time.perf_counter() - t
    log.info("cluster done: %.1f s, peak %.0f MiB", timings["cluster"], _rss_mib())
    ids = frame[P.unique_id].astype(str)
    clusters = pd.DataFrame({ClusterFrame.unique_id: ids, ClusterFrame.cluster_id: _smallest_id_per_label(ids, labels)})
    pairs = _pair_frame(ids.to_numpy(dtype=object), cands, decided, vectors, model, settings)
    timings["total"] = time.perf_counter() - t0
    log.info("linked %d records: %d candidate pairs, %d clusters", n, len(cands), int(labels.max()) + 1 if n else 0)
    return MatchResult(pairs, clusters, cands.report, model, timings)


def _smallest_id_per_label(ids: pd.Series, labels: np.ndarray) -> pd.Series:
    """Each record's cluster ID: the smallest ``unique_id`` (as text) among the records sharing its label.

    Examples:
        >>> _smallest_id_per_label(pd.Series(["10", "9", "2"]), np.array([0, 0, 1])).tolist()
        ['10', '10', '2']
    """
    values = ids.to_numpy(dtype=object)
    if not len(values):
        return pd.Series([], index=ids.index, dtype=object)
    rank = np.empty(len(values), dtype=np.int64)
    order = np.argsort(values.astype(str), kind="stable")
    rank[order] = np.arange(len(values))
    best = pd.Series(rank).groupby(np.asarray(labels)).transform("min").to_numpy()
    return pd.Series(values[order[best]], index=ids.index, dtype=object)


def _pair_frame(
    ids: np.ndarray,
    cands: CandidatePairs,
    decided: Classified,
    vectors: ComparisonVectors,
    model: FellegiSunterModel,
    settings: MatchSettings,
) -> pd.DataFrame:
    keep = (decided.probability >= settings.min_pair_probability) | (decided.rule != "") | (decided.band > 0)
    data = {
        PairFrame.unique_id_l: ids[cands.left[keep]],
        PairFrame.unique_id_r: ids[cands.right[keep]],
        PairFrame.match_weight: decided.weight[keep],
        PairFrame.match_probability: decided.probability[keep],
        PairFrame.band: BANDS[decided.band[keep]],
        PairFrame.rule: decided.rule[keep],
    }
    for comp in model.comparisons:
        data[f"gamma_{comp.name}"] = vectors.gammas[comp.name][keep]
        data[f"weight_{comp.name}"] = decided.parts[comp.name][keep].astype(np.float32)
    return pd.DataFrame(data)
