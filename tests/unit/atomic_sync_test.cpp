// tests for core/atomic.hpp and core/sync.hpp — every Atomic access is one
// sync point of the right kind, countdown sampling, SpinLock under a hook,
// hook installation, and actors in frame histories.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic.hpp"
#include "core/buddy.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/sync.hpp"
#include "tests/support/support.hpp"

namespace {

using core::Atomic;
using core::SyncOp;
using namespace refhammer_test;

// Records every on_sync and re-arms to `rearm`.
class RecordingHook final : public core::SyncHook {
 public:
  explicit RecordingHook(uint64_t rearm = 1) : rearm_(rearm) { countdown = rearm; }
  void on_sync(SyncOp op, const void* addr) override {
    ops.push_back(op);
    addrs.push_back(addr);
    countdown = rearm_;
  }
  std::vector<SyncOp> ops;
  std::vector<const void*> addrs;

 private:
  uint64_t rearm_;
};

struct AccessCase {
  const char* name;
  void (*access)(Atomic<uint32_t>&);
  SyncOp op;
  uint32_t value_after;  // starting from 5
};

// relaxed everywhere below: single-threaded, only the sync point matters.
const AccessCase kAccesses[] = {
    {"load", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.load(std::memory_order_relaxed), 5u); }, SyncOp::Load, 5},
    {"store", [](Atomic<uint32_t>& a) { a.store(9, std::memory_order_relaxed); }, SyncOp::Store, 9},
    {"exchange", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.exchange(7, std::memory_order_relaxed), 5u); }, SyncOp::Rmw,
     7},
    {"fetch_add", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.fetch_add(3, std::memory_order_relaxed), 5u); }, SyncOp::Rmw,
     8},
    {"fetch_sub", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.fetch_sub(3, std::memory_order_relaxed), 5u); }, SyncOp::Rmw,
     2},
    {"fetch_or", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.fetch_or(2, std::memory_order_relaxed), 5u); }, SyncOp::Rmw, 7},
    {"fetch_and", [](Atomic<uint32_t>& a) { EXPECT_EQ(a.fetch_and(4, std::memory_order_relaxed), 5u); }, SyncOp::Rmw,
     4},
    {"cas_success",
     [](Atomic<uint32_t>& a) {
       uint32_t e = 5;
       EXPECT_TRUE(a.compare_exchange(e, 6, std::memory_order_relaxed, std::memory_order_relaxed));
     },
     SyncOp::Cas, 6},
    {"cas_failure",
     [](Atomic<uint32_t>& a) {
       uint32_t e = 4;
       EXPECT_FALSE(a.compare_exchange(e, 6, std::memory_order_relaxed, std::memory_order_relaxed));
       EXPECT_EQ(e, 5u);
     },
     SyncOp::Cas, 5},
};

TEST(SyncPoint, EachAtomicAccessIsOneSyncPointOfItsKind) {
  for (const AccessCase& c : kAccesses) {
    SCOPED_TRACE(c.name);
    Atomic<uint32_t> a(5);
    RecordingHook hook;
    {
      core::ScopedSyncHook guard(&hook);
      c.access(a);
    }
    ASSERT_EQ(hook.ops.size(), 1u);
    EXPECT_EQ(hook.ops[0], c.op);
    EXPECT_EQ(hook.addrs[0], static_cast<const void*>(&a));
    EXPECT_EQ(a.peek(), c.value_after);
  }
}

TEST(SyncPoint, PeekAndInitAreNotSyncPoints) {
  Atomic<int32_t> a;
  RecordingHook hook;
  core::ScopedSyncHook guard(&hook);
  a.init(-4);
  EXPECT_EQ(a.peek(), -4);
  EXPECT_TRUE(hook.ops.empty());
}

TEST(SyncPoint, NoHookNoCalls) {
  RecordingHook hook;
  core::ScopedSyncHook outer(&hook);
  {
    core::ScopedSyncHook none(nullptr);
    EXPECT_EQ(core::tls_sync_hook, nullptr);
    Atomic<uint32_t> a;
    for (const AccessCase& c : kAccesses) {
      a.init(5);
      c.access(a);
      EXPECT_EQ(a.peek(), c.value_after) << c.name;
    }
    core::cpu_relax();
  }
  EXPECT_TRUE(hook.ops.empty());
  EXPECT_EQ(hook.countdown, 1u) << "an uninstalled hook is not decremented";
}

// countdown = 3, re-armed to 3: on_sync at every third access.
TEST(SyncPoint, CountdownSamplesEveryNthAccess) {
  Atomic<uint32_t> a(0);
  RecordingHook hook(3);
  core::ScopedSyncHook guard(&hook);
  for (int i = 0; i < 10; ++i) a.fetch_add(1, std::memory_order_relaxed);
  EXPECT_EQ(hook.ops.size(), 3u);  // accesses 3, 6, 9
  EXPECT_EQ(hook.countdown, 2u);   // access 10 used one of the next three
  a.load(std::memory_order_relaxed);
  a.store(0, std::memory_order_relaxed);
  ASSERT_EQ(hook.ops.size(), 4u);  // access 12
  EXPECT_EQ(hook.ops[3], SyncOp::Store);
}

TEST(SyncPoint, CpuRelaxIsASpinSyncPoint) {
  RecordingHook hook;
  core::ScopedSyncHook guard(&hook);
  core::cpu_relax();
  ASSERT_EQ(hook.ops.size(), 1u);
  EXPECT_EQ(hook.ops[0], SyncOp::Spin);
  EXPECT_EQ(hook.addrs[0], nullptr);
}

TEST(SyncHookScope, ScopedSyncHookRestoresThePreviousHook) {
  EXPECT_EQ(core::tls_sync_hook, nullptr);
  RecordingHook outer_hook, inner_hook;
  {
    core::ScopedSyncHook outer(&outer_hook);
    EXPECT_EQ(core::tls_sync_hook, &outer_hook);
    {
      core::ScopedSyncHook inner(&inner_hook);
      EXPECT_EQ(core::tls_sync_hook, &inner_hook);
      core::cpu_relax();
    }
    EXPECT_EQ(core::tls_sync_hook, &outer_hook);
    core::cpu_relax();
  }
  EXPECT_EQ(core::tls_sync_hook, nullptr);
  EXPECT_EQ(inner_hook.ops.size(), 1u);
  EXPECT_EQ(outer_hook.ops.size(), 1u);
}

TEST(SyncHookScope, HooksAreThreadLocal) {
  RecordingHook hook;
  core::ScopedSyncHook guard(&hook);
  core::SyncHook* seen = &hook;
  std::thread t([&seen] {
    seen = core::tls_sync_hook;
    Atomic<uint32_t> a(0);
    a.fetch_add(1, std::memory_order_relaxed);
  });
  t.join();
  EXPECT_EQ(seen, nullptr);
  EXPECT_TRUE(hook.ops.empty());
}

// A fiber-style hook: the holder of the lock "runs" when the waiter spins.
// Here the hook releases the lock on the waiter's third spin (the holder's
// unlock is not the waiter's sync point).
TEST(SpinLock, WaiterSpinsThroughSyncPointsUntilReleased) {
  core::SpinLock lock;
  lock.lock();
  EXPECT_TRUE(lock.is_locked_quiescent());
  EXPECT_FALSE(lock.try_lock());
  SyncScript hook(SyncOp::Spin, nullptr, 3, [&] { lock.unlock(); });
  {
    core::ScopedSyncHook guard(&hook);
    lock.lock();  // spins 3 times, then the CAS succeeds
  }
  EXPECT_EQ(hook.spins, 3u);
  EXPECT_TRUE(lock.is_locked_quiescent());
  lock.unlock();
  EXPECT_FALSE(lock.is_locked_quiescent());
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

// Real contention: a second thread spins (through its own hook's sync points)
// until this thread lets go.
class CountingHook final : public core::SyncHook {
 public:
  void on_sync(SyncOp op, const void*) override {
    if (op == SyncOp::Spin) spins.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
    countdown = 1;
  }
  std::atomic<int> spins{0};
};

TEST(SpinLock, ContendedLockUnderAHook) {
  core::SpinLock lock;
  CountingHook hook;
  std::atomic<bool> acquired{false};
  lock.lock();
  std::thread waiter([&] {
    core::ScopedSyncHook guard(&hook);
    core::SpinGuard g(lock);
    acquired.store(true, std::memory_order_relaxed);  // relaxed: read after join
  });
  // relaxed: a progress counter; the join below orders everything else.
  while (hook.spins.load(std::memory_order_relaxed) < 5) std::this_thread::yield();
  EXPECT_FALSE(acquired.load(std::memory_order_relaxed));
  lock.unlock();
  waiter.join();
  EXPECT_TRUE(acquired.load(std::memory_order_relaxed));
  EXPECT_GE(hook.spins.load(std::memory_order_relaxed), 5);
  EXPECT_FALSE(lock.is_locked_quiescent());
}

// The model's code runs through the hook too: one folio_get is a handful of
// sync points, and each one sees the hook.
TEST(SyncPoint, ModelPrimitivesGoThroughTheHook) {
  core::Model m(small_config());
  const core::Pfn p = core::alloc_pages(m, core::ZoneType::Normal, 0);
  ASSERT_NE(p, core::kNoPfn);
  RecordingHook hook;
  {
    core::ScopedSyncHook guard(&hook);
    core::folio_get(m, p);
  }
  // folio_get is one relaxed fetch_add on the refcount
  ASSERT_EQ(hook.ops.size(), 1u);
  EXPECT_EQ(hook.ops[0], SyncOp::Rmw);
  EXPECT_EQ(hook.addrs[0], static_cast<const void*>(&m.frame(p).refcount));
}

TEST(Actor, CurrentActorFollowsTheHook) {
  EXPECT_EQ(core::current_actor(), core::kNoActor);
  RecordingHook hook;
  hook.actor = 7;
  {
    core::ScopedSyncHook guard(&hook);
    EXPECT_EQ(core::current_actor(), 7);
    hook.actor = 2;  // the scheduler switched actors
    EXPECT_EQ(core::current_actor(), 2);
  }
  EXPECT_EQ(core::current_actor(), core::kNoActor);
}

// Histories and violations carry the actor that ran the step.
TEST(Actor, RecordedInFrameHistoryAndViolations) {
  core::Model m(small_config());
  const core::Pfn p = core::alloc_pages(m, core::ZoneType::Normal, 0);  // no actor
  ASSERT_NE(p, core::kNoPfn);
  RecordingHook hook;
  hook.actor = 3;
  {
    core::ScopedSyncHook guard(&hook);
    core::folio_get(m, p);
    hook.actor = 4;
    core::folio_get(m, kNormalStart);  // a free frame: violation by actor 4
  }
  const auto h = m.frame(p).history.snapshot();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].actor, core::kNoActor);  // Alloc
  EXPECT_EQ(h[1].actor, core::kNoActor);  // SetRefcounted
  EXPECT_EQ(h[2].event, core::RefEvent::Get);
  EXPECT_EQ(h[2].actor, 3);
  const auto vs = m.violations();
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].actor, 4);
  EXPECT_EQ(vs[0].frame.history.back().actor, 4);
  EXPECT_NE(core::format_violation(vs[0]).find("(actor t4)"), std::string::npos);
}

}  // namespace
