#!/usr/bin/env bash
# tests/campaign/reintroduced_bug.sh BUGGY_REFHAMMER CLEAN_REFHAMMER SOURCE_DIR
#
# Issue #18: a campaign never calls a real bug clean. BUGGY_REFHAMMER is the
# `reintroduce` preset's binary: the code of the fixed catalog bug
# reporting-putback-before-report is compiled into its core (CMake
# REFHAMMER_REINTRODUCE_BUG), on with every switch off — what a developer's
# change would do. Its finding's signature equals the signature of the
# regression trace corpora/regressions/reporting-putback-before-report.trace,
# which expects that violation only with the bug switched on. So:
#   - the buggy binary's campaign (default design, no --bug) exits 1 and
#     reports the finding as REGRESSION, naming the matching trace;
#   - the clean binary, same command, exits 0.
# Exit 77 (ctest: skipped) when the reintroduce build is missing
# (`cmake --preset reintroduce && cmake --build --preset reintroduce`;
# ci/test builds it).
set -uo pipefail
buggy=$1 clean=$2 src=$3
if [[ ! -x $buggy ]]; then
  echo "reintroduced_bug: $buggy not built (preset reintroduce): skipped"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/refhammer-reintroduced.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run() {  # run BIN OUT: a short stress-only campaign on the reporting profile
  (cd "$src" && "$1" campaign -s 12 --seed 1 --no-fuzz --no-compare --profile reporting \
     --regressions corpora/regressions -o "$2") >"$2.log" 2>&1
}
fail=0
run "$buggy" "$tmp/buggy"; rc=$?
if ((rc != 1)); then
  echo "reintroduced_bug: FAIL: the campaign over the reintroduced bug exited $rc, want 1"; fail=1
fi
if ! grep -q "REGRESSION data-loss/page_reporting_drain/report_cycle" "$tmp/buggy.log"; then
  echo "reintroduced_bug: FAIL: no REGRESSION data-loss/page_reporting_drain/report_cycle in the verdict"; fail=1
fi
if ! grep -q "reporting-putback-before-report.trace" "$tmp/buggy.log"; then
  echo "reintroduced_bug: FAIL: the verdict does not name the matching regression trace"; fail=1
fi
run "$clean" "$tmp/clean"; rc=$?
if ((rc != 0)); then
  echo "reintroduced_bug: FAIL: the same campaign on the clean core exited $rc, want 0"; fail=1
fi
if ((fail)); then
  echo "--- buggy campaign:"; tail -n 20 "$tmp/buggy.log"
  echo "--- clean campaign:"; tail -n 20 "$tmp/clean.log"
  exit 1
fi
echo "reintroduced_bug: ok: the reintroduced bug is a REGRESSION (exit 1); the clean core is clean (exit 0)"
grep -E "REGRESSION|known:" "$tmp/buggy.log" | head -3
