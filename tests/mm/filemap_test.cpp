// tests for core/filemap.hpp and core/rcu.hpp — the page cache (add, the
// RCU speculative lookup, truncate) and the grace-period rule that keeps a
// removed folio from being freed under a lookup.
//
// Timelines in comments read left to right: the refcount of the folio under
// test after each step; "!" marks a reported violation. Races are forced
// deterministically with a SyncScript that runs an action at a chosen sync
// point (before that access), on the same thread.
#include "core/filemap.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/rcu.hpp"
#include "core/sync.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

Pfn entry(Model& m, uint32_t i) { return m.file().entry(i).peek(); }

// --- filemap_add_folio --------------------------------------------------------

// The cache takes one reference per page, and every index of the folio
// names its head.
//   order 0: 1 --add @3--> 2        order 2: 1 --add @4--> 5
TEST(FilemapAddFolio, TakesOneReferencePerPage) {
  Model m(small_config());
  const Pfn p = alloc(m);
  const Pfn h = alloc(m, 2, ZoneType::Movable);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 3), 0);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), h, 4), 0);
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(refcount(m, h), 5);
  EXPECT_EQ(m.frame(h).mapping.peek(), core::kFileMapping);
  EXPECT_EQ(m.frame(h).index.peek(), 4u);
  EXPECT_EQ(m.frame(p).index.peek(), 3u);
  for (uint32_t i = 0; i < m.file().size(); ++i)
    EXPECT_EQ(entry(m, i), i == 3 ? p : (i >= 4 && i < 8) ? h : kNoPfn) << "index " << i;
  EXPECT_EQ(m.frame(h).mapcount.peek(), 0);
  EXPECT_FALSE(m.file().xa_lock.is_locked_quiescent());
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}, {h, 1}})));
}

struct AddErrorCase {
  const char* name;
  unsigned order;
  uint32_t index;
  int setup;  // 0 none; 1 index 6 holds another folio; 2 the folio is already at 12; 3 it is in guest_memfd
  int err;
};

// Refusals change nothing: no reference, no entry, no mapping.
TEST(FilemapAddFolio, Refusals) {
  const AddErrorCase cases[] = {
      {"misaligned", 2, 2, 0, -EINVAL},
      {"misaligned_order1", 1, 5, 0, -EINVAL},
      {"index_past_the_file", 0, 16, 0, -EINVAL},
      {"folio_past_the_end", 3, 16, 0, -EINVAL},
      {"index_taken", 0, 6, 1, -EEXIST},
      {"range_overlaps_a_taken_index", 2, 4, 1, -EEXIST},
      {"already_in_this_file", 0, 3, 2, -EBUSY},
      {"already_in_this_file_same_index", 0, 12, 2, -EBUSY},
      {"already_in_guest_memfd", 0, 3, 3, -EBUSY},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn h = alloc(m, c.order);
    const Pfn other = alloc(m);
    int32_t h_refs = 1;       // beyond the caller's own
    if (c.setup == 1) { ASSERT_EQ(core::filemap_add_folio(m, m.file(), other, 6), 0); }
    if (c.setup == 2) {
      ASSERT_EQ(core::filemap_add_folio(m, m.file(), h, 12), 0);
      h_refs += 1;
    }
    if (c.setup == 3) {
      ASSERT_EQ(core::filemap_add_folio(m, m.gmem().cache(), h, 0), 0);
      h_refs += 1;
    }
    std::vector<Pfn> before;
    for (uint32_t i = 0; i < m.file().size(); ++i) before.push_back(entry(m, i));
    const uint16_t mapping = m.frame(h).mapping.peek();

    EXPECT_EQ(core::filemap_add_folio(m, m.file(), h, c.index), c.err);

    EXPECT_EQ(refcount(m, h), h_refs);
    EXPECT_EQ(refcount(m, other), c.setup == 1 ? 2 : 1);
    EXPECT_EQ(m.frame(h).mapping.peek(), mapping);
    for (uint32_t i = 0; i < m.file().size(); ++i) EXPECT_EQ(entry(m, i), before[i]) << "index " << i;
    EXPECT_FALSE(m.file().xa_lock.is_locked_quiescent());
    EXPECT_TRUE(all_clean(m, ledger_of(m, {{h, 1}, {other, 1}})));
  }
}

// --- filemap_get_folio --------------------------------------------------------

// The lookup returns the head with a reference of its own, from any index the
// folio covers; it leaves its RCU read section (the first reader slot is
// free again).
//   h: 1 --add--> 5 --put (ours)--> 4 --get @6--> 5 --get @4--> 6
TEST(FilemapGetFolio, ReturnsTheHeadWithAReference) {
  Model m(small_config());
  const Pfn h = alloc(m, 2);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), h, 4), 0);
  core::folio_put(m, h);
  EXPECT_EQ(refcount(m, h), 4);

  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 6), h);
  EXPECT_EQ(refcount(m, h), 5);
  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 4), h);
  EXPECT_EQ(refcount(m, h), 6);
  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 3), kNoPfn);   // hole
  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 16), kNoPfn);  // past the file
  EXPECT_EQ(refcount(m, h), 6);
  EXPECT_EQ(m.probes().count(Probe::CacheLookupRetry), 0u);

  const uint32_t slot = m.rcu().rcu_read_lock();
  EXPECT_EQ(slot, 0u) << "a lookup left its RCU reader slot taken";
  m.rcu().rcu_read_unlock(slot);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{h, 2}})));
}

// Step 2 loses to a migration that froze and freed the folio between the
// lookup's slot read and its folio_try_get: the get sees zero, the lookup
// retries and finds the new folio.
//   src: cache 1 + isolation 1 = 2 --[lookup reads slot: src]
//        --[migrate: freeze 2->0, entry -> dst, unfreeze 1, put 0 => buddy]
//        --try_get(src) sees 0--> retry --slot: dst, try_get 1->... dst: 2
TEST(FilemapGetFolio, RetriesWhenTheFolioWasMigratedAway) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), src, 9), 0);
  m.frame(src).payload.store(77, std::memory_order_relaxed);
  int migrated = 1;
  SyncScript hook({{SyncOp::Load, &m.frame(src).refcount, 1,
                [&] { migrated = core::migrate_folio(m, src, ZoneType::Normal); }}});
  Pfn got;
  {
    core::ScopedSyncHook g(&hook);
    got = core::filemap_get_folio(m, m.file(), 9);
  }
  ASSERT_EQ(hook.done(), 1u);
  EXPECT_EQ(migrated, 0);
  ASSERT_NE(got, kNoPfn);
  EXPECT_NE(got, src);
  EXPECT_EQ(m.frames().zone_of(got), ZoneType::Normal);
  EXPECT_EQ(entry(m, 9), got);
  EXPECT_EQ(refcount(m, got), 2);  // cache + the lookup's
  EXPECT_EQ(m.frame(got).payload.peek(), 77u);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 1u);
  EXPECT_EQ(m.probes().count(Probe::CacheLookupRetry), 1u);
  EXPECT_EQ(m.probes().count(Probe::CacheLookupPutLast), 0u);
  EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 1u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{got, 1}})));
}

// Step 3 catches a reused frame, and the speculative getter's put is the
// last one: it frees a folio it never owned (kernel-semantics §1.4).
//   src --[lookup reads slot: src] --[migrate src away; src reallocated as q: 1]
//   --try_get(q) 1->2 --[q's owner puts: 1] --re-check: slot is dst != q
//   --put 1->0 => the lookup frees q --retry--> dst
TEST(FilemapGetFolio, SpeculativeGetterFreesAReusedFolio) {
  Model m(small_config());
  const Pfn src = alloc(m);
  const Pfn pin_buddy = alloc(m);  // keeps src from merging when it is freed
  ASSERT_EQ(pin_buddy, src ^ 1u) << "allocation order assumption";
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), src, 2), 0);
  Pfn q = kNoPfn;
  uint32_t src_gen = m.frame(src).generation.peek();
  SyncScript hook({
      {SyncOp::Load, &m.frame(src).refcount, 1,
       [&] {
         EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), 0);
         q = core::alloc_pages(m, ZoneType::Normal, 0);
       }},
      {SyncOp::Load, &m.file().entry(2), 1, [&] { core::folio_put(m, q); }},
  });
  Pfn got;
  {
    core::ScopedSyncHook g(&hook);
    got = core::filemap_get_folio(m, m.file(), 2);
  }
  ASSERT_EQ(hook.done(), 2u);
  ASSERT_EQ(q, src) << "the freed frame was not reallocated first";
  EXPECT_EQ(m.frame(q).generation.peek(), src_gen + 1);
  EXPECT_EQ(got, entry(m, 2));
  EXPECT_NE(got, src);
  EXPECT_EQ(refcount(m, got), 2);
  EXPECT_EQ(refcount(m, q), 0);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 0u);
  EXPECT_EQ(m.probes().count(Probe::CacheLookupRetry), 1u);
  EXPECT_EQ(m.probes().count(Probe::CacheLookupPutLast), 1u);
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 2u);  // migration freed src, the lookup freed q
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{got, 1}, {pin_buddy, 1}})));
}

// --- truncate_folio -----------------------------------------------------------

// truncate unmaps the folio everywhere, removes every index, completes a
// grace period and drops the cache's references: the folio is freed.
//   h: 1 --add @8--> 5 --map x2--> 7 mc2 --put (ours)--> 6
//      --truncate @10: get 7, unmap 5 mc0, remove, gp, put_refs 1, put--> 0 => buddy
TEST(TruncateFolio, UnmapsRemovesWaitsAndFrees) {
  Model m(small_config());
  const Pfn h = alloc(m, 2);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), h, 8), 0);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, h + 1), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 0, h + 3), 0);
  core::folio_put(m, h);
  ASSERT_EQ(refcount(m, h), 6);
  const uint64_t completed_before = m.rcu().completed();

  EXPECT_EQ(core::truncate_folio(m, m.file(), 10), 0);

  for (uint32_t i = 8; i < 12; ++i) EXPECT_EQ(entry(m, i), kNoPfn);
  EXPECT_EQ(m.mm(0).pte(3).peek(), 0u);
  EXPECT_EQ(m.mm(1).pte(0).peek(), 0u);
  EXPECT_EQ(m.rcu().completed(), completed_before + 1);
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
  EXPECT_EQ(m.probes().count(Probe::TruncateRetry), 0u);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

TEST(TruncateFolio, NothingThere) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 0), 0);
  EXPECT_EQ(core::truncate_folio(m, m.file(), 1), -ENOENT);
  EXPECT_EQ(core::truncate_folio(m, m.file(), 16), -ENOENT);
  EXPECT_EQ(core::truncate_folio(m, m.file(), 0), 0);
  EXPECT_EQ(core::truncate_folio(m, m.file(), 0), -ENOENT);
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
}

// Another holder keeps a truncated folio alive; it leaves the cache (no
// mapping), and its later last put is legal: the grace period is over.
//   1 --add--> 2 --get_folio--> 3 --truncate--> 2 (ours + lookup's)
//   --put--> 1 --put--> 0 => buddy, no violation
TEST(TruncateFolio, ReferencedFolioSurvivesUntilTheLastPut) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 5), 0);
  ASSERT_EQ(core::filemap_get_folio(m, m.file(), 5), p);
  EXPECT_EQ(core::truncate_folio(m, m.file(), 5), 0);
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(m.frame(p).mapping.peek(), 0);
  EXPECT_EQ(entry(m, 5), kNoPfn);
  const uint64_t gp = m.frame(p).rcu_free_after.peek();
  EXPECT_NE(gp, 0u);
  EXPECT_LE(gp, m.rcu().completed());
  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 5), kNoPfn);
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {{p, 2}})));
  core::folio_put(m, p);
  core::folio_put(m, p);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- RCU ----------------------------------------------------------------------

// synchronize_rcu(seq) waits for a reader that entered before grace period
// seq started. The wait is driven on one thread: a hook counts the spins and,
// at the 5th, ends the reader's section.
//   reader enters (sees gp 0) -- start gp 1 -- synchronize(1): spin x5 -- reader leaves -- done
TEST(Rcu, SynchronizeWaitsForAReaderThatEnteredBefore) {
  Model m(small_config());
  core::Rcu& rcu = m.rcu();
  const uint32_t r = rcu.rcu_read_lock();
  const uint64_t gp = rcu.start_grace_period();
  EXPECT_EQ(gp, 1u);
  EXPECT_EQ(rcu.completed(), 0u);
  bool left = false;
  SyncScript hook({{SyncOp::Spin, nullptr, 5, [&] {
                  EXPECT_EQ(rcu.completed(), 0u) << "completed while the reader was inside";
                  rcu.rcu_read_unlock(r);
                  left = true;
                }}});
  {
    core::ScopedSyncHook g(&hook);
    rcu.synchronize_rcu(gp);
  }
  EXPECT_TRUE(left);
  EXPECT_EQ(hook.spins, 5u);
  EXPECT_EQ(rcu.completed(), gp);
  EXPECT_TRUE(no_violations(m));
}

// A reader that entered after the grace period started is not waited for.
//   start gp 1 -- reader enters (sees gp 1) -- synchronize(1): no spin, done
TEST(Rcu, SynchronizeDoesNotWaitForAReaderThatEnteredAfter) {
  Model m(small_config());
  core::Rcu& rcu = m.rcu();
  const uint64_t gp = rcu.start_grace_period();
  const uint32_t r = rcu.rcu_read_lock();
  SyncScript hook;  // counts the spins
  {
    core::ScopedSyncHook g(&hook);
    rcu.synchronize_rcu(gp);
  }
  EXPECT_EQ(hook.spins, 0u);
  EXPECT_EQ(rcu.completed(), gp);
  rcu.rcu_read_unlock(r);
}

// Only the earlier of two readers holds the grace period up; completion is
// monotonic.
//   r1 enters -- start gp 1 -- r2 enters -- synchronize(1): spin x3, r1 leaves -- done (r2 inside)
//   -- start gp 2 -- synchronize(2): r2 entered before 2: spin x2, r2 leaves -- done
TEST(Rcu, OnlyEarlierReadersHoldTheGracePeriod) {
  Model m(small_config());
  core::Rcu& rcu = m.rcu();
  const uint32_t r1 = rcu.rcu_read_lock();
  const uint64_t gp1 = rcu.start_grace_period();
  const uint32_t r2 = rcu.rcu_read_lock();
  EXPECT_NE(r1, r2);
  SyncScript first({{SyncOp::Spin, nullptr, 3, [&] { rcu.rcu_read_unlock(r1); }}});
  {
    core::ScopedSyncHook g(&first);
    rcu.synchronize_rcu(gp1);
  }
  EXPECT_EQ(first.spins, 3u);
  EXPECT_EQ(rcu.completed(), gp1);

  const uint64_t gp2 = rcu.start_grace_period();
  EXPECT_EQ(gp2, gp1 + 1);
  SyncScript second({{SyncOp::Spin, nullptr, 2, [&] { rcu.rcu_read_unlock(r2); }}});
  {
    core::ScopedSyncHook g(&second);
    rcu.synchronize_rcu(gp2);
  }
  EXPECT_EQ(second.spins, 2u);
  EXPECT_EQ(rcu.completed(), gp2);
  rcu.synchronize_rcu(gp1);  // an old grace period: nothing to wait for, no step back
  EXPECT_EQ(rcu.completed(), gp2);
}

// probe.hpp names Probe::RcuWaitedForReader ("synchronize_rcu waited for a
// reader that started before it"), but Rcu has no access to the Model's
// probe counters and nothing ever hits it: a run cannot prove this path.
// FAILS against core/ as of this writing (see the report's proposed patch).
TEST(Rcu, WaitingForAReaderHitsItsProbe) {
  Model m(small_config());
  core::Rcu& rcu = m.rcu();
  const uint32_t r = rcu.rcu_read_lock();
  const uint64_t gp = rcu.start_grace_period();
  SyncScript hook({{SyncOp::Spin, nullptr, 1, [&] { rcu.rcu_read_unlock(r); }}});
  {
    core::ScopedSyncHook g(&hook);
    rcu.synchronize_rcu(gp);
  }
  ASSERT_EQ(hook.spins, 1u);
  EXPECT_EQ(m.probes().count(Probe::RcuWaitedForReader), 1u)
      << "synchronize_rcu waited for a reader, but Probe::RcuWaitedForReader was not hit";
}

// The same rule with real threads: a lookup stopped between its slot read
// (step 1) and folio_try_get (step 2) holds truncate's grace period; the
// folio stays alive until the lookup is done with it.
//   lookup: rcu_read_lock, slot -> p, [paused]
//   truncate: get, remove, gp, synchronize: spins -> [lookup resumes: try_get
//   succeeds on the live folio, re-check fails, put, rcu_read_unlock] -> done,
//   put_refs, put => freed, no violation
TEST(Rcu, TruncateWaitsForALookupOnAnotherThread) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 1), 0);
  core::folio_put(m, p);  // the cache's reference only

  std::atomic<bool> lookup_paused{false}, resume{false};
  std::atomic<int32_t> refcount_seen_by_lookup{-1};
  Pfn got = 0;
  std::thread lookup([&] {
    SyncScript pause({{SyncOp::Load, &m.frame(p).refcount, 1, [&] {
                     refcount_seen_by_lookup = m.frame(p).refcount.peek();
                     lookup_paused = true;
                     while (!resume) std::this_thread::yield();
                   }}});
    core::ScopedSyncHook g(&pause);
    got = core::filemap_get_folio(m, m.file(), 1);
  });
  while (!lookup_paused) std::this_thread::yield();

  SyncScript resumer({{SyncOp::Spin, nullptr, 1, [&] { resume = true; }}});
  int err;
  {
    core::ScopedSyncHook g(&resumer);
    err = core::truncate_folio(m, m.file(), 1);
  }
  lookup.join();
  EXPECT_EQ(err, 0);
  EXPECT_EQ(refcount_seen_by_lookup.load(), 1);
  EXPECT_GE(resumer.spins, 1u) << "truncate did not wait for the lookup";
  EXPECT_EQ(got, kNoPfn);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 0u) << "the lookup found the folio alive";
  EXPECT_EQ(m.probes().count(Probe::CacheLookupRetry), 1u);
  EXPECT_EQ(refcount(m, p), 0);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// The free-path check: a folio removed from a page cache under grace period
// gp and freed before gp completed, while a reader that entered before gp is
// still inside, is a use-after-free. This is how a truncate that skips
// synchronize_rcu() is caught. The free itself still happens.
//   reader enters -- start gp -- rcu_free_after = gp -- put 1->0 ! UseAfterFree
TEST(Rcu, FreeBeforeTheGracePeriodIsAUseAfterFree) {
  Model m(small_config());
  const Pfn p = alloc(m, 1);
  const uint32_t r = m.rcu().rcu_read_lock();
  const uint64_t gp = m.rcu().start_grace_period();
  m.frame(p).rcu_free_after.store(gp, std::memory_order_relaxed);
  core::folio_put(m, p);
  EXPECT_TRUE(only_violation(m, ViolationKind::UseAfterFree, p, "__folio_put", "grace period"));
  EXPECT_EQ(m.frame(p).rcu_free_after.peek(), 0u);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {})));
  m.rcu().rcu_read_unlock(r);
}

// The control: after synchronize_rcu(gp) the same free is legal.
TEST(Rcu, FreeAfterTheGracePeriodIsLegal) {
  Model m(small_config());
  const Pfn p = alloc(m, 1);
  const uint64_t gp = m.rcu().start_grace_period();
  m.frame(p).rcu_free_after.store(gp, std::memory_order_relaxed);
  m.rcu().synchronize_rcu(gp);
  core::folio_put(m, p);
  EXPECT_TRUE(no_violations(m));
  EXPECT_TRUE(fully_merged(m));
}

// A truncate that skipped step B, done by hand while a lookup that read the
// slot is still in its read section: caught at the free.
//   p: 1 --add--> 2 --put--> 1 ; lookup: rcu_read_lock, slot -> p
//   "truncate": remove, gp, (no synchronize), put_refs 1->0 ! UseAfterFree
TEST(Rcu, TruncateWithoutGracePeriodIsCaught) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 0), 0);
  core::folio_put(m, p);
  core::Rcu& rcu = m.rcu();
  const uint32_t lookup = rcu.rcu_read_lock();
  ASSERT_EQ(m.file().entry(0).load(std::memory_order_acquire), p);  // step 1 of the lookup
  // A. remove
  core::folio_lock(m, p);
  m.file().entry(0).store(kNoPfn, std::memory_order_relaxed);
  m.frame(p).mapping.store(0, std::memory_order_relaxed);
  const uint64_t gp = rcu.start_grace_period();
  m.frame(p).rcu_free_after.store(gp, std::memory_order_relaxed);
  core::folio_unlock(m, p);
  // B skipped. C:
  core::folio_put_refs(m, p, 1);
  EXPECT_TRUE(only_violation(m, ViolationKind::UseAfterFree, p, "__folio_put"));
  rcu.rcu_read_unlock(lookup);
}

}  // namespace
