// refhammer — the command-line front end.
//
// Exit status: 0 clean, 1 a violation was found, 2 usage error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <iostream>
#include <string>
#include <unistd.h>

#include "core/bugs.hpp"
#include "core/config.hpp"
#include "harness/bounded.hpp"
#include "harness/trace.hpp"
#include "stress/core_stress.hpp"

namespace {

constexpr int kExitClean = 0;
constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;

int run_stress(const refhammer::stress::CoreStressOptions& opt) {
  std::string err = opt.model.validate();
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer stress: %s\n", err.c_str());
    return kExitUsage;
  }
  std::printf("refhammer stress: seed %llu, %u threads, %.1f s budget%s (replay: refhammer stress --seed %llu "
              "--threads %u --seconds %g)\n",
              static_cast<unsigned long long>(opt.seed), opt.threads, opt.seconds,
              opt.max_ops ? (", " + std::to_string(opt.max_ops) + " ops").c_str() : "",
              static_cast<unsigned long long>(opt.seed), opt.threads, opt.seconds);
  std::fflush(stdout);
  auto r = refhammer::stress::run_core_stress(opt, &std::cout);
  std::cout << refhammer::stress::describe(opt, r) << std::flush;
  return r.clean() ? kExitClean : kExitViolation;
}

// replay: exit 0 when every run gives the trace's expected verdict, 1 when
// one differs, 2 when the trace cannot be read.
int run_replay(const std::string& path, unsigned times, bool quiet) {
  using namespace refhammer::harness;
  Trace t;
  const std::string err = load_trace(path, t);
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer replay: %s\n", err.c_str());
    return kExitUsage;
  }
  Trace run_t = t;
  unsigned matched = 0;
  RunResult first;
  for (unsigned i = 0; i < times; ++i) {
    RunOptions o;
    RunResult r;
    if (t.scheduler == SchedulerKind::Deterministic) {
      o.audit_every = t.audit_every;
      o.timeline = i == 0 && !quiet;
      auto src = t.has_schedule ? make_recorded_source(t.schedule) : make_random_source(t.seed);
      r = run_deterministic(t.model, t.program, *src, o);
    } else {
      r = run_trace(t, i);
    }
    matched += verdict_matches(t, r);
    if (i == 0) first = std::move(r);
  }
  const bool ok = matched == times;
  if (!quiet) {
    std::printf("trace %s: %zu actor(s), %zu op(s), scheduler %s%s\n", path.c_str(), t.program.actors.size(),
                t.program.total_ops(), scheduler_name(t.scheduler), t.has_schedule ? " (recorded schedule)" : "");
    std::printf("run: n=%u k=%llu d=%u preemptions=%llu audits=%llu ops=%llu%s\n", first.n,
                static_cast<unsigned long long>(first.k), first.d, static_cast<unsigned long long>(first.preemptions),
                static_cast<unsigned long long>(first.audits), static_cast<unsigned long long>(first.ops),
                first.diverged ? " (the recorded schedule DIVERGED)" : "");
    if (!first.timeline.empty()) std::printf("interleaving:\n%s", format_interleaving(t.program, first).c_str());
    if (first.clean()) {
      std::printf("verdict: clean\n");
    } else {
      std::printf("verdict: VIOLATION %s\n", first.report.signature.c_str());
      if (!first.report.op_text.empty()) std::printf("  in op: %s (op #%d)\n", first.report.op_text.c_str(), first.report.op_index);
      std::printf("%s", core::format_violation_long(first.report.violation).c_str());
      if (!first.report.last_ops.empty()) std::printf("actors' last ops:\n%s", first.report.last_ops.c_str());
      if (!first.report.extra.empty()) std::printf("actor states:\n%s", first.report.extra.c_str());
    }
    std::printf("expected: %s\n", t.expect_clean ? "clean" : ("violation " + t.expect_signature).c_str());
  }
  std::printf("%s: %u/%u run(s) gave the expected verdict\n", ok ? "REPRODUCED" : "DIFFERS", matched, times);
  return ok ? kExitClean : kExitViolation;
}

struct ExploreArgs {
  std::string path, mode = "bounded", out;
  uint32_t bound = 2, depth = 2;
  uint64_t runs = 100000, seed = 1;
  bool swarm = false;
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
  RunOptions ro;
  ro.audit_every = t.audit_every;
  bool found = false;
  RunResult fail;
  core::FaultConfig found_faults = t.model.faults;
  std::string how;
  if (a.mode == "bounded") {
    BoundedOptions bo;
    bo.bound = a.bound;
    bo.max_runs = a.runs;
    bo.run = ro;
    BoundedResult b = explore_bounded(t.model, t.program, bo);
    std::printf("bounded exploration, preemption bound %u: %llu schedule(s) in %.2f s (%.0f/s), %s; %llu failing\n", b.bound,
                static_cast<unsigned long long>(b.runs), b.seconds, b.runs_per_second(),
                b.exhausted ? "bound exhausted" : "bound NOT exhausted (raise --runs)",
                static_cast<unsigned long long>(b.failing));
    for (const auto& [sig, n] : b.signatures)
      std::printf("  %s: %llu schedule(s) (%.2f%%)\n", sig.c_str(), static_cast<unsigned long long>(n), 100.0 * n / b.runs);
    found = b.has_failure;
    fail = std::move(b.first_failure);
    how = "bounded c=" + std::to_string(a.bound);
  } else {
    uint64_t failing = 0, k_est = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < a.runs; ++i) {
      std::unique_ptr<DecisionSource> src;
      if (a.mode == "pct") {
        if (k_est == 0) {  // one round-robin-ish run estimates k
          auto probe = make_random_source(a.seed);
          k_est = std::max<uint64_t>(1, run_deterministic(t.model, t.program, *probe, ro).k);
        }
        src = make_pct_source(a.seed + i, static_cast<unsigned>(t.program.actors.size()), a.depth, k_est);
      } else {
        src = make_random_source(a.seed + i);
      }
      core::ModelConfig cfg = t.model;
      if (a.swarm) {
        refhammer::Rng rng(a.seed * 0x2545f4914f6cdd1dull + i);
        cfg.faults = swarm_faults(rng);
      }
      RunResult r = run_deterministic(cfg, t.program, *src, ro);
      if (!r.clean()) {
        ++failing;
        if (!found) {
          found = true;
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
    o.source = how;
    o.model.faults = found_faults;
    const std::string e = write_file_atomic(a.out, write_trace(o), false);
    if (!e.empty()) {
      std::fprintf(stderr, "refhammer explore: %s\n", e.c_str());
      return kExitUsage;
    }
    std::printf("wrote %s (replay: refhammer replay %s)\n", a.out.c_str(), a.out.c_str());
  }
  return kExitViolation;
}

int list_bugs() {
  for (unsigned b = 0; b < core::kNrBugs; ++b) {
    const core::BugInfo& i = core::bug_info(static_cast<core::Bug>(b));
    std::printf("%s  [%s]\n  re-creates: %s\n  %s\n\n", i.name, i.kind, i.cite, i.description);
  }
  return kExitClean;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"refhammer: a fuzzing and stress-test harness for page-allocator refcount protocols"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("refhammer 0.1"));

  refhammer::stress::CoreStressOptions st;
  std::string free_dispatch = "owner-hook";
  std::string profile = "all";
  std::string gmem_policy = "refuse-longterm";
  auto* stress = app.add_subcommand("stress", "Race the core's refcount primitives on real threads, with quiescent audits");
  stress->add_option("--threads,-t", st.threads, "worker threads")->check(CLI::Range(1u, 64u))->capture_default_str();
  stress->add_option("--seconds,-s", st.seconds, "time budget in seconds")->check(CLI::Range(0.0, 1e7))->capture_default_str();
  stress->add_option("--ops", st.max_ops, "total op budget (0: no limit)")->capture_default_str();
  stress->add_option("--seed", st.seed, "seed of the workers' generators")->capture_default_str();
  stress->add_option("--audit-every", st.audit_every, "ops between quiescent audits (0: only at teardown)")->capture_default_str();
  stress->add_option("--slots", st.slots, "shared publication slots")->check(CLI::Range(1u, 4096u))->capture_default_str();
  stress->add_option("--normal-frames", st.model.normal_frames, "frames in ZONE_NORMAL")->capture_default_str();
  stress->add_option("--movable-frames", st.model.movable_frames, "frames in ZONE_MOVABLE")->capture_default_str();
  stress->add_option("--block-frames", st.model.block_frames, "frames per memory block")->capture_default_str();
  stress->add_option("--max-order", st.model.max_page_order, "MAX_PAGE_ORDER (pageblock order)")
      ->check(CLI::Range(0, 10))->capture_default_str();
  stress->add_option("--free-dispatch", free_dispatch, "zero-transition design: owner-hook | per-type-checks")
      ->check(CLI::IsMember({"owner-hook", "per-type-checks"}))->capture_default_str();
  stress->add_option("--profile", profile, "op mix: all | refcount | special")
      ->check(CLI::IsMember({"all", "refcount", "special"}))->capture_default_str();
  stress->add_option("--gmem-pin-policy", gmem_policy, "guest_memfd design: refuse-longterm (a) | split-small-folios (b)")
      ->check(CLI::IsMember({"refuse-longterm", "split-small-folios"}))->capture_default_str();
  stress->add_option("--progress", st.progress_every, "seconds between progress lines (0: none)")->capture_default_str();

  std::string replay_path;
  unsigned replay_times = 1;
  bool replay_quiet = false;
  auto* replay = app.add_subcommand("replay", "Run a trace and check that it gives its expected verdict");
  replay->add_option("trace", replay_path, "trace file")->required();
  replay->add_option("--times,-n", replay_times, "run it this many times")->check(CLI::Range(1u, 1000000u))->capture_default_str();
  replay->add_flag("--quiet,-q", replay_quiet, "print only the summary line");
  ExploreArgs ex;
  auto* explore = app.add_subcommand("explore", "Search the schedules of a trace's program for a failing one");
  explore->add_option("trace", ex.path, "trace file (its schedule is ignored)")->required();
  explore->add_option("--mode", ex.mode, "bounded | pct | random")->check(CLI::IsMember({"bounded", "pct", "random"}))->capture_default_str();
  explore->add_option("--bound,-c", ex.bound, "preemption bound (bounded)")->check(CLI::Range(0u, 64u))->capture_default_str();
  explore->add_option("--depth,-d", ex.depth, "PCT depth d (pct)")->check(CLI::Range(1u, 64u))->capture_default_str();
  explore->add_option("--runs", ex.runs, "schedules to try at most")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))->capture_default_str();
  explore->add_option("--seed", ex.seed, "first seed (pct, random)")->capture_default_str();
  explore->add_flag("--swarm", ex.swarm, "pct/random: a random subset of fault sites per run (swarm testing)");
  explore->add_option("--output,-o", ex.out, "write the first failing schedule as a trace here (never overwrites)");
  auto* bugs = app.add_subcommand("bugs", "List the bug catalog: mutants that re-create real kernel refcount bugs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitClean : kExitUsage;
  }
  if (replay->parsed()) return run_replay(replay_path, replay_times, replay_quiet);
  if (bugs->parsed()) return list_bugs();
  if (explore->parsed()) return run_explore(ex);
  if (stress->parsed()) {
    st.model.design.free_dispatch =
        free_dispatch == "per-type-checks" ? core::FreeDispatch::PerTypeChecks : core::FreeDispatch::OwnerHook;
    st.profile = profile == "refcount"  ? refhammer::stress::CoreStressOptions::Profile::Refcount
                 : profile == "special" ? refhammer::stress::CoreStressOptions::Profile::Special
                                        : refhammer::stress::CoreStressOptions::Profile::All;
    st.model.design.gmem_pin_policy =
        gmem_policy == "split-small-folios" ? core::GmemPinPolicy::SplitSmallFolios : core::GmemPinPolicy::RefuseLongterm;
    if (st.progress_every == 0 && isatty(STDOUT_FILENO)) st.progress_every = 1.0;
    return run_stress(st);
  }
  return kExitUsage;
}
