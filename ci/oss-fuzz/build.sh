#!/usr/bin/env bash
# ci/oss-fuzz/build.sh — build every fuzz target the OSS-Fuzz way.
#
# Inputs (set by OSS-Fuzz / ClusterFuzzLite, or by hand):
#   CC, CXX, CFLAGS, CXXFLAGS  the compiler and the sanitizer/coverage flags
#   LIB_FUZZING_ENGINE         link flags of the fuzzing engine (e.g. -fsanitize=fuzzer)
#   OUT                        where the binaries go
#   SRC_DIR                    (optional) the checkout; default: this repository
#   WORK                       (optional) build directory; default: $OUT/../refhammer-build
# Output in $OUT, per target: the binary, <target>_seed_corpus.zip,
# <target>.dict and <target>.options.
#
# By hand, on this machine:
#   CC=clang-19 CXX=clang++-19 CFLAGS="-O1 -g -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/oss-out ci/oss-fuzz/build.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
src=${SRC_DIR:-$here}
: "${CC:?set CC}" "${CXX:?set CXX}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CFLAGS=${CFLAGS:-} CXXFLAGS=${CXXFLAGS:-}
work=${WORK:-$OUT/../refhammer-build}
mkdir -p "$OUT" "$work"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$src" -B "$work" "${generator[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE=None \
  -DREFHAMMER_FUZZ_ONLY=ON -DREFHAMMER_SANITIZE="" -DLIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DREFHAMMER_DEBUG_CHECKS=ON -DREFHAMMER_WERROR=OFF
cmake --build "$work" -j"$(nproc)"

command -v zip >/dev/null || { echo "build.sh: zip is needed for the seed corpora" >&2; exit 1; }
n=0
for bin in "$work"/fuzz/fuzz_*; do
  [[ -f $bin && -x $bin ]] || continue
  t=$(basename "$bin")
  cp "$bin" "$OUT/$t"
  [[ -f $src/corpora/$t.dict ]] && cp "$src/corpora/$t.dict" "$OUT/$t.dict"
  [[ -f $src/corpora/$t.options ]] && cp "$src/corpora/$t.options" "$OUT/$t.options"
  if [[ -d $src/corpora/$t ]]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$src/corpora/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  n=$((n + 1))
done
((n > 0)) || { echo "build.sh: no fuzz targets were built" >&2; exit 1; }
echo "build.sh: $n fuzz target(s) in $OUT"
