// tests for core/audit.hpp — a clean model is clean, and each planted
// inconsistency is reported with its kind, pfn, site and detail.
//
// Plants write frame fields directly with Atomic::init() (the model is
// quiescent), or describe holders the model does not have.
#include "core/audit.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/buddy.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/support.hpp"

namespace {

using core::AuditReport;
using namespace refhammer_test;

TEST(Audit, FreshModelIsClean) {
  Model m(small_config());
  const AuditReport r = core::audit(m, HolderLedger(m.frames().size()));
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.free_frames, 2 * kZoneFrames);
  EXPECT_EQ(r.allocated_folios, 0u);
  EXPECT_EQ(r.frozen_folios, 0u);
  EXPECT_EQ(r.tail_frames, 0u);
  EXPECT_EQ(r.unpopulated_frames, kZoneFrames);
  EXPECT_EQ(r.summary(),
            "clean: 128 free frames, 0 allocated folios, 0 frozen folios, 0 tail frames, 64 unpopulated device frames");
  EXPECT_TRUE(no_violations(m));
}

// Every kind of holding, each named exactly, is clean and counted.
//   a: order 0, refcount 2 (two holders)    b: order 2, refcount 1
//   c: order 1, frozen by "pool"            d: order 0 in MOVABLE, a pin (1024) + 1
TEST(Audit, HeldFoliosNamedExactlyAreClean) {
  Model m(small_config());
  const Pfn a = alloc(m);
  core::folio_get(m, a);
  const Pfn b = alloc(m, 2);
  const Pfn c = alloc_frozen(m, 1);
  const Pfn d = must(core::alloc_pages(m, ZoneType::Movable, 0));
  core::folio_ref_add(m, d, core::GUP_PIN_COUNTING_BIAS);
  HolderLedger ledger(m.frames().size());
  ledger.add_ref(a);
  ledger.add_ref(a);
  ledger.add_ref(b, 1);
  ledger.add_frozen(c, "pool");
  ledger.add_ref(d, core::GUP_PIN_COUNTING_BIAS);
  ledger.add_ref(d);
  EXPECT_EQ(ledger.refs(a), 2);
  EXPECT_STREQ(ledger.frozen_holder(c), "pool");
  EXPECT_EQ(ledger.frozen_holder(a), nullptr);

  const AuditReport r = core::audit(m, ledger);
  EXPECT_TRUE(r.clean()) << r.summary() << describe(r.violations);
  EXPECT_EQ(r.allocated_folios, 3u);
  EXPECT_EQ(r.frozen_folios, 1u);
  EXPECT_EQ(r.tail_frames, 3u + 1u);
  EXPECT_EQ(r.free_frames, 2 * kZoneFrames - 1 - 4 - 2 - 1);
  EXPECT_EQ(r.unpopulated_frames, kZoneFrames);
  EXPECT_TRUE(no_violations(m));
}

// A GUP pin is GUP_PIN_COUNTING_BIAS references on a small folio, and one
// reference plus one pincount on a large one.
//   small: 1 --+1024 (pin)--> 1025        large: 1 --+1, pincount 1--> 2
TEST(Audit, PinsNamedWithAddPinAreClean) {
  Model m(small_config());
  const Pfn small = alloc(m);
  core::folio_ref_add(m, small, core::GUP_PIN_COUNTING_BIAS);
  const Pfn large = alloc(m, 2);
  core::folio_get(m, large);
  m.frame(large).pincount.init(1);  // planted: GUP's own bookkeeping is not under test here
  HolderLedger ledger(m.frames().size());
  ledger.add_ref(small);
  ledger.add_pin(small);
  ledger.add_ref(large);
  ledger.add_pin(large);
  EXPECT_EQ(ledger.pins(small), 1);
  EXPECT_TRUE(audit_clean(m, ledger));

  // naming the pins as plain references balances the refcounts, but leaves
  // the large folio's pincount unnamed
  HolderLedger wrong(m.frames().size());
  wrong.add_ref(small, 1 + core::GUP_PIN_COUNTING_BIAS);
  wrong.add_ref(large, 2);
  const AuditReport r = core::audit(m, wrong, false);
  EXPECT_TRUE(only_violation(r.violations, ViolationKind::PincountMismatch, large, "audit:accounting",
                             "pincount 1, holders name 0 pin(s)"));
}

// Ledger entries outside the memmap are ignored rather than corrupting it.
TEST(Audit, LedgerIgnoresPfnsOutsideTheMemmap) {
  Model m(small_config());
  HolderLedger ledger(m.frames().size());
  ledger.add_ref(m.frames().size() + 5, 3);
  ledger.add_frozen(core::kNoPfn, "nobody");
  EXPECT_EQ(ledger.size(), m.frames().size());
  EXPECT_TRUE(ledger.double_frozen().empty());
  EXPECT_TRUE(audit_clean(m, ledger));
}

struct Plant {
  const char* name;
  // Plants the inconsistency (in the model, the ledger, or both) and returns
  // the pfn the report must name.
  Pfn (*plant)(Model&, HolderLedger&);
  ViolationKind kind;
  const char* site;
  const char* detail;
};

const Plant kPlants[] = {
    // --- accounting ---
    // 1 --get (not in the ledger)--> 2; the ledger names 1
    {"leak_extra_get",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       core::folio_get(m, p);
       l.add_ref(p);
       return p;
     },
     ViolationKind::Leak, "audit:accounting", "refcount 2, holders name 1: 1 reference(s) leaked"},
    {"leak_nobody_holds",
     [](Model& m, HolderLedger&) { return alloc(m, 2); }, ViolationKind::Leak, "audit:accounting",
     "refcount 1, holders name 0: 1 reference(s) leaked"},
    // refcount 1; the ledger names 2: a put to come will underflow
    {"deficit",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p, 2);
       return p;
     },
     ViolationKind::RefcountDeficit, "audit:accounting", "refcount 1, holders name 2: 1 reference(s) missing"},
    {"refs_on_an_unheld_frozen_folio",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc_frozen(m);
       l.add_ref(p);
       return p;
     },
     ViolationKind::RefcountDeficit, "audit:accounting", "refcount 0, holders name 1 reference(s)"},
    {"refs_on_a_held_frozen_folio",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc_frozen(m);
       l.add_frozen(p, "pool");
       l.add_ref(p);
       return p;
     },
     ViolationKind::RefcountDeficit, "audit:accounting", "frozen by pool yet holders name 1 reference(s)"},
    {"negative_refcount",
     [](Model& m, HolderLedger&) {
       const Pfn p = alloc(m);
       m.frame(p).refcount.init(-1);
       return p;
     },
     ViolationKind::RefcountUnderflow, "audit:accounting", "negative refcount -1"},
    // (alloc_frozen) 0, no holder: nobody will ever free it
    {"frozen_without_holder", [](Model& m, HolderLedger&) { return alloc_frozen(m); }, ViolationKind::LostFrame,
     "audit:structure", "refcount 0, not in the buddy, no holder: the frame is lost to the allocator"},
    {"large_frozen_without_holder", [](Model& m, HolderLedger&) { return alloc_frozen(m, kMaxOrder); },
     ViolationKind::LostFrame, "audit:structure", "the frame is lost to the allocator"},
    // 1 --put--> 0 (testzero, never freed)
    {"put_to_zero_never_freed",
     [](Model& m, HolderLedger&) {
       const Pfn p = alloc(m);
       EXPECT_TRUE(core::folio_put_testzero(m, p));
       return p;
     },
     ViolationKind::LostFrame, "audit:structure", "lost to the allocator"},
    // --- two places at once ---
    {"frozen_by_two_holders",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc_frozen(m);
       l.add_frozen(p, "pool-a");
       l.add_frozen(p, "pool-b");
       return p;
     },
     ViolationKind::DoubleOwner, "audit:accounting", "two holders own the same frozen folio"},
    {"frozen_holder_of_a_live_folio",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p);
       l.add_frozen(p, "pool");
       return p;
     },
     ViolationKind::DoubleOwner, "audit:accounting", "held frozen by pool but refcount is 1"},
    {"refs_on_a_free_block_head",
     [](Model&, HolderLedger& l) {
       l.add_ref(kNormalStart);
       return kNormalStart;
     },
     ViolationKind::HeldButFree, "audit:accounting", "name 1 reference(s) on a free frame"},
    {"frozen_holder_inside_a_free_block",
     [](Model&, HolderLedger& l) {
       l.add_frozen(kMovableStart + 3, "pool");
       return kMovableStart + 3;
     },
     ViolationKind::HeldButFree, "audit:accounting", "free frame is held frozen by pool"},
    // a, b buddies --put, put--> merged order-3 block; free b again: the
    // primitive cannot see it (b is not PageBuddy, refcount 0), the audit can
    {"subpage_freed_twice",
     [](Model& m, HolderLedger&) {
       const Pfn a = alloc(m);
       const Pfn b = alloc(m);
       EXPECT_EQ(a ^ 1u, b);
       core::folio_put(m, a);
       core::folio_put(m, b);
       core::free_frozen_pages(m, b, 0);
       return b;
     },
     ViolationKind::DoubleOwner, "audit:free_list", "frame is in two free blocks"},
    // --- mappings and pins, against the model's PTEs, page caches and pins named ---
    {"mapcount_without_ptes",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p);
       m.frame(p).mapcount.init(1);
       return p;
     },
     ViolationKind::MapcountMismatch, "audit:accounting", "mapcount 1, 0 PTE(s) map it"},
    {"large_folio_pincount_without_pins",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m, 2);
       l.add_ref(p);
       m.frame(p).pincount.init(1);
       return p;
     },
     ViolationKind::PincountMismatch, "audit:accounting", "pincount 1, holders name 0 pin(s)"},
    {"small_folio_with_a_pincount",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p);
       m.frame(p).pincount.init(1);
       return p;
     },
     ViolationKind::PincountMismatch, "audit:accounting", "pincount 1"},
    {"mapping_without_a_cache_entry",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p);
       m.frame(p).mapping.init(core::kFileMapping);
       return p;
     },
     ViolationKind::MappingCorrupt, "audit:page_cache", "but no page-cache entry names it"},
    // --- structure: buddy ---
    {"buddy_flag_on_an_allocated_frame",
     [](Model& m, HolderLedger& l) {
       const Pfn p = alloc(m);
       l.add_ref(p);
       m.frame(p).page_type.init(static_cast<uint8_t>(core::PageType::Buddy));
       return p;
     },
     ViolationKind::BuddyCorrupt, "audit:structure", "PageBuddy but on no free list"},
    {"free_block_head_with_refcount",
     [](Model& m, HolderLedger&) {
       m.frame(kNormalStart).refcount.init(1);
       return kNormalStart;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "free block head has refcount 1"},
    {"frame_inside_free_block_with_refcount",
     [](Model& m, HolderLedger&) {
       m.frame(kNormalStart + 3).refcount.init(2);
       return kNormalStart + 3;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "frame inside a free block has refcount 2"},
    {"free_block_head_with_wrong_order",
     [](Model& m, HolderLedger&) {
       m.frame(kMovableStart).order.init(2);
       return kMovableStart;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "on the order-3 list with order 2"},
    {"free_block_in_a_pageblock_of_another_migratetype",
     [](Model& m, HolderLedger&) {
       m.frames().set_pageblock_migratetype(kPageblock, core::MigrateType::Isolate);
       return kPageblock;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "on a Unmovable list in a Isolate pageblock"},
    // the second block on NORMAL's order-3 list loses its back link
    {"free_list_broken_back_link",
     [](Model& m, HolderLedger&) {
       const Pfn first = m.buddy().zone(ZoneType::Normal).free_area[kMaxOrder][0].head;
       const Pfn second = m.frame(first).lru_next;
       m.frame(second).lru_prev = second;
       return second;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "broken back link"},
    {"nr_free_off_by_one",
     [](Model& m, HolderLedger&) {
       m.buddy().zone(ZoneType::Normal).free_area[kMaxOrder][0].nr_free += 1;
       return core::kNoPfn;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "Normal order 3 Unmovable: nr_free 9 but 8 on the list"},
    {"nr_free_pages_off_by_one",
     [](Model& m, HolderLedger&) {
       m.buddy().zone(ZoneType::Movable).nr_free_pages -= 1;
       return core::kNoPfn;
     },
     ViolationKind::BuddyCorrupt, "audit:free_list", "Movable: nr_free_pages 63 but 64 frames on its lists"},
    // --- structure: tails ---
    {"tail_with_refcount",
     [](Model& m, HolderLedger& l) {
       const Pfn h = alloc(m, 2);
       l.add_ref(h);
       m.frame(h + 1).refcount.init(1);
       return h + 1;
     },
     ViolationKind::TailCorrupt, "audit:structure", "tail page has refcount 1"},
    {"tail_naming_another_tail_as_head",
     [](Model& m, HolderLedger& l) {
       const Pfn h = alloc(m, 2);
       l.add_ref(h);
       m.frame(h + 2).head.init(h + 1);
       return h + 2;
     },
     ViolationKind::TailCorrupt, "audit:structure", "which does not cover it"},
    {"holder_naming_a_tail",
     [](Model& m, HolderLedger& l) {
       const Pfn h = alloc(m, 2);
       l.add_ref(h);
       l.add_ref(h + 3);
       return h + 3;
     },
     ViolationKind::TailCorrupt, "audit:accounting", "a holder names a tail page instead of its head"},
};

TEST(AuditPlanted, EachPlantIsReportedExactly) {
  for (const Plant& c : kPlants) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    HolderLedger ledger(m.frames().size());
    const Pfn p = c.plant(m, ledger);
    ASSERT_TRUE(no_violations(m)) << "the plant itself must not report";

    const AuditReport quiet = core::audit(m, ledger, /*report=*/false);
    EXPECT_TRUE(only_violation(quiet.violations, c.kind, p, c.site, c.detail));
    EXPECT_FALSE(quiet.clean());
    EXPECT_EQ(m.violation_count(), 0u) << "report=false must not reach the model";

    const AuditReport loud = core::audit(m, ledger);
    EXPECT_EQ(loud.violations.size(), 1u);
    EXPECT_TRUE(only_violation(m, c.kind, p, c.site, c.detail));
    const auto vs = m.violations();
    if (p != core::kNoPfn && !vs.empty()) {
      EXPECT_EQ(vs[0].frame.pfn, p);
    }
  }
}

// Every audit-only kind is planted by some row above.
TEST(AuditPlanted, TableCoversEveryAuditKind) {
  const ViolationKind audit_kinds[] = {
      ViolationKind::Leak,        ViolationKind::RefcountDeficit, ViolationKind::HeldButFree,
      ViolationKind::LostFrame,   ViolationKind::DoubleOwner,     ViolationKind::BuddyCorrupt,
      ViolationKind::TailCorrupt, ViolationKind::RefcountUnderflow, ViolationKind::MapcountMismatch,
      ViolationKind::PincountMismatch, ViolationKind::MappingCorrupt,
  };
  expect_each_kind_has_a_row(audit_kinds, kPlants);
}

// The same frozen folio: LostFrame with no holder, clean once a holder owns it.
TEST(Audit, FrozenFolioIsCleanOnceHeld) {
  Model m(small_config());
  const Pfn p = alloc_frozen(m, 2);
  HolderLedger ledger(m.frames().size());
  const AuditReport lost = core::audit(m, ledger, false);
  EXPECT_TRUE(only_violation(lost.violations, ViolationKind::LostFrame, p, "audit:structure"));
  ledger.add_frozen(p, "test");
  const AuditReport held = core::audit(m, ledger, false);
  EXPECT_TRUE(held.clean()) << describe(held.violations);
  EXPECT_EQ(held.frozen_folios, 1u);
  EXPECT_EQ(held.tail_frames, 3u);
}

// A leak is the count nobody can name, whatever it is.
//   1 --get x4--> 5; holders name 2
TEST(Audit, LeakDetailNamesTheMissingCount) {
  Model m(small_config());
  const Pfn p = alloc(m);
  for (int i = 0; i < 4; ++i) core::folio_get(m, p);
  HolderLedger ledger(m.frames().size());
  ledger.add_ref(p, 2);
  const AuditReport r = core::audit(m, ledger, false);
  EXPECT_TRUE(only_violation(r.violations, ViolationKind::Leak, p, "audit:accounting",
                             "refcount 5, holders name 2: 3 reference(s) leaked"));
  EXPECT_EQ(r.allocated_folios, 1u);
}

TEST(Audit, DoubleFrozenIsRememberedByTheLedger) {
  HolderLedger ledger(16);
  ledger.add_frozen(3, "a");
  ledger.add_frozen(3, "b");
  ledger.add_frozen(4, "a");
  ASSERT_EQ(ledger.double_frozen().size(), 1u);
  EXPECT_EQ(ledger.double_frozen()[0], 3u);
  EXPECT_STREQ(ledger.frozen_holder(3), "b");
}

}  // namespace
