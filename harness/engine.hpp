// harness::engine — runs a program on a World under a scheduler, with the
// three oracle levels, and turns the first violation into a Report.
//
// Oracle levels:
//  1. inside the core's primitives (Model::report) and after each op: the
//     first violation the Model reports stops the run;
//  2. quiescent audits: every `audit_every` ops an actor stops the world (a
//     gate made of core::Atomic, so fibers and threads alike wait on sync
//     points) and audits the model against the union of the actors' ledgers;
//  3. teardown: every actor releases everything it holds, the structures
//     (PTEs, page cache, guest_memfd) are emptied, and every frame of the
//     buddy zones must be free again.
//
// Schedulers:
//  - deterministic: actors are fibers on this thread; at every sync point a
//    DecisionSource picks who runs next. An actor that reached a spin sync
//    point yields to the others; if only spinning actors remain for
//    `livelock_steps` steps, the run reports a deadlock with every actor's
//    state. The schedule that ran is returned, so the run can be replayed.
//  - free: one OS thread per actor, untouched.
//  - perturb: one OS thread per actor; at sampled sync points a seeded
//    generator yields the thread or spins a little, to widen race windows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/probe.hpp"
#include "core/sync.hpp"
#include "core/violation.hpp"
#include "harness/op.hpp"
#include "harness/rng.hpp"
#include "harness/sched.hpp"
#include "harness/weak.hpp"

namespace refhammer::harness {

struct Report {
  core::Violation violation;
  std::string signature;  // kind/site/op: stable across runs, for dedup and the minimizer
  int actor = -1;         // reporting actor, -1 for audits at teardown
  int op_index = -1;      // its op in progress
  std::string op_text;    // "t1 put slot=0"
  std::string extra;      // deadlock: every actor's state
  std::string last_ops;   // each actor's last few ops with their results, and the op it was in
};

// Interleaving coverage: a gradient towards races for a coverage-guided
// fuzzer. Code coverage does not grow when a new interleaving is tried; this
// does. The deterministic scheduler counts, per access, the pair (site of
// the previous write to the same location by ANOTHER actor, site of this
// access), hashed into `counters` (a fuzzer's extra-counter array): the
// reads-from / alias pairs of RFF (ASPLOS'24) and KRACE (S&P'20). A site is
// (op code, index of the sync point within the op, access kind), so it is
// the same in every build. The last-writer table lives here, across runs
// (a generation number invalidates it per run, no clearing).
struct InterleavingCoverage {
  uint8_t* counters = nullptr;  // e.g. libFuzzer's __libfuzzer_extra_counters section
  size_t size = 0;              // a power of two
  uint64_t pairs = 0;           // cross-actor pairs counted (all runs)
  struct Writer {
    const void* addr = nullptr;
    uint32_t gen = 0;
    uint8_t actor = 0;
    uint32_t site = 0;
  };
  // Open addressing, exact per location within a run (entries of older runs,
  // by gen, are empty): the pairs never depend on where the model's memory
  // landed. A run tracks at most kMaxLocations distinct written locations,
  // later ones are not tracked, which depends only on the run too.
  static constexpr size_t kWriters = 4096;  // a power of two
  static constexpr uint32_t kMaxLocations = 3072;
  std::vector<Writer> writers = std::vector<Writer>(kWriters);
  uint32_t gen = 0;
  uint32_t used = 0;  // locations tracked in this run
  // One access by `actor` at `site` to `addr` (a write when `write`).
  void access(const void* addr, uint8_t actor, uint32_t site, bool write);
};

struct RunOptions {
  uint32_t audit_every = 0;          // ops per actor between quiescent audits; 0 = teardown only
  uint64_t max_steps = 20'000'000;   // deterministic: step budget (then reported as a livelock)
  uint64_t livelock_steps = 100'000; // deterministic: steps in which only spinners ran
  uint64_t seed = 1;                 // perturb: the generator's seed
  uint32_t perturb_gap = 64;         // perturb: mean sync points between perturbations
  uint32_t preempt_pauses = 0;       // recorded perturbed threads: see RecordingHook (0: none)
  bool timeline = false;             // deterministic: record which op each step ran in
  uint32_t solo_batch = 0;           // deterministic, one actor: sync points per fiber resume (fuzz_program)
  // Called by each actor after each op it completes, with the number of ops
  // it has completed (on the actor's fiber or thread, inside the run). For
  // decision sources that follow op boundaries (stress's guided replay);
  // nothing else changes when it is set.
  std::function<void(unsigned actor, size_t ops_done)> on_op;
  // deterministic: count interleaving pairs here (fuzz targets); nothing
  // else changes when it is set.
  InterleavingCoverage* interleaving = nullptr;
  // deterministic: weak memory (harness/weak.hpp): loads may read older
  // stores where the C++ memory model permits; `stale` says which eligible
  // loads do. Off: every load reads the newest store (sequential consistency).
  bool weak_memory = false;
  StaleScript stale;
  StaleRandom stale_random;  // weak memory: random stale reads besides the script
};

// One stretch of consecutive steps of one actor inside one op (op -1: the
// actor was between ops, e.g. waiting at the audit gate).
struct Segment {
  uint8_t actor;
  int op;
  uint64_t first_step;
  uint64_t last_step;
};

enum class Verdict { Clean, Violation };

struct RunResult {
  Verdict verdict = Verdict::Clean;
  Report report;
  unsigned n = 0;                 // actors
  uint64_t k = 0;                 // steps (sync points) executed (deterministic)
  uint32_t d = 0;                 // PCT depth, 0 otherwise
  uint64_t preemptions = 0;       // switches away from an actor that could have gone on
  Schedule schedule;              // what ran (deterministic)
  bool diverged = false;          // a recorded schedule did not fit
  bool weak_memory = false;       // RunOptions::weak_memory
  StaleScript stale;              // the stale reads the run took (weak memory)
  uint32_t eligible_loads = 0;    // loads that had an older store to read (weak memory)
  std::vector<uint8_t> stale_choices;  // per eligible load, the stores it could read
  uint64_t audits = 0;
  uint64_t ops = 0;
  std::vector<std::vector<int>> results;  // per actor, per completed op
  std::vector<Segment> timeline;          // with RunOptions::timeline
  uint64_t probes[core::kNrProbes] = {};
  bool clean() const { return verdict == Verdict::Clean; }
};

RunResult run_deterministic(const core::ModelConfig& cfg, const Program& p, DecisionSource& src, const RunOptions& o = {});
RunResult run_threads(const core::ModelConfig& cfg, const Program& p, bool perturb, const RunOptions& o = {});
// The same with every sync point inside the actors' ops recorded
// (harness/record.hpp): on return `order` is the order the threads ran in, as
// a trace's `order` line (empty `order_error`), or `order_error` says why the
// logs do not merge. A failing run's program and order replay on the
// deterministic scheduler (run_deterministic with a recorded source that
// follows the order).
RunResult run_threads_recorded(const core::ModelConfig& cfg, const Program& p, bool perturb, const RunOptions& o,
                               Schedule& order, std::string& order_error);
// The hook run_threads installs on each thread (install it with
// core::ScopedSyncHook and set its actor): free is an idle hook that only
// names the actor; perturb yields or spins briefly at sync points sampled
// about every `gap`, from a generator seeded with `seed`. Shared with the
// stress driver so that `perturb` means one thing everywhere.
std::unique_ptr<core::SyncHook> make_thread_hook(bool perturb, uint64_t seed, uint32_t gap);

// The interleaving as columns, one per actor, for a person reading a race.
std::string format_interleaving(const Program& p, const RunResult& r, size_t max_rows = 200);

// A random subset of the fault sites, each on with probability 1/2, with a
// random rate (swarm testing: different runs stress different paths).
core::FaultConfig swarm_faults(Rng& rng);

// The signature of a violation: "kind/site/op".
std::string make_signature(const core::Violation& v, const std::string& op_name);

}  // namespace refhammer::harness
