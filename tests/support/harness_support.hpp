// tests/support, the harness-level part (header-only, for the tests that link
// refhammer_harness): models written in the trace's model-line syntax, the
// special owners' and the bounded races' models, programs from op lines, the
// racy trace, run and exploration reports, catalog bugs from the environment.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/violation.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"
#include "harness/trace.hpp"
#include "tests/support/support.hpp"

namespace refhammer_test {

// --- models --------------------------------------------------------------------------

// A model given as a trace's `model` line ("normal=16 movable=16 block=16
// ..."): the fields named on top of ModelConfig's defaults, checked as a
// trace's model line is. A bad line throws (the test fails).
inline core::ModelConfig model_of(std::string_view fields) {
  refhammer::harness::Trace t;
  const std::string e =
      refhammer::harness::parse_trace("refhammer-trace 1\nmodel " + std::string(fields) + "\nactors 1\n", "model_of", t);
  if (!e.empty()) throw std::invalid_argument(e);
  return t.model;
}

// The special owners' model (hugetlb, ZONE_DEVICE, PageOffline and hotplug,
// free page reporting): 128 NORMAL + 128 MOVABLE + 64 DEVICE frames,
// order-4 pageblocks, 64-frame memory blocks, order-3 hugetlb folios,
// order-1 device folios, short teardown, dissolve and offlining budgets.
inline core::ModelConfig special_config() {
  return model_of(
      "normal=128 movable=128 device=64 max_order=4 block=64 hugetlb_order=3 device_folio_order=1 "
      "pgmap_teardown_spins=16 hugetlb_dissolve_retries=8 offline_passes=3");
}

// Small enough that bound-2 exploration of a 2-4 op race is exhaustive in
// seconds: 16 NORMAL + 16 MOVABLE frames, one block each, order-2
// pageblocks, one mm of two slots; the PageOffline design `o` and the free
// dispatch `d`.
inline core::ModelConfig race_config(core::OfflineRefcount o, core::FreeDispatch d) {
  return with(model_of("normal=16 movable=16 device=0 max_order=2 block=16 mms=1 mm_slots=2 file_pages=4 "
                       "gmem_pages=4 gmem_huge_order=2 rcu_readers=2 offline_passes=2"),
              o, d);
}

// Catalog bugs named in REFHAMMER_BUGS ("name,name"; unset or empty: none),
// for the stateful tests' models: bench/bugbench runs them against each
// mutant. A bad name aborts the test binary rather than test the clean core.
inline uint64_t bugs_from_env() {
  const char* b = std::getenv("REFHAMMER_BUGS");
  if (b == nullptr || *b == '\0') return 0;
  uint64_t bits = 0;
  const std::string e = refhammer::harness::parse_bugs(b, bits);
  if (!e.empty()) {
    std::fprintf(stderr, "REFHAMMER_BUGS: %s\n", e.c_str());
    std::abort();
  }
  return bits;
}

// --- programs and the racy trace --------------------------------------------------------

// A program from op lines, one list per actor. A line that does not parse
// fails the test.
inline refhammer::harness::Program program_of(const core::ModelConfig& cfg,
                                              const std::vector<std::vector<std::string>>& actors) {
  refhammer::harness::Program p;
  p.actors.resize(actors.size());
  for (size_t a = 0; a < actors.size(); ++a)
    for (const std::string& line : actors[a]) {
      refhammer::harness::Op op;
      const std::string e = refhammer::harness::parse_op(line, cfg, op);
      EXPECT_EQ(e, "") << "in '" << line << "'";
      p.actors[a].push_back(op);
    }
  return p;
}

// The racy trace: t0 looks the page cache up and drops the reference; t1
// allocates a folio, inserts it, drops its own reference and truncates. With
// catalog bug truncate-skips-grace-period, truncate frees the folio without a
// grace period, and a schedule that stops t0 between its slot read and its
// folio_try_get makes the free path see an RCU reader older than the removal:
// use-after-free at __folio_put in cache_truncate. With `bugs none` every
// schedule is clean.
inline constexpr const char* kRacySignature = "use-after-free/__folio_put/cache_truncate";

inline constexpr const char* kRacyTrace =
    "refhammer-trace 1\n"
    "model normal=64 movable=64 device=0 block=32 max_order=3 mms=2 mm_slots=16 file_pages=16 gmem_pages=16 "
    "gmem_huge_order=2\n"
    "bugs truncate-skips-grace-period\n"
    "seed 1\n"
    "scheduler deterministic\n"
    "expect violation use-after-free/__folio_put/cache_truncate\n"
    "actors 2\n"
    "t0 cache_lookup index=0\n"
    "t0 put slot=0\n"
    "t1 alloc zone=normal order=0\n"
    "t1 cache_insert slot=0 index=0\n"
    "t1 put slot=0\n"
    "t1 cache_truncate index=0\n";

inline refhammer::harness::Trace racy_trace() {
  refhammer::harness::Trace t;
  const std::string e = refhammer::harness::parse_trace(kRacyTrace, "racy.trace", t);
  EXPECT_EQ(e, "");
  return t;
}

// The racy trace's model (its `model` line), without the bug: 64 NORMAL +
// 64 MOVABLE frames, no DEVICE, max order 3.
inline core::ModelConfig racy_trace_config() {
  core::ModelConfig c = racy_trace().model;
  c.bugs = 0;
  return c;
}

// --- results --------------------------------------------------------------------------------

// A run's verdict and report, for a failure message.
inline std::string describe(const refhammer::harness::RunResult& r) {
  if (r.clean()) return "clean";
  std::string s = "signature " + r.report.signature + ": " + core::format_violation(r.report.violation);
  if (!r.report.op_text.empty()) s += " [" + r.report.op_text + "]";
  if (!r.report.extra.empty()) s += "\n" + r.report.extra;
  if (!r.report.last_ops.empty()) s += "\n" + r.report.last_ops;
  return s;
}

// Bounded exploration covered its whole space, in more than `min_runs`
// schedules, and none failed. `what` names the case in the messages.
inline void expect_exhausted_and_clean(const refhammer::harness::BoundedResult& b, uint64_t min_runs,
                                       const std::string& what = "") {
  EXPECT_TRUE(b.exhausted) << what << ": " << b.runs << " schedules";
  EXPECT_GT(b.runs, min_runs) << what;
  EXPECT_EQ(b.failing, 0u) << what << ": " << (b.has_failure ? describe(b.first_failure) : "");
}

}  // namespace refhammer_test
