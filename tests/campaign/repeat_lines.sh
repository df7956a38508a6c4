#!/usr/bin/env bash
# tests/campaign/repeat_lines.sh REFHAMMER SOURCE_DIR [FUZZ_PROGRAM]
#
# Issue #15: every printed repeat line carries every option that changes
# behaviour, so running it gives the same verdict. For each tool this runs
# a command with non-default options, takes the line the tool printed, runs
# that (with a fresh output directory) and compares the verdicts:
#   - stress with a catalog bug, perturbed, with design, model, audit, ring
#     and gap options: a violation of the same kind at the same site;
#   - stress on the clean core: CLEAN both times;
#   - a stress-only campaign without --seed (the clock picks it): the repeat
#     line must carry the seed; the same exit code and finding counts;
#   - a libFuzzer target (FUZZ_PROGRAM, the fuzz or fuzz-fast build of
#     fuzz_program; skipped when missing) run with REFHAMMER_DESIGN,
#     REFHAMMER_MODEL and REFHAMMER_BUGS: the printed `refhammer replay` line
#     on its crash file gives the fuzzer's signature.
set -uo pipefail
bin=$1 src=$2 fuzz=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/refhammer-repeat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "repeat_lines: FAIL: $*"; fail=1; }

# repeat_args LOG OUT: the words of LOG's repeat line without the leading
# `refhammer`, with its output directory (if any) replaced by OUT and -o OUT
# added when it had none.
repeat_args() {
  local line
  line=$(grep -m1 -E '^ *repeat: ' "$1" | sed -E 's/^ *repeat: //')
  [[ -n $line ]] || return 1
  read -r -a w <<<"$line"
  [[ ${w[0]} == refhammer ]] || return 1
  out=()
  local i had_out=0
  for ((i = 1; i < ${#w[@]}; ++i)); do
    if [[ ${w[i]} == --out || ${w[i]} == -o ]]; then
      out+=("${w[i]}" "$2"); ((++i)); had_out=1
    else
      out+=("${w[i]}")
    fi
  done
  ((had_out)) || out+=(-o "$2")
}

# A violation's kind and site: on real threads the op that meets the bug
# first may differ between two runs of one command (try_get or pfn_walk for
# a pfn walker's plain get); the bug's signature part does not.
kind_site() { sed -E 's|^(verdict: VIOLATION [^/]+/[^/]+)/.*|\1|'; }

# 1. stress with a bug and non-default options.
"$bin" stress -p refcount --scheduler perturb --perturb-gap 32 --audit-every 4096 --ring 256 --threads 2 \
  --seed 11 -s 5 --design zone_device=1-based --model refcount_limit=100000 --bug pfn-walker-plain-get \
  --progress 0 -o "$tmp/s1" >"$tmp/s1.log" 2>&1
v1=$(grep -m1 '^verdict: ' "$tmp/s1.log" | kind_site)
[[ $v1 == "verdict: VIOLATION "* ]] || bad "stress with pfn-walker-plain-get: no violation ($v1)"
if repeat_args "$tmp/s1.log" "$tmp/s1r"; then
  for want in "--scheduler perturb" "--perturb-gap 32" "--audit-every 4096" "--ring 256" "--design zone_device=1-based" \
              "--model refcount_limit=100000" "--bug pfn-walker-plain-get" "--seconds 5"; do
    grep -q -- "repeat: .*$want" "$tmp/s1.log" || bad "the stress repeat line lacks '$want'"
  done
  "$bin" "${out[@]}" --progress 0 >"$tmp/s1r.log" 2>&1
  v1r=$(grep -m1 '^verdict: ' "$tmp/s1r.log" | kind_site)
  [[ $v1r == "$v1" ]] || bad "stress repeat: '$v1r', first run: '$v1'"
else
  bad "stress printed no repeat line"
fi

# 2. stress on the clean core.
"$bin" stress -p gup --seed 3 -s 1 --audit-every 1024 --progress 0 -o "$tmp/s2" >"$tmp/s2.log" 2>&1
v2=$(grep -m1 '^verdict: ' "$tmp/s2.log")
[[ $v2 == "verdict: CLEAN" ]] || bad "clean stress: $v2"
if repeat_args "$tmp/s2.log" "$tmp/s2r"; then
  "$bin" "${out[@]}" --progress 0 >"$tmp/s2r.log" 2>&1
  v2r=$(grep -m1 '^verdict: ' "$tmp/s2r.log")
  [[ $v2r == "$v2" ]] || bad "clean stress repeat: '$v2r'"
else
  bad "clean stress printed no repeat line"
fi

# 3. a short stress-only campaign, seed from the clock.
(cd "$src" && "$bin" campaign -s 6 --no-fuzz --no-compare --profile refcount --regressions corpora/regressions \
  -o "$tmp/c1") >"$tmp/c1.log" 2>&1
rc1=$?
grep -q -E '^ *repeat: .* --seed [0-9]+' "$tmp/c1.log" || bad "the campaign's repeat line carries no --seed"
summary() { grep -m1 -E '^refhammer campaign: (CLEAN|NEW FINDINGS) in ' "$1" | sed -E 's/ in [0-9]+ s:/:/'; }
s1=$(summary "$tmp/c1.log")
[[ -n $s1 ]] || bad "the campaign printed no verdict (exit $rc1)"
if repeat_args "$tmp/c1.log" "$tmp/c1r"; then
  (cd "$src" && "$bin" "${out[@]}") >"$tmp/c1r.log" 2>&1
  rc2=$?
  s2=$(summary "$tmp/c1r.log")
  ((rc1 == rc2)) || bad "campaign repeat exited $rc2, first run $rc1"
  [[ $s1 == "$s2" ]] || bad "campaign repeat: '$s2', first run: '$s1'"
else
  bad "the campaign printed no repeat line"
fi

# 4. a fuzz target's replay line.
if [[ -n $fuzz && -x $fuzz ]]; then
  mkdir -p "$tmp/fz"
  REFHAMMER_DESIGN=zone_device=1-based REFHAMMER_MODEL=refcount_limit=100000 REFHAMMER_BUGS=pfn-walker-plain-get \
    "$fuzz" -runs=2000000 -seed=1 -max_total_time=60 -artifact_prefix="$tmp/fz/" "$src/corpora/fuzz_program" \
    >"$tmp/fz.log" 2>&1
  crash=$(ls "$tmp"/fz/crash-* 2>/dev/null | head -1)
  sig=$(grep -m1 '==refhammer== VIOLATION ' "$tmp/fz.log" | sed -E 's/.*VIOLATION //')
  line=$(grep -m1 -o 'refhammer replay --target [^(]* CRASH-FILE' "$tmp/fz.log")
  if [[ -z $crash || -z $sig || -z $line ]]; then
    bad "fuzz_program found nothing or printed no replay line"
  else
    for want in "--design zone_device=1-based" "--model refcount_limit=100000" "--bug pfn-walker-plain-get"; do
      [[ $line == *"$want"* ]] || bad "the fuzz replay line lacks '$want': $line"
    done
    read -r -a w <<<"${line/CRASH-FILE/$crash}"
    "$bin" "${w[@]:1}" >"$tmp/fzr.log" 2>&1
    rc=$?
    ((rc == 1)) || bad "the fuzz replay line exited $rc, want 1 (a violation)"
    grep -q -F -- "$sig" "$tmp/fzr.log" || bad "the fuzz replay did not report $sig"
  fi
else
  echo "repeat_lines: no fuzz_program binary given or built: its part skipped"
fi

if ((fail)); then
  for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done
  exit 1
fi
echo "repeat_lines: every repeat line gave the same verdict"
