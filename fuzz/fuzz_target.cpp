// fuzz/fuzz_target — the libFuzzer entry point of every program/schedule
// target. One source, compiled once per target with REFHAMMER_FUZZ_TARGET set
// to its name; the target's op set, actor range and schedule encoding come
// from harness::fuzz_targets() (harness/fuzz_input.cpp).
//
// bytes -> program (+ schedule bytes) -> run on the deterministic scheduler
// -> oracle (checks after every op, quiescent audits, teardown audit).
// A violation prints the report and the run as a replayable text trace to
// stderr, then aborts, so libFuzzer saves the crash file; `refhammer replay
// --target NAME CRASH` replays that file, `--emit-trace` turns it into text.
//
// Design variants and catalog bugs come from the environment
// (REFHAMMER_DESIGN, REFHAMMER_BUGS): the default is the new designs and no
// bug, on which a finding is a bug in the core.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/violation.hpp"
#include "harness/fuzz_input.hpp"

#ifndef REFHAMMER_FUZZ_TARGET
#error "compile with -DREFHAMMER_FUZZ_TARGET=\"name\""
#endif

namespace {

const refhammer::harness::FuzzTargetSpec* g_target = nullptr;
core::ModelConfig g_cfg;

// Interleaving coverage (harness/engine.hpp, docs/fuzzing.md): libFuzzer
// reads this section as extra 8-bit counters, clears them before every
// input and keeps an input that makes a new (writer site, accessor site)
// pair count, so inputs that try new interleavings stay in the corpus.
// REFHAMMER_INTERLEAVING=0 turns it off (for the with/without measurement).
constexpr size_t kInterleavingCounters = 1 << 14;
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t g_interleaving_counters[kInterleavingCounters];
refhammer::harness::InterleavingCoverage g_icov;
bool g_icov_on = true;

// Structure-aware mutation (harness::mutate_fuzz_case, docs/fuzzing.md):
// a quarter of the mutations change the program or its anchored switches as
// a whole op or switch, a quarter cross two inputs actor by actor, the other
// half are libFuzzer's byte mutations (which keep the dictionary and
// comparison hints working).
// REFHAMMER_STRUCTURED=0 leaves every mutation to libFuzzer.
bool g_structured = true;
bool g_byte_crossover = false;

// Re-encodes a mutated case into libFuzzer's buffer; 0 when it does not fit.
[[maybe_unused]] size_t emit(const refhammer::harness::FuzzCase& c, uint8_t* out, size_t max_size) {
  std::vector<uint8_t> bytes;
  if (!refhammer::harness::encode_fuzz_input(*g_target, c.program, c.sched, g_cfg, bytes).empty()) return 0;
  if (bytes.empty() || bytes.size() > max_size) return 0;
  std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace

#ifndef REFHAMMER_NO_CUSTOM_MUTATOR  // the A/B build without them (docs/fuzzing.md)
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace refhammer::harness;
  if (g_structured && structured_mutation_applies(*g_target) && (seed & 1) == 0) {
    FuzzCase c = decode_fuzz_input(*g_target, data, size, g_cfg);
    if (mutate_fuzz_case(*g_target, g_cfg, c, seed >> 1))
      if (const size_t n = emit(c, data, max_size); n > 0) return n;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

// Once LLVMFuzzerCustomCrossOver exists, libFuzzer's mutator list is just
// [Custom, CustomCrossOver]: this is half of all mutations. A structured
// crossover takes half of those (a quarter of all); the rest, and every one
// of a target without structure, is an ordinary libFuzzer mutation of the
// first parent, so the default mix (with its own byte CrossOver among ~13
// mutators) is what a target without structure gets. A byte crossover here
// at half of all mutations cost fuzz_gup 7.1k -> 2.0k exec/s (stop 28).
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* d1, size_t s1, const uint8_t* d2, size_t s2, uint8_t* out,
                                            size_t max_out, unsigned int seed) {
  using namespace refhammer::harness;
  if (g_structured && structured_mutation_applies(*g_target) && (seed & 1) == 0) {
    const FuzzCase a = decode_fuzz_input(*g_target, d1, s1, g_cfg);
    const FuzzCase b = decode_fuzz_input(*g_target, d2, s2, g_cfg);
    FuzzCase c;
    if (cross_fuzz_cases(*g_target, a, b, c, seed >> 1))
      if (const size_t n = emit(c, out, max_out); n > 0) return n;
  }
  if (g_byte_crossover) {  // A/B knob (REFHAMMER_CROSSOVER=bytes): a prefix of one, the rest of the other
    const size_t cut = s1 == 0 ? 0 : seed % (s1 + 1);
    const size_t n = std::min(cut, max_out);
    std::memcpy(out, d1, n);
    const size_t rest = std::min(s2 > cut ? s2 - cut : 0, max_out - n);
    if (rest > 0) std::memcpy(out + n, d2 + cut, rest);
    return n + rest;
  }
  const size_t n = std::min(s1, max_out);
  if (n == 0) return 0;
  std::memcpy(out, d1, n);
  return LLVMFuzzerMutate(out, n, max_out);
}

#endif

namespace {

#ifndef REFHAMMER_NO_CUSTOM_MUTATOR
// libFuzzer turns -len_control off by default once LLVMFuzzerCustomMutator
// exists ("Disabling -len_control by default"): the length limit then starts
// at -max_len, not at the longest seed, and the corpus fills with long
// programs at once. fuzz_program: 2.3k exec/s that way, 11.9k with
// -len_control=100 (libFuzzer's own default), 11.6k without the custom
// mutator (docs/fuzzing.md). So the default comes back unless the command
// line names -len_control itself; flags are parsed after this returns.
void restore_len_control(int* argc, char*** argv) {
  if (argc == nullptr || argv == nullptr || *argv == nullptr) return;
  for (int i = 1; i < *argc; ++i)
    if (std::strncmp((*argv)[i], "-len_control=", 13) == 0) return;
  static std::vector<char*> args;
  static char flag[] = "-len_control=100";
  args.assign(*argv, *argv + *argc);
  args.push_back(flag);
  args.push_back(nullptr);
  *argc += 1;
  *argv = args.data();
}
#endif

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  using namespace refhammer::harness;
#ifndef REFHAMMER_NO_CUSTOM_MUTATOR
  restore_len_control(argc, argv);
#else
  (void)argc;
  (void)argv;
#endif
  g_target = fuzz_target(REFHAMMER_FUZZ_TARGET);
  if (g_target == nullptr) {
    std::fprintf(stderr, "%s: no such target in harness::fuzz_targets()\n", REFHAMMER_FUZZ_TARGET);
    std::exit(2);
  }
  const std::string err = fuzz_model_from_env(g_cfg);
  if (!err.empty()) {
    std::fprintf(stderr, "%s: %s\n", REFHAMMER_FUZZ_TARGET, err.c_str());
    std::exit(2);
  }
  const char* ic = std::getenv("REFHAMMER_INTERLEAVING");
  g_icov_on = ic == nullptr || std::string(ic) != "0";
  const char* st = std::getenv("REFHAMMER_STRUCTURED");
  g_structured = st == nullptr || std::string(st) != "0";
  const char* xo = std::getenv("REFHAMMER_CROSSOVER");
  g_byte_crossover = xo != nullptr && std::string(xo) == "bytes";
  g_icov.counters = g_interleaving_counters;
  g_icov.size = kInterleavingCounters;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refhammer::harness;
  const FuzzCase c = decode_fuzz_input(*g_target, data, size, g_cfg);
  if (c.program.total_ops() == 0) return -1;  // nothing to run: keep it out of the corpus
  const RunResult r = run_fuzz_case(*g_target, c, g_cfg, g_icov_on ? &g_icov : nullptr);
  if (r.clean()) return 0;
  const std::string trace = write_trace(fuzz_case_trace(*g_target, c, g_cfg, r));
  std::fprintf(stderr,
               "\n==refhammer== VIOLATION %s\n  in op: %s (op #%d)\n%s%s%s"
               "==refhammer== the run as a trace (refhammer replay --target %s%s CRASH-FILE replays the input):\n%s"
               "==refhammer== end of trace\n",
               r.report.signature.c_str(), r.report.op_text.c_str(), r.report.op_index,
               core::format_violation_long(r.report.violation).c_str(),
               r.report.last_ops.empty() ? "" : "actors' last ops:\n", r.report.last_ops.c_str(), g_target->name,
               variant_options(g_cfg, fuzz_model()).c_str(), trace.c_str());
  std::fflush(stderr);
  std::abort();
}
