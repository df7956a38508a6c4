// refhammer::stress::run_stress — TBB workers on real threads running
// random programs of the op language against one shared world, with
// quiescent audits, per-worker trace rings, and deterministic reproduction
// of what they find.
//
// One harness::World, one Actor per worker. Each worker draws ops from its
// own seeded Rng through a harness::Generator (a named op-mix profile,
// harness/gen.cpp) and runs them with World::exec, in batches inside the
// runtime's QuiesceGate (harness/runtime.hpp: the gate, the first-violation
// sink, audit and teardown are the deterministic engine's too). Scheduler `free` leaves the threads alone; `perturb`
// installs the same sync-point hook as harness::run_threads (random yields
// and short spins at sampled sync points).
//
// Quiescent audits: every `audit_every` ops (all workers together) the
// worker that crosses the mark closes the gate — the others stop at their
// next batch boundary, spinning — audits the model against the union of the
// actors' ledgers, and reopens.
//
// Trace rings: each worker records the ops it ran. With `fresh_worlds` (the
// default) a ring is the worker's whole history since the world was new:
// when any ring fills, the world is torn down at quiescence (oracle level 3:
// every frame back in the buddy) and replaced by a fresh one, and the rings
// start over. Without it the rings keep the last `ring` ops of one
// continuous run.
//
// On the first violation every worker stops at its next op; the run writes
// `<out_dir>/stress-<seed>-<signature>.trace` (the rings as the actors'
// programs, scheduler free/perturb, the expected signature) atomically,
// before anything else, then searches a deterministic schedule of the same
// program that gives the same signature (repro.hpp) and writes it as
// `...-repro.trace`, confirmed by replaying it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/config.hpp"
#include "core/probe.hpp"
#include "harness/engine.hpp"
#include "harness/trace.hpp"
#include "stress/repro.hpp"

namespace refhammer::stress {

// Sync-point recording (harness/record.hpp) of the workers' runs.
//  Off:    never.
//  Repro:  not while searching; after an unrecorded finding, the
//          reproduction re-runs the same stress with recording on until it
//          finds the same signature (ReproOptions::record_share of the
//          reproduction budget), then follows that run's recorded order.
//  Always: every run records; a finding's trace carries its order at once.
enum class RecordMode { Off, Repro, Always };
const char* record_mode_name(RecordMode m);

struct StressOptions {
  std::string profile = "all";     // a harness::profiles() name
  unsigned threads = 2;            // workers (1..harness::kMaxActors)
  double seconds = 10;             // wall-clock budget
  uint64_t max_ops = 0;            // op budget over all workers; 0 = none
  uint64_t seed = 1;               // worker w's generator: Rng(seed * 0x100000001b3 + w)
  bool perturb = false;            // scheduler: free (false) or perturb
  uint32_t perturb_gap = 64;       // perturb: mean sync points between perturbations
  uint64_t audit_every = 65536;    // ops (all workers) between quiescent audits; 0 = none
  uint32_t ring = 1024;            // ops each worker records
  bool fresh_worlds = true;        // a fresh world whenever a ring fills (see above)
  uint32_t batch = 32;             // ops per gate entry
  core::ModelConfig model = stress_model(128);
  std::string out_dir = "refhammer-out";
  bool write_traces = true;        // false: find only (benchmarks)
  bool reproduce = true;           // search a deterministic schedule after a violation
  RecordMode record = RecordMode::Repro;  // sync-point recording (needs fresh_worlds)
  ReproOptions repro;
  double progress_every = 0;       // seconds between progress lines; 0 = none
  bool progress_tty = false;       // rewrite one status line instead of printing lines

  // The default stress model: `frames` buddy frames, half NORMAL half
  // MOVABLE, in memory blocks of 32, plus one block of ZONE_DEVICE; small,
  // so that workers collide on frames often.
  static core::ModelConfig stress_model(uint32_t frames);
};

struct StressResult {
  unsigned threads = 0;
  uint64_t ops = 0;
  uint64_t audits = 0;
  uint64_t worlds = 1;          // fresh worlds used (1 + resets)
  double seconds = 0;           // run time (until every worker stopped)
  double detect_seconds = 0;    // time of the first violation
  bool violation = false;
  harness::Report report;       // the first violation (signature, op, frame, history)
  std::string trace_path;       // the stress trace, when written
  std::string trace_error;      // why it was not
  uint64_t recorded_ops = 0;    // ops in the trace (all actors)
  harness::Trace trace;         // the threads' trace (with its sync-point order when recorded)
  bool recorded = false;        // the finding's run recorded its sync-point order
  std::string order_error;      // why a recorded order could not be merged
  uint64_t order_steps = 0;     // sync points in the order
  uint64_t program_reruns = 0;  // recorded re-runs of the failing world's program on real threads
  double program_rerun_seconds = 0;  // ... and the reproduction's time when they ended
  bool from_program_rerun = false;   // the reproduction is one of them
  unsigned record_runs = 0;     // recorded re-runs of the whole stress in the reproduction (RecordMode::Repro)
  double record_seconds = 0;    // ... and their time
  bool from_rerun = false;      // the reproduction is a recorded re-run's
  uint32_t rerun_ring = 0;      // ... whose rings held this many ops
  bool repro_tried = false;
  ReproResult repro;
  std::string repro_path;
  unsigned confirm_runs = 0;    // replays of the repro trace
  unsigned confirm_matched = 0; // ... that gave the expected verdict
  uint64_t probes[core::kNrProbes] = {};
  bool clean() const { return !violation; }
  bool reproduced() const { return repro.found && confirm_runs > 0 && confirm_matched == confirm_runs; }
};

// Empty when the options are usable; otherwise what is wrong.
std::string validate(const StressOptions& o);

StressResult run_stress(const StressOptions& o, std::ostream* progress = nullptr);

// A multi-line human summary: what ran, throughput, audits, probes, verdict,
// the traces and the reproduction.
std::string describe(const StressOptions& o, const StressResult& r);

}  // namespace refhammer::stress
