"""The hub's configuration file (``hub.yaml``): pydantic models, loading and validation."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.columns import PersonRecord

DEFAULT_CONFIG_FILE = "hub.yaml"

SURVIVORSHIP_RULES = ("trust", "recent", "complete", "frequent")
GOLDEN_ATTRIBUTES = (
    "title",
    "first_name",
    "middle_names",
    "last_name",
    "date_of_birth",
    "date_of_death",
    "nino",
    "email",
    "phone",
    "address",
)


class ConfigError(Exception):
    """A configuration file that cannot be read or does not validate."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GazetteerConfig(_Strict):
    """Where the corporate address gazetteer file is."""

    path: Path


class Thresholds(_Strict):
    """Match-probability thresholds that split pairs into bands."""

    auto_merge: float = Field(0.99, gt=0, le=1)
    review: float = Field(0.80, gt=0, le=1)

    @model_validator(mode="after")
    def _review_below_auto(self) -> Thresholds:
        if self.review > self.auto_merge:
            raise ValueError(f"review ({self.review}) must not exceed auto_merge ({self.auto_merge})")
        return self


class PublishTarget(_Strict):
    """One way of pushing golden IDs and change events back to a source system."""

    kind: Literal["sql_writeback", "sql_events", "files", "webhook", "amqp"]
    table: str | None = None
    url: str | None = None
    folder: Path | None = None
    format: Literal["csv", "json"] = "json"
    secret_env: str | None = None  # name of the environment variable holding an HMAC secret
    queue: str | None = None


class SourceConfig(_Strict):
    """One departmental source system and how its columns map to canonical fields."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["person", "property"] = "person"
    url: str
    table: str | None = None
    query: str | None = None
    key: str
    trust: int = Field(1, ge=0)
    updated_at: str | None = None
    date_format: str | None = None
    encoding: str = "utf-8"
    fields: dict[str, str]
    attributes: dict[str, str] = Field(default_factory=dict)  # property sources: extra attributes
    # What the source is to the council, for cross-checks that need it (e.g. two live council tax accounts).
    role: Literal["council_tax", "council_tax_valuation", "business_rates", "housing_tenancy", "housing_stock",
                  "electoral_register", "benefits", "other"] | None = None
    publish: list[PublishTarget] = Field(default_factory=list)
    # True when the source holds each person at most once (e.g. an electoral register): two of its records
    # are then never merged into one golden person.
    deduplicated: bool = False

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(fields) - set(PersonRecord.CANONICAL_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) {unknown}; expected some of {list(PersonRecord.CANONICAL_FIELDS)}"
            )
        return fields

    @model_validator(mode="after")
    def _one_way_to_read(self) -> SourceConfig:
        if self.is_file:
            if self.table or self.query:
                raise ValueError("a CSV source takes neither 'table' nor 'query'")
        elif bool(self.table) == bool(self.query):
            raise ValueError("a database source needs exactly one of 'table' or 'query'")
        names = {"full_name", "first_name", "last_name"} & set(self.fields)
        if self.kind == "person" and not names:
            raise ValueError("a person source must map 'full_name' or 'first_name'/'last_name'")
        addressy = {"address", "uprn", *PersonRecord.ADDRESS_PART_FIELDS} & set(self.fields)
        if self.kind == "property" and not addressy:
            raise ValueError("a property source must map 'address', 'uprn' or address parts")
        return self

    @property
    def is_file(self) -> bool:
        """True when the source is a CSV file or a folder of CSV drops rather than a database."""
        return "://" not in self.url


class Schedule(_Strict):
    """When scheduled runs happen (cron syntax, council's local time)."""

    nightly: str = "0 2 * * *"
    timezone: str = "Europe/London"


class SparkConfig(_Strict):
    """Where the Spark execution path for person matching runs (``spark:`` in hub.yaml; see docs/SPARK.md)."""

    master: str = "local[2]"  # "yarn", "spark://host:7077", "k8s://...", "local[*]"; ignored on Databricks
    app_name: str = "mdh-person-matching"
    deploy_mode: Literal["client", "cluster"] = "client"
    conf: dict[str, str] = Field(default_factory=dict)  # any spark.* setting, passed to the session builder
    work_dir: str = "spark"  # extracts and scored pairs: a folder (relative to hub.yaml) or hdfs://, s3a://, dbfs:/
    sample_records: int = Field(200_000, gt=0)  # records the model is fitted on, locally, when none is stored
    rows_per_bucket: int = Field(50_000, gt=0)  # rows per scoring task after blocking (bounds worker memory)


class EventSettings(_Strict):
    """What may raise a person's life events: the trust a source needs, the closure reasons that mean a death.

    A source ranked below ``min_trust`` still feeds matching and survivorship, but its address never
    replaces a golden person's current address ahead of a trusted source's, and neither its date of death
    nor its closure reasons record a death. A record's ``end_reason`` or ``status`` attribute (mapped under
    the source's ``attributes:``) counts as a death when it contains one of ``deceased_reasons`` as a
    word or phrase (case ignored): "DECEASED", "Death of tenant", "Tenant died".
    """

    min_trust: int = Field(1, ge=0)
    deceased_reasons: list[str] = Field(default_factory=lambda: ["deceased", "death", "died"], min_length=1)


class HubConfig(_Strict):
    """The whole ``hub.yaml``."""

    hub: str
    gazetteer: GazetteerConfig
    thresholds: Thresholds = Thresholds()
    sources: list[SourceConfig] = Field(min_length=1)
    survivorship: dict[str, Literal["trust", "recent", "complete", "frequent"]] = Field(default_factory=dict)
    # Property attributes (names from the property sources' `attributes:`) → survivorship rule (default trust).
    property_survivorship: dict[str, Literal["trust", "recent", "complete", "frequent"]] = Field(default_factory=dict)
    schedule: Schedule = Schedule()
    events: EventSettings = EventSettings()  # who may raise change-of-address and death events
    spark: SparkConfig | None = None  # optional: run person matching on Spark (pip install '.[spark]')
    base_dir: Path = Path(".")  # folder of the config file; relative paths resolve from here

    @field_validator("survivorship")
    @classmethod
    def _known_attributes(cls, rules: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(rules) - set(GOLDEN_ATTRIBUTES))
        if unknown:
            raise ValueError(f"unknown golden attribute(s) {unknown}; expected some of {list(GOLDEN_ATTRIBUTES)}")
        return rules

    @model_validator(mode="after")
    def _unique_source_names(self) -> HubConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {dupes}")
        return self

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; raises ``KeyError`` naming it when absent."""
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(f"no source named {name!r} in the configuration")

    def survivorship_rule(self, attribute: str) -> str:
        """The survivorship rule for a golden attribute (source trust unless configured)."""
        return self.survivorship.get(attribute, "trust")


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make relative file paths and SQLite URLs absolute from the config's folder."""
    out = dict(raw)
    if isinstance(out.get("hub"), str):
        out["hub"] = _resolve_sqlite(out["hub"], base)
    gaz = out.get("gazetteer")
    if isinstance(gaz, dict) and isinstance(gaz.get("path"), str):
        out["gazetteer"] = {**gaz, "path": str((base / gaz["path"]).resolve())}
    sources = []
    for src in out.get("sources") or []:
        if isinstance(src, dict) and isinstance(src.get("url"), str):
            url = src["url"]
            url = _resolve_sqlite(url, base) if "://" in url else str((base / url).resolve())
            targets = []
            for target in src.get("publish") or []:
                if isinstance(target, dict) and isinstance(target.get("folder"), str):
                    target = {**target, "folder": str((base / target["folder"]).resolve())}
                targets.append(target)
            src = {**src, "url": url, **({"publish": targets} if "publish" in src else {})}
        sources.append(src)
    if "sources" in out:
        out["sources"] = sources
    out["base_dir"] = str(base)
    return out


_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: Any, where: str = "") -> Any:
    """Replace ``${NAME}`` in every string with the environment variable NAME (``$$`` is a literal ``$``).

    Secrets (database passwords, tokens) stay out of hub.yaml and out of the repository. A variable that is not
    set is an error naming the key and the variable, never an empty password.
    """
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{where}.{i}") for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name not in os.environ:
            raise ConfigError(f"{where or '(top level)'}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(sub, value)


def _describe(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        loc = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{loc}: {item['msg']}")
    return "; ".join(lines)


def parse_config(raw: Any, *, base_dir: Path, origin: str = "configuration") -> HubConfig:
    """Validate an already-parsed YAML document.

    Examples:
        >>> cfg = parse_config({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"},
        ...     "sources": [{"name": "ctax", "url": "ctax.csv", "key": "ref",
        ...                  "fields": {"full_name": "name"}}]}, base_dir=Path("/data"))
        >>> cfg.hub
        'sqlite:////data/hub.db'
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        raw = _expand_env(raw)
    except ConfigError as err:
        raise ConfigError(f"{origin}: {err}") from None
    try:
        return HubConfig.model_validate(_resolve_paths(raw, base_dir))
    except ValidationError as err:
        raise ConfigError(f"{origin}: {_describe(err)}") from None


def load_config(path: str | Path = DEFAULT_CONFIG_FILE) -> HubConfig:
    """Read and validate ``hub.yaml``; errors name the file, the key and the problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found (pass --config FILE or run 'mdh init')")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    return parse_config(raw, base_dir=path.resolve().parent, origin=str(path))
