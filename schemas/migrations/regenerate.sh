#!/usr/bin/env bash
# Regenerates the initial migration from the models. Only while no hub has been deployed (pre-1.0);
# after that, add a new revision with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -f schemas/migrations/versions/0001_*.py /tmp/mdh_alembic_gen.db
python - <<'PY'
from alembic.config import Config
from alembic import command
cfg = Config()
cfg.set_main_option("script_location", "schemas/migrations")
cfg.set_main_option("sqlalchemy.url", "sqlite:////tmp/mdh_alembic_gen.db")
command.revision(cfg, message="initial hub schema", autogenerate=True, rev_id="0001")
PY
