// refhammer minimize — shrink a failing trace or crash file to the smallest
// trace that still fails with the same signature.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "harness/bounded.hpp"
#include "harness/minimize.hpp"
#include "harness/trace.hpp"

namespace refhammer::cli {
namespace {

using namespace refhammer::harness;

struct MinimizeArgs {
  std::string in, out, regression, regressions_dir = "corpora/regressions", what;
  double seconds = 30, search_seconds = 10;
  uint32_t replays = 20;
  uint64_t explore_runs = 200'000;
  InputArgs input;
};

int run_minimize(const MinimizeArgs& a) {
  if (a.out.empty() && a.regression.empty()) {
    std::fprintf(stderr, "refhammer minimize: give -o OUT or --emit-regression NAME\n");
    return kExitUsage;
  }
  // Refuse an existing output before spending the budget (write_file_atomic
  // refuses it again at the end, should it appear meanwhile).
  for (const std::string& dest : {a.out, a.regression.empty() ? std::string() : a.regressions_dir + "/" + a.regression + ".trace"})
    if (!dest.empty() && std::filesystem::exists(dest)) {
      std::fprintf(stderr, "refhammer minimize: %s exists; not overwriting it\n", dest.c_str());
      return kExitUsage;
    }
  Trace t;
  bool raw = false;
  std::string err = load_input(a.in, a.input, t, &raw);
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer minimize: %s\n", err.c_str());
    return kExitUsage;
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  const size_t raw_ops = t.program.total_ops();
  bool from_threads = false;
  if (t.scheduler != SchedulerKind::Deterministic) {
    // Free-running stress: no schedule yet. Find one on the deterministic
    // scheduler that shows the same signature.
    from_threads = true;
    if (t.expect_clean) {
      std::fprintf(stderr, "refhammer minimize: %s expects a clean run: nothing to minimize\n", a.in.c_str());
      return kExitUsage;
    }
    Trace det;
    bool found = false;
    const uint64_t runs = find_deterministic_schedule(t, a.search_seconds, det, found);
    std::printf("deterministic schedule search: %llu run(s), %s\n", static_cast<unsigned long long>(runs),
                found ? ("found (" + det.source + ")").c_str() : "NOT found");
    if (!found) {
      const uint32_t ok = reproduction_count(t, a.replays);
      std::printf("the %s trace reproduces %u/%u time(s) on threads; it cannot be minimized deterministically\n",
                  scheduler_name(t.scheduler), ok, a.replays);
      return kExitViolation;
    }
    t = det;
  }
  MinimizeOptions mo;
  mo.seconds = a.seconds;
  auto last = std::chrono::steady_clock::now();
  mo.progress = [&](uint64_t cand, size_t ops, uint64_t pre, const char* pass) {
    const auto now = std::chrono::steady_clock::now();
    if (!tty || now - last < std::chrono::milliseconds(200)) return;
    last = now;
    std::fprintf(stderr, "\r  %-8s candidates %-8llu ops %-4zu preemptions %-3llu  %.1f s ", pass,
                 static_cast<unsigned long long>(cand), ops, static_cast<unsigned long long>(pre),
                 std::chrono::duration<double>(now - t0).count());
  };
  MinimizeResult m = minimize_trace(t, mo);
  if (tty) std::fprintf(stderr, "\r%78s\r", "");
  if (!m.ok) {
    std::fprintf(stderr, "refhammer minimize: %s: %s\n", a.in.c_str(), m.error.c_str());
    return kExitUsage;
  }
  // Depth and the scenario's reproduction probability: every schedule of the
  // minimized ops within the depth, how many fail the same way.
  BoundedOptions bo;
  bo.bound = static_cast<uint32_t>(m.preemptions_after);
  bo.max_runs = a.explore_runs;
  bo.run.audit_every = m.trace.audit_every;
  // A weak-memory trace: each schedule also with every single stale read
  // (the failure needs its stale read; without them the count would be 0).
  bo.run.weak_memory = m.trace.weak_memory;
  bo.stale_bound = m.trace.weak_memory ? 1 : 0;
  // A deep or long result (a budget that ran out on a recorded run) has too
  // many schedules to sample meaningfully in the runs given: not explored.
  const bool explore = m.preemptions_after <= 4 && m.ops_after <= 32;
  BoundedResult b;
  if (explore) b = explore_bounded(m.trace.model, m.trace.program, bo);
  const std::string not_explored =
      "depth " + std::to_string(m.preemptions_after) + ": schedules not explored (over 4 preemptions or 32 ops)";
  const uint64_t same = b.signatures.count(m.signature) ? b.signatures.at(m.signature) : 0;
  const uint32_t reproduced = reproduction_count(m.trace, a.replays);

  Trace o = m.trace;
  o.comments.clear();
  if (!a.what.empty()) o.comments.push_back(a.what);
  o.comments.push_back("signature: " + m.signature);
  o.comments.push_back("minimized by `refhammer minimize` from " + std::filesystem::path(a.in).filename().string() +
                       (raw ? " (raw fuzzer input)" : "") + ": " + std::to_string(m.ops_before) + " -> " +
                       std::to_string(m.ops_after) + " ops, " + std::to_string(m.preemptions_before) + " -> " +
                       std::to_string(m.preemptions_after) + " preemptions");
  o.comments.push_back(!explore ? not_explored
                                 : "depth " + std::to_string(m.preemptions_after) + ": " + std::to_string(same) + " of " +
                                       std::to_string(b.runs) + " schedules with <= " + std::to_string(bo.bound) +
                                       " preemptions fail this way" + (b.exhausted ? "" : " (bound not exhausted)"));
  if (reproduced < a.replays)
    o.comments.push_back("FLAKY: replays " + std::to_string(reproduced) + "/" + std::to_string(a.replays));
  const std::string text = write_trace(o);
  std::string dest = a.out;
  if (!a.regression.empty()) dest = a.regressions_dir + "/" + a.regression + ".trace";
  err = write_file_atomic(dest, text, false);
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer minimize: %s\n", err.c_str());
    return kExitUsage;
  }
  if (!a.out.empty() && !a.regression.empty()) {
    err = write_file_atomic(a.out, text, false);
    if (!err.empty()) std::fprintf(stderr, "refhammer minimize: %s\n", err.c_str());
  }
  std::printf("minimized %s: %s\n", a.in.c_str(), m.signature.c_str());
  std::printf("  actors %zu -> %zu, ops %zu -> %zu%s, preemptions %llu -> %llu, steps %llu -> %llu\n", m.actors_before,
              m.actors_after, m.ops_before, m.ops_after,
              from_threads ? (" (from " + std::to_string(raw_ops) + " recorded on threads)").c_str() : "",
              static_cast<unsigned long long>(m.preemptions_before), static_cast<unsigned long long>(m.preemptions_after),
              static_cast<unsigned long long>(m.steps_before), static_cast<unsigned long long>(m.steps_after));
  std::printf("  %llu candidate run(s), %llu kept, %.2f s, %s%s\n", static_cast<unsigned long long>(m.candidates),
              static_cast<unsigned long long>(m.accepted), m.seconds,
              m.fixed_point ? "fixed point" : "budget ran out before the fixed point",
              m.fixed_point ? ", 1-minimal (no single op or context switch can go)" : "");
  if (!explore) std::printf("  %s\n", not_explored.c_str());
  else std::printf("  depth %llu: %llu of %llu run(s) within the bound fail this way (%.3f%%)%s%s\n",
              static_cast<unsigned long long>(m.preemptions_after), static_cast<unsigned long long>(same),
              static_cast<unsigned long long>(b.runs), b.runs ? 100.0 * same / b.runs : 0.0,
              b.exhausted ? "" : ", bound not exhausted",
              m.trace.weak_memory ? " (weak memory: every schedule, each also with every single stale read)" : "");
  std::printf("  replays %u/%u%s\n", reproduced, a.replays, reproduced == a.replays ? "" : " — FLAKY reproducer");
  std::printf("wrote %s\n", dest.c_str());
  if (!a.out.empty() && !a.regression.empty()) std::printf("wrote %s\n", a.out.c_str());
  return kExitViolation;
}

}  // namespace

Runner add_minimize(CLI::App& app) {
  auto a = std::make_shared<MinimizeArgs>();
  auto* c = app.add_subcommand("minimize", "Shrink a failing trace or fuzzer crash file to the smallest trace that "
                                           "fails with the same signature");
  c->add_option("input", a->in, "a failing text trace or raw fuzzer input")->required();
  c->add_option("--output,-o", a->out, "write the minimized trace here (never overwrites)");
  c->add_option("--emit-regression", a->regression,
                "write it as <regressions-dir>/NAME.trace too, replayed by ctest (never overwrites)");
  c->add_option("--regressions-dir", a->regressions_dir)->capture_default_str();
  c->add_option("--what", a->what, "a one-line comment for the trace header: what the trace shows");
  c->add_option("--seconds,-s", a->seconds, "time budget of the minimization")->capture_default_str();
  c->add_option("--search-seconds", a->search_seconds,
                "free/perturb traces: budget of the search for a deterministic schedule")->capture_default_str();
  c->add_option("--replays", a->replays, "replays of the result to measure its reproduction rate")
      ->check(CLI::Range(1u, 100000u))->capture_default_str();
  c->add_option("--explore-runs", a->explore_runs, "schedules explored to measure the depth's failure rate")
      ->capture_default_str();
  add_input_options(c, a->input);
  return [a] { return run_minimize(*a); };
}

}  // namespace refhammer::cli
