#!/usr/bin/env bash
# Valgrind suite: runs the format unit tests ($BUILD/tests/format_*, built
# by `make tests`) under memcheck.  Invalid accesses, uses of uninitialised
# memory and definite leaks make valgrind exit 42, which tests/unit/run.sh
# reports as a failure; test names get a "valgrind: " prefix.
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$PYSPY_ROOT" || exit 1
export PYSPY_ROOT

if ! command -v valgrind >/dev/null 2>&1; then
	echo "skip - valgrind # valgrind is not installed (scripts/install-deps.sh)"
	exit 0
fi
tests/unit/run.sh --build "${BUILD:-build/default}" --only 'format_*' --prefix "valgrind: " \
	--timeout 1800 -- valgrind -q --error-exitcode=42 --leak-check=full \
	--errors-for-leak-kinds=definite
