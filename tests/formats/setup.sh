#!/bin/sh
# Install the validators' npm packages (package-lock.json, exact versions)
# into tests/formats/node_modules when missing or stale; the npm cache
# lives in the git-ignored tests/.cache/npm.
#
# usage: tests/formats/setup.sh [-q]
# Exit status: 0 ready, 1 npm failed, 3 node or npm not installed.
set -u
cd "$(dirname "$0")" || exit 1
quiet=0
[ "${1:-}" = -q ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "formats/setup: $*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "formats/setup: node and npm are needed (scripts/install-deps.sh installs nodejs and npm)" >&2
	exit 3
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
case $major in
'') echo "formats/setup: 'node' does not run" >&2; exit 3 ;;
[0-9]|1[0-7]) echo "formats/setup: node $(node --version) is too old (need >= 18)" >&2; exit 3 ;;
esac

stamp=node_modules/.pyspy-setup
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	[ -f node_modules/speedscope/dist/release/file-format-schema.json ] &&
	[ -d node_modules/playwright-core ] && [ -d node_modules/ajv ]; then
	exit 0
fi

say "npm ci (node $(node --version), npm $(npm --version))"
cache=$(cd ../.. && pwd)/tests/.cache/npm
mkdir -p "$cache"
start=$(date +%s)
# --ignore-scripts: nothing here needs an install script (playwright-core
# uses Debian's chromium; no browser download).
if ! out=$(npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --cache "$cache" 2>&1); then
	printf '%s\n' "$out" | tail -n 15 >&2
	echo "formats/setup: npm ci failed (registry unreachable? see above)" >&2
	exit 1
fi
echo "$want" >"$stamp"
say "installed in $(( $(date +%s) - start )) s"
