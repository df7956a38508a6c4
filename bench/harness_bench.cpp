// harness_bench — throughput of the harness's deterministic scheduler and of
// bounded exploration (Google Benchmark).
//
//   DeterministicRandom  executions per second of a fixed 3-actor x 16-op
//                        program (alloc, map, GUP-fast, pin/unpin, put, page
//                        cache insert/lookup/truncate, migration, pfn walks) on
//                        the fiber scheduler with a random decision source, a
//                        new seed per execution; counters exec/s (also as
//                        items/s), steps/s and the mean k (sync points) per
//                        execution. Target: >= 10000 exec/s in a release build.
//   .../weak:W           W=1: the same with weak memory on (harness/weak.hpp,
//                        no stale reads, so the same runs: the cost of the
//                        store histories and vector clocks alone).
//   RacyRandom/weak:W    exec/s of the racy trace's program (3 actors, page
//                        cache insert/lookup/truncate: few ops, many shared
//                        locations), weak memory off and on.
//                        After the runs: "weak memory on/off" per program,
//                        the ratio of the medians (goal <= 2x, issue #17).
//   BoundedRacy/bug:B    schedules per second of explore_bounded (preemption
//                        bound 2, run to exhaustion) on the racy trace's
//                        program, with catalog bug truncate-skips-grace-period
//                        on (B=1: failing schedules stop early) and off (B=0).
//
// Rates are per CPU second (the development machine is shared: a benchmark
// is not charged for the time it was preempted); the summary adds the wall
// clock rate. After the runs it prints "target >= 10000 exec/s: MET/MISSED
// (measured X ...)", X the median exec/s over the repetitions. Exit code 0 whether or not the
// target is met (a measurement, not a test); 1 when a benchmark could not run
// (a violation on the clean core, an exploration that did not exhaust).
//
//   harness_bench                                   # 5 repetitions of each
//   harness_bench --benchmark_filter=Deterministic --benchmark_repetitions=11
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_report.hpp"
#include "core/bugs.hpp"
#include "core/violation.hpp"
#include "harness/trace.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"
#include "harness/sched.hpp"

namespace {

using namespace refhammer::harness;
namespace bench = refhammer::bench;

constexpr double kTargetExecPerSecond = 10000;

// The racy trace's model: 64 NORMAL + 64 MOVABLE frames, max order 3.
core::ModelConfig bench_config() {
  return model_from_fields(
      "normal=64 movable=64 device=0 block=32 max_order=3 mms=2 mm_slots=16 file_pages=16 gmem_pages=16 "
      "gmem_huge_order=2");
}

// `p` from op lines, one list per actor; false, with the benchmark skipped
// naming the line, when a line does not parse.
bool make_program(benchmark::State& state, const core::ModelConfig& cfg,
                  const std::vector<std::vector<const char*>>& text, Program& p) {
  p.actors.assign(text.size(), {});
  for (size_t a = 0; a < text.size(); ++a)
    for (const char* line : text[a]) {
      Op op;
      const std::string e = parse_op(line, cfg, op);
      if (!e.empty()) {
        state.SkipWithError((std::string(line) + ": " + e).c_str());
        return false;
      }
      p.actors[a].push_back(op);
    }
  return true;
}

// Three actors sharing folios through mappings, GUP, the page cache and
// migration; 16 ops each.
const std::vector<std::vector<const char*>> kMixed = {
    {"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "gup_fast mm=0 pte=0",
     "cache_insert slot=0 index=0", "unpin slot=1", "write mm=0 pte=0", "put slot=0", "alloc zone=normal order=1",
     "map slot=0 mm=0 pte=2 page=1", "pin mm=0 pte=2", "pfn_walk pfn=64", "unpin slot=1", "cache_truncate index=0",
     "put slot=0", "unmap mm=0 pte=0", "unmap mm=0 pte=2"},
    {"cache_lookup index=0", "pin mm=0 pte=0", "read mm=0 pte=0", "migrate pfn=64 zone=movable", "unpin slot=1",
     "put slot=0", "alloc zone=movable order=0", "cache_insert slot=0 index=1", "map slot=0 mm=1 pte=1 page=0",
     "gup_fast mm=1 pte=1", "cache_lookup index=1", "put slot=2", "unpin slot=1", "put slot=0", "pfn_walk pfn=0",
     "cache_truncate index=1"},
    {"pfn_walk pfn=65", "migrate pfn=0 zone=normal", "cache_lookup index=0", "put slot=0",
     "alloc zone=normal order=0", "map slot=0 mm=1 pte=3 page=0", "gup_fast mm=1 pte=3", "unpin slot=1",
     "cache_truncate index=1", "migrate pfn=64 zone=normal", "pin mm=0 pte=0", "unpin slot=1", "put slot=0",
     "unmap mm=1 pte=3", "pfn_walk pfn=1", "cache_lookup index=1"},
};

// The racy trace (docs/trace-format.md; corpora/regressions).
const std::vector<std::vector<const char*>> kRacy = {
    {"cache_lookup index=0", "put slot=0"},
    {"alloc zone=normal order=0", "cache_insert slot=0 index=0", "put slot=0", "cache_truncate index=0"},
};

std::string describe(const RunResult& r) {
  return r.report.signature + ": " + core::format_violation(r.report.violation) + " [" + r.report.op_text + "]";
}

void random_runs(benchmark::State& state, const std::vector<std::vector<const char*>>& text) {
  const core::ModelConfig cfg = bench_config();
  Program p;
  if (!make_program(state, cfg, text, p)) return;
  RunOptions o;
  o.weak_memory = state.range(0) != 0;
  uint64_t seed = 1, steps = 0, execs = 0;
  for (auto _ : state) {
    auto src = make_random_source(seed++);
    const RunResult r = run_deterministic(cfg, p, *src, o);
    if (!r.clean()) {
      state.SkipWithError(("clean core reported " + describe(r)).c_str());
      break;
    }
    steps += r.k;
    ++execs;
  }
  state.SetItemsProcessed(static_cast<int64_t>(execs));
  state.counters["exec/s"] = benchmark::Counter(static_cast<double>(execs), benchmark::Counter::kIsRate);
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["mean_k"] = benchmark::Counter(execs ? static_cast<double>(steps) / static_cast<double>(execs) : 0);
  state.counters["ops"] = benchmark::Counter(static_cast<double>(p.total_ops()));
}
void BM_DeterministicRandom(benchmark::State& state) { random_runs(state, kMixed); }
BENCHMARK(BM_DeterministicRandom)->ArgName("weak")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
void BM_RacyRandom(benchmark::State& state) { random_runs(state, kRacy); }
BENCHMARK(BM_RacyRandom)->ArgName("weak")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_BoundedRacy(benchmark::State& state) {
  core::ModelConfig cfg = bench_config();
  const bool bug = state.range(0) != 0;
  if (bug) cfg.bugs = core::bug_bit(core::Bug::TruncateSkipsGracePeriod);
  Program p;
  if (!make_program(state, cfg, kRacy, p)) return;
  BoundedOptions o;
  o.bound = 2;
  uint64_t runs = 0, explorations = 0, failing = 0;
  for (auto _ : state) {
    const BoundedResult b = explore_bounded(cfg, p, o);
    if (!b.exhausted) {
      state.SkipWithError("bound 2 not exhausted within max_runs");
      break;
    }
    if (!bug && b.failing != 0) {
      state.SkipWithError(("clean core reported " + describe(b.first_failure)).c_str());
      break;
    }
    runs += b.runs;
    failing += b.failing;
    ++explorations;
  }
  state.counters["schedules/s"] = benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["schedules"] =
      benchmark::Counter(explorations ? static_cast<double>(runs) / static_cast<double>(explorations) : 0);
  state.counters["failing"] =
      benchmark::Counter(explorations ? static_cast<double>(failing) / static_cast<double>(explorations) : 0);
}
BENCHMARK(BM_BoundedRacy)->ArgName("bug")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// What the summary needs of the runs: exec/s of every DeterministicRandom
// repetition, per CPU second (its counter) and per wall-clock second, and
// every error (by the run's full name: BM_BoundedRacy/bug:1).
struct Collected {
  std::vector<double> exec_per_second;
  std::vector<double> exec_per_real_second;
  std::map<std::string, std::vector<double>> random_exec;  // "BM_RacyRandom/weak:1" -> exec/s per repetition
  std::map<std::string, std::string> errors;

  void add(const bench::Run& r) {
    if (r.error_occurred) errors[r.benchmark_name()] = r.error_message;
    if (r.run_type != bench::Run::RT_Iteration || r.error_occurred) return;
    const std::string name = r.benchmark_name();
    const auto it = r.counters.find("exec/s");
    if (it != r.counters.end() && name.find("Random/weak:") != std::string::npos)
      random_exec[name].push_back(it->second.value);
    if (name != "BM_DeterministicRandom/weak:0") return;
    if (it != r.counters.end()) exec_per_second.push_back(it->second.value);
    const double real_s = r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit);
    if (real_s > 0) exec_per_real_second.push_back(1 / real_s);
  }
};

}  // namespace

int main(int argc, char** argv) {
  // Defaults first, so that the user's flags (the last occurrence wins)
  // override them.
  bench::CommandLine cl(argv[0], {"--benchmark_repetitions=5", "--benchmark_min_time=0.2"},
                        /*aggregates_only=*/false, bench::user_args(argc, argv));
  if (!cl.initialize()) return 1;

  std::FILE* out = cl.out();
  std::fprintf(out, "harness_bench: %s, REFHAMMER_DEBUG_CHECKS=%d\n", bench::assertions_kind(), REFHAMMER_DEBUG_CHECKS);
  std::fflush(out);

  Collected c;
  bench::CollectingReporter reporter(bench::make_display_reporter(cl.format()), [&c](const bench::Run& r) { c.add(r); });
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::fflush(stdout);

  std::vector<double>& v = c.exec_per_second;
  if (!v.empty()) {
    std::sort(v.begin(), v.end());
    const double cpu = bench::median(v), real = bench::median(c.exec_per_real_second);
    std::fprintf(out,
                 "target >= %.0f exec/s: %s (measured %.0f exec/s: median of %zu repetitions, CPU time; "
                 "min %.0f, max %.0f; wall clock %.0f exec/s)\n",
                 kTargetExecPerSecond, cpu >= kTargetExecPerSecond ? "MET" : "MISSED", cpu, v.size(), v.front(),
                 v.back(), real);
  }
  for (const char* prog : {"BM_DeterministicRandom", "BM_RacyRandom"}) {
    auto off = c.random_exec.find(std::string(prog) + "/weak:0");
    auto on = c.random_exec.find(std::string(prog) + "/weak:1");
    if (off == c.random_exec.end() || on == c.random_exec.end()) continue;
    std::sort(off->second.begin(), off->second.end());
    std::sort(on->second.begin(), on->second.end());
    const double a = bench::median(off->second), b = bench::median(on->second);
    const double ratio = b > 0 ? a / b : 0;
    std::fprintf(out, "weak memory on/off, %s: %.2fx slower (goal <= 2x: %s; %.0f vs %.0f exec/s, medians)\n", prog + 3,
                 ratio, ratio <= 2.0 ? "MET" : "MISSED", b, a);
  }
  return bench::print_errors({c.errors.begin(), c.errors.end()});
}
