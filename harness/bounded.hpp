// harness::explore_bounded — systematic exploration of every schedule of a
// small program up to a preemption bound (iterative context bounding, as in
// CHESS: Musuvathi and Qadeer, PLDI 2007).
//
// Stateless search: every execution re-runs the program from scratch on the
// deterministic scheduler, forcing a recorded prefix of choices and then
// following the non-preemptive default (keep running the current actor; when
// it cannot run, the lowest-numbered one). At each step the alternatives are
// remembered; switching away from an actor that could have continued costs a
// preemption, and alternatives that would exceed the bound are not
// explored. Depth-first backtracking over the remembered alternatives
// enumerates every schedule with at most `bound` preemptions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "harness/engine.hpp"

namespace refhammer::harness {

struct BoundedOptions {
  uint32_t bound = 2;            // preemptions
  uint64_t max_runs = 100'000;   // executions before giving up (not exhausted)
  bool stop_at_first = false;    // stop at the first failing schedule (with want_signature, if set)
  std::string want_signature;    // when set, first_failure is the first failure with this signature
  // Weak memory (run.weak_memory): after each schedule, every single stale
  // read of it is tried (each eligible load, each older store it may read,
  // up to `max_back` back), on the same schedule. 0: none.
  uint32_t stale_bound = 0;
  uint8_t max_back = 3;
  RunOptions run;                // per execution
};

struct BoundedResult {
  uint64_t runs = 0;              // schedules explored
  uint64_t failing = 0;           // of which failed
  uint64_t stale_runs = 0;        // of the runs: with a stale read (weak memory)
  bool exhausted = false;         // every schedule within the bound was explored
  double seconds = 0;
  std::map<std::string, uint64_t> signatures;  // failing schedules per signature
  bool has_failure = false;
  RunResult first_failure;        // the first failing execution (with its schedule)
  uint32_t bound = 0;
  double runs_per_second() const { return seconds > 0 ? runs / seconds : 0; }
};

BoundedResult explore_bounded(const core::ModelConfig& cfg, const Program& p, const BoundedOptions& o);

}  // namespace refhammer::harness
