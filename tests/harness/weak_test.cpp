// harness::WeakMemory: the litmus tests of the C++ memory model it models
// (message passing, coherence, release sequences, RMW atomicity), the
// trace's `memory`/`stale` lines, and runs that do not change when weak
// memory is on without stale reads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>

#include "core/bugs.hpp"
#include "harness/engine.hpp"
#include "harness/fuzz_input.hpp"
#include "harness/trace.hpp"
#include "harness/weak.hpp"
#include "tests/support/support.hpp"

namespace refhammer::harness {
namespace {

using core::WeakWrite;
constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

// Two locations, initially 0 (their first access sees 0 in the location).
struct Locs {
  int data = 0, flag = 0;
};

// Writer (actor 0) of message passing: data = 1, then flag = 1.
void mp_writer(WeakMemory& w, Locs& l, std::memory_order flag_order) {
  w.write(0, &l.data, 0, 1, relaxed, WeakWrite::Store);
  w.write(0, &l.flag, 0, 1, flag_order, WeakWrite::Store);
}

TEST(WeakMemoryLitmus, RelaxedMessagePassingMayReadTheOldData) {
  Locs l;
  // Eligible loads: the flag (0 or 1) is load 0, the data load 1.
  WeakMemory w(2, {StaleRead{1, 1}});
  mp_writer(w, l, relaxed);
  EXPECT_EQ(w.load(1, &l.flag, 1, relaxed), 1u);
  EXPECT_EQ(w.load(1, &l.data, 1, relaxed), 0u) << "no happens-before: the data store need not be visible";
  EXPECT_EQ(w.taken(), (StaleScript{StaleRead{1, 1}}));
  EXPECT_EQ(w.eligible_loads(), 2u);
}

TEST(WeakMemoryLitmus, ReleaseAcquireMessagePassingReadsTheNewData) {
  Locs l;
  WeakMemory w(2, {StaleRead{1, 1}, StaleRead{2, 1}});
  mp_writer(w, l, release);
  EXPECT_EQ(w.load(1, &l.flag, 1, acquire), 1u);
  // The data store happens-before the load: nothing older may be read, so
  // the load is not eligible and the script's entries are never reached.
  EXPECT_EQ(w.load(1, &l.data, 1, relaxed), 1u);
  EXPECT_EQ(w.eligible_loads(), 1u);
  EXPECT_TRUE(w.taken().empty());
}

TEST(WeakMemoryLitmus, AStaleFlagReadAcquiresNothing) {
  Locs l;
  // The acquire reads the OLD flag (load 0 back 1): no synchronisation, so
  // the data load may still read 0.
  WeakMemory w(2, {StaleRead{0, 1}, StaleRead{1, 1}});
  mp_writer(w, l, release);
  EXPECT_EQ(w.load(1, &l.flag, 1, acquire), 0u);
  EXPECT_EQ(w.load(1, &l.data, 1, relaxed), 0u);
}

TEST(WeakMemoryLitmus, ReadReadCoherence) {
  int x = 0;
  WeakMemory w(2, {StaleRead{0, 1}, StaleRead{1, 7}});
  w.write(0, &x, 0, 1, relaxed, WeakWrite::Store);
  w.write(0, &x, 1, 2, relaxed, WeakWrite::Store);
  EXPECT_EQ(w.load(1, &x, 2, relaxed), 1u);
  // Having read 1, the actor can no longer read 0: back 7 clamps to 1's store.
  EXPECT_EQ(w.load(1, &x, 2, relaxed), 1u);
  EXPECT_EQ(w.taken(), (StaleScript{StaleRead{0, 1}, StaleRead{1, 1}}));
  // And once it reads the newest, nothing older is left to read.
  EXPECT_EQ(w.load(1, &x, 2, relaxed), 2u);
  EXPECT_EQ(w.load(1, &x, 2, relaxed), 2u);
  EXPECT_EQ(w.eligible_loads(), 3u);
}

TEST(WeakMemoryLitmus, AnActorReadsItsOwnStores) {
  int x = 0;
  WeakMemory w(2, {StaleRead{0, 1}});
  w.write(0, &x, 0, 5, relaxed, WeakWrite::Store);
  EXPECT_EQ(w.load(0, &x, 5, relaxed), 5u);
  EXPECT_EQ(w.eligible_loads(), 0u);
}

TEST(WeakMemoryLitmus, RmwsContinueTheReleaseSequence) {
  Locs l;
  WeakMemory w(3, {StaleRead{1, 1}});
  mp_writer(w, l, release);
  // Actor 2's relaxed RMW reads the newest flag (atomicity) and continues
  // the release sequence headed by actor 0's release store.
  w.write(2, &l.flag, 1, 2, relaxed, WeakWrite::Rmw);
  EXPECT_EQ(w.load(1, &l.flag, 2, acquire), 2u);
  // Actor 1 read the RMW's value with acquire, so it synchronised with
  // actor 0: the data store happens-before, the load is not eligible.
  EXPECT_EQ(w.load(1, &l.data, 1, relaxed), 1u);
  EXPECT_EQ(w.eligible_loads(), 1u);
}

TEST(WeakMemoryLitmus, AnotherActorsPlainStoreCarriesNoRelease) {
  Locs l;
  WeakMemory w(3, {StaleRead{1, 1}});
  mp_writer(w, l, release);
  // Actor 2 overwrites the flag with a relaxed plain store: reading it
  // acquires nothing (C++20: only RMWs continue a release sequence).
  w.write(2, &l.flag, 1, 3, relaxed, WeakWrite::Store);
  EXPECT_EQ(w.load(1, &l.flag, 3, acquire), 3u);
  EXPECT_EQ(w.load(1, &l.data, 1, relaxed), 0u);
}

TEST(WeakMemoryLitmus, SeqCstLoadsReadTheNewest) {
  int x = 0;
  WeakMemory w(2, {StaleRead{0, 1}});
  w.write(0, &x, 0, 1, relaxed, WeakWrite::Store);
  EXPECT_EQ(w.load(1, &x, 1, std::memory_order_seq_cst), 1u);
  EXPECT_EQ(w.eligible_loads(), 0u);
}

TEST(WeakMemoryLitmus, AWriteWithoutASyncPointStartsTheHistoryAgain) {
  int x = 0;
  WeakMemory w(2, {StaleRead{0, 1}});
  w.write(0, &x, 0, 1, relaxed, WeakWrite::Store);
  // The location now holds 9, which no write reported (Atomic::init on
  // reuse): 9 is its first store, before everything, and the only one.
  EXPECT_EQ(w.load(1, &x, 9, relaxed), 9u);
  EXPECT_EQ(w.eligible_loads(), 0u);
}

TEST(WeakMemoryLitmus, OnlyTheLastStoresCanBeRead) {
  int x = 0;
  WeakMemory w(2, {StaleRead{0, WeakMemory::kMaxBack}});
  for (uint64_t v = 1; v <= 20; ++v) w.write(0, &x, v - 1, v, relaxed, WeakWrite::Store);
  EXPECT_EQ(w.load(1, &x, 20, relaxed), 20u - WeakMemory::kMaxBack);
}

TEST(StaleScriptText, RoundTripsAndRejectsBadItems) {
  StaleScript s;
  ASSERT_EQ(parse_stale(" 3:1  40:2 ", s), "");
  EXPECT_EQ(s, (StaleScript{StaleRead{3, 1}, StaleRead{40, 2}}));
  EXPECT_EQ(format_stale(s), "3:1 40:2");
  EXPECT_NE(parse_stale("3", s), "");
  EXPECT_NE(parse_stale("3:0", s), "");
  EXPECT_NE(parse_stale("3:99", s), "");
  EXPECT_NE(parse_stale("4:1 3:1", s), "");
  EXPECT_NE(parse_stale("x:1", s), "");
}

const char* kTrace = R"(refhammer-trace 1
model normal=16 movable=16 device=0 block=16 max_order=3 refcount_limit=2147483647 mms=1 mm_slots=4 file_pages=4 gmem_pages=4 gmem_huge_order=2 gmem_convert_spins=8 rcu_readers=2 migrate_passes=2
design free_dispatch=owner-hook gmem_pin_policy=refuse-longterm
bugs none
faults none
seed 1
scheduler deterministic
audit_every 1
memory weak
expect clean
actors 2
t0 alloc zone=normal order=0
t0 cache_insert slot=0 index=0
t0 put slot=0
t1 cache_lookup index=0
t1 put slot=0
stale 0:1 2:1
)";

TEST(WeakMemoryTrace, MemoryAndStaleLinesSurviveAWriteAndAParse) {
  Trace t;
  ASSERT_EQ(parse_trace(kTrace, "weak.trace", t), "");
  EXPECT_TRUE(t.weak_memory);
  EXPECT_EQ(t.stale, (StaleScript{StaleRead{0, 1}, StaleRead{2, 1}}));
  Trace again;
  ASSERT_EQ(parse_trace(write_trace(t), "again.trace", again), "");
  EXPECT_TRUE(again.weak_memory);
  EXPECT_EQ(again.stale, t.stale);
  EXPECT_EQ(write_trace(again), write_trace(t));
}

TEST(WeakMemoryTrace, StaleReadsWithoutWeakMemoryAreAnErrorNamingTheLine) {
  std::string text = kTrace;
  text.replace(text.find("memory weak"), 11, "memory sc");
  Trace t;
  const std::string e = parse_trace(text, "sc.trace", t);
  EXPECT_NE(e.find("sc.trace:17:"), std::string::npos) << e;
  EXPECT_NE(e.find("memory weak"), std::string::npos) << e;
  text = kTrace;
  text.replace(text.find("memory weak"), 11, "memory tso");
  EXPECT_NE(parse_trace(text, "tso.trace", t).find("tso.trace:9:"), std::string::npos);
}

// Weak memory with no stale read runs exactly what sequential consistency
// runs: same schedule, steps and verdict, on every regression-sized program.
TEST(WeakMemoryRun, WithoutStaleReadsARunIsTheSequentiallyConsistentOne) {
  Trace t;
  ASSERT_EQ(parse_trace(kTrace, "weak.trace", t), "");
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RunOptions sc, weak;
    sc.audit_every = weak.audit_every = 1;
    weak.weak_memory = true;
    auto a = make_random_source(seed), b = make_random_source(seed);
    const RunResult rs = run_deterministic(t.model, t.program, *a, sc);
    const RunResult rw = run_deterministic(t.model, t.program, *b, weak);
    EXPECT_EQ(rs.schedule, rw.schedule) << "seed " << seed;
    EXPECT_EQ(rs.k, rw.k);
    EXPECT_EQ(rs.clean(), rw.clean());
    EXPECT_TRUE(rw.weak_memory);
    EXPECT_TRUE(rw.stale.empty());
  }
}

// A run with stale reads takes them where the script says, records them,
// and the recorded run replays to the same steps.
TEST(WeakMemoryRun, AScriptedRunRecordsItsStaleReadsAndReplays) {
  Trace t;
  ASSERT_EQ(parse_trace(kTrace, "weak.trace", t), "");
  RunOptions o;
  o.audit_every = 1;
  o.weak_memory = true;
  auto probe = make_random_source(3);
  const RunResult first = run_deterministic(t.model, t.program, *probe, o);
  ASSERT_GT(first.eligible_loads, 0u) << "two actors on one page cache share locations";
  o.stale = {StaleRead{first.eligible_loads / 2, 1}};
  auto src = make_recorded_source(first.schedule);
  const RunResult r = run_deterministic(t.model, t.program, *src, o);
  ASSERT_EQ(r.stale.size(), 1u);
  EXPECT_EQ(r.stale[0].load, first.eligible_loads / 2);
  o.stale = r.stale;
  auto again = make_recorded_source(r.schedule);
  const RunResult r2 = run_deterministic(t.model, t.program, *again, o);
  EXPECT_EQ(r2.schedule, r.schedule);
  EXPECT_EQ(r2.k, r.k);
  EXPECT_EQ(r2.stale, r.stale);
}

// Random stale reads: the run takes them at the given rate (all of them at
// 1000 per mille) and records them
// as a script, and the script alone replays the run (no PRNG needed).
TEST(WeakMemoryRun, RandomStaleReadsAreRecordedAndReplayWithoutThePrng) {
  Trace t;
  ASSERT_EQ(parse_trace(kTrace, "weak.trace", t), "");
  unsigned with_stale = 0, with_eligible = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    RunOptions o;
    o.audit_every = 1;
    o.weak_memory = true;
    o.stale_random = StaleRandom{seed % 2 ? uint16_t{1000} : uint16_t{300}, seed};
    auto src = make_random_source(seed);
    const RunResult r = run_deterministic(t.model, t.program, *src, o);
    EXPECT_LE(r.stale.size(), r.eligible_loads);
    if (seed % 2) {
      EXPECT_EQ(r.stale.size(), r.eligible_loads) << "at 1000 per mille every eligible load is stale";
    }
    with_stale += r.stale.empty() ? 0 : 1;
    with_eligible += r.eligible_loads > 0 ? 1 : 0;
    RunOptions again = o;
    again.stale_random = {};
    again.stale = r.stale;
    auto rec = make_recorded_source(r.schedule);
    const RunResult r2 = run_deterministic(t.model, t.program, *rec, again);
    EXPECT_EQ(r2.schedule, r.schedule) << "seed " << seed;
    EXPECT_EQ(r2.stale, r.stale);
    EXPECT_EQ(r2.clean(), r.clean());
  }
  EXPECT_GT(with_stale, 0u);
  EXPECT_GT(with_eligible, 0u);
}

// fuzz_weak's bytes carry the stale reads between the program and the
// schedule; what encode writes, decode reads back.
TEST(FuzzWeakTarget, StaleReadsSurviveAnEncodeAndADecode) {
  const FuzzTargetSpec* ft = fuzz_target("fuzz_weak");
  ASSERT_NE(ft, nullptr);
  ASSERT_TRUE(ft->weak);
  const core::ModelConfig cfg = fuzz_model();
  Trace t;
  ASSERT_EQ(parse_trace(kTrace, "weak.trace", t), "");
  const std::vector<uint8_t> sched = {5, 0, 1, 9, 0, 0};
  for (const StaleScript& st : {StaleScript{}, StaleScript{StaleRead{0, 1}},
                                StaleScript{StaleRead{3, 2}, StaleRead{4, 1}, StaleRead{200, 3}}}) {
    std::vector<uint8_t> bytes;
    ASSERT_EQ(encode_fuzz_input(*ft, t.program, sched, cfg, bytes, st), "");
    const FuzzCase c = decode_fuzz_input(*ft, bytes.data(), bytes.size(), cfg);
    EXPECT_EQ(c.stale, st);
    EXPECT_EQ(c.sched, sched);
    EXPECT_EQ(c.program.total_ops(), t.program.total_ops());
  }
  std::vector<uint8_t> bytes;
  EXPECT_NE(encode_fuzz_input(*ft, t.program, sched, cfg, bytes, {StaleRead{4, 1}, StaleRead{4, 2}}), "")
      << "loads must ascend";
  EXPECT_NE(encode_fuzz_input(*ft, t.program, sched, cfg, bytes, {StaleRead{0, 4}}), "") << "at most 3 back";
  const FuzzTargetSpec* sc = fuzz_target("fuzz_schedule_switch");
  ASSERT_NE(sc, nullptr);
  EXPECT_NE(encode_fuzz_input(*sc, t.program, sched, cfg, bytes, {StaleRead{0, 1}}), "") << "an SC target";
}

// The whole path of a weak-memory fuzz finding: bytes with one PCT change
// point and one stale read find the ordering mutant put-decrement-relaxed
// (and no byte string does with the mutant off); the crash's trace carries
// `memory weak` and its stale read, and replays to the same signature.
TEST(FuzzWeakTarget, BytesFindAnOrderingMutantAndItsTraceReplays) {
  const FuzzTargetSpec* ft = fuzz_target("fuzz_weak");
  ASSERT_NE(ft, nullptr);
  core::ModelConfig cfg = fuzz_model();
  Trace t;
  ASSERT_EQ(parse_trace("refhammer-trace 1\nmodel normal=16 movable=16 block=16\nexpect clean\nactors 2\n"
                        "t0 alloc zone=normal order=0\nt0 map slot=0 mm=0 pte=0 page=0\nt0 put slot=0\n"
                        "t1 unmap mm=0 pte=0\n",
                        "put.trace", t),
            "");
  // PCT bytes: depth 2, t0 first (priority bytes 1, 0), the change point.
  auto run = [&](uint64_t bugs, unsigned cp, uint32_t load, RunResult& out, FuzzCase& fc) {
    cfg.bugs = bugs;
    std::vector<uint8_t> bytes;
    const std::vector<uint8_t> sched = {1, 1, 0, static_cast<uint8_t>(cp), static_cast<uint8_t>(cp >> 8)};
    if (!encode_fuzz_input(*ft, t.program, sched, cfg, bytes, {StaleRead{load, 1}}).empty()) return false;
    fc = decode_fuzz_input(*ft, bytes.data(), bytes.size(), cfg);
    out = run_fuzz_case(*ft, fc, cfg);
    return true;
  };
  const uint64_t bug = core::bug_bit(core::Bug::PutDecrementRelaxed);
  unsigned found = 0, failing_off = 0;
  for (unsigned cp = 0; cp < 65536; cp += 512)
    for (uint32_t load = 0; load < 24; ++load) {
      RunResult r;
      FuzzCase fc;
      ASSERT_TRUE(run(0, cp, load, r, fc));
      failing_off += r.clean() ? 0 : 1;
      ASSERT_TRUE(run(bug, cp, load, r, fc));
      if (r.clean()) continue;
      if (found++ > 0) continue;
      EXPECT_EQ(r.report.signature, "bad-page-free/free_frozen_pages/put");
      ASSERT_EQ(r.stale.size(), 1u);
      const Trace tr = fuzz_case_trace(*ft, fc, cfg, r);
      EXPECT_TRUE(tr.weak_memory);
      Trace back;
      ASSERT_EQ(parse_trace(write_trace(tr), "crash.trace", back), "");
      EXPECT_EQ(back.stale, r.stale);
      for (int i = 0; i < 3; ++i) {
        const RunResult again = run_trace(back);
        EXPECT_TRUE(verdict_matches(back, again)) << again.report.signature;
      }
    }
  EXPECT_GT(found, 0u) << "no change point and stale read found the mutant";
  EXPECT_EQ(failing_off, 0u) << "the clean core under weak memory";
  std::printf("fuzz_weak: %u of %u (change point, stale load) byte pairs find put-decrement-relaxed\n", found, 128u * 24u);
}

}  // namespace
}  // namespace refhammer::harness
