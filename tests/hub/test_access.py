"""API tokens: hashed storage, roles, revocation, and the `mdh token` / `mdh queue` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub import cli_serve
from hub.access import AccessError, authenticate, create_token, hash_secret, revoke_token
from schemas.access import ApiToken
from tests.api.steward_hub import StewardHub, build_hub


@pytest.fixture
def hub(tmp_path: Path) -> StewardHub:
    return build_hub(tmp_path)


def test_secret_is_stored_only_as_a_hash(hub: StewardHub) -> None:
    with Session(hub.engine) as s, s.begin():
        token, secret = create_token(s, "payments-system", "reader")
        assert token.token_hash == hash_secret(secret) and secret not in token.token_hash
        assert token.prefix == secret[:10]
    with Session(hub.engine) as s:
        stored = [tuple(map(str, r)) for r in s.execute(select(ApiToken.__table__)).all()]
    assert not any(secret in cell for row in stored for cell in row)


def test_roles_are_ordered_and_revocation_works(hub: StewardHub) -> None:
    with Session(hub.engine) as s:
        steward = authenticate(s, hub.tokens["steward"])
    assert steward.can("reader") and steward.can("steward") and not steward.can("admin")
    with Session(hub.engine) as s, s.begin():
        revoke_token(s, "test-steward")
    with Session(hub.engine) as s:
        assert authenticate(s, hub.tokens["steward"]) is None
        assert authenticate(s, "mdh_" + "x" * 43) is None and authenticate(s, "") is None


def test_bad_requests_are_refused(hub: StewardHub) -> None:
    with Session(hub.engine) as s, s.begin():
        with pytest.raises(AccessError, match="unknown role"):
            create_token(s, "x", "superuser")
        with pytest.raises(AccessError, match="already exists"):
            create_token(s, "test-reader", "reader")
        with pytest.raises(AccessError, match="no token named"):
            revoke_token(s, "nobody")


def _cli() -> typer.Typer:
    """The commands wired the way hub/cli.py wires them."""
    app = typer.Typer()
    app.command("serve")(cli_serve.serve)
    app.command("queue")(cli_serve.queue)
    app.add_typer(cli_serve.token_app, name="token")
    return app


def test_token_and_queue_commands(hub: StewardHub, tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"hub": "sqlite:///hub.db", "gazetteer": {"path": "g.csv"},
                                   "sources": [{"name": "ctax", "url": "c.csv", "key": "k", "fields": {"full_name": "n"}}]}))
    runner = CliRunner()
    made = runner.invoke(_cli(), ["token", "create", "case-system", "--role", "steward", "--config", str(cfg)])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    with Session(hub.engine) as s:
        assert authenticate(s, secret).role == "steward"
    listed = runner.invoke(_cli(), ["token", "list", "--config", str(cfg)])
    assert "case-system" in listed.output and secret not in listed.output
    assert runner.invoke(_cli(), ["token", "revoke", "case-system", "--config", str(cfg)]).exit_code == 0
    with Session(hub.engine) as s:
        assert authenticate(s, secret) is None
    bad = runner.invoke(_cli(), ["token", "create", "x", "--role", "root", "--config", str(cfg)])
    assert bad.exit_code == 2
    q = runner.invoke(_cli(), ["queue", "--config", str(cfg)], terminal_width=200)
    assert q.exit_code == 0 and "Open person-pair review tasks: 3 (address tasks: 1)" in q.output
    listed = runner.invoke(_cli(), ["queue", "--addresses", "--config", str(cfg)], terminal_width=200)
    assert listed.exit_code == 0 and "no_match" in listed.output and "valuation" in listed.output
    assert "electoral" in runner.invoke(_cli(), ["queue", "--source", "electoral", "--config", str(cfg)],
                                        terminal_width=200).output
