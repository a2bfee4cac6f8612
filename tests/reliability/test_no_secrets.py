"""No secrets in the repository; database URLs and tokens come from the environment or config files outside it."""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from schemas.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
MAX_BYTES = 2_000_000

# Known shapes of credentials. Each pattern's first group is the secret itself.
PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----)"),
    "AWS access key": re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
    "GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "Slack token": re.compile(r"\b(xox[abprs]-[A-Za-z0-9-]{10,})"),
    "hub API token": re.compile(r"\b(mdh_[A-Za-z0-9_-]{40,})"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:([^\s@/'\"]+)@"),
    "assigned secret": re.compile(
        r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)\b"
        r"[\"']?\s*[:=]\s*[\"']([^\"'\s]{12,})[\"']"),
}
# Credentials that are public by design, allowed where they stand: (path glob, secret).
ALLOWED: set[tuple[str, str]] = {
    ("tests/conftest_servers.py", "guest"),  # RabbitMQ's default local account on the test machine
    ("connectors/publish/amqp.py", "guest"),  # the same, as the AMQP target's local default
    # Fake passwords that tests plant to check that errors never print them:
    ("tests/reliability/test_hub_down.py", "s3cret-pw"),
    ("tests/connectors/test_publish.py", "hunter2pw"),
    ("tests/connectors/test_publish.py", "pw9secret"),
    ("tests/connectors/test_publish.py", "s3cret-for-tests"),  # the webhook HMAC secret of the receiver tests
    ("tests/connectors/test_pull.py", "hunter2pw"),
    ("tests/hub/test_delivery.py", "pw123x"),
    ("tests/hub/test_ingest.py", "hunter2pw"),
    ("tests/api/test_openapi_conformance.py", "mdh_schemathesis-admin-token-for-tests-only-000000"),
    ("tests/reliability/test_no_secrets.py", "*"),  # this file: the planted examples below
}
PLACEHOLDERS = re.compile(r"^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]+>|x+|\*+|\.\.\.|password|secret|changeme|pass|pw|user)$",
                          re.IGNORECASE)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def findings(path: str, text: str) -> list[tuple[str, int, str]]:
    """(kind, line, secret) for every credential-shaped string in ``text`` that is neither a placeholder nor allowed."""
    out = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            secret = match.group(1)
            if PLACEHOLDERS.match(secret) or (path, secret) in ALLOWED or (path, "*") in ALLOWED:
                continue
            if kind == "assigned secret" and entropy(secret) < 3.0:
                continue  # prose and names ("secret_env: MDH_WEBHOOK_SECRET"), not random material
            out.append((kind, text.count("\n", 0, match.start()) + 1, secret))
    return out


def tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout, cannot list tracked files: {err}")
    return [p for p in listed.stdout.decode().split("\0") if p]


def test_scanner_finds_planted_secrets() -> None:
    planted = "\n".join([
        "hub: postgresql+psycopg://mdh:Zq8vT2pLx9@db.council.internal/hub",
        "aws = 'AKIAABCDEFGHIJKLMNOP'",
        "token = 'mdh_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kL9nP2r'",
        "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
        'API_KEY = "9f8e7d6c5b4a39281706f5e4"',
    ])
    kinds = {kind for kind, _line, _secret in findings("somewhere/else.py", planted)}
    assert kinds == {"password in a URL", "AWS access key", "hub API token", "private key", "assigned secret"}
    harmless = "hub: postgresql+psycopg://mdh:${MDH_HUB_PASSWORD}@db/hub\nsecret_env: MDH_WEBHOOK_SECRET\n"
    assert findings("somewhere/else.py", harmless) == []


def test_no_tracked_file_holds_a_secret() -> None:
    found = []
    for rel in tracked_files():
        path = REPO / rel
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue  # binary
        found += [(rel, line, kind) for kind, line, _secret in findings(rel, raw.decode("utf-8", "replace"))]
    assert found == [], f"credential-shaped strings in tracked files (secret values not shown): {found}"


def test_no_tracked_config_names_a_password() -> None:
    """Tracked hub.yaml-style files carry URLs without passwords (a password arrives through ${ENV})."""
    bad = []
    for rel in tracked_files():
        if rel.endswith((".yaml", ".yml")) and (REPO / rel).is_file():
            text = (REPO / rel).read_text(encoding="utf-8", errors="replace")
            bad += [rel for _k, _l, _s in findings(rel, text)]
    assert bad == []


def _raw(hub: str, **source: str) -> dict:
    return {"hub": hub, "gazetteer": {"path": "g.csv"},
            "sources": [{"name": "ctax", "url": source.get("url", "ctax.csv"), "key": "ref",
                         "fields": {"full_name": "name"}}]}


def test_database_urls_and_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDH_TEST_HUB_PASSWORD", "from-the-environment")
    monkeypatch.setenv("MDH_TEST_SOURCE_URL", "postgresql+psycopg://reader:pw2@src.internal/ctax")
    outside = tmp_path / "etc" / "mdh" / "hub.yaml"  # a config file anywhere, outside the repository
    outside.parent.mkdir(parents=True)
    outside.write_text(
        "hub: postgresql+psycopg://mdh:${MDH_TEST_HUB_PASSWORD}@db.internal/hub\n"
        "gazetteer: {path: g.csv}\n"
        "sources:\n"
        "  - {name: ctax, url: '${MDH_TEST_SOURCE_URL}', table: acct, key: ref, fields: {full_name: name}}\n",
        encoding="utf-8")

    cfg = load_config(outside)

    assert cfg.hub == "postgresql+psycopg://mdh:from-the-environment@db.internal/hub"
    assert cfg.sources[0].url == "postgresql+psycopg://reader:pw2@src.internal/ctax"
    assert not str(outside).startswith(str(REPO))


def test_a_missing_variable_is_named_not_guessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDH_TEST_UNSET", raising=False)
    with pytest.raises(ConfigError) as err:
        parse_config(_raw("postgresql+psycopg://mdh:${MDH_TEST_UNSET}@db/hub"), base_dir=tmp_path)
    assert "MDH_TEST_UNSET" in str(err.value) and "hub" in str(err.value)


def test_an_escaped_dollar_stays(tmp_path: Path) -> None:
    cfg = parse_config(_raw("sqlite:///hub.db", url="cost$${x}.csv"), base_dir=tmp_path)
    assert cfg.sources[0].url.endswith("cost${x}.csv")
