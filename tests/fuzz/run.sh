#!/usr/bin/env bash
# Fuzz suite: builds the libFuzzer targets (`make fuzz`: clang with ASan
# and UBSan, into build/fuzz/), runs each one over its committed seed
# corpus (tests/fuzz/corpus/<target>/), then fuzzes it for a bounded time:
# 60 s per target, 15 s with PYSPY_TEST_QUICK=1 (or FUZZ_SECONDS=N).
# New inputs go to a scratch corpus, never into the committed one; a crash
# leaves its input in build/fuzz/artifacts/<target>/ for reproduction:
#     build/fuzz/fuzz_reader build/fuzz/artifacts/reader/crash-...
# Any single allocation above 64 MiB counts as a failure: the reader must
# stay within its documented bounds (§7) whatever the input.
set -u
: "${PYSPY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$PYSPY_ROOT" || exit 1
: "${MAKE:=make}"
secs=${FUZZ_SECONDS:-60}
[ "${PYSPY_TEST_QUICK:-0}" = 1 ] && secs=${FUZZ_SECONDS:-15}

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "skip - fuzz # ${FUZZ_CC:-clang} is not installed (scripts/install-deps.sh)"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pyspy-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! $MAKE --no-print-directory fuzz >"$tmp/build.log" 2>&1; then
	echo "not ok - fuzz: build # make fuzz failed"
	tail -n 20 "$tmp/build.log" | sed 's/^/    /'
	exit 0
fi

for src in tests/fuzz/fuzz_*.c; do
	target=$(basename "$src" .c)
	name=${target#fuzz_}
	bin=build/fuzz/$target
	seeds=tests/fuzz/corpus/$name
	artifacts=build/fuzz/artifacts/$name
	mkdir -p "$tmp/$name" "$artifacts"
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "not ok - fuzz: $name seed corpus # $seeds is empty"
		continue
	fi
	opts=(-malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/")
	if "$bin" "${opts[@]}" -runs=0 "$seeds" >"$tmp/seed.log" 2>&1; then
		echo "ok - fuzz: $name seed corpus ($(ls "$seeds" | wc -l) inputs)"
	else
		echo "not ok - fuzz: $name seed corpus # a seed input fails; artifacts in $artifacts"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$tmp/seed.log" | head -n 10 | sed 's/^/    /'
	fi
	if "$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
		"$tmp/$name" "$seeds" >"$tmp/run.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/run.log")
		echo "ok - fuzz: $name ${secs} s (${runs:-?} runs)"
	else
		echo "not ok - fuzz: $name ${secs} s # crash; input saved in $artifacts"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==' "$tmp/run.log" | head -n 12 |
			sed 's/^/    /'
	fi
done
exit 0
