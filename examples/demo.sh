#!/usr/bin/env bash
# Builds a small demo repository whose feature branch adds typical scalability problems,
# then reviews it offline: `scale-review review --repo <demo> --base main`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${SCALE_REVIEW:-$here/../.venv/bin/scale-review}"
[[ -x "$bin" ]] || bin="scale-review"
demo="${1:-${TMPDIR:-/tmp}/scale-review-demo}"
rm -rf "$demo"
mkdir -p "$demo"
g() { git -C "$demo" -c user.name=demo -c user.email=demo@example.invalid -c commit.gpgsign=false "$@"; }
g init -q -b main
cp -R "$here/demo/base/." "$demo/"
g add -A && g commit -qm "Orders service"
g checkout -q -b feature/export
cp -R "$here/demo/head/." "$demo/"
g add -A && g commit -qm "Add order export, notifications and a status index"
echo "\$ scale-review review --repo $demo --base main" >&2
exec "$bin" review --repo "$demo" --base main "${@:2}"
