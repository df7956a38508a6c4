// refhammer replay — run a trace and check its expected verdict.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

#include "cli/commands.hpp"
#include "core/violation.hpp"
#include "harness/trace.hpp"

namespace refhammer::cli {
namespace {

struct ReplayArgs {
  std::string path;
  unsigned times = 1;
  bool quiet = false;
  bool no_bugs = false;
  std::string emit;
  InputArgs in;
};

// replay: exit 0 when every run gives the trace's expected verdict, 1 when
// one differs, 2 when the trace cannot be read.
int run_replay(const ReplayArgs& a) {
  const std::string& path = a.path;
  const unsigned times = a.times;
  const bool quiet = a.quiet;
  using namespace refhammer::harness;
  Trace t;
  bool raw = false;
  const std::string err = load_input(path, a.in, t, &raw);
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer replay: %s\n", err.c_str());
    return kExitUsage;
  }
  if (a.no_bugs) {
    // The fixed core: the same program and schedule with every catalog bug
    // off must run clean. (Without the mutant's code path the recorded
    // schedule may no longer fit step for step; the run goes on regardless.)
    t.model.bugs = 0;
    t.expect_clean = true;
    t.expect_signature.clear();
  }
  if (!a.emit.empty()) {
    const std::string e = write_file_atomic(a.emit, write_trace(t), false);
    if (!e.empty()) {
      std::fprintf(stderr, "refhammer replay: %s\n", e.c_str());
      return kExitUsage;
    }
    if (!quiet) std::printf("wrote %s\n", a.emit.c_str());
  }
  unsigned matched = 0;
  RunResult first;
  for (unsigned i = 0; i < times; ++i) {
    RunOptions o = trace_options(t, i);
    RunResult r;
    if (t.scheduler == SchedulerKind::Deterministic) {
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
  // A raw input's expected verdict is its own first run: the status then
  // says whether it fails (1, a finding) and replays the same way every time.
  if (raw && ok) return t.expect_clean ? kExitClean : kExitViolation;
  return ok ? kExitClean : kExitViolation;
}

}  // namespace

Runner add_replay(CLI::App& app) {
  auto a = std::make_shared<ReplayArgs>();
  auto* replay = app.add_subcommand("replay", "Run a trace and check that it gives its expected verdict");
  replay->add_option("input", a->path, "a text trace, or a raw fuzzer input (libFuzzer crash file)")->required();
  replay->add_option("--times,-n", a->times, "run it this many times")->check(CLI::Range(1u, 1000000u))->capture_default_str();
  replay->add_flag("--quiet,-q", a->quiet, "print only the summary line");
  replay->add_flag("--no-bugs", a->no_bugs, "switch every catalog bug of the trace off and expect a clean run");
  replay->add_option("--emit-trace", a->emit, "write the input as a text trace here (never overwrites)");
  add_input_options(replay, a->in);
  return [a] { return run_replay(*a); };
}

}  // namespace refhammer::cli
