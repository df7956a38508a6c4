// Sync-point recording (harness/record.hpp), the order source, the spinner
// rule and the scheduler's audits: what lets a real-thread finding replay.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/atomic.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/record.hpp"
#include "harness/sched.hpp"
#include "harness/trace.hpp"

namespace {

using namespace refhammer::harness;

SyncAccess acc(uint16_t stripe, uint32_t seq) { return SyncAccess{seq, stripe, static_cast<uint8_t>(core::SyncOp::Rmw)}; }
SyncAccess spin() { return SyncAccess{0, kNoStripe, static_cast<uint8_t>(core::SyncOp::Spin)}; }

std::vector<unsigned> expand(const Schedule& s) {
  std::vector<unsigned> out;
  for (const Slice& x : s)
    for (uint32_t i = 0; i < x.steps; ++i) out.push_back(x.actor);
  return out;
}

TEST(MergeSyncOrder, FollowsEveryStripesSequenceAndEachActorsProgramOrder) {
  // t0: s1#0, s2#1, spin, s1#2      t1: s2#0, s1#1
  // s2#0 (t1) before s2#1 (t0); s1#1 (t1) between t0's s1#0 and s1#2.
  const std::vector<std::vector<SyncAccess>> logs = {{acc(1, 0), acc(2, 1), spin(), acc(1, 2)}, {acc(2, 0), acc(1, 1)}};
  Schedule order;
  ASSERT_EQ(merge_sync_order(logs, order), "");
  // Greedy: t0 takes s1#0, must wait for s2#0 (t1), t1 then also takes s1#1,
  // t0 finishes.
  EXPECT_EQ(expand(order), (std::vector<unsigned>{0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(format_schedule(order), "0x1 1x2 0x3");
}

SyncAccess load(uint16_t stripe, uint32_t writes_before) {
  return SyncAccess{writes_before, stripe, static_cast<uint8_t>(core::SyncOp::Load)};
}

TEST(MergeSyncOrder, PlacesEachLoadBetweenTheWritesItLiesBetween) {
  // t0 loads stripe 5 before any write, then after the first; t1 writes it
  // twice; t0's second load must come after t1's first write and before its
  // second.
  const std::vector<std::vector<SyncAccess>> logs = {{load(5, 0), load(5, 1)}, {acc(5, 0), acc(5, 1)}};
  Schedule order;
  ASSERT_EQ(merge_sync_order(logs, order), "");
  EXPECT_EQ(expand(order), (std::vector<unsigned>{0, 1, 0, 1}));
  // A load after a write nobody logged: the log was cut.
  const std::vector<std::vector<SyncAccess>> cut = {{load(5, 3)}, {acc(5, 0)}};
  EXPECT_NE(merge_sync_order(cut, order), "");
}

TEST(MergeSyncOrder, ReportsLogsThatAdmitNoOrder) {
  // Each actor's first access waits for the other's second one: a cut log.
  const std::vector<std::vector<SyncAccess>> logs = {{acc(1, 1), acc(2, 0)}, {acc(2, 1), acc(1, 0)}};
  Schedule order;
  EXPECT_NE(merge_sync_order(logs, order).find("no order"), std::string::npos);
  const std::vector<std::vector<SyncAccess>> dup = {{acc(3, 0)}, {acc(3, 0)}};
  EXPECT_NE(merge_sync_order(dup, order).find("two writes"), std::string::npos);
}

// Two real threads race loads and read-modify-writes on shared atomics
// under the recording hook. Re-executing the accesses one at a time in the merged
// order must give every access the value it saw on the real threads: that is
// what makes a replay exact.
TEST(RecordingHook, TheMergedOrderReproducesEveryValueTheThreadsRead) {
  StripeTable stripes;
  core::Atomic<uint64_t> words[3];
  for (auto& w : words) w.init(0);
  constexpr unsigned kOps = 20000;
  struct Seen {
    unsigned word;
    uint64_t value;  // what the load read, or the value before this thread's fetch_add
    uint64_t add;    // 0: a load
  };
  std::vector<std::vector<SyncAccess>> logs(2);
  std::vector<std::vector<Seen>> seen(2);
  auto body = [&](unsigned t) {
    RecordingHook hook(stripes, &logs[t], t == 1, 7 + t, 4);  // thread 1 also perturbed
    hook.actor = static_cast<uint8_t>(t);
    int current = 0;  // "inside an op" for the whole run
    hook.watch(&current);
    core::ScopedSyncHook installed(&hook);
    refhammer::Rng rng(t + 1);
    for (unsigned i = 0; i < kOps; ++i) {
      const unsigned w = rng.below(3);
      const uint64_t add = t == 0 ? 1 : 1000;
      // relaxed (both): the test checks the recorded order, not the model's orders.
      if (rng.below(2) == 0) seen[t].push_back({w, words[w].load(std::memory_order_relaxed), 0});
      else seen[t].push_back({w, words[w].fetch_add(add, std::memory_order_relaxed), add});
      if (rng.below(16) == 0) core::cpu_relax();
    }
    hook.release();
  };
  std::thread a(body, 0), b(body, 1);
  a.join();
  b.join();
  Schedule order;
  ASSERT_EQ(merge_sync_order(logs, order), "");
  // Replay sequentially: each RMW sync point consumes the actor's next Seen.
  uint64_t sim[3] = {0, 0, 0};
  std::vector<size_t> next_log(2, 0), next_seen(2, 0);
  size_t checked = 0;
  for (unsigned t : expand(order)) {
    const SyncAccess& e = logs[t][next_log[t]++];
    if (e.stripe == kNoStripe) continue;  // cpu_relax
    const Seen& s = seen[t][next_seen[t]++];
    ASSERT_EQ(sim[s.word], s.value) << "access " << checked << " of t" << t;
    sim[s.word] += s.add;
    ++checked;
  }
  EXPECT_EQ(checked, 2u * kOps);
  for (unsigned w = 0; w < 3; ++w) EXPECT_EQ(sim[w], words[w].peek());
}

TEST(RecordingHook, RecordsNothingOutsideOps) {
  StripeTable stripes;
  std::vector<SyncAccess> log;
  RecordingHook hook(stripes, &log, false, 1, 64);
  int current = -1;
  hook.watch(&current);
  core::Atomic<uint32_t> x{0};
  {
    core::ScopedSyncHook installed(&hook);
    x.store(1, std::memory_order_relaxed);  // relaxed: a test of the hook
    current = 3;
    x.store(2, std::memory_order_relaxed);  // relaxed: likewise
    core::cpu_relax();
    current = -1;
    x.store(3, std::memory_order_relaxed);  // relaxed: likewise
  }
  hook.release();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].stripe, StripeTable::index(&x));
  EXPECT_EQ(log[1].stripe, kNoStripe);
}

const char* kFolioRecheck = R"(refhammer-trace 1
model normal=16 movable=16 device=0 block=16 max_order=3 mms=1 mm_slots=2 file_pages=4 gmem_pages=4 gmem_huge_order=2 gmem_convert_spins=8 rcu_readers=2 migrate_passes=2
bugs gup-fast-skips-folio-recheck
seed 1
scheduler deterministic
audit_every 1
expect violation refcount-underflow/folio_put_refs/unpin
actors 2
t0 alloc zone=normal order=1
t0 map slot=0 mm=0 pte=0 page=1
t0 unmap mm=0 pte=0
t0 split slot=0
t0 map slot=1 mm=0 pte=0 page=0
t1 gup_fast mm=0 pte=0
t1 unpin slot=0
)";

// Audits after every op (audit_every 1) run from the scheduler once every
// actor is between ops; they block nobody, so the folio-recheck race, which
// needs t1's GUP-fast preempted inside the op while t0 runs three ops, is
// still reachable within 2 preemptions.
TEST(SchedulerAudits, DoNotHideMidOpInterleavings) {
  Trace t;
  ASSERT_EQ(parse_trace(kFolioRecheck, "folio-recheck.trace", t), "");
  BoundedOptions bo;
  bo.bound = 2;
  bo.run.audit_every = 1;
  bo.want_signature = t.expect_signature;
  const BoundedResult b = explore_bounded(t.model, t.program, bo);
  ASSERT_TRUE(b.has_failure);
  EXPECT_EQ(b.first_failure.report.signature, t.expect_signature);
  EXPECT_GT(b.first_failure.audits, 0u);
  // The audits ran: a clean schedule of the same program audits after ops.
  auto src = make_recorded_source(Schedule{});
  const RunResult seq = run_deterministic(t.model, t.program, *src, bo.run);
  EXPECT_GE(seq.audits, 1u);
}

TEST(OrderSource, RunsStepsOutsideOpsFreelyAndFollowsTheOrderInside) {
  auto src = make_order_source(Schedule{{1, 2}, {0, 1}});
  SchedView v;
  v.in_op = {0, 0};
  src->attach(&v);
  EXPECT_TRUE(src->follows_order());
  EXPECT_EQ(src->pick({0, 1}, 0, 0), 0u);  // outside ops: current keeps it
  v.in_op = {1, 0};
  EXPECT_EQ(src->pick({0, 1}, 0, 1), 1u);  // t1 outside: its own step
  v.in_op = {1, 1};
  EXPECT_EQ(src->pick({0, 1}, 1, 2), 1u);  // the order: 1, 1, 0
  EXPECT_EQ(src->pick({0, 1}, 1, 3), 1u);
  EXPECT_TRUE(src->replaying());
  EXPECT_FALSE(src->diverged());
  EXPECT_EQ(src->pick({1}, 1, 4), 1u);  // the order wants t0, which cannot run
  EXPECT_TRUE(src->diverged());
  EXPECT_FALSE(src->replaying());
}

TEST(Traces, TheOrderLineSurvivesWriteAndParseAndIsRangeChecked) {
  Trace t;
  ASSERT_EQ(parse_trace(kFolioRecheck, "a.trace", t), "");
  t.has_order = true;
  t.order = Schedule{{0, 40}, {1, 7}, {0, 3}};
  Trace back;
  ASSERT_EQ(parse_trace(write_trace(t), "b.trace", back), "");
  EXPECT_TRUE(back.has_order);
  EXPECT_EQ(back.order, t.order);
  Trace bad;
  const std::string text = std::string(kFolioRecheck) + "order 0x3 2x1\n";
  const std::string e = parse_trace(text, "c.trace", bad);
  EXPECT_NE(e.find("c.trace:16: order names actor 2"), std::string::npos) << e;
  EXPECT_NE(parse_trace(std::string(kFolioRecheck) + "order 0x\n", "d.trace", bad).find("d.trace:16: order:"),
            std::string::npos);
}

}  // namespace
