"""Per-bucket work run on Spark executors: Index -> Compare -> Classify with the local engine's own functions.

Nothing here imports pyspark: a bucket is a pandas frame holding whole blocks of one or more blocking rules
(the executor gets it from ``applyInPandas``), so this module is tested and debugged like any pandas code.
A pair is scored in the bucket of the *first* rule that generates it (an earlier rule whose blocks the pair
shares, uncapped, claims it), so the union of the rules' pairs is produced exactly once without a global
``distinct``; comparison and scoring call ``compare_pairs`` and ``classify``, so the figures are the local
engine's by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.blocking import CandidatePairs, block_rule
from matching.compare import CompareContext, compare_pairs
from matching.linker import Classified, _pair_frame, classify  # _pair_frame: the local engine's output shape, reused as is
from matching.model import FellegiSunterModel
from matching.settings import Constraints, MatchSettings
from matching.spark.features import prime_context
from schemas.columns import PairFrame
from schemas.columns import PersonRecord as P

SEQ = "_seq"  # record order in the extract: pairs are oriented (left, right) by it, as the local engine does
RULE = "_rule"
BUCKET = "_bucket"
SEQ_L, SEQ_R, COHERENT = "_seq_l", "_seq_r", "coherent"
KEY_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a standardised value


def key_column(rule_index: int) -> str:
    """Column holding a record's blocking key for rule ``rule_index`` (None when any key is missing)."""
    return f"_k{rule_index}"


def with_block_keys(frame: pd.DataFrame, settings: MatchSettings) -> pd.DataFrame:
    """Add one key column per blocking rule: the rule's key values joined, or None when any is missing.

    Examples:
        >>> from matching.settings import BlockingRule
        >>> s = MatchSettings(blocking_rules=(BlockingRule("pc_init", ("postcode", "last_initial")),))
        >>> f = pd.DataFrame({"postcode": ["AB1 2CD", None], "last_initial": ["s", "s"]})
        >>> with_block_keys(f, s)["_k0"].tolist()
        ['AB1 2CD\\x1fs', None]
    """
    out = frame.copy()
    for j, rule in enumerate(settings.blocking_rules):
        parts = [frame[k].astype("string") for k in rule.keys]
        joined = parts[0].str.cat(parts[1:], sep=KEY_SEPARATOR) if len(parts) > 1 else parts[0]
        out[key_column(j)] = joined.astype(object).where(joined.notna(), None)
    return out


@dataclass
class ScoringPlan:
    """Everything an executor needs to score a bucket (pickled once per task)."""

    settings: MatchSettings
    model: FellegiSunterModel  # tf_tables: term frequencies over *all* records, not the bucket's
    columns: tuple[str, ...]  # the standardised record columns (what the local engine compares)
    constraints: Constraints = field(default_factory=Constraints)

    def output_columns(self) -> list[tuple[str, str]]:
        """(name, Spark SQL type) of a scored pair: the local engine's pair frame plus order and coherence."""
        cols = [(PairFrame.unique_id_l, "string"), (PairFrame.unique_id_r, "string"),
                (PairFrame.match_weight, "double"), (PairFrame.match_probability, "double"),
                (PairFrame.band, "string"), (PairFrame.rule, "string")]  # fmt: skip
        for comp in self.model.comparisons:
            cols += [(f"gamma_{comp.name}", "tinyint"), (f"weight_{comp.name}", "float")]
        return cols + [(SEQ_L, "bigint"), (SEQ_R, "bigint"), (COHERENT, "boolean")]

    def spark_schema(self) -> str:
        return ", ".join(f"`{name}` {kind}" for name, kind in self.output_columns())


def _empty(plan: ScoringPlan) -> pd.DataFrame:
    kinds = {"string": object, "double": np.float64, "tinyint": np.int8, "float": np.float32, "bigint": np.int64,
             "boolean": bool}  # fmt: skip
    return pd.DataFrame({name: pd.Series(dtype=kinds[kind]) for name, kind in plan.output_columns()})


def _claimed_by_earlier_rule(rows: pd.DataFrame, rule_index: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pairs that an earlier rule also generates (its key columns hold only uncapped keys)."""
    claimed = np.zeros(len(lo), dtype=bool)
    for i in range(rule_index):
        keys = rows[key_column(i)].to_numpy(dtype=object)
        a, b = keys[lo], keys[hi]
        claimed |= pd.notna(a) & (a == b)
    return claimed


def _apply_constraints(ids: np.ndarray, lo: np.ndarray, hi: np.ndarray, decided: Classified,
                       constraints: Constraints) -> None:
    """Steward must-link / cannot-link override the band, as ``link_people`` does before clustering."""
    if not constraints.must_link and not constraints.cannot_link:
        return
    left, right = ids[lo].astype(str), ids[hi].astype(str)
    first, second = np.where(left <= right, left, right), np.where(left <= right, right, left)
    keys = pd.Index(np.char.add(np.char.add(first, KEY_SEPARATOR), second))
    for pairs, band, name in ((constraints.must_link, 2, "must_link"), (constraints.cannot_link, 0, "cannot_link")):
        if pairs:
            hit = keys.isin([f"{min(a, b)}{KEY_SEPARATOR}{max(a, b)}" for a, b in pairs])
            decided.band[hit] = band
            decided.rule[hit] = name


def score_rule(rows: pd.DataFrame, rule_index: int, plan: ScoringPlan) -> pd.DataFrame:
    """Scored pairs of one rule's whole blocks (``rows`` sorted by ``_seq``), minus pairs an earlier rule owns."""
    settings = plan.settings
    rule = settings.blocking_rules[rule_index]
    source_codes = pd.factorize(rows[P.source])[0] if settings.link_only else None
    lo, hi, _ = block_rule(rows, rule, max_block_size=settings.max_block_size, source_codes=source_codes)
    mine = ~_claimed_by_earlier_rule(rows, rule_index, lo, hi)
    lo, hi = lo[mine], hi[mine]
    if len(lo) == 0:
        return _empty(plan)
    frame = rows[list(plan.columns)].copy()  # CompareContext adds derived columns to its frame
    ctx = CompareContext(frame, plan.model.comparisons, tf_tables=plan.model.tf_tables,
                         deduplicated_sources=settings.deduplicated_sources)  # fmt: skip
    prime_context(ctx, rows)
    vectors = compare_pairs(ctx, lo, hi)
    decided = classify(plan.model, vectors, settings)
    ids = rows[P.unique_id].to_numpy(dtype=object)
    _apply_constraints(ids, lo, hi, decided, plan.constraints)
    n = len(rows)
    positions = np.arange(n, dtype=np.int64).astype(object)  # the pair frame carries row positions, mapped below
    pairs = _pair_frame(positions, CandidatePairs(lo, hi, pd.DataFrame()), decided, vectors, plan.model, settings)
    pl = pairs[PairFrame.unique_id_l].to_numpy(dtype=np.int64)
    pr = pairs[PairFrame.unique_id_r].to_numpy(dtype=np.int64)
    at = pd.Index(lo.astype(np.int64) * n + hi).get_indexer(pl * n + pr)
    seq = rows[SEQ].to_numpy(dtype=np.int64)
    pairs[PairFrame.unique_id_l], pairs[PairFrame.unique_id_r] = ids[pl], ids[pr]
    pairs[PairFrame.band] = pairs[PairFrame.band].astype(str)
    pairs[SEQ_L], pairs[SEQ_R], pairs[COHERENT] = seq[pl], seq[pr], decided.coherent[at]
    return pairs[[name for name, _ in plan.output_columns()]]


def score_bucket(rows: pd.DataFrame, plan: ScoringPlan) -> pd.DataFrame:
    """Scored pairs of every rule whose blocks fall in this bucket (whole blocks: the bucket is a key hash)."""
    out = []
    for rule_index in sorted(int(r) for r in rows[RULE].unique()):
        sub = rows[rows[RULE].to_numpy() == rule_index].sort_values(SEQ, kind="stable").reset_index(drop=True)
        scored = score_rule(sub, rule_index, plan)
        if len(scored):
            out.append(scored)
    return pd.concat(out, ignore_index=True) if out else _empty(plan)
