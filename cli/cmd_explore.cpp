// refhammer explore — search a trace program's schedules for a failing one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

#include "cli/commands.hpp"
#include "harness/bounded.hpp"
#include "harness/trace.hpp"

namespace refhammer::cli {
namespace {

struct ExploreArgs {
  std::string path, mode = "bounded", out;
  uint32_t bound = 2, depth = 2;
  uint64_t runs = 100000, seed = 1;
  bool swarm = false;
  std::string memory;     // "weak" | "sc"; empty: the trace's memory line
  uint32_t stale = 1;     // weak memory: stale reads per run (pct, random, switch)
  std::string signature;  // only failures with this signature count as found ("expected": the trace's)
};

// explore: search the schedules of a trace's program for a failing one.
// Exit 0: no failing schedule found; 1: one was found (written with -o);
// 2: usage or input error.
int run_explore(const ExploreArgs& a) {
  using namespace refhammer::harness;
  Trace t;
  const std::string err = load_trace(a.path, t);
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer explore: %s\n", err.c_str());
    return kExitUsage;
  }
  std::string want = a.signature;
  if (want == "expected") {
    if (t.expect_clean) {
      std::fprintf(stderr, "refhammer explore: %s expects a clean run: --signature expected names nothing\n", a.path.c_str());
      return kExitUsage;
    }
    want = t.expect_signature;
  }
  RunOptions ro;
  ro.audit_every = t.audit_every;
  ro.weak_memory = a.memory.empty() ? t.weak_memory : a.memory == "weak";
  // Weak memory under a random search: about `stale` stale reads per run,
  // as random stale reads (StaleRandom) at a rate of `stale` over the most
  // eligible loads a run has had so far (a fixed script drawn over a first
  // run's count misses when that run had few overlapping ops). Each run
  // records the reads it took, so a failure replays from its script.
  uint32_t eligible_max = 0;
  auto random_stale = [&](uint64_t seed) {
    StaleRandom s;
    if (!ro.weak_memory || a.stale == 0) return s;
    const uint64_t pm = 1000ull * a.stale / std::max<uint32_t>(1, eligible_max);
    s.per_mille = static_cast<uint16_t>(std::clamp<uint64_t>(pm, 1, 1000));
    s.seed = seed * 0x9e3779b97f4a7c15ull + 17;
    return s;
  };
  bool found = false;
  RunResult fail;
  core::FaultConfig found_faults = t.model.faults;
  std::string how;
  if (a.mode == "bounded") {
    BoundedOptions bo;
    bo.bound = a.bound;
    bo.max_runs = a.runs;
    bo.run = ro;
    bo.stale_bound = ro.weak_memory ? 1 : 0;
    bo.want_signature = want;
    BoundedResult b = explore_bounded(t.model, t.program, bo);
    std::printf("bounded exploration, preemption bound %u%s: %llu run(s) in %.2f s (%.0f/s), %s; %llu failing\n", b.bound,
                ro.weak_memory ? ", weak memory (each schedule also with every single stale read)" : "",
                static_cast<unsigned long long>(b.runs), b.seconds, b.runs_per_second(),
                b.exhausted ? "bound exhausted" : "bound NOT exhausted (raise --runs)",
                static_cast<unsigned long long>(b.failing));
    if (ro.weak_memory)
      std::printf("  of the runs, %llu with a stale read\n", static_cast<unsigned long long>(b.stale_runs));
    for (const auto& [sig, n] : b.signatures)
      std::printf("  %s: %llu schedule(s) (%.2f%%)\n", sig.c_str(), static_cast<unsigned long long>(n), 100.0 * n / b.runs);
    found = b.has_failure && (want.empty() || b.first_failure.report.signature == want);
    fail = std::move(b.first_failure);
    how = "bounded c=" + std::to_string(a.bound);
  } else {
    uint64_t failing = 0, k_est = 0;
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t first_run = 0;
    double first_secs = 0;
    for (uint64_t i = 0; i < a.runs; ++i) {
      std::unique_ptr<DecisionSource> src;
      if (k_est == 0) {  // one random run estimates k (and the eligible loads)
        auto probe = make_random_source(a.seed);
        const RunResult pr = run_deterministic(t.model, t.program, *probe, ro);
        k_est = std::max<uint64_t>(1, pr.k);
        eligible_max = pr.eligible_loads;
      }
      ro.stale_random = random_stale(a.seed + i);
      if (a.mode == "pct" || a.mode == "switch") {
        src = a.mode == "pct" ? make_pct_source(a.seed + i, static_cast<unsigned>(t.program.actors.size()), a.depth, k_est)
                              : make_switch_random_source(a.seed + i, a.bound, k_est);
      } else {
        src = make_random_source(a.seed + i);
      }
      core::ModelConfig cfg = t.model;
      if (a.swarm) {
        refhammer::Rng rng(a.seed * 0x2545f4914f6cdd1dull + i);
        cfg.faults = swarm_faults(rng);
      }
      RunResult r = run_deterministic(cfg, t.program, *src, ro);
      eligible_max = std::max(eligible_max, r.eligible_loads);
      if (!r.clean()) {
        ++failing;
        if (!found && (want.empty() || r.report.signature == want)) {
          found = true;
          first_run = i + 1;
          first_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          fail = std::move(r);
          how = src->describe();
          found_faults = cfg.faults;
        }
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s search: %llu schedule(s) in %.2f s (%.0f/s), %llu failing (%.3f%%)\n", a.mode.c_str(),
                static_cast<unsigned long long>(a.runs), secs, secs > 0 ? a.runs / secs : 0.0,
                static_cast<unsigned long long>(failing), 100.0 * failing / std::max<uint64_t>(1, a.runs));
    if (found)
      std::printf("  first found at run %llu, after %.3f s\n", static_cast<unsigned long long>(first_run), first_secs);
  }
  if (!found) return kExitClean;
  std::printf("first failing schedule (%s): %s, n=%u k=%llu preemptions=%llu\n", how.c_str(), fail.report.signature.c_str(),
              fail.n, static_cast<unsigned long long>(fail.k), static_cast<unsigned long long>(fail.preemptions));
  if (!a.out.empty()) {
    Trace o = t;
    o.expect_clean = false;
    o.expect_signature = fail.report.signature;
    o.has_schedule = true;
    o.schedule = fail.schedule;
    o.has_order = false;  // a searched schedule, not a recorded order
    o.source = how;
    o.model.faults = found_faults;
    o.weak_memory = ro.weak_memory;
    o.stale = fail.stale;
    const std::string e = write_file_atomic(a.out, write_trace(o), false);
    if (!e.empty()) {
      std::fprintf(stderr, "refhammer explore: %s\n", e.c_str());
      return kExitUsage;
    }
    std::printf("wrote %s (replay: refhammer replay %s)\n", a.out.c_str(), a.out.c_str());
  }
  return kExitViolation;
}

}  // namespace

Runner add_explore(CLI::App& app) {
  auto a = std::make_shared<ExploreArgs>();
  auto* explore = app.add_subcommand("explore", "Search the schedules of a trace's program for a failing one");
  explore->add_option("trace", a->path, "trace file (its schedule is ignored)")->required();
  explore->add_option("--mode", a->mode, "bounded | pct | random | switch (c random context switches)")->check(CLI::IsMember({"bounded", "pct", "random", "switch"}))->capture_default_str();
  explore->add_option("--bound,-c", a->bound, "preemption bound (bounded), context switches (switch)")->check(CLI::Range(0u, 64u))->capture_default_str();
  explore->add_option("--depth,-d", a->depth, "PCT depth d (pct)")->check(CLI::Range(1u, 64u))->capture_default_str();
  explore->add_option("--runs", a->runs, "schedules to try at most")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))->capture_default_str();
  explore->add_option("--seed", a->seed, "first seed (pct, random)")->capture_default_str();
  explore->add_option("--signature", a->signature,
                      "only a failure with this signature counts as found; 'expected': the trace's expected one");
  explore->add_option("--memory", a->memory, "weak: loads may read older stores as the C++ memory model permits (default: the trace's memory line)")->check(CLI::IsMember({"weak", "sc"}));
  explore->add_option("--stale", a->stale, "weak memory, pct/random/switch: stale reads per run")->check(CLI::Range(0u, 64u))->capture_default_str();
  explore->add_flag("--swarm", a->swarm, "pct/random: a random subset of fault sites per run (swarm testing)");
  explore->add_option("--output,-o", a->out, "write the first failing schedule as a trace here (never overwrites)");
  return [a] { return run_explore(*a); };
}

}  // namespace refhammer::cli
