#!/usr/bin/env bash
# CLI suite: every tests/cli/*.sh (one per tool area) reports its own cases.
cd "$(dirname "$0")"
rc=0
for t in ./*.sh; do
	[ "$t" = ./run.sh ] && continue
	bash "$t" || { echo "not ok - $t exited $?"; rc=1; }
done
exit $rc
