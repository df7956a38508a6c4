// tests for core/buddy.hpp — allocation, zone fallback, split and merge,
// large folios, split_folio, and pageblock isolation.
//
// The model is small_config(): NORMAL [0,64) and MOVABLE [64,128) of eight
// order-3 pageblocks each, DEVICE [128,192) never in the buddy.
#include "core/buddy.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/support.hpp"

namespace {

using core::MigrateType;
using namespace refhammer_test;

constexpr uint32_t kBlocksPerZone = kZoneFrames / kPageblock;  // 8

core::AuditReport audit_with(Model& m, const std::vector<Pfn>& held_once) {
  core::HolderLedger ledger(m.frames().size());
  for (Pfn p : held_once) ledger.add_ref(p);
  return core::audit(m, ledger, /*report=*/false);
}

TEST(Buddy, FreshModelIsAllFreeAtMaxOrder) {
  Model m(small_config());
  EXPECT_EQ(m.buddy().max_page_order(), kMaxOrder);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Movable), kZoneFrames);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Unmovable), kBlocksPerZone);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Movable, kMaxOrder, MigrateType::Movable), kBlocksPerZone);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_FALSE(m.buddy().zone_is_buddy(ZoneType::Device));
  for (Pfn p = 0; p < kDeviceStart; p += kPageblock) {
    EXPECT_EQ(page_type(m, p), core::PageType::Buddy) << p;
    EXPECT_EQ(m.frame(p).order.peek(), kMaxOrder) << p;
    EXPECT_EQ(page_type(m, p + 1), core::PageType::None) << p + 1;
  }
  const auto r = audit_with(m, {});
  EXPECT_TRUE(r.clean()) << r.summary();
  EXPECT_EQ(r.free_frames, 2 * kZoneFrames);
  EXPECT_EQ(r.unpopulated_frames, kZoneFrames);
}

// Every (zone, order): an aligned head in that zone, with the folio layout.
TEST(Buddy, AllocEveryOrderGivesAnAlignedHeadInTheZone) {
  for (ZoneType z : {ZoneType::Normal, ZoneType::Movable}) {
    for (unsigned order = 0; order <= kMaxOrder; ++order) {
      SCOPED_TRACE(std::string(core::zone_name(z)) + " order " + std::to_string(order));
      Model m(small_config());
      const Pfn p = core::alloc_pages(m, z, order);
      ASSERT_NE(p, core::kNoPfn);
      EXPECT_EQ(p % (1u << order), 0u);
      EXPECT_EQ(m.frames().zone_of(p), z);
      EXPECT_EQ(refcount(m, p), 1);
      EXPECT_EQ(m.frame(p).order.peek(), order);
      EXPECT_EQ(m.frame(p).head.peek(), p);
      EXPECT_EQ(page_type(m, p), core::PageType::None);
      EXPECT_EQ(static_cast<core::OwnerId>(m.frame(p).owner.peek()), core::OwnerId::Buddy);
      EXPECT_EQ(m.buddy().nr_free_pages(z), kZoneFrames - (1u << order));
      EXPECT_TRUE(audit_with(m, {p}).clean());
    }
  }
}

TEST(Buddy, DeviceZoneAndOversizedOrdersAreRefused) {
  Model m(small_config());
  EXPECT_EQ(core::alloc_pages(m, ZoneType::Device, 0), core::kNoPfn);
  EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, kMaxOrder + 1), core::kNoPfn);
  EXPECT_EQ(core::alloc_frozen_pages(m, ZoneType::Movable, kMaxOrder + 1), core::kNoPfn);
  EXPECT_TRUE(fully_merged(m));
}

// expand(): an order-0 request splits an order-3 block into 0+0+1+2, and the
// free puts them back together.
//   order 3: 8 -> 7 | order 2: 0 -> 1 | order 1: 0 -> 1 | order 0: 0 -> 1
TEST(Buddy, SplitOnAllocAndMergeOnFree) {
  Model m(small_config());
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  ASSERT_NE(p, core::kNoPfn);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, 3, MigrateType::Unmovable), kBlocksPerZone - 1);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, 2, MigrateType::Unmovable), 1u);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, 1, MigrateType::Unmovable), 1u);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, 0, MigrateType::Unmovable), 1u);
  EXPECT_EQ(m.probes().count(Probe::BuddySplit), 3u);
  EXPECT_EQ(page_type(m, p ^ 1u), core::PageType::Buddy);  // its buddy is free at order 0
  EXPECT_EQ(m.frame(p ^ 1u).order.peek(), 0u);
  core::folio_put(m, p);
  EXPECT_EQ(m.probes().count(Probe::BuddyMerged), 3u);
  EXPECT_TRUE(fully_merged(m));
}

TEST(Buddy, ExhaustingAZoneReturnsNoPfn) {
  Model m(small_config());
  std::set<Pfn> got;
  for (uint32_t i = 0; i < kBlocksPerZone; ++i) {
    const Pfn p = core::alloc_pages(m, ZoneType::Normal, kMaxOrder);
    ASSERT_NE(p, core::kNoPfn);
    EXPECT_EQ(m.frames().zone_of(p), ZoneType::Normal);
    got.insert(p);
  }
  EXPECT_EQ(got.size(), kBlocksPerZone);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), 0u);
  EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, kMaxOrder), core::kNoPfn);
  EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, 0), core::kNoPfn);
  EXPECT_EQ(core::alloc_frozen_pages(m, ZoneType::Normal, 0), core::kNoPfn);
  EXPECT_EQ(m.probes().count(Probe::AllocFailed), 3u);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Movable), kZoneFrames);
}

// Zonelist: MOVABLE -> NORMAL, never NORMAL -> MOVABLE.
TEST(Buddy, MovableFallsBackToNormal) {
  Model m(small_config());
  for (uint32_t i = 0; i < kZoneFrames; ++i) {
    const Pfn p = core::alloc_pages(m, ZoneType::Movable, 0);
    ASSERT_NE(p, core::kNoPfn);
    ASSERT_EQ(m.frames().zone_of(p), ZoneType::Movable);
  }
  EXPECT_EQ(m.probes().count(Probe::AllocFellBack), 0u);
  const Pfn p = core::alloc_pages(m, ZoneType::Movable, 2);
  ASSERT_NE(p, core::kNoPfn);
  EXPECT_EQ(m.frames().zone_of(p), ZoneType::Normal);
  EXPECT_EQ(m.probes().count(Probe::AllocFellBack), 1u);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 4);
}

TEST(Buddy, NormalNeverTakesMovableFrames) {
  Model m(small_config());
  for (uint32_t i = 0; i < kBlocksPerZone; ++i) ASSERT_NE(core::alloc_pages(m, ZoneType::Normal, kMaxOrder), core::kNoPfn);
  for (unsigned order = 0; order <= kMaxOrder; ++order)
    EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, order), core::kNoPfn) << order;
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Movable), kZoneFrames);
  EXPECT_EQ(m.probes().count(Probe::AllocFellBack), 0u);
}

// All 64 NORMAL frames one at a time, then freed in different orders: each
// time the zone merges back into eight order-3 blocks.
TEST(Buddy, AllocateEveryFrameThenFreeMergesBack) {
  const struct {
    const char* name;
    uint32_t (*index)(uint32_t i);  // i-th frame to free, as an index into allocation order
  } orders[] = {
      {"fifo", [](uint32_t i) { return i; }},
      {"lifo", [](uint32_t i) { return kZoneFrames - 1 - i; }},
      {"stride_37", [](uint32_t i) { return (i * 37) % kZoneFrames; }},
      {"evens_then_odds", [](uint32_t i) { return i < 32 ? 2 * i : 2 * (i - 32) + 1; }},
  };
  for (const auto& o : orders) {
    SCOPED_TRACE(o.name);
    Model m(small_config());
    std::vector<Pfn> held;
    for (uint32_t i = 0; i < kZoneFrames; ++i) {
      const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
      ASSERT_NE(p, core::kNoPfn);
      held.push_back(p);
    }
    EXPECT_EQ(std::set<Pfn>(held.begin(), held.end()).size(), kZoneFrames);
    EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, 0), core::kNoPfn);
    auto mid = audit_with(m, held);
    EXPECT_TRUE(mid.clean()) << mid.summary();
    EXPECT_EQ(mid.allocated_folios, kZoneFrames);
    EXPECT_EQ(mid.free_frames, kZoneFrames);  // MOVABLE's

    for (uint32_t i = 0; i < kZoneFrames; ++i) core::folio_put(m, held[o.index(i)]);
    EXPECT_TRUE(fully_merged(m));
    const auto r = audit_with(m, {});
    EXPECT_TRUE(r.clean()) << r.summary();
    EXPECT_EQ(r.free_frames, 2 * kZoneFrames);
    EXPECT_EQ(r.allocated_folios, 0u);
    EXPECT_EQ(r.tail_frames, 0u);
    EXPECT_TRUE(no_violations(m));
  }
}

// Compound layout of an order-2 folio:
//   head: PG_head, order 2, refcount 1, head = itself
//   tails: PG_tail, head = the head, refcount 0
TEST(Buddy, LargeFolioLayout) {
  Model m(small_config());
  const Pfn h = core::alloc_pages(m, ZoneType::Normal, 2);
  ASSERT_NE(h, core::kNoPfn);
  EXPECT_EQ(flags(m, h), core::pg::head);
  EXPECT_EQ(m.frame(h).order.peek(), 2u);
  EXPECT_EQ(refcount(m, h), 1);
  EXPECT_EQ(m.frame(h).head.peek(), h);
  for (Pfn t = h + 1; t < h + 4; ++t) {
    SCOPED_TRACE(t);
    EXPECT_EQ(flags(m, t), core::pg::tail);
    EXPECT_EQ(m.frame(t).head.peek(), h);
    EXPECT_EQ(refcount(m, t), 0);
    EXPECT_EQ(m.frame(t).order.peek(), 0u);
  }
  const auto r = audit_with(m, {h});
  EXPECT_TRUE(r.clean()) << r.summary();
  EXPECT_EQ(r.allocated_folios, 1u);
  EXPECT_EQ(r.tail_frames, 3u);

  core::folio_put(m, h);  // the free clears the compound state
  for (Pfn p = h; p < h + 4; ++p) {
    EXPECT_EQ(flags(m, p) & (core::pg::head | core::pg::tail), 0u) << p;
    EXPECT_EQ(m.frame(p).head.peek(), p) << p;
  }
  EXPECT_TRUE(fully_merged(m));
}

TEST(Buddy, SmallFolioHasNoCompoundFlags) {
  Model m(small_config());
  const Pfn p = core::alloc_pages(m, ZoneType::Movable, 0);
  ASSERT_NE(p, core::kNoPfn);
  EXPECT_EQ(flags(m, p), 0u);
  EXPECT_EQ(m.frame(p).order.peek(), 0u);
}

// The only free block comes back to the next allocation, one generation on.
TEST(Buddy, ReallocationBumpsTheGeneration) {
  Model m(small_config());
  std::vector<Pfn> held;
  for (uint32_t i = 0; i < kBlocksPerZone; ++i) held.push_back(core::alloc_pages(m, ZoneType::Normal, kMaxOrder));
  const Pfn p = held[3];
  EXPECT_EQ(m.frame(p).generation.peek(), 1u);
  core::folio_put(m, p);
  EXPECT_EQ(core::alloc_frozen_pages(m, ZoneType::Normal, kMaxOrder), p);
  EXPECT_EQ(m.frame(p).generation.peek(), 2u);
  EXPECT_EQ(refcount(m, p), 0);
}

// split_folio: the caller's only reference becomes one on each subpage.
//   order-2 head 1, tails 0 --split--> 1 1 1 1 (four order-0 folios)
TEST(Buddy, SplitFolioWithOneReference) {
  Model m(small_config());
  const Pfn h = core::alloc_pages(m, ZoneType::Normal, 2);
  ASSERT_NE(h, core::kNoPfn);
  const uint32_t tail_gen = m.frame(h + 1).generation.peek();
  ASSERT_TRUE(core::split_folio(m, h));
  for (Pfn p = h; p < h + 4; ++p) {
    SCOPED_TRACE(p);
    EXPECT_EQ(refcount(m, p), 1);
    EXPECT_EQ(flags(m, p), 0u);
    EXPECT_EQ(m.frame(p).head.peek(), p);
    EXPECT_EQ(m.frame(p).order.peek(), 0u);
  }
  EXPECT_EQ(m.frame(h + 1).generation.peek(), tail_gen + 1);
  const auto r = audit_with(m, {h, h + 1, h + 2, h + 3});
  EXPECT_TRUE(r.clean()) << r.summary();
  EXPECT_EQ(r.allocated_folios, 4u);
  EXPECT_EQ(r.tail_frames, 0u);
  for (Pfn p = h; p < h + 4; ++p) core::folio_put(m, p);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

TEST(Buddy, SplitOfASmallFolioIsANoOp) {
  Model m(small_config());
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  EXPECT_TRUE(core::split_folio(m, p));
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_EQ(m.probes().count(Probe::FreezeSucceeded), 0u);
}

// Refusals leave the folio exactly as it was.
TEST(Buddy, SplitFolioRefusedWithExtraRefsPinsOrMappings) {
  const struct {
    const char* name;
    void (*extra)(Model&, Pfn);
    void (*undo)(Model&, Pfn);
    int32_t count;
  } cases[] = {
      // 1 --get--> 2 --split--> refused, 2
      {"extra_ref", [](Model& m, Pfn h) { core::folio_get(m, h); }, [](Model& m, Pfn h) { core::folio_put(m, h); },
       2},
      {"pinned", [](Model& m, Pfn h) { m.frame(h).pincount.store(1, std::memory_order_relaxed); },
       [](Model& m, Pfn h) { m.frame(h).pincount.store(0, std::memory_order_relaxed); }, 1},
      {"mapped", [](Model& m, Pfn h) { m.frame(h).mapcount.store(1, std::memory_order_relaxed); },
       [](Model& m, Pfn h) { m.frame(h).mapcount.store(0, std::memory_order_relaxed); }, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn h = core::alloc_pages(m, ZoneType::Normal, 2);
    ASSERT_NE(h, core::kNoPfn);
    c.extra(m, h);
    EXPECT_FALSE(core::split_folio(m, h));
    EXPECT_EQ(m.probes().count(Probe::SplitRefused), 1u);
    EXPECT_EQ(refcount(m, h), c.count);
    EXPECT_EQ(flags(m, h), core::pg::head);
    EXPECT_EQ(m.frame(h).order.peek(), 2u);
    for (Pfn t = h + 1; t < h + 4; ++t) {
      EXPECT_EQ(flags(m, t), core::pg::tail) << t;
      EXPECT_EQ(m.frame(t).head.peek(), h) << t;
    }
    c.undo(m, h);
    core::folio_put(m, h);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_TRUE(no_violations(m));
  }
}

// --- isolation ----------------------------------------------------------------

MigrateType mt_of(Model& m, Pfn p) { return m.frames().pageblock_migratetype_quiescent(p); }

TEST(BuddyIsolation, IsolateMovesFreeBlocksToTheIsolateList) {
  Model m(small_config());
  ASSERT_TRUE(m.buddy().start_isolate_page_range(0, kPageblock));
  EXPECT_EQ(mt_of(m, 0), MigrateType::Isolate);
  EXPECT_EQ(mt_of(m, kPageblock), MigrateType::Unmovable);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Isolate), 1u);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Unmovable), kBlocksPerZone - 1);
  EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames);  // isolated frames are still free frames
  EXPECT_TRUE(m.buddy().test_pages_isolated(0, kPageblock));
  EXPECT_TRUE(m.buddy().test_pages_isolated(3, 5));
  EXPECT_FALSE(m.buddy().test_pages_isolated(0, 2 * kPageblock));
  EXPECT_TRUE(audit_with(m, {}).clean());

  m.buddy().undo_isolate_page_range(0, kPageblock);
  EXPECT_EQ(mt_of(m, 0), MigrateType::Unmovable);
  EXPECT_FALSE(m.buddy().test_pages_isolated(0, kPageblock));
  EXPECT_TRUE(fully_merged(m));
}

// [3, 12) rounds out to the pageblocks [0, 16).
TEST(BuddyIsolation, RangeRoundsOutToPageblocks) {
  Model m(small_config());
  ASSERT_TRUE(m.buddy().start_isolate_page_range(3, 12));
  EXPECT_EQ(mt_of(m, 0), MigrateType::Isolate);
  EXPECT_EQ(mt_of(m, kPageblock), MigrateType::Isolate);
  EXPECT_EQ(mt_of(m, 2 * kPageblock), MigrateType::Unmovable);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Isolate), 2u);
  m.buddy().undo_isolate_page_range(3, 12);
  EXPECT_TRUE(fully_merged(m));
}

TEST(BuddyIsolation, NothingIsAllocatedFromAnIsolatedPageblock) {
  Model m(small_config());
  // pageblocks 0 and 1 of NORMAL, and the first of MOVABLE
  ASSERT_TRUE(m.buddy().start_isolate_page_range(0, 2 * kPageblock));
  ASSERT_TRUE(m.buddy().start_isolate_page_range(kMovableStart, kMovableStart + kPageblock));
  uint32_t n = 0;
  for (;;) {
    const Pfn p = core::alloc_pages(m, ZoneType::Movable, 0);
    if (p == core::kNoPfn) break;
    ++n;
    EXPECT_NE(mt_of(m, p), MigrateType::Isolate) << p;
    EXPECT_FALSE(p < 2 * kPageblock || (p >= kMovableStart && p < kMovableStart + kPageblock)) << p;
  }
  EXPECT_EQ(n, 2 * kZoneFrames - 3 * kPageblock);
  EXPECT_TRUE(m.buddy().test_pages_isolated(0, 2 * kPageblock));
  EXPECT_TRUE(m.buddy().test_pages_isolated(kMovableStart, kMovableStart + kPageblock));
}

// An allocated frame inside an isolated pageblock: the test fails until it is
// freed; the free lands on the ISOLATE list and merges there.
//   x: 1 --isolate pageblock--> (still 1) --put--> 0 => ISOLATE list
TEST(BuddyIsolation, FreeInsideAnIsolatedPageblockLandsOnTheIsolateList) {
  Model m(small_config());
  const Pfn x = core::alloc_pages(m, ZoneType::Normal, 0);
  ASSERT_NE(x, core::kNoPfn);
  const Pfn pb = x & ~(kPageblock - 1);
  ASSERT_TRUE(m.buddy().start_isolate_page_range(pb, pb + kPageblock));
  EXPECT_FALSE(m.buddy().test_pages_isolated(pb, pb + kPageblock));
  // the other seven frames of the pageblock moved as orders 0, 1, 2
  for (unsigned o = 0; o < kMaxOrder; ++o) {
    EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, o, MigrateType::Isolate), 1u) << o;
    EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, o, MigrateType::Unmovable), 0u) << o;
  }
  EXPECT_EQ(m.probes().count(Probe::FreeToIsolated), 0u);

  core::folio_put(m, x);
  EXPECT_EQ(m.probes().count(Probe::FreeToIsolated), 1u);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Isolate), 1u);
  for (unsigned o = 0; o < kMaxOrder; ++o)
    EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, o, MigrateType::Isolate), 0u) << o;
  EXPECT_TRUE(m.buddy().test_pages_isolated(pb, pb + kPageblock));
  EXPECT_TRUE(audit_with(m, {}).clean());

  m.buddy().undo_isolate_page_range(pb, pb + kPageblock);
  EXPECT_TRUE(fully_merged(m));
}

// -EBUSY: nothing this call isolated stays isolated; the earlier isolation stays.
TEST(BuddyIsolation, IsolatingAnIsolatedPageblockFailsWithNothingHalfDone) {
  Model m(small_config());
  ASSERT_TRUE(m.buddy().start_isolate_page_range(kPageblock, 2 * kPageblock));  // pageblock 1
  EXPECT_FALSE(m.buddy().start_isolate_page_range(0, 3 * kPageblock));          // 0, 1(busy), 2
  EXPECT_EQ(m.probes().count(Probe::IsolateBusy), 1u);
  EXPECT_EQ(mt_of(m, 0), MigrateType::Unmovable);
  EXPECT_EQ(mt_of(m, kPageblock), MigrateType::Isolate);
  EXPECT_EQ(mt_of(m, 2 * kPageblock), MigrateType::Unmovable);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Isolate), 1u);
  EXPECT_EQ(nr_free_blocks(m, ZoneType::Normal, kMaxOrder, MigrateType::Unmovable), kBlocksPerZone - 1);
  EXPECT_TRUE(audit_with(m, {}).clean());
  // and the same pageblock alone is busy too
  EXPECT_FALSE(m.buddy().start_isolate_page_range(kPageblock, kPageblock + 1));
  EXPECT_EQ(mt_of(m, kPageblock), MigrateType::Isolate);
}

TEST(BuddyIsolation, UndoRestoresAllocation) {
  Model m(small_config());
  ASSERT_TRUE(m.buddy().start_isolate_page_range(kNormalStart, kMovableStart));
  EXPECT_EQ(core::alloc_pages(m, ZoneType::Normal, 0), core::kNoPfn);
  EXPECT_TRUE(m.buddy().test_pages_isolated(kNormalStart, kMovableStart));
  m.buddy().undo_isolate_page_range(kNormalStart, kMovableStart);
  EXPECT_TRUE(fully_merged(m));
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, kMaxOrder);
  ASSERT_NE(p, core::kNoPfn);
  EXPECT_EQ(m.frames().zone_of(p), ZoneType::Normal);
}

// Undo of a range nobody isolated, and isolation of DEVICE frames, are no-ops.
TEST(BuddyIsolation, DeviceFramesAndUnisolatedRangesAreLeftAlone) {
  Model m(small_config());
  m.buddy().undo_isolate_page_range(0, kDeviceStart);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(m.buddy().start_isolate_page_range(kDeviceStart, kDeviceStart + kZoneFrames));
  EXPECT_EQ(mt_of(m, kDeviceStart), MigrateType::Unmovable);
  EXPECT_FALSE(m.buddy().test_pages_isolated(kDeviceStart, kDeviceStart + kPageblock));
  EXPECT_FALSE(m.buddy().test_pages_isolated(0, kPageblock));
  EXPECT_TRUE(fully_merged(m));
}

}  // namespace
