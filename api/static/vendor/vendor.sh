#!/usr/bin/env bash
# Re-vendors GOV.UK Frontend's CSS (MIT) and htmx (0BSD) from the npm registry. Run by hand; nothing is fetched at run time.
# GDS Transport and the crown crest may only be used on GOV.UK services, so the fonts are dropped (Arial instead,
# as the Design System asks of services off GOV.UK) and the crest is not referenced.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent govuk-frontend@5.14.0 htmx.org@2.0.11 >/dev/null
tar xzf govuk-frontend-5.14.0.tgz && mv package govuk && tar xzf htmx.org-2.0.11.tgz && mv package htmx
python3 - "$here" <<'PY'
import re, sys
here = sys.argv[1]
css = open("govuk/dist/govuk/govuk-frontend.min.css", encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*\}", "", css)
css = css.replace("GDS Transport,", "").replace('"GDS Transport",', "").replace("url(/assets/images/govuk-crest.svg)", "none")
open(f"{here}/govuk-frontend.min.css", "w", encoding="utf-8").write(css)
PY
cp htmx/dist/htmx.min.js "$here/htmx.min.js"
cp htmx/LICENSE "$here/htmx.LICENSE"
echo "vendored govuk-frontend 5.14.0 and htmx.org 2.0.11 into $here"
