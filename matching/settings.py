"""Match settings and steward constraints: plain, validated data that round-trips to a dict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from matching.errors import SettingsError

# Columns of the standardised frame that blocking rules may use (see ``matching.standardise``).
BLOCKING_KEYS = (
    "uprn",
    "postcode",
    "postcode_sector",
    "last_initial",
    "first_initial",
    "last_name",
    "first_name",
    "first_name_canon",
    "last_metaphone",
    "first_metaphone",
    "date_of_birth",
    "dob_year",
    "nino",
    "email",
    "phone",
    "address_numbers",
)

COMPARISONS = (
    "first_name",
    "last_name",
    "middle_names",
    "date_of_birth",
    "nino",
    "uprn",
    "address",
    "postcode",
    "email",
    "phone",
)


@dataclass(frozen=True)
class BlockingRule:
    """Records are candidate pairs when they agree exactly on every key column.

    Examples:
        >>> BlockingRule("postcode_surname", ("postcode", "last_initial")).keys
        ('postcode', 'last_initial')
    """

    name: str
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        if not self.name or not self.keys:
            raise SettingsError("a blocking rule needs a name and at least one key column")


DEFAULT_BLOCKING_RULES = (
    BlockingRule("uprn", ("uprn",)),
    BlockingRule("postcode_surname_initial", ("postcode", "last_initial")),
    BlockingRule("postcode_house_numbers", ("postcode", "address_numbers")),
    BlockingRule("dob", ("date_of_birth",)),
    BlockingRule("nino", ("nino",)),
    # phonetic surname + phonetic first name: same recall as "+ first initial" on the synthetic council at
    # 100k people with 3.5x fewer pairs (initials are caught by the address rules)
    BlockingRule("surname_first_phonetic", ("last_metaphone", "first_metaphone")),
    BlockingRule("email", ("email",)),
    BlockingRule("phone", ("phone",)),
)

# EM is trained on pairs that share a personal attribute, never on pairs blocked by address: household
# members share an address and a surname, and would teach EM that a first-name mismatch is normal.
DEFAULT_EM_BLOCKING_RULES = (
    BlockingRule("em_dob", ("date_of_birth",)),
    BlockingRule("em_name", ("last_metaphone", "first_initial")),
)


@dataclass(frozen=True)
class MatchSettings:
    """Everything that decides a person-matching run; recorded with the run.

    Args:
        auto_threshold: match probability at or above which a pair is merged without review.
        review_threshold: match probability at or above which a pair goes to a steward.
        blocking_rules: rules unioned to generate candidate pairs.
        max_block_size: blocks larger than this are skipped (and reported), so no rule explodes.
        em_blocking_rules: rules whose pairs train m by EM (the comparisons on their keys are held out).
        comparisons: which comparisons the model uses, from ``COMPARISONS``.
        extra_id_columns: further identifier columns (e.g. an account or social-security number)
            compared exact / edit distance 1 / 2 / else.
        link_only: only pair records from different sources.
        deduplicated_sources: sources known to hold at most one record per person (e.g. an electoral register
            verified against DWP, benefit claims keyed on NINO): two of their records are no match (never
            merged, never a review task), and two of them at one place with one name mark a namesake household.
        hard_negatives: keep twins, parent and child and spouses apart (see ``matching.linker.classify``): clear
            first-name or date-of-birth conflicts cap a pair at review (both, a Jr/Sr conflict or the same name a
            generation apart: no match), typing errors do not count as conflicts; a pair with no person-level
            agreement (dob, NINO, extra id, email) is not merged without review when it does not share a place,
            when its household holds two people of that name, or when both first names are initials.
        auto_needs_person_evidence: when True, a pair needs a person-level agreement (date of birth, NINO, extra
            id or email) to be merged without review: name + address alone always goes to review. When False
            (default), name + address alone is enough unless the household holds two people of that name
            (a Jr/Sr suffix, dates of birth a generation apart, or two records of one deduplicated source).
        deterministic_nino_dob: same NINO and same date of birth is a match whatever the model says.
        tf_adjust_names: term-frequency adjustment of exact first-name and surname agreement.
        u_sample_pairs: random pairs used to estimate u.
        em_max_pairs_per_rule: candidate pairs sampled per blocking rule for EM.
        em_max_iterations, em_tolerance: EM stopping rule.
        labelled_pseudo_count: weight of the EM estimate of m when blending with labelled matches.
        min_pair_probability: scored pairs below this probability are dropped from the output.
        max_cluster_check: components larger than this are re-clustered without an all-pairs check.
        ambiguity_margin: when rebuilding an incoherent component, an edge is skipped if an end has another
            edge within this many bits to a conflicting group (ambiguous: left for review).
        seed: random seed (u sampling, EM sampling).

    Examples:
        >>> s = MatchSettings(auto_threshold=0.995)
        >>> MatchSettings.from_dict(s.to_dict()) == s
        True
    """

    auto_threshold: float = 0.99
    review_threshold: float = 0.80
    blocking_rules: tuple[BlockingRule, ...] = DEFAULT_BLOCKING_RULES
    max_block_size: int = 100
    em_blocking_rules: tuple[BlockingRule, ...] = DEFAULT_EM_BLOCKING_RULES
    comparisons: tuple[str, ...] = COMPARISONS
    extra_id_columns: tuple[str, ...] = ()
    link_only: bool = False
    deduplicated_sources: tuple[str, ...] = ()
    hard_negatives: bool = True
    auto_needs_person_evidence: bool = False
    deterministic_nino_dob: bool = True
    tf_adjust_names: bool = True
    u_sample_pairs: int = 1_000_000
    em_max_pairs_per_rule: int = 1_000_000
    em_max_iterations: int = 40
    em_tolerance: float = 1e-5
    labelled_pseudo_count: float = 50.0
    min_pair_probability: float = 0.01
    max_cluster_check: int = 50
    ambiguity_margin: float = 4.0
    seed: int = 42

    def __post_init__(self) -> None:
        rules = tuple(r if isinstance(r, BlockingRule) else BlockingRule(**r) for r in self.blocking_rules)
        object.__setattr__(self, "blocking_rules", rules)
        em_rules = tuple(r if isinstance(r, BlockingRule) else BlockingRule(**r) for r in self.em_blocking_rules)
        object.__setattr__(self, "em_blocking_rules", em_rules)
        object.__setattr__(self, "comparisons", tuple(self.comparisons))
        object.__setattr__(self, "extra_id_columns", tuple(self.extra_id_columns))
        object.__setattr__(self, "deduplicated_sources", tuple(self.deduplicated_sources))
        if not 0 < self.review_threshold <= self.auto_threshold < 1:
            raise SettingsError(
                f"need 0 < review_threshold ({self.review_threshold}) <= auto_threshold ({self.auto_threshold}) < 1"
            )
        if not rules:
            raise SettingsError("at least one blocking rule is needed")
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise SettingsError(f"blocking rule names must be unique: {names}")
        unknown = [c for c in self.comparisons if c not in COMPARISONS]
        if unknown:
            raise SettingsError(f"unknown comparisons {unknown}; choose from {COMPARISONS}")
        if not self.comparisons and not self.extra_id_columns:
            raise SettingsError("at least one comparison is needed")
        for name in ("max_block_size", "u_sample_pairs", "em_max_pairs_per_rule", "em_max_iterations"):
            if getattr(self, name) < 2:
                raise SettingsError(f"{name} must be at least 2")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists, not tuples) for YAML/JSON."""
        out = asdict(self)
        out["blocking_rules"] = [{"name": r.name, "keys": list(r.keys)} for r in self.blocking_rules]
        out["em_blocking_rules"] = [{"name": r.name, "keys": list(r.keys)} for r in self.em_blocking_rules]
        out["comparisons"] = list(self.comparisons)
        out["extra_id_columns"] = list(self.extra_id_columns)
        out["deduplicated_sources"] = list(self.deduplicated_sources)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSettings:
        """Build from ``to_dict`` output (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SettingsError(f"unknown match settings {sorted(unknown)}")
        data = dict(data)
        for key in ("blocking_rules", "em_blocking_rules"):
            if key in data:
                data[key] = tuple(BlockingRule(r["name"], tuple(r["keys"])) if isinstance(r, dict) else r for r in data[key])
        return cls(**data)


@dataclass(frozen=True)
class Constraints:
    """Steward decisions as pair constraints over ``unique_id`` values.

    ``must_link``: accepted pairs, always in one cluster. ``cannot_link``: rejected pairs and splits,
    never in one cluster (cannot-link wins when the two conflict).
    """

    must_link: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    cannot_link: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "must_link", frozenset(_ordered(p) for p in self.must_link))
        object.__setattr__(self, "cannot_link", frozenset(_ordered(p) for p in self.cannot_link))


def _ordered(pair: tuple[str, str]) -> tuple[str, str]:
    a, b = (str(x) for x in pair)
    if a == b:
        raise SettingsError("a constraint pair needs two different records")
    return (a, b) if a < b else (b, a)
