"""Index step: candidate pairs from unioned blocking rules, with a per-rule report and a block-size guard."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.arrays import unique
from matching.errors import SettingsError
from matching.settings import BlockingRule, MatchSettings

REPORT_COLUMNS = (
    "rule", "keys", "candidate_pairs", "blocks", "largest_block", "capped_blocks", "records_in_capped_blocks",
)  # fmt: skip
UNION_RULE = "union"


@dataclass
class CandidatePairs:
    """Candidate pairs as row positions into the standardised frame (``left < right``) and the per-rule report."""

    left: np.ndarray
    right: np.ndarray
    report: pd.DataFrame

    def __len__(self) -> int:
        return len(self.left)


def _group_codes(frame: pd.DataFrame, keys: tuple[str, ...]) -> np.ndarray:
    """One integer per distinct key combination; -1 where any key is missing."""
    codes = np.zeros(len(frame), dtype=np.int64)
    missing = np.zeros(len(frame), dtype=bool)
    for key in keys:
        c, uniques = pd.factorize(frame[key], use_na_sentinel=True)
        missing |= c < 0
        codes = codes * (len(uniques) + 1) + c
    codes, _ = pd.factorize(codes)
    return np.where(missing, -1, codes).astype(np.int64)


def _pairs_within_groups(g: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of positions sharing a group, without a Python loop."""
    order = np.argsort(g, kind="stable")
    gs, pos = g[order], positions[order]
    sizes = np.bincount(gs)
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(len(gs)) - starts[gs]
    count = sizes[gs] - 1 - rank
    left_idx = np.repeat(np.arange(len(gs)), count)
    seg_starts = np.repeat(np.cumsum(count) - count, count)
    right_idx = left_idx + 1 + (np.arange(len(left_idx)) - seg_starts)
    return pos[left_idx], pos[right_idx]


def _pairs_touching(g: np.ndarray, positions: np.ndarray, is_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within groups that have at least one new member: work proportional to the new records' blocks."""
    order = np.argsort(g, kind="stable")
    gs, pos, new = g[order], positions[order], is_new[order]
    sizes = np.bincount(gs)
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(len(gs)) - starts[gs]
    anchors = np.flatnonzero(new)
    count = sizes[gs[anchors]] - 1
    left_idx = np.repeat(anchors, count)
    seg_starts = np.repeat(np.cumsum(count) - count, count)
    within = np.arange(len(left_idx)) - seg_starts
    within = within + (within >= np.repeat(rank[anchors], count))
    right_idx = np.repeat(starts[gs[anchors]], count) + within
    return pos[left_idx], pos[right_idx]


def block_rule(
    frame: pd.DataFrame,
    rule: BlockingRule,
    *,
    max_block_size: int,
    is_new: np.ndarray | None = None,
    source_codes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Candidate pairs for one rule; blocks larger than ``max_block_size`` are skipped and counted."""
    missing = [k for k in rule.keys if k not in frame.columns]
    if missing:
        raise SettingsError(f"blocking rule '{rule.name}' uses columns not in the standardised records: {missing}")
    g = _group_codes(frame, rule.keys)
    keep = g >= 0
    positions = np.flatnonzero(keep)
    g = g[keep]
    stats: dict[str, object] = {"rule": rule.name, "keys": "+".join(rule.keys)}
    sizes = np.bincount(g) if len(g) else np.zeros(0, dtype=np.int64)
    capped = sizes > max_block_size
    stats.update(
        blocks=int((sizes > 1).sum()),
        largest_block=int(sizes.max()) if len(sizes) else 0,
        capped_blocks=int(capped.sum()),
        records_in_capped_blocks=int(sizes[capped].sum()),
    )
    ok = ~capped[g] if len(g) else np.zeros(0, dtype=bool)
    positions, g = positions[ok], g[ok]
    g = pd.factorize(g)[0].astype(np.int64) if len(g) else g
    if is_new is None:
        left, right = _pairs_within_groups(g, positions) if len(g) else (positions[:0], positions[:0])
    else:
        new = is_new[positions]
        touched = np.zeros(int(g.max()) + 1 if len(g) else 0, dtype=bool)
        touched[g[new]] = True
        sel = touched[g] if len(g) else new
        g2 = pd.factorize(g[sel])[0].astype(np.int64)
        left, right = _pairs_touching(g2, positions[sel], new[sel]) if len(g2) else (positions[:0], positions[:0])
    if source_codes is not None:
        cross = source_codes[left] != source_codes[right]
        left, right = left[cross], right[cross]
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    stats["candidate_pairs"] = len(lo)
    return lo, hi, stats


def candidate_pairs(
    frame: pd.DataFrame,
    settings: MatchSettings,
    *,
    is_new: np.ndarray | None = None,
) -> CandidatePairs:
    """Union of the pairs from every blocking rule in ``settings`` (deduplicated), with a report.

    Examples:
        >>> f = pd.DataFrame({"uprn": ["1", "1", "2"], "source": ["a", "b", "a"]})
        >>> s = MatchSettings(blocking_rules=(BlockingRule("uprn", ("uprn",)),))
        >>> c = candidate_pairs(f, s)
        >>> (c.left.tolist(), c.right.tolist(), c.report["candidate_pairs"].tolist())
        ([0], [1], [1, 1])
    """
    n = len(frame)
    source_codes = pd.factorize(frame["source"])[0] if settings.link_only else None
    keys, rows = [], []
    for rule in settings.blocking_rules:
        lo, hi, stats = block_rule(
            frame, rule, max_block_size=settings.max_block_size, is_new=is_new, source_codes=source_codes
        )
        key = unique(lo.astype(np.int64) * n + hi)
        keys.append(key)
        rows.append(stats | {"candidate_pairs": len(key)})
    union = unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    rows.append(
        {
            "rule": UNION_RULE,
            "keys": "",
            "candidate_pairs": len(union),
            "blocks": sum(r["blocks"] for r in rows),
            "largest_block": max((r["largest_block"] for r in rows), default=0),
            "capped_blocks": sum(r["capped_blocks"] for r in rows),
            "records_in_capped_blocks": sum(r["records_in_capped_blocks"] for r in rows),
        }
    )
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return CandidatePairs(left=union // n, right=union % n, report=report)
