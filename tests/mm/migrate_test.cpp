// tests for core/migrate.hpp — migrate_folio (unmap to migration entries,
// freeze at folio_expected_refs, move the page-cache entry, copy, remap),
// its refusals (extra references, pins, the folio lock, guest_memfd), the
// "freed under us" shortcut, and the pfn walker's speculative get.
//
// Timelines in comments read left to right: the refcount ("mc" mapcount) of
// src, then dst, after each step. migrate_folio consumes the caller's
// isolation reference in every case; here that is the test's allocation
// reference unless a comment says otherwise.
#include "core/migrate.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <atomic>
#include <thread>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/filemap.hpp"
#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/gup.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/sync.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

constexpr int32_t kBias = core::GUP_PIN_COUNTING_BIAS;

Pfn mapped_page(Model& m, uint32_t mm, uint32_t slot) { return core::pte::pfn(pte(m, mm, slot)); }

// --- successful migration -----------------------------------------------------

// An order-0 anon folio with one mapping moves to ZONE_NORMAL: the payload
// is copied, the PTE maps dst, src goes back to the buddy.
//   src: 2 (iso + map) --unmap: migration entry--> 1 mc0 --freeze(1) 0, unfreeze 1
//   dst: 1 --copy, remap--> 2 mc1 --unlock, put dst--> 1 ; put src--> 0 => buddy
TEST(MigrateFolio, AnonSmallFolioWithOneMapping) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::map_page(m, m.mm(0), 2, src), 0);
  ASSERT_EQ(core::mm_write(m, m.mm(0), 2, 0x1234), 0);
  ASSERT_EQ(core::folio_expected_refs(m, src), 1);

  EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), 0);

  const Pfn dst = mapped_page(m, 0, 2);
  EXPECT_NE(dst, src);
  EXPECT_TRUE(core::pte::is_present(pte(m, 0, 2)));
  EXPECT_EQ(m.frames().zone_of(dst), ZoneType::Normal);
  EXPECT_EQ(refcount(m, dst), 1);
  EXPECT_EQ(mapcount(m, dst), 1);
  uint64_t v = 0;
  EXPECT_EQ(core::mm_read(m, m.mm(0), 2, v), 0);
  EXPECT_EQ(v, 0x1234u);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_EQ(mapcount(m, src), 0);
  EXPECT_EQ(nr_free(m, ZoneType::Movable), kZoneFrames);
  EXPECT_EQ(nr_free(m, ZoneType::Normal), kZoneFrames - 1);
  EXPECT_EQ(flags(m, dst) & core::pg::locked, 0u);
  EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 1u);
  EXPECT_EQ(m.probes().count(Probe::FreezeSucceeded), 1u);
  EXPECT_EQ(m.probes().count(Probe::MigrateExtraRefs), 0u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// An order-2 folio mapped at pages 0, 2 and 3 (page 3 in both mms): every
// PTE maps the same offset in dst, every page's payload comes along.
//   src: 5 (iso + 4 maps) mc4 --unmap 4--> 1 mc0 --freeze/unfreeze--> 1
//   dst: 1 --remap 4--> 5 mc4 --put--> 4 ; src --put--> 0 => buddy
TEST(MigrateFolio, LargeFolioWithMappingsOfSeveralPages) {
  Model m(small_config());
  const Pfn src = alloc(m, 2, ZoneType::Movable);
  const struct {
    uint32_t mm, slot, off;
  } maps[] = {{0, 0, 0}, {0, 9, 2}, {0, 15, 3}, {1, 4, 3}};
  for (const auto& x : maps) ASSERT_EQ(core::map_page(m, m.mm(x.mm), x.slot, src + x.off), 0);
  for (uint32_t i = 0; i < 4; ++i) m.frame(src + i).payload.store(100 + i, std::memory_order_relaxed);
  ASSERT_EQ(refcount(m, src), 5);

  EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Movable), 0);

  const Pfn dst = mapped_page(m, 0, 0);
  ASSERT_NE(dst, src);
  EXPECT_EQ(dst % 4, 0u);
  EXPECT_EQ(m.frame(dst).order.peek(), 2);
  EXPECT_EQ(m.frames().zone_of(dst), ZoneType::Movable);
  for (const auto& x : maps) EXPECT_EQ(pte(m, x.mm, x.slot), core::pte::mk(dst + x.off)) << x.mm << "/" << x.slot;
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(m.frame(dst + i).payload.peek(), 100 + i) << "page " << i;
  EXPECT_EQ(refcount(m, dst), 4);
  EXPECT_EQ(mapcount(m, dst), 4);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 1u);
  EXPECT_EQ(nr_free(m, ZoneType::Movable), kZoneFrames - 4);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// A page-cache folio: folio_expected_refs counts the cache's references, the
// entries move to dst with them, and lookups find dst.
//   src: 1 --add @6 (order 1)--> 3 --map--> 4 mc1 (iso = ours)
//   --unmap--> 3 = expected (1 + 2) --freeze 0, dst += 2 cache, entries -> dst, unfreeze src 1
//   dst: 1 --+2--> 3 --remap--> 4 mc1 --put--> 3 ; src --put--> 0 => buddy
TEST(MigrateFolio, PageCacheFolioMovesItsEntries) {
  Model m(small_config());
  const Pfn src = alloc(m, 1, ZoneType::Movable);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), src, 6), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 1, src + 1), 0);
  m.frame(src).payload.store(61, std::memory_order_relaxed);
  m.frame(src + 1).payload.store(62, std::memory_order_relaxed);
  EXPECT_EQ(core::folio_expected_refs(m, src), 1 + 2);
  ASSERT_EQ(refcount(m, src), 4);

  EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), 0);

  const Pfn dst = m.file().entry(6).peek();
  ASSERT_NE(dst, src);
  EXPECT_EQ(m.file().entry(7).peek(), dst);
  EXPECT_EQ(m.frame(dst).mapping.peek(), core::kFileMapping);
  EXPECT_EQ(m.frame(dst).index.peek(), 6u);
  EXPECT_EQ(m.frame(src).mapping.peek(), 0);
  EXPECT_EQ(core::folio_expected_refs(m, dst), 3);
  EXPECT_EQ(pte(m, 1, 1), core::pte::mk(dst + 1));
  EXPECT_EQ(refcount(m, dst), 3);
  EXPECT_EQ(mapcount(m, dst), 1);
  EXPECT_EQ(m.frame(dst).payload.peek(), 61u);
  EXPECT_EQ(m.frame(dst + 1).payload.peek(), 62u);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_FALSE(m.file().xa_lock.is_locked_quiescent());
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {})));

  EXPECT_EQ(core::filemap_get_folio(m, m.file(), 7), dst);
  EXPECT_EQ(refcount(m, dst), 4);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{dst, 1}})));
}

TEST(MigrateFolio, ExpectedRefs) {
  Model m(small_config());
  const Pfn anon = alloc(m, 3, ZoneType::Movable);
  const Pfn cached = alloc(m, 2, ZoneType::Movable);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), cached, 12), 0);
  EXPECT_EQ(core::folio_expected_refs(m, anon), 1);
  EXPECT_EQ(core::folio_expected_refs(m, cached), 1 + 4);
  ASSERT_EQ(core::truncate_folio(m, m.file(), 12), 0);
  EXPECT_EQ(core::folio_expected_refs(m, cached), 1);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{anon, 1}, {cached, 1}})));
}

// --- refusals -----------------------------------------------------------------

enum class Extra { Ref, PinSlow, PinFast, LookupRef };

struct RefusalCase {
  const char* name;
  unsigned order;
  bool cached;
  Extra extra;
};

// Anything migration cannot account for makes the freeze fail: -EAGAIN, and
// everything is as before — PTEs map src again, the payload is intact, the
// cache still names src, dst went back to the buddy — except the isolation
// reference, which migration consumed.
//   anon + extra ref: src 4 (iso + extra + 2 maps) --unmap--> 2 --freeze(1) fails
//   --remap--> 4 --put iso--> 3
TEST(MigrateFolio, RefusedByAnExtraReferenceOrAPin) {
  const RefusalCase cases[] = {
      {"anon/small/extra_ref", 0, false, Extra::Ref},
      {"anon/small/pin", 0, false, Extra::PinSlow},
      {"anon/small/fast_pin", 0, false, Extra::PinFast},
      {"anon/large/pin", 2, false, Extra::PinSlow},
      {"anon/large/extra_ref", 1, false, Extra::Ref},
      {"cache/small/lookup_ref", 0, true, Extra::LookupRef},
      {"cache/large/pin", 1, true, Extra::PinSlow},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn src = alloc(m, c.order, ZoneType::Movable);
    const uint32_t nr = 1u << c.order;
    if (c.cached) { ASSERT_EQ(core::filemap_add_folio(m, m.file(), src, 8), 0); }
    ASSERT_EQ(core::map_page(m, m.mm(0), 5, src + nr - 1), 0);
    ASSERT_EQ(core::map_page(m, m.mm(1), 6, src), 0);
    for (uint32_t i = 0; i < nr; ++i) m.frame(src + i).payload.store(7000 + i, std::memory_order_relaxed);
    int64_t refs = 0, pins = 0;
    switch (c.extra) {
      case Extra::Ref:
        core::folio_get(m, src);
        refs = 1;
        break;
      case Extra::LookupRef:
        ASSERT_EQ(core::filemap_get_folio(m, m.file(), 8), src);
        refs = 1;
        break;
      case Extra::PinSlow:
        ASSERT_EQ(core::get_user_page(m, m.mm(0), 5, core::foll::pin).err, 0);
        pins = 1;
        break;
      case Extra::PinFast:
        ASSERT_EQ(core::get_user_page_fast(m, m.mm(1), 6, core::foll::pin).err, 0);
        pins = 1;
        break;
    }
    const int32_t before = refcount(m, src);
    EXPECT_EQ(before, 1 + (c.cached ? int32_t(nr) : 0) + 2 + refs + pins * (c.order == 0 ? kBias : 1));
    const uint32_t normal_free = nr_free(m, ZoneType::Normal), movable_free = nr_free(m, ZoneType::Movable);

    EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), -EAGAIN);

    EXPECT_EQ(m.probes().count(Probe::MigrateExtraRefs), 1u);
    EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 0u);
    EXPECT_EQ(refcount(m, src), before - 1);
    EXPECT_EQ(mapcount(m, src), 2);
    EXPECT_EQ(pincount(m, src), c.order > 0 ? pins : 0);
    EXPECT_EQ(pte(m, 0, 5), core::pte::mk(src + nr - 1));
    EXPECT_EQ(pte(m, 1, 6), core::pte::mk(src));
    for (uint32_t i = 0; i < nr; ++i) EXPECT_EQ(m.frame(src + i).payload.peek(), 7000 + i);
    if (c.cached) {
      EXPECT_EQ(m.file().entry(8).peek(), src);
      EXPECT_EQ(m.frame(src).mapping.peek(), core::kFileMapping);
    }
    EXPECT_EQ(flags(m, src) & core::pg::locked, 0u);
    EXPECT_FALSE(m.file().xa_lock.is_locked_quiescent());
    EXPECT_EQ(nr_free(m, ZoneType::Normal), normal_free) << "dst was not given back";
    EXPECT_EQ(nr_free(m, ZoneType::Movable), movable_free);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {{src, refs}}, {{src, pins}})));
  }
}

// Someone holds the folio lock: -EAGAIN at once, nothing unmapped.
//   src: 3 (iso + extra + map), locked --migrate--> 2, still locked (by us)
TEST(MigrateFolio, RefusedWhenTheFolioIsLocked) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, src), 0);
  core::folio_get(m, src);
  core::folio_lock(m, src);
  EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), -EAGAIN);
  EXPECT_EQ(m.probes().count(Probe::MigrateLocked), 1u);
  EXPECT_EQ(m.probes().count(Probe::FreezeFailed) + m.probes().count(Probe::FreezeSucceeded), 0u);
  EXPECT_EQ(refcount(m, src), 2);
  EXPECT_EQ(mapcount(m, src), 1);
  EXPECT_EQ(pte(m, 0, 0), core::pte::mk(src));
  EXPECT_NE(flags(m, src) & core::pg::locked, 0u) << "migration released a lock it did not take";
  core::folio_unlock(m, src);
  EXPECT_EQ(nr_free(m, ZoneType::Normal), kZoneFrames);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{src, 1}})));
}

// Only the isolation reference is left: the folio was freed under us;
// migration drops it (freeing the folio) and reports success without
// allocating or copying anything.
//   1 --map--> 2 --unmap--> 1 (iso only) --migrate: count == 1--> 0 => buddy
TEST(MigrateFolio, FreedUnderUs) {
  Model m(small_config());
  const Pfn src = alloc(m, 1, ZoneType::Movable);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, src), 0);
  ASSERT_TRUE(core::unmap_slot(m, m.mm(0), 0));
  EXPECT_EQ(core::migrate_folio(m, src, ZoneType::Normal), 0);
  EXPECT_EQ(m.probes().count(Probe::MigrateFreedUnderUs), 1u);
  EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 0u);
  EXPECT_EQ(m.probes().count(Probe::AllocFailed) + m.probes().count(Probe::FreezeSucceeded), 0u);
  EXPECT_EQ(nr_free(m, ZoneType::Normal), kZoneFrames) << "nothing was allocated";
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// guest_memfd folios are not migratable (owner not the buddy): -EBUSY, and
// the caller's reference is still consumed.
//   gmem folio: 4 (cache) --lookup--> 5 --migrate--> -EBUSY, 4
TEST(MigrateFolio, GuestMemfdFolioIsBusy) {
  Model m(small_config());
  ASSERT_EQ(m.gmem().populate(0), 0);
  const Pfn h = core::filemap_get_folio(m, m.gmem().cache(), 1);
  ASSERT_NE(h, kNoPfn);
  const int32_t before = refcount(m, h);
  EXPECT_EQ(core::migrate_folio(m, h, ZoneType::Normal), -EBUSY);
  EXPECT_EQ(refcount(m, h), before - 1);
  EXPECT_EQ(m.gmem().cache().entry(1).peek(), h);
  EXPECT_EQ(flags(m, h) & core::pg::locked, 0u);
  EXPECT_EQ(m.probes().count(Probe::MigrateExtraRefs) + m.probes().count(Probe::MigrateSucceeded), 0u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- races, forced at sync points ----------------------------------------------

// While src is unmapped, its PTEs are migration entries: GUP waits (slow:
// -EAGAIN, fast: not present), user accesses fault, the slot is not free for
// map_page, and rmap_walk still sees it. Checked at the freeze.
TEST(MigrateFolio, MigrationEntriesWhileMigrating) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  const Pfn other = alloc(m, 0, ZoneType::Normal);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, src), 0);
  bool checked = false;
  SyncScript hook({{SyncOp::Cas, &m.frame(src).refcount, 1, [&] {
                  EXPECT_EQ(pte(m, 0, 3), core::pte::mk_migration(src));
                  EXPECT_TRUE(core::pte::is_migration(pte(m, 0, 3)));
                  EXPECT_EQ(core::get_user_page(m, m.mm(0), 3, core::foll::pin).err, -EAGAIN);
                  EXPECT_EQ(core::get_user_page_fast(m, m.mm(0), 3, core::foll::get).err, -EFAULT);
                  EXPECT_EQ(m.probes().count(Probe::GupFastNotPresent), 1u);
                  uint64_t v;
                  EXPECT_EQ(core::mm_read(m, m.mm(0), 3, v), -EFAULT);
                  EXPECT_EQ(core::mm_write(m, m.mm(0), 3, 1), -EFAULT);
                  EXPECT_EQ(core::map_page(m, m.mm(0), 3, other), -EBUSY);
                  EXPECT_FALSE(core::unmap_slot(m, m.mm(0), 3));
                  uint32_t seen = 0;
                  core::rmap_walk(
                      m, src, 1,
                      [](void* c, core::Mm&, uint32_t, uint64_t v) {
                        ++*static_cast<uint32_t*>(c);
                        return core::pte::is_migration(v);
                      },
                      &seen);
                  EXPECT_EQ(seen, 1u);
                  EXPECT_EQ(refcount(m, src), 1);  // only the isolation reference
                  EXPECT_EQ(mapcount(m, src), 0);
                  checked = true;
                }}});
  int err;
  {
    core::ScopedSyncHook g(&hook);
    err = core::migrate_folio(m, src, ZoneType::Normal);
  }
  ASSERT_TRUE(checked);
  EXPECT_EQ(err, 0);
  const Pfn dst = mapped_page(m, 0, 3);
  EXPECT_NE(dst, src);
  EXPECT_EQ(refcount(m, dst), 1);
  EXPECT_EQ(refcount(m, other), 1);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{other, 1}})));
}

// A pfn walker that grabs src just before the freeze makes the freeze fail
// (kernel-semantics §3: "one that grabs before makes the freeze fail").
//   src: 2 --unmap--> 1 --[walker: 2]--> freeze(1) fails --remap--> 3 --put iso--> 2
TEST(MigrateFolio, AGrabBeforeTheFreezeMakesItFail) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, src), 0);
  Pfn walked = kNoPfn;
  SyncScript hook({{SyncOp::Cas, &m.frame(src).refcount, 1, [&] { walked = core::pfn_walk_get(m, src); }}});
  int err;
  {
    core::ScopedSyncHook g(&hook);
    err = core::migrate_folio(m, src, ZoneType::Normal);
  }
  EXPECT_EQ(walked, src);
  EXPECT_EQ(err, -EAGAIN);
  EXPECT_EQ(m.probes().count(Probe::FreezeFailed), 1u);
  EXPECT_EQ(m.probes().count(Probe::MigrateExtraRefs), 1u);
  EXPECT_EQ(refcount(m, src), 2);  // the walker's + the mapping's
  EXPECT_EQ(pte(m, 0, 3), core::pte::mk(src));
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {{src, 1}})));
  core::folio_put(m, src);
  EXPECT_TRUE(no_violations(m));
}

// A walker that comes while src is frozen sees zero and gets nothing.
//   src: 2 --unmap--> 1 --freeze--> 0 --[walker: try_get sees 0]--> unfreeze 1 ...
TEST(MigrateFolio, AGrabDuringTheFreezeSeesZero) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, src), 0);
  Pfn walked = 1;
  int32_t frozen_at = -1;
  SyncScript hook({{SyncOp::Store, &m.frame(src).refcount, 1, [&] {
                  frozen_at = refcount(m, src);
                  walked = core::pfn_walk_get(m, src);
                }}});
  int err;
  {
    core::ScopedSyncHook g(&hook);
    err = core::migrate_folio(m, src, ZoneType::Normal);
  }
  EXPECT_EQ(frozen_at, 0);
  EXPECT_EQ(walked, kNoPfn);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 1u);
  EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 1u);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// Truncation racing with the migration of a mapped page-cache folio. Once
// the cache entry names dst (step 4), truncate can find dst; it must not
// finish before migration has remapped dst (step 6), or its unmap finds only
// migration entries and the remap afterwards maps a truncated folio. The
// kernel holds dst's folio lock from before the entry switch until after
// remove_migration_ptes() (migrate_folio_unmap / migrate_folio_move), so
// truncate waits and then unmaps dst.
// Two threads: migration pauses at its payload copy (after the switch,
// before the remap) until truncate has either finished or is spinning on a
// lock; then both run to the end.
// FAILS against core/ as of this writing: migrate_folio() never locks dst,
// truncate completes inside the window, and the PTE maps the truncated dst
// afterwards (see the report's proposed patch).
//   src: 1 --add @3--> 2 --map--> 3 (iso = ours) --unmap, freeze, entry -> dst
//   [truncate(3): dst 1+1 cache --get 3, unmap nothing, remove, put_refs, put--> 1]
//   --remap dst: 2 mc1 --put dst--> 1: mapped, in no cache
TEST(MigrateFolio, TruncateDuringMigrationLeavesNoMapping) {
  Model m(small_config());
  const Pfn src = alloc(m, 0, ZoneType::Movable);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), src, 3), 0);
  ASSERT_EQ(core::map_page(m, m.mm(0), 1, src), 0);
  std::atomic<bool> go{false}, truncate_done{false}, truncate_spinning{false};
  std::atomic<int> truncate_err{1};
  std::thread truncator([&] {
    while (!go) std::this_thread::yield();
    SyncScript hook(SyncOp::Spin, nullptr, 1, [&] { truncate_spinning = true; });
    core::ScopedSyncHook g(&hook);
    truncate_err = core::truncate_folio(m, m.file(), 3);
    truncate_done = true;
  });
  Pfn dst_in_window = kNoPfn;
  SyncScript pause({{SyncOp::Load, &m.frame(src).payload, 1, [&] {
                   dst_in_window = m.file().entry(3).peek();
                   go = true;
                   while (!truncate_done && !truncate_spinning) std::this_thread::yield();
                 }}});
  int err;
  {
    core::ScopedSyncHook g(&pause);
    err = core::migrate_folio(m, src, ZoneType::Normal);
  }
  truncator.join();
  ASSERT_EQ(pause.done(), 1u);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(truncate_err.load(), 0);
  ASSERT_NE(dst_in_window, kNoPfn);
  EXPECT_NE(dst_in_window, src);
  EXPECT_EQ(m.file().entry(3).peek(), kNoPfn);
  EXPECT_EQ(refcount(m, src), 0);
  EXPECT_EQ(pte(m, 0, 1), 0u) << "a folio truncated during its migration is still mapped after truncate returned";
  EXPECT_EQ(refcount(m, dst_in_window), 0);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- pfn_walk_get ---------------------------------------------------------------

// The walker's speculative get: nothing on a free, frozen, device or invalid
// frame; the folio's head (with a reference) from any of its pages.
TEST(PfnWalkGet, FreeTailAndLiveFolios) {
  Model m(small_config());
  const Pfn small = alloc(m, 0, ZoneType::Normal);
  const Pfn large = alloc(m, 2, ZoneType::Normal);
  const Pfn frozen = must(core::alloc_frozen_pages(m, ZoneType::Normal, 0));
  const Pfn free_frame = kMovableStart + 5;
  ASSERT_EQ(page_type(m, kMovableStart), core::PageType::Buddy);

  EXPECT_EQ(core::pfn_walk_get(m, free_frame), kNoPfn);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 1u);
  EXPECT_EQ(refcount(m, free_frame), 0);
  EXPECT_EQ(core::pfn_walk_get(m, kMovableStart), kNoPfn);  // a free block's head
  EXPECT_EQ(core::pfn_walk_get(m, frozen), kNoPfn);
  EXPECT_EQ(refcount(m, frozen), 0);
  EXPECT_EQ(core::pfn_walk_get(m, kDeviceStart + 1), kNoPfn);
  EXPECT_EQ(core::pfn_walk_get(m, m.frames().size()), kNoPfn);
  EXPECT_EQ(core::pfn_walk_get(m, core::kNoPfn), kNoPfn);

  //   small: 1 --walk--> 2      large: 1 --walk tail 3--> 2 --walk head--> 3
  EXPECT_EQ(core::pfn_walk_get(m, small), small);
  EXPECT_EQ(refcount(m, small), 2);
  EXPECT_EQ(core::pfn_walk_get(m, large + 3), large);
  EXPECT_EQ(refcount(m, large), 2);
  EXPECT_EQ(refcount(m, large + 3), 0);
  EXPECT_EQ(core::pfn_walk_get(m, large), large);
  EXPECT_EQ(refcount(m, large), 3);

  HolderLedger l = ledger_of(m, {{small, 2}, {large, 3}});
  l.add_frozen(frozen, "test");
  EXPECT_TRUE(all_clean(m, l));
}

// The re-check: between page_folio() and the get, the order-1 folio was
// freed and its head frame reused as an order-0 folio, so the walked pfn (the
// old tail) no longer belongs to it. The walker puts its reference back and
// gets nothing.
//   h: 1 --[put 0 => buddy; realloc h as order 0: 1]--> walker try_get 2
//   --re-check: page_folio(h+1) != h--> put 1, kNoPfn
TEST(PfnWalkGet, BacksOutWhenThePageLeftTheFolio) {
  Model m(small_config());
  const Pfn h = alloc(m, 1, ZoneType::Normal);
  Pfn q = kNoPfn;
  SyncScript hook({{SyncOp::Load, &m.frame(h).refcount, 1, [&] {
                  core::folio_put(m, h);
                  q = core::alloc_pages(m, ZoneType::Normal, 0);
                }}});
  Pfn got;
  {
    core::ScopedSyncHook g(&hook);
    got = core::pfn_walk_get(m, h + 1);
  }
  ASSERT_EQ(q, h) << "allocation order assumption";
  EXPECT_EQ(got, kNoPfn);
  EXPECT_EQ(refcount(m, q), 1);
  EXPECT_EQ(refcount(m, h + 1), 0);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 0u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{q, 1}})));
}

}  // namespace
