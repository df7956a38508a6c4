// fiber_test — harness::Fiber: switch order, stacks and guard pages, abandoning,
// floating-point control state, exceptions, misuse, sanitizer annotations.
//
// Run it under plain -O2, ASan+UBSan (also with
// ASAN_OPTIONS=detect_stack_use_after_return=1) and TSan: the annotations are
// only exercised in the sanitizer builds.
#include "harness/fiber.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cfenv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FIBER_TEST_ASAN)
#define FIBER_TEST_ASAN 1
#endif
#ifndef FIBER_TEST_ASAN
#define FIBER_TEST_ASAN 0
#endif
#if FIBER_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FIBER_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(FIBER_TEST_TSAN)
#define FIBER_TEST_TSAN 1
#endif
#ifndef FIBER_TEST_TSAN
#define FIBER_TEST_TSAN 0
#endif
#if FIBER_TEST_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace {

using refhammer::harness::Fiber;

// Every line of /proc/self/maps: one mapping each.
std::vector<std::string> mappings() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/maps");
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Bytes of address space mapped by the process.
std::uint64_t mapped_bytes() {
  std::uint64_t total = 0;
  for (const std::string& line : mappings()) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2) total += hi - lo;
  }
  return total;
}

constexpr std::uint64_t kMiB = 1024 * 1024;

// The permission field ("rw-p", "---p", ...) of the mapping containing addr.
std::string perms_at(const void* addr) {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  for (const std::string& line : mappings()) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo <= a && a < hi) return perms;
  }
  return "unmapped";
}

// Runs every fiber round-robin until all have finished; `between` is called
// after each round.
template <class Between>
void run_round_robin(std::vector<Fiber>& fibers, Between between) {
  for (bool any = true; any;) {
    any = false;
    for (Fiber& f : fibers) {
      if (f.finished()) continue;
      f.resume();
      any = true;
    }
    if (any) between();
  }
}

// --- ordering -------------------------------------------------------------------

struct Player {
  std::vector<std::string>* log;
  char name;
  int turns;
};

// Logs "<name><i>" and yields, turns times; then logs "<name>$" and returns.
void play(void* p) {
  auto* pl = static_cast<Player*>(p);
  for (int i = 0; i < pl->turns; ++i) {
    pl->log->push_back(std::string(1, pl->name) + std::to_string(i));
    Fiber::yield();
  }
  pl->log->push_back(std::string(1, pl->name) + "$");
}

TEST(Fiber, ThreeFibersRoundRobinInterleaveExactly) {
  std::vector<std::string> log;
  Player a{&log, 'a', 3}, b{&log, 'b', 1}, c{&log, 'c', 2};
  std::vector<Fiber> fibers;
  fibers.emplace_back(play, &a);
  fibers.emplace_back(play, &b);  // moves the first Fiber (vector growth)
  fibers.emplace_back(play, &c);
  for (const Fiber& f : fibers) EXPECT_FALSE(f.started());
  std::vector<std::string> finished_after_round;
  run_round_robin(fibers, [&] {
    log.push_back("/");
    std::string s;
    for (const Fiber& f : fibers) s += f.finished() ? '1' : '0';
    finished_after_round.push_back(s);
  });
  const std::vector<std::string> expected = {"a0", "b0", "c0", "/",   //
                                             "a1", "b$", "c1", "/",   //
                                             "a2", "c$", "/",         //
                                             "a$", "/"};
  EXPECT_EQ(log, expected);
  EXPECT_EQ(finished_after_round, (std::vector<std::string>{"000", "010", "011", "111"}));
}

struct PingPong {
  int counter = 0;  // written by main between resumes
  std::vector<int> seen;
};

void ping(void* p) {
  auto* pp = static_cast<PingPong*>(p);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(Fiber::in_fiber());
    pp->seen.push_back(pp->counter);
    Fiber::yield();
  }
}

TEST(Fiber, ResumeRunsExactlyToTheNextYield) {
  PingPong pp;
  Fiber f(ping, &pp);
  EXPECT_FALSE(Fiber::in_fiber());
  int resumes = 0;
  while (!f.finished()) {
    f.resume();
    EXPECT_FALSE(Fiber::in_fiber());
    EXPECT_TRUE(f.started());
    ++resumes;
    pp.counter += 10;
  }
  // 5 yields + the final return: 6 resumes; the fiber saw main's writes in order.
  EXPECT_EQ(resumes, 6);
  EXPECT_EQ(pp.seen, (std::vector<int>{0, 10, 20, 30, 40}));
}

// --- stacks -----------------------------------------------------------------------

constexpr int kFrameBytes = 512;

struct Deep {
  int depth = 0;
  std::uint64_t result = 0;
  std::uintptr_t top_frame = 0, bottom_frame = 0;
};

// ~kFrameBytes+ per level; yields at every level on the way down so that the
// whole chain of frames stays live across ~depth switches. The buffer is
// checked after the yields and after the recursion below it returned.
__attribute__((noinline)) std::uint64_t recurse(int depth, std::uint64_t seed, Deep* d) {
  volatile unsigned char buf[kFrameBytes];
  for (int i = 0; i < kFrameBytes; ++i) buf[i] = static_cast<unsigned char>(seed + static_cast<unsigned>(i) * 7u);
  Fiber::yield();
  std::uint64_t sum = 0;
  if (depth == 0)
    d->bottom_frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  else
    sum = recurse(depth - 1, seed * 31 + 1, d);
  for (int i = 0; i < kFrameBytes; ++i) {
    if (buf[i] != static_cast<unsigned char>(seed + static_cast<unsigned>(i) * 7u)) return ~std::uint64_t{0};
    sum = sum * 3 + buf[i];
  }
  return sum;
}

// The same computation without fibers, for the expected value.
std::uint64_t recurse_plain(int depth, std::uint64_t seed) {
  std::uint64_t sum = depth == 0 ? 0 : recurse_plain(depth - 1, seed * 31 + 1);
  for (int i = 0; i < kFrameBytes; ++i) sum = sum * 3 + static_cast<unsigned char>(seed + static_cast<unsigned>(i) * 7u);
  return sum;
}

void deep_entry(void* p) {
  auto* d = static_cast<Deep*>(p);
  d->top_frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  d->result = recurse(d->depth, static_cast<std::uint64_t>(d->depth), d);
}

TEST(Fiber, DeepRecursionSurvivesInterleavedSwitches) {
  // 200 frames of >= 512 bytes each: >= 100 KiB of live frames per fiber,
  // on the default 256 KiB stack; two such fibers interleaved.
  Deep d1, d2;
  d1.depth = 200;
  d2.depth = 201;
  std::vector<Fiber> fibers;
  fibers.emplace_back(deep_entry, &d1);
  fibers.emplace_back(deep_entry, &d2);
  int rounds = 0;
  run_round_robin(fibers, [&] { ++rounds; });
  EXPECT_EQ(rounds, 203);  // 202 yields in the deeper fiber, then its return
  EXPECT_EQ(d1.result, recurse_plain(200, 200));
  EXPECT_EQ(d2.result, recurse_plain(201, 201));
  EXPECT_GE(d1.top_frame - d1.bottom_frame, 100u * 1024u);
}

struct FrameProbe {
  std::uintptr_t frame = 0;
};

void probe_frame(void* p) {
  static_cast<FrameProbe*>(p)->frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

TEST(Fiber, RunsOnItsOwnStackWithAGuardPageBelow) {
  const std::size_t asked = 100 * 1000;  // not a multiple of the page size
  FrameProbe probe;
  Fiber f(probe_frame, &probe, asked);
  EXPECT_GE(f.stack_size(), asked);
  const auto lo = reinterpret_cast<std::uintptr_t>(f.stack_lo());
  const long page = sysconf(_SC_PAGESIZE);
  EXPECT_EQ(lo % static_cast<std::uintptr_t>(page), 0u);
  EXPECT_EQ(perms_at(f.stack_lo()).substr(0, 2), "rw");
  EXPECT_EQ(perms_at(reinterpret_cast<const char*>(f.stack_lo()) - 1), "---p");  // the guard page
  f.resume();
  EXPECT_TRUE(f.finished());
  EXPECT_GT(probe.frame, lo);
  EXPECT_LT(probe.frame, lo + f.stack_size());
}

// --- stack overflow hits the guard page -----------------------------------------

const char* g_guard_lo = nullptr;
const char* g_guard_hi = nullptr;

extern "C" void on_segv(int, siginfo_t* si, void*) {
  const char* a = static_cast<const char*>(si->si_addr);
  const bool in_guard = a >= g_guard_lo && a < g_guard_hi;
  const char* msg = in_guard ? "fault in the guard page\n" : "fault outside the guard page\n";
  ssize_t ignored = write(STDERR_FILENO, msg, std::strlen(msg));
  (void)ignored;
  _exit(in_guard ? 3 : 4);
}

volatile int g_overflow_limit = 1 << 30;  // never reached: the stack ends first

__attribute__((noinline)) int overflow(int n) {
  if (n > g_overflow_limit) return 0;
  volatile char buf[1024];
  buf[0] = static_cast<char>(n);
  buf[1023] = static_cast<char>(n);
  return overflow(n + 1) + buf[0] + buf[1023];  // not a tail call
}

void overflow_entry(void*) { (void)overflow(0); }

[[noreturn]] void overflow_fiber_and_report() {
  Fiber f(overflow_entry, nullptr, 64 * 1024);
  const long page = sysconf(_SC_PAGESIZE);
  g_guard_hi = static_cast<const char*>(f.stack_lo());
  g_guard_lo = g_guard_hi - page;
  // The handler needs a stack of its own: the fiber's is exhausted.
  static char alt[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt;
  ss.ss_size = sizeof alt;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, nullptr);
  f.resume();
  std::fprintf(stderr, "overflow returned\n");
  _exit(5);
}

TEST(FiberDeathTest, StackOverflowFaultsInTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(overflow_fiber_and_report(), testing::ExitedWithCode(3), "fault in the guard page");
}

// --- many fibers; abandoning ----------------------------------------------------

void count_twice(void* p) {
  auto* n = static_cast<int*>(p);
  ++*n;
  Fiber::yield();
  ++*n;
  Fiber::yield();
  ++*n;
}

TEST(Fiber, ThousandFibersCreatedRunAndDestroyedLeaveNoMapping) {
  // The baseline is taken after the first round: the sanitizer runtimes keep
  // per-fiber bookkeeping for reuse (TSan: its high-water mark of fibers).
  std::uint64_t bytes_before = 0;
  for (int round = 0; round < 4; ++round) {
    if (round == 1) bytes_before = mapped_bytes();
    std::vector<int> counters(1000, 0);
    std::vector<Fiber> fibers;
    fibers.reserve(counters.size());
    for (int& n : counters) fibers.emplace_back(count_twice, &n);
    int rounds = 0;
    run_round_robin(fibers, [&] { ++rounds; });
    EXPECT_EQ(rounds, 3);
    for (const Fiber& f : fibers) EXPECT_TRUE(f.finished());
    int total = 0;
    for (int n : counters) total += n;
    EXPECT_EQ(total, 3000);
  }
  // Slack for the allocators' own growth; leaked stacks would be 3 x 256 MiB.
  EXPECT_LE(mapped_bytes(), bytes_before + 32 * kMiB);
}

struct Tracker {
  int* destroyed;
  ~Tracker() { ++*destroyed; }
};

char* volatile g_escape = nullptr;

void hold_and_yield(void* p) {
  Tracker t{static_cast<int*>(p)};
  // A buffer whose address escapes: ASan instruments it (redzones; with
  // detect_stack_use_after_return=1 it lives on the fiber's fake stack —
  // not if the function had inline asm, which disables the fake stack).
  char frame[256];
  g_escape = frame;
  frame[0] = 1;
  Fiber::yield();
  frame[1] = 2;
  Fiber::yield();
}

TEST(Fiber, AbandoningAnUnfinishedFiberSkipsItsDestructors) {
  int destroyed = 0;
  {
    Fiber f(hold_and_yield, &destroyed);
    f.resume();
    EXPECT_FALSE(f.finished());
  }
  EXPECT_EQ(destroyed, 0);  // documented: the abandoned stack's objects are not destroyed
  {
    Fiber never_started(hold_and_yield, &destroyed);
    EXPECT_FALSE(never_started.started());
  }
  EXPECT_EQ(destroyed, 0);
  // A fiber run to completion does destroy its objects; new fibers (maybe at
  // the abandoned stacks' addresses) run normally.
  Fiber f(hold_and_yield, &destroyed);
  while (!f.finished()) f.resume();
  EXPECT_EQ(destroyed, 1);
}

TEST(Fiber, AbandoningFibersInALoopLeavesNoMapping) {
  // Under ASan with detect_stack_use_after_return=1 each fiber also gets a
  // fake stack, which only an exit through start_switch_fiber(nullptr) frees.
  int destroyed = 0;
  {
    Fiber warmup(hold_and_yield, &destroyed);
    warmup.resume();
  }
  const std::uint64_t bytes_before = mapped_bytes();
  for (int i = 0; i < 1000; ++i) {
    Fiber f(hold_and_yield, &destroyed);
    f.resume();
    if (i % 2 == 1) f.resume();
  }
  // Leaked stacks would be ~260 MiB, leaked fake stacks more.
  EXPECT_LE(mapped_bytes(), bytes_before + 32 * kMiB);
  EXPECT_EQ(destroyed, 0);
}

TEST(Fiber, MovedFiberKeepsItsStateAndMoveAssignAbandons) {
  PingPong pp;
  Fiber a(ping, &pp);
  a.resume();
  Fiber b(std::move(a));
  EXPECT_TRUE(a.finished());  // NOLINT(bugprone-use-after-move): documented empty state
  EXPECT_FALSE(b.finished());
  pp.counter = 7;
  b.resume();
  EXPECT_EQ(pp.seen, (std::vector<int>{0, 7}));

  int destroyed = 0;
  Fiber c(hold_and_yield, &destroyed);
  c.resume();
  c = std::move(b);  // abandons the hold_and_yield fiber
  EXPECT_EQ(destroyed, 0);
  while (!c.finished()) c.resume();
  EXPECT_EQ(pp.seen.size(), 5u);
}

// --- floating-point control state ----------------------------------------------

#if defined(__x86_64__)
std::uint16_t x87_control_word() {
  std::uint16_t cw = 0;
  asm volatile("fnstcw %0" : "=m"(cw));
  return cw;
}

struct FpState {
  std::uint32_t mxcsr;
  std::uint16_t fcw;
};
FpState fp_state() { return {_mm_getcsr(), x87_control_word()}; }

constexpr std::uint32_t kMxcsrFtz = 0x8000;

struct FpLog {
  int initial_round = -1;     // what the fiber saw at its start
  int round_after_yield = -1;
  std::uint32_t mxcsr_set = 0, mxcsr_after_yield = 0;
  std::uint16_t fcw_set = 0, fcw_after_yield = 0;
  double sum = 0;
  bool rounded_up = false;
};

void fp_entry(void* p) {
  auto* l = static_cast<FpLog*>(p);
  l->initial_round = std::fegetround();
  std::fesetround(FE_UPWARD);  // x87 control word and MXCSR
  _mm_setcsr(_mm_getcsr() | kMxcsrFtz);
  const FpState set = fp_state();
  l->mxcsr_set = set.mxcsr;
  l->fcw_set = set.fcw;
  double sum = 0.25;
  Fiber::yield();
  sum *= 3.0;
  Fiber::yield();
  sum += 0.5;
  const FpState now = fp_state();
  l->mxcsr_after_yield = now.mxcsr;
  l->fcw_after_yield = now.fcw;
  l->round_after_yield = std::fegetround();
  // SSE divisions, rounded per MXCSR; volatile keeps each on its side of the
  // fesetround() call (no -frounding-math here).
  volatile double one = 1.0, three = 3.0;
  volatile double up = one / three;
  std::fesetround(FE_TONEAREST);
  volatile double near = one / three;
  l->rounded_up = up > near;
  l->sum = sum;
}

TEST(Fiber, FloatingPointControlStateIsPerContext) {
  const FpState main_default = fp_state();
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  FpLog l;
  // Created while main rounds downward: the fiber starts with that mode.
  std::fesetround(FE_DOWNWARD);
  Fiber f(fp_entry, &l);
  std::fesetround(FE_TONEAREST);
  f.resume();
  EXPECT_EQ(l.initial_round, FE_DOWNWARD);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);  // main's x87 mode back
  EXPECT_EQ(fp_state().mxcsr, main_default.mxcsr);
  EXPECT_EQ(fp_state().fcw, main_default.fcw);
  std::fesetround(FE_TOWARDZERO);  // main changes its own mode between resumes
  f.resume();
  EXPECT_EQ(std::fegetround(), FE_TOWARDZERO);
  f.resume();
  EXPECT_TRUE(f.finished());
  EXPECT_EQ(std::fegetround(), FE_TOWARDZERO);
  std::fesetround(FE_TONEAREST);
  EXPECT_EQ(fp_state().mxcsr, main_default.mxcsr);
  EXPECT_EQ(l.round_after_yield, FE_UPWARD);
  EXPECT_EQ(l.mxcsr_after_yield, l.mxcsr_set);
  EXPECT_EQ(l.fcw_after_yield, l.fcw_set);
  EXPECT_NE(l.mxcsr_set & kMxcsrFtz, 0u);
  EXPECT_TRUE(l.rounded_up);
  EXPECT_EQ(l.sum, 1.25);
}
#endif

// --- exceptions -------------------------------------------------------------------

struct CatchLog {
  std::string name;
  std::vector<std::string>* log;
};

std::string what_of(const std::exception_ptr& e) {
  if (!e) return "<none>";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "<non-std>";
  }
}

// Yields twice inside its catch block, then rethrows with `throw;` and catches
// it again: each step must see this fiber's own exception.
void catch_and_yield(void* p) {
  auto* c = static_cast<CatchLog*>(p);
  try {
    Fiber::yield();  // a try block live across a switch
    throw std::runtime_error(c->name);
  } catch (const std::exception&) {
    c->log->push_back(c->name + ":caught " + what_of(std::current_exception()));
    Fiber::yield();
    c->log->push_back(c->name + ":after yield " + what_of(std::current_exception()));
    Fiber::yield();
    try {
      throw;
    } catch (const std::runtime_error& again) {
      c->log->push_back(c->name + ":rethrown " + again.what());
    }
  }
  c->log->push_back(c->name + ":done " + what_of(std::current_exception()));
}

TEST(Fiber, EachFiberHandlesItsOwnExceptionAcrossYields) {
  std::vector<std::string> log;
  CatchLog a{"A", &log}, b{"B", &log};
  std::vector<Fiber> fibers;
  fibers.emplace_back(catch_and_yield, &a);
  fibers.emplace_back(catch_and_yield, &b);
  try {
    throw std::logic_error("main's");
  } catch (const std::exception&) {
    // Main is itself inside a catch block while the fibers run.
    run_round_robin(fibers, [&] {
      log.push_back("main " + what_of(std::current_exception()) + " " + std::to_string(std::uncaught_exceptions()));
    });
  }
  EXPECT_EQ(what_of(std::current_exception()), "<none>");
  const std::vector<std::string> expected = {
      "main main's 0",  // round 1: both in their try blocks
      "A:caught A", "B:caught B", "main main's 0",
      "A:after yield A", "B:after yield B", "main main's 0",
      "A:rethrown A", "A:done <none>", "B:rethrown B", "B:done <none>", "main main's 0",
  };
  EXPECT_EQ(log, expected);
}

struct UnwindLog {
  std::vector<int> uncaught;
};

struct YieldingDestructor {
  UnwindLog* l;
  ~YieldingDestructor() {
    l->uncaught.push_back(std::uncaught_exceptions());
    Fiber::yield();  // during stack unwinding
    l->uncaught.push_back(std::uncaught_exceptions());
  }
};

void unwind_entry(void* p) {
  auto* l = static_cast<UnwindLog*>(p);
  try {
    YieldingDestructor y{l};
    throw 42;
  } catch (int v) {
    l->uncaught.push_back(v);
  }
  l->uncaught.push_back(std::uncaught_exceptions());
}

TEST(Fiber, UncaughtExceptionsIsPerFiber) {
  UnwindLog l;
  Fiber f(unwind_entry, &l);
  f.resume();  // stops in the destructor, mid-unwind
  EXPECT_EQ(std::uncaught_exceptions(), 0);
  EXPECT_FALSE(f.finished());
  f.resume();
  EXPECT_TRUE(f.finished());
  EXPECT_EQ(l.uncaught, (std::vector<int>{1, 1, 42, 0}));
}

void throw_out(void*) { throw std::runtime_error("boom from a fiber"); }

TEST(FiberDeathTest, AnExceptionEscapingTheEntryTerminates) {
  EXPECT_DEATH(
      {
        Fiber f(throw_out, nullptr);
        f.resume();
      },
      "exception escaped the fiber's entry function: std::runtime_error: boom from a fiber");
}

void throw_int(void*) { throw 7; }

TEST(FiberDeathTest, ANonStdExceptionEscapingTheEntryTerminates) {
  EXPECT_DEATH(
      {
        Fiber f(throw_int, nullptr);
        f.resume();
      },
      "exception escaped the fiber's entry function: int");
}

// --- misuse -------------------------------------------------------------------------

void return_at_once(void*) {}

TEST(FiberDeathTest, ResumingAFinishedFiberAborts) {
  Fiber f(return_at_once, nullptr);
  f.resume();
  ASSERT_TRUE(f.finished());
  EXPECT_DEATH(f.resume(), "resume\\(\\) of a finished fiber");
}

TEST(FiberDeathTest, YieldOutsideAFiberAborts) {
  EXPECT_DEATH(Fiber::yield(), "yield\\(\\) called outside a fiber");
}

void resume_nested(void* p) { static_cast<Fiber*>(p)->resume(); }

TEST(FiberDeathTest, NestedResumeAborts) {
  Fiber inner(return_at_once, nullptr);
  EXPECT_DEATH(
      {
        Fiber outer(resume_nested, &inner);
        outer.resume();
      },
      "nested fibers are not supported");
}

void destroy_other(void* p) { static_cast<std::optional<Fiber>*>(p)->reset(); }

TEST(FiberDeathTest, DestroyingAFiberFromInsideAFiberAborts) {
  EXPECT_DEATH(
      {
        std::optional<Fiber> victim(std::in_place, return_at_once, nullptr);
        Fiber killer(destroy_other, &victim);
        killer.resume();
      },
      "destroyed only from the main context");
}

TEST(FiberDeathTest, ResumeFromAnotherThreadAssertsInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP() << "the owner-thread check is an assert()";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber f(return_at_once, nullptr);
        std::thread t([&] { f.resume(); });
        t.join();
      },
      "resumed only on the thread that created it");
#endif
}

TEST(Fiber, RejectsBadArguments) {
  EXPECT_THROW(Fiber(nullptr, nullptr), std::invalid_argument);
  EXPECT_THROW(Fiber(return_at_once, nullptr, 1024), std::invalid_argument);
}

// A sanitizer's handle on the running context (ASan's fake stack, TSan's
// fiber), as `Current` reads it: a fiber runs with a handle of its own, not
// `main`'s, and the switch back restores `main`.
template <void* (*Current)()>
void expect_fiber_has_its_own(void* const main) {
  void* in_fiber = nullptr;
  Fiber f([](void* p) { *static_cast<void**>(p) = Current(); }, &in_fiber);
  f.resume();
  EXPECT_NE(in_fiber, nullptr);
  EXPECT_NE(in_fiber, main);
  EXPECT_EQ(Current(), main);
}

// --- ASan still sees memory errors on fiber stacks ------------------------------

#if FIBER_TEST_ASAN
// The annotations themselves: without them ASan keeps believing the thread
// runs on its original stack, and every throw inside a fiber (which calls
// __asan_handle_no_return) makes it warn "False positive error reports may
// follow"; and the fibers would share the thread's fake stack.

class LacksSubstr final : public testing::MatcherInterface<const std::string&> {
 public:
  explicit LacksSubstr(std::string s) : s_(std::move(s)) {}
  bool MatchAndExplain(const std::string& text, testing::MatchResultListener*) const override {
    return text.find(s_) == std::string::npos;
  }
  void DescribeTo(std::ostream* os) const override { *os << "does not contain \"" << s_ << "\""; }

 private:
  std::string s_;
};

testing::Matcher<const std::string&> lacks(std::string s) { return testing::MakeMatcher(new LacksSubstr(std::move(s))); }

void throw_and_catch(void*) {
  try {
    throw std::runtime_error("caught in the fiber");  // __cxa_throw calls __asan_handle_no_return
  } catch (const std::exception&) {
  }
  __asan_handle_no_return();
}

[[noreturn]] void throw_in_fiber_and_exit() {
  Fiber f(throw_and_catch, nullptr);
  f.resume();
  std::fflush(stderr);
  _exit(f.finished() ? 0 : 1);
}

TEST(FiberDeathTest, AsanKnowsTheFiberStackBounds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: ASan warns only once per process
  EXPECT_EXIT(throw_in_fiber_and_exit(), testing::ExitedWithCode(0), lacks("__asan_handle_no_return"));
}

TEST(Fiber, AsanGivesEachFiberItsOwnFakeStack) {
  void* const main_fake = __asan_get_current_fake_stack();
  if (main_fake == nullptr) GTEST_SKIP() << "needs ASAN_OPTIONS=detect_stack_use_after_return=1";
  expect_fiber_has_its_own<__asan_get_current_fake_stack>(main_fake);
}

void use_after_free(void*) {
  auto* p = new int(1);
  Fiber::yield();
  delete p;
  Fiber::yield();
  volatile int v = *p;  // heap-use-after-free
  (void)v;
}

TEST(FiberDeathTest, AsanReportsHeapUseAfterFreeInsideAFiber) {
  EXPECT_DEATH(
      {
        Fiber f(use_after_free, nullptr);
        while (!f.finished()) f.resume();
      },
      "heap-use-after-free");
}

volatile int g_index = 16;

void overflow_live_frame(void*) {
  volatile char buf[16];
  buf[0] = 0;
  Fiber::yield();  // this frame stays live across the switches
  Fiber::yield();
  volatile char* p = buf;
  asm volatile("" : "+r"(p));  // hide the bounds from UBSan, which would report first
  p[g_index] = 1;              // stack-buffer-overflow in a frame entered before the switches
}

TEST(FiberDeathTest, AsanReportsStackOverflowInAFrameLiveAcrossYields) {
  if (std::strcmp(Fiber::implementation(), "ucontext") == 0)
    GTEST_SKIP() << "ASan's swapcontext interceptor unpoisons the whole target stack (known miss of the fallback)";
  EXPECT_DEATH(
      {
        Fiber f(overflow_live_frame, nullptr);
        while (!f.finished()) f.resume();
      },
      "stack-buffer-overflow");
}
#endif

// --- TSan sees each fiber as a fiber ---------------------------------------------

#if FIBER_TEST_TSAN
TEST(Fiber, TsanRunsEachFiberAsItsOwnTsanFiber) {
  expect_fiber_has_its_own<__tsan_get_current_fiber>(__tsan_get_current_fiber());
}
#endif

}  // namespace
