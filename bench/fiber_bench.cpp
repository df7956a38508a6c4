// fiber_bench — context switches per second of harness::Fiber, and of glibc's
// ucontext (swapcontext) on the same patterns, with the ratio between them.
//
// Patterns (one benchmark iteration each):
//   1 fiber:          main resumes one fiber, which yields straight back
//                     (2 switches: in and out)
//   3 fibers:         main resumes three fibers round-robin, each yields back
//                     (6 switches) — the deterministic scheduler's shape
// The ucontext variants do the same with two swapcontext calls per round trip
// and no sanitizer annotations.
//
// The table after the runs uses the median over the repetitions of CPU time
// per iteration (real time alongside). The exit code is 0 whether or not the
// target (>= 20 M switches/s for Fiber in a release build) is met: this is a
// measurement, not a test; it is 1 only when a benchmark could not run.
//
//   fiber_bench                                  # 5 interleaved repetitions
//   fiber_bench --benchmark_repetitions=9 --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_report.hpp"
#include "harness/fiber.hpp"

namespace {

using benchmark::State;
using refhammer::harness::Fiber;
namespace bench = refhammer::bench;
// bench/bench_report's: per benchmark, the median over the repetitions (the
// library's aggregate, else ours).
using bench::Collector;

constexpr const char* kFiber1 = "BM_Fiber_1";
constexpr const char* kFiber3 = "BM_Fiber_3RoundRobin";
constexpr const char* kUctx1 = "BM_Ucontext_1";
constexpr const char* kUctx3 = "BM_Ucontext_3RoundRobin";

void set_switch_counter(State& st, int switches_per_iteration) {
  st.counters["switches/s"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * switches_per_iteration, benchmark::Counter::kIsRate);
}

// --- harness::Fiber ------------------------------------------------------------

struct Loop {
  bool stop = false;
  std::uint64_t yields = 0;
};

void yield_until_stopped(void* p) {
  auto* l = static_cast<Loop*>(p);
  while (!l->stop) {
    ++l->yields;
    Fiber::yield();
  }
}

void BM_Fiber_N(State& st, int n) {
  std::vector<Loop> loops(static_cast<std::size_t>(n));
  std::vector<Fiber> fibers;
  for (Loop& l : loops) fibers.emplace_back(yield_until_stopped, &l);
  for (auto _ : st)
    for (Fiber& f : fibers) f.resume();
  for (std::size_t i = 0; i < fibers.size(); ++i) {
    loops[i].stop = true;
    fibers[i].resume();
    if (!fibers[i].finished() || loops[i].yields != static_cast<std::uint64_t>(st.iterations()))
      st.SkipWithError("a fiber did not run once per resume");
  }
  set_switch_counter(st, 2 * n);
}

void BM_Fiber_1(State& st) { BM_Fiber_N(st, 1); }
void BM_Fiber_3RoundRobin(State& st) { BM_Fiber_N(st, 3); }

// --- raw ucontext, no annotations ------------------------------------------------

struct UcFiber {
  ucontext_t ctx{};
  ucontext_t* main = nullptr;
  Loop loop;
  void* stack = nullptr;
  std::size_t stack_size = Fiber::kDefaultStackSize;
};

void uc_entry(unsigned int hi, unsigned int lo) {
  auto* u = reinterpret_cast<UcFiber*>((static_cast<std::uintptr_t>(hi) << 32) | lo);
  while (!u->loop.stop) {
    ++u->loop.yields;
    swapcontext(&u->ctx, u->main);
  }
  // returning continues at uc_link (main's context)
}

// Maps the stack and makes the context; false on failure. A function of its
// own: getcontext() returns twice, which g++ warns about for the caller's
// locals.
__attribute__((noinline)) bool init_uc_fiber(UcFiber* u, ucontext_t* main_ctx) {
  u->stack = mmap(nullptr, u->stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (u->stack == MAP_FAILED) return false;
  u->main = main_ctx;
  if (getcontext(&u->ctx) != 0) return false;
  u->ctx.uc_stack.ss_sp = u->stack;
  u->ctx.uc_stack.ss_size = u->stack_size;
  u->ctx.uc_link = main_ctx;
  const auto p = reinterpret_cast<std::uintptr_t>(u);
  makecontext(&u->ctx, reinterpret_cast<void (*)()>(&uc_entry), 2, static_cast<unsigned int>(p >> 32),
              static_cast<unsigned int>(p & 0xffffffffu));
  return true;
}

void BM_Ucontext_N(State& st, int n) {
  ucontext_t main_ctx{};
  std::vector<std::unique_ptr<UcFiber>> fibers;
  for (int i = 0; i < n; ++i) {
    fibers.push_back(std::make_unique<UcFiber>());
    if (!init_uc_fiber(fibers.back().get(), &main_ctx)) {
      st.SkipWithError("mmap or getcontext failed");
      return;
    }
  }
  for (auto _ : st)
    for (auto& u : fibers) swapcontext(&main_ctx, &u->ctx);
  for (auto& u : fibers) {
    u->loop.stop = true;
    swapcontext(&main_ctx, &u->ctx);  // the entry returns into main_ctx
    if (u->loop.yields != static_cast<std::uint64_t>(st.iterations()))
      st.SkipWithError("a ucontext fiber did not run once per swap");
    munmap(u->stack, u->stack_size);
  }
  set_switch_counter(st, 2 * n);
}

void BM_Ucontext_1(State& st) { BM_Ucontext_N(st, 1); }
void BM_Ucontext_3RoundRobin(State& st) { BM_Ucontext_N(st, 3); }

struct Registered {
  const char* name;
  void (*fn)(State&);
  int switches;  // per iteration
};

constexpr Registered kAll[] = {
    {kFiber1, BM_Fiber_1, 2},
    {kFiber3, BM_Fiber_3RoundRobin, 6},
    {kUctx1, BM_Ucontext_1, 2},
    {kUctx3, BM_Ucontext_3RoundRobin, 6},
};

void register_all() {
  for (const Registered& r : kAll)
    benchmark::RegisterBenchmark(r.name, r.fn)->Unit(benchmark::kNanosecond);
}

// --- the table ------------------------------------------------------------------------

constexpr double kTargetSwitchesPerSec = 20e6;

void print_table(std::FILE* out, const Collector& c) {
  std::fprintf(out, "\n== fiber_bench: switches per second (median CPU time of the repetitions; real time alongside) ==\n");
  auto rate = [](const bench::Sample& s, int switches, bool real) {
    return switches / ((real ? s.real_ns : s.cpu_ns) * 1e-9);
  };
  auto get = [&c](const char* name) -> std::optional<bench::Sample> {
    if (auto m = c.get(name)) return m->median;
    return std::nullopt;
  };
  for (const Registered& r : kAll) {
    if (auto s = get(r.name))
      std::fprintf(out, "%-26s %8.2f M switches/s  (%6.2f ns/switch; real %8.2f M/s)\n", r.name,
                   rate(*s, r.switches, false) / 1e6, s->cpu_ns / r.switches, rate(*s, r.switches, true) / 1e6);
    else
      std::fprintf(out, "%-26s n/a\n", r.name);
  }
  struct Pair {
    const char* label;
    const char* fiber;
    const char* uctx;
  };
  const Pair pairs[] = {{"1 fiber", kFiber1, kUctx1}, {"3 fibers round-robin", kFiber3, kUctx3}};
  std::fprintf(out, "\n");
  for (const Pair& p : pairs) {
    const auto f = get(p.fiber), u = get(p.uctx);
    if (!f || !u || f->cpu_ns <= 0) {
      std::fprintf(out, "ratio Fiber / ucontext, %-22s = n/a\n", p.label);
      continue;
    }
    std::fprintf(out, "ratio Fiber / ucontext, %-22s = %6.1fx faster  [real time %.1fx]\n", p.label,
                 u->cpu_ns / f->cpu_ns, u->real_ns / f->real_ns);
  }
  for (const Registered& r : kAll) {
    if (std::strcmp(r.name, kFiber1) != 0 && std::strcmp(r.name, kFiber3) != 0) continue;
    const auto s = get(r.name);
    if (!s) continue;
    const double v = rate(*s, r.switches, false);
    std::fprintf(out, "target %-26s >= %.0f M switches/s: %s (%.1f M/s)\n", r.name, kTargetSwitchesPerSec / 1e6,
                 v >= kTargetSwitchesPerSec ? "PASS" : "MISS", v / 1e6);
  }
  std::fprintf(out, "(a measurement, not a test: the exit code ignores the target)\n");
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FIBER_BENCH_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FIBER_BENCH_SANITIZED 1
#endif

const char* build_kind() {
#if defined(FIBER_BENCH_SANITIZED)
  return "sanitizer build (not representative)";
#else
  return bench::assertions_kind();
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // Defaults for a noisy shared machine, before the user's arguments so that
  // any can be overridden (the last occurrence of a flag wins).
  bench::CommandLine cl(argv[0],
                        {"--benchmark_repetitions=5", "--benchmark_min_time=0.2",
                         "--benchmark_enable_random_interleaving=true"},
                        /*aggregates_only=*/true, bench::user_args(argc, argv));
  if (!cl.initialize()) return 1;

  std::FILE* out = cl.out();
  std::fprintf(out, "fiber_bench: Fiber switch: %s; %s, %s\n", Fiber::implementation(), bench::compiler_name(),
               build_kind());
  std::fflush(out);

  register_all();
  Collector collector;
  bench::CollectingReporter reporter(bench::make_display_reporter(cl.format()), collector);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::fflush(stdout);
  print_table(out, collector);
  const auto errors = collector.errors();
  if (!errors.empty())  // the first failure (by name) only
    std::fprintf(stderr, "fiber_bench: %s failed: %s\n", errors.front().first.c_str(), errors.front().second.c_str());
  return errors.empty() ? 0 : 1;
}
