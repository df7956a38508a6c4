// refhammer::stress::reproduce — turn what a free-running stress run saw
// into a deterministic trace.
//
// Input: the program the workers ran (each worker's recorded ops, one actor
// each) and the signature of the violation they hit. The search runs that
// program — and, when it is long, its last few ops per actor — on the
// deterministic scheduler under a bounded sequence of schedules: PCT with
// depth 1, 2 and 3 (many seeds each), 1-4 random context switches, then
// uniform random, until a run
// reports the same signature or the time budget is spent. The schedule that
// reproduced it is exact: a trace with it replays to the same verdict every
// time.
//
// The recorded ops start from a fresh world only when the stress run reset
// its world when the rings were last emptied (StressOptions::fresh_worlds,
// the default). A window cut from the middle of a continuous run lacks the
// holdings and structures built before it: ops on slots the replaying actor
// does not hold are skipped, and pfn arguments may name frames that are now
// in a different state, so such a window reproduces only races that the
// window rebuilds by itself — the search still tries, and says how it went.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"

namespace refhammer::stress {

// When each recorded op started, per actor (a timestamp counter shared by
// the cores: the TSC on x86). Optional input of the guided phase.
using OpClock = std::vector<std::vector<uint64_t>>;

struct ReproOptions {
  // Wall-clock budget of the search. Measured (bugbench, the hugetlb races):
  // a recorded stress re-run finds the same signature in 1-3 s after the
  // program re-runs, where 10 s left it about 2 s and reproduced 3 of 5.
  double seconds = 30;
  uint64_t seed = 1;         // of the PCT and random sources
  uint64_t max_steps = 2'000'000;  // per execution
  // Suffix windows tried besides the whole program (ops per actor), when the
  // program is longer.
  std::vector<size_t> windows = {16, 64};
  // Fraction of the budget for the guided phase (needs the op clock).
  double guided_share = 0.5;
  // Fraction of the budget for recorded re-runs of the stress run
  // (RecordMode::Repro), before the search of the unrecorded trace.
  double record_share = 0.7;
  // Of that, the share for recorded re-runs of the failing world's own
  // program on real threads (before whole-stress re-runs). 0: none.
  double program_rerun_share = 0.3;
  // The first quarter of the stress re-runs' own budget uses rings (and so fresh worlds)
  // of this many ops: a short recorded program minimizes in seconds where a
  // 1024-op one takes minutes. Some races need the state a long world builds
  // up, so the rest uses the run's own ring. 0: the own ring throughout.
  uint32_t rerun_ring = 64;
};

struct ReproResult {
  bool found = false;
  uint64_t schedules = 0;          // executions tried (including the one that matched)
  double seconds = 0;
  std::string source;              // the decision source that matched ("pct d=2 k=... seed=...")
  size_t window = 0;               // ops per actor of the program that matched (0: the whole program)
  uint32_t audit_every = 0;        // what the matching run used
  harness::Program program;        // the program that matched
  harness::RunResult run;          // its run (with the schedule)
  std::map<std::string, uint64_t> other_signatures;  // other findings on the way
};

// The signature's op part ("audit", "teardown", an op name).
std::string signature_op(const std::string& signature);
// The audit interval a reproduction of `signature` runs with: 1 for a
// finding of the quiescent audit, 0 (teardown only) otherwise.
uint32_t repro_audit_every(const std::string& signature);

// `clock`, when given, holds the start time of every op of `program`
// (same shape). The search then starts with a guided phase: the ops run in
// the order they started on the real threads, and only ops that overlapped
// in time interleave, at random (each attempt with a different switching
// rate) — the stress run's own interleaving, with the unknown part searched.
// Then PCT with depth 1, 2, 3, then random, over the whole program and its
// suffix windows.
ReproResult reproduce(const core::ModelConfig& cfg, const harness::Program& program, const std::string& signature,
                      const ReproOptions& o, const OpClock* clock = nullptr);

// A timestamp for OpClock: the TSC on x86 (synchronised across cores on the
// machines this runs on), else the steady clock in nanoseconds.
uint64_t op_clock_now() noexcept;

}  // namespace refhammer::stress
