// harness::DecisionSource — who runs next at a sync point, for the
// deterministic scheduler.
//
// The scheduler calls pick() at every step (a step is one sync point of the
// running actor) with the actors that may run. Sources:
//  - Random: uniform among the candidates (seeded).
//  - Pct: PCT (Burckhardt et al., ASPLOS 2010): n actors get distinct random
//    priorities d..d+n-1; d-1 change points are drawn uniformly in [1, k];
//    at each step the highest-priority candidate runs; when the step count
//    reaches change point i, the running actor's priority drops to i. A bug
//    of depth d is found with probability >= 1/(n k^(d-1)).
//  - Bytes: fuzzer bytes, one per step: candidates[byte % size]. When the
//    bytes run out, the current actor keeps running (no more preemptions).
//  - PctBytes: PCT whose priorities and change points come from fuzzer
//    bytes, so a mutation moves one preemption instead of scrambling the
//    whole schedule.
//  - SwitchBytes: context switches from fuzzer bytes (step, actor); the
//    current actor keeps running in between: a point of the
//    context-bounded search space, moved one preemption at a time.
//  - AnchorBytes: context switches from fuzzer bytes, each anchored at a
//    sync point of the program (actor, op, index within the op) rather
//    than at a step of the run, so a mutation of the program elsewhere or
//    of another switch does not move it, and every anchor names a point
//    the run can reach.
//  - Recorded: a schedule from a trace, replayed step by step.
//  - Order: a recorded sync-point order of a real-thread run (record.hpp):
//    the order in which the actors' sync points inside ops happened. Steps
//    outside ops (the harness's own gate) are not part of it and run freely;
//    every step inside an op goes to the actor the order names next. The
//    engine offers this source every runnable actor (no spinner rule: a
//    spinner ran exactly as often on the real threads as the order says).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/rng.hpp"

namespace refhammer::harness {

// A schedule as run lengths: actor a ran n consecutive steps.
struct Slice {
  uint8_t actor;
  uint32_t steps;
  bool operator==(const Slice&) const = default;
};
using Schedule = std::vector<Slice>;

std::string format_schedule(const Schedule& s);
// Parses "0x12 1x3 0x5". Empty error on success.
std::string parse_schedule(const std::string& text, Schedule& out);
// Preemptions: switches away from an actor that could have kept running.
// (The trace does not record runnability; the engine counts them as it runs.)
uint64_t schedule_steps(const Schedule& s);

// What the engine tells a source about each actor's pending step (the sync
// point it yielded at). Written by the engine before every pick().
struct SchedView {
  std::vector<uint8_t> in_op;  // per actor: the pending sync point is inside an op
  // Filled only for sources that ask (DecisionSource::wants_op_steps()) or
  // when interleaving coverage runs: per actor, the op (index into its
  // program, -1 outside ops) its pending sync point belongs to, and that
  // sync point's index within the op (0 = the op's first).
  std::vector<int> op;
  std::vector<uint32_t> op_step;
};

class DecisionSource {
 public:
  virtual ~DecisionSource() = default;
  // A source that follows a recorded order (make_order_source).
  virtual bool follows_order() const { return false; }
  // True while the source replays recorded choices: the engine then offers
  // every runnable actor, spinners included (the spinner rule is for sources
  // that choose; a recorded run may have let a spinner run at any step).
  virtual bool replaying() const { return false; }
  // The engine's view of the actors' pending steps, for order-following
  // sources; set by the engine before the first pick().
  void attach(const SchedView* v) { view_ = v; }
  // True when pick() reads SchedView::op and op_step.
  virtual bool wants_op_steps() const { return false; }
  // candidates: non-empty, ascending actor ids. current: last actor run, or -1.
  virtual unsigned pick(const std::vector<unsigned>& candidates, int current, uint64_t step) = 0;
  // "pct d=3 seed=7", for traces and reports.
  virtual std::string describe() const = 0;
  // PCT depth, 0 for other sources.
  virtual uint32_t depth() const { return 0; }
  // True once a recorded schedule's actor was not a candidate.
  virtual bool diverged() const { return false; }

 protected:
  const SchedView* view_ = nullptr;
};

std::unique_ptr<DecisionSource> make_random_source(uint64_t seed);
// n actors, depth d, k_estimate: expected steps of the run.
std::unique_ptr<DecisionSource> make_pct_source(uint64_t seed, unsigned n, uint32_t d, uint64_t k_estimate);
std::unique_ptr<DecisionSource> make_bytes_source(const uint8_t* data, size_t size);
std::unique_ptr<DecisionSource> make_pct_bytes_source(const uint8_t* data, size_t size, unsigned n, uint64_t k_estimate);
std::unique_ptr<DecisionSource> make_recorded_source(const Schedule& s);
// Follows a recorded sync-point order (one entry per sync point inside an op,
// as run lengths of actors); see Order above. diverged() when the actor the
// order names is not runnable, or the run goes on past the order's end.
std::unique_ptr<DecisionSource> make_order_source(const Schedule& order);
// Context switches from bytes (3 per switch: 16-bit step delta, actor byte);
// otherwise the current actor keeps running.
std::unique_ptr<DecisionSource> make_switch_bytes_source(const uint8_t* data, size_t size);
// Context switches anchored in the program (4 bytes per switch: anchor
// actor, anchor op, sync-point index within that op, target): when the
// anchor actor runs and its pending sync point is the j-th of its op i, the
// scheduler switches to another candidate. ops_per_actor: the program's
// shape, to take the anchor bytes modulo.
std::unique_ptr<DecisionSource> make_anchor_bytes_source(const uint8_t* data, size_t size,
                                                         const std::vector<size_t>& ops_per_actor);
// c switches at uniform random steps in [0, k).
std::unique_ptr<DecisionSource> make_switch_random_source(uint64_t seed, uint32_t c, uint64_t k);

}  // namespace refhammer::harness
