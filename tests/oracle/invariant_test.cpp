// tests/oracle — one firing test per row of docs/invariants.md.
//
// Each test builds, by hand, a state (or an operation) that breaks one
// must-never invariant and checks that the oracle's check for it reports
// the expected kind at the expected site. The bad states are planted with
// Atomic::init() on a quiescent model, or made by calling a primitive the
// way a buggy caller would. ctest `invariant_table` checks that every row of
// the table names a test that exists.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/gup.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "core/violation.hpp"
#include "harness/bounded.hpp"
#include "harness/op.hpp"
#include "harness/world.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

// True if `vs` holds a violation of `kind` on `pfn` at `site`.
::testing::AssertionResult has(const std::vector<core::Violation>& vs, ViolationKind kind, Pfn pfn,
                               const std::string& site) {
  for (const auto& v : vs)
    if (v.kind == kind && v.pfn == pfn && site == v.site) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << core::violation_kind_name(kind) << " pfn " << pfn << " at "
                                       << site << ", got:" << describe(vs);
}

std::vector<core::Violation> audit_of(Model& m, const HolderLedger& l) { return core::audit(m, l, false).violations; }

// --- refcount accounting ------------------------------------------------------

TEST(Invariant, RefcountNeverGoesBelowZero) {
  Model m(special_config());
  const Pfn p = must(core::alloc_pages(m, ZoneType::Normal, 0));
  m.frame(p).refcount.init(0);  // planted: a put the folio's holders never had
  core::folio_put(m, p);
  EXPECT_TRUE(has(m.violations(), ViolationKind::RefcountUnderflow, p, "folio_put"));
}

TEST(Invariant, RefcountCoversEveryHolder) {
  Model m(special_config());
  const Pfn p = must(core::alloc_pages(m, ZoneType::Normal, 0));
  HolderLedger l(m.frames().size());
  l.add_ref(p, 2);  // two holders, one reference: a put to come will underflow
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::RefcountDeficit, p, "audit:accounting"));
}

TEST(Invariant, NoReferenceNobodyCanName) {
  Model m(special_config());
  const Pfn p = must(core::alloc_pages(m, ZoneType::Normal, 1));
  core::folio_get(m, p);  // a speculative get never matched by its put
  HolderLedger l(m.frames().size());
  l.add_ref(p, 1);
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::Leak, p, "audit:accounting"));
}

TEST(Invariant, NoIncrementFromZeroButAllocationAndUnfreeze) {
  Model m(special_config());
  const Pfn frozen = must(core::alloc_frozen_pages(m, ZoneType::Normal, 0));
  core::folio_get(m, frozen);  // 0 -> 1: a resurrection
  EXPECT_TRUE(has(m.violations(), ViolationKind::GetOnFrozen, frozen, "folio_get"));
  Model m2(special_config());
  core::folio_get(m2, 5);  // a frame of a free buddy block
  EXPECT_TRUE(has(m2.violations(), ViolationKind::GetOnFree, 5, "folio_get"));
}

TEST(Invariant, TailPagesHaveRefcountZero) {
  Model m(special_config());
  const Pfn h = must(core::alloc_pages(m, ZoneType::Normal, 2));
  m.frame(h + 1).refcount.init(1);  // planted: a get on a tail (the zero page's tails are shared read-only)
  HolderLedger l(m.frames().size());
  l.add_ref(h);
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::TailCorrupt, h + 1, "audit:structure"));
}

TEST(Invariant, PageBuddyIsFreeAndOnExactlyOneList) {
  Model m(special_config());
  const Pfn p = must(core::alloc_pages(m, ZoneType::Normal, 0));
  m.frame(p).page_type.init(static_cast<uint8_t>(core::PageType::Buddy));  // planted: PageBuddy, on no list
  HolderLedger l(m.frames().size());
  l.add_ref(p);
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::BuddyCorrupt, p, "audit:structure"));
  Model m2(special_config());
  const Pfn q = must(core::alloc_frozen_pages(m2, ZoneType::Normal, 0));
  core::free_frozen_pages(m2, q, 0);
  core::free_frozen_pages(m2, q, 0);  // the second free of one frame
  EXPECT_TRUE(has(m2.violations(), ViolationKind::DoubleFree, q, "free_frozen_pages"));
}

TEST(Invariant, FrozenFolioRefusesSpeculativeGets) {
  Model m(special_config());
  const Pfn p = must(core::alloc_frozen_pages(m, ZoneType::Normal, 0));
  EXPECT_FALSE(core::folio_try_get(m, p));  // the protocol: try_get fails at 0
  EXPECT_TRUE(m.violations().empty()) << describe(m.violations());
  m.frame(p).refcount.init(1);  // planted: a speculative get that succeeded on the frozen folio
  HolderLedger l(m.frames().size());
  l.add_frozen(p, "freezer");
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::DoubleOwner, p, "audit:accounting"));
}

TEST(Invariant, AFrameIsNeverInTwoPlaces) {
  Model m(special_config());
  HolderLedger l(m.frames().size());
  l.add_frozen(8, "driver pool");  // pfn 8 is in a free buddy block
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::HeldButFree, 8, "audit:accounting"));
  const Pfn p = must(core::alloc_frozen_pages(m, ZoneType::Normal, 0));
  HolderLedger l2(m.frames().size());
  l2.add_frozen(p, "hugetlb pool");
  l2.add_frozen(p, "page reporting");
  EXPECT_TRUE(has(audit_of(m, l2), ViolationKind::DoubleOwner, p, "audit:accounting"));
}

TEST(Invariant, PageOfflineFrozenHasRefcountZero) {
  Model m(special_config());  // design: offline=frozen
  const Pfn p = m.offline_driver().offline_alloc(ZoneType::Movable);
  ASSERT_NE(p, kNoPfn);
  EXPECT_TRUE(audit_of(m, HolderLedger(m.frames().size())).empty());
  m.frame(p).refcount.init(1);  // planted: a walker's get on the frozen PageOffline page
  HolderLedger l(m.frames().size());
  l.add_ref(p);  // even when somebody can name the reference
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::GetOnFrozen, p, "audit:offline"));
}

// --- GUP ----------------------------------------------------------------------

// A world with one idle actor, for the harness-level GUP check.
refhammer::harness::Program one_idle_actor() {
  refhammer::harness::Program p;
  p.actors.resize(1);
  return p;
}

struct OneActor {
  refhammer::harness::Program prog = one_idle_actor();
  refhammer::harness::World w{special_config(), prog};
  refhammer::harness::Actor& a = w.actors()[0];
  Model& m = w.model();
};

TEST(Invariant, GupNeverReturnsALongtermPinOnMovableOrIsolated) {
  {
    OneActor t;  // ZONE_MOVABLE
    const Pfn p = must(core::alloc_pages(t.m, ZoneType::Movable, 0));
    refhammer::harness::check_longterm_pin(t.w, t.a, p, "pin_user_pages");
    EXPECT_TRUE(has(t.m.violations(), ViolationKind::LongtermPinMovable, p, "pin_user_pages"));
  }
  {
    OneActor t;  // ZONE_NORMAL, in a pageblock the actor holds isolated
    const Pfn p = must(core::alloc_pages(t.m, ZoneType::Normal, 0));
    const uint32_t pb = t.m.frames().pageblock_frames();
    const Pfn block = p & ~(pb - 1);
    ASSERT_TRUE(t.m.buddy().start_isolate_page_range(block, block + pb));
    t.a.isolated.push_back(block);
    refhammer::harness::check_longterm_pin(t.w, t.a, p, "pin_user_pages_fast");
    EXPECT_TRUE(has(t.m.violations(), ViolationKind::LongtermPinMovable, p, "pin_user_pages_fast"));
  }
  {
    OneActor t;  // ZONE_NORMAL, not isolated: legal
    const Pfn p = must(core::alloc_pages(t.m, ZoneType::Normal, 0));
    refhammer::harness::check_longterm_pin(t.w, t.a, p, "pin_user_pages");
    EXPECT_TRUE(t.m.violations().empty()) << describe(t.m.violations());
  }
}

TEST(Invariant, NoLongtermPinHeldOnMovable) {
  Model m(special_config());
  const Pfn p = must(core::alloc_pages(m, ZoneType::Movable, 0));
  core::folio_ref_add(m, p, core::GUP_PIN_COUNTING_BIAS);
  HolderLedger l(m.frames().size());
  l.add_ref(p);
  l.add_pin(p);
  EXPECT_TRUE(audit_of(m, l).empty()) << "a short-term pin on ZONE_MOVABLE is legal";
  l.add_longterm_pin(p);
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::LongtermPinMovable, p, "audit:accounting"));
}

// Both GUP paths, end to end on the clean core: a FOLL_LONGTERM pin of a
// ZONE_MOVABLE page migrates it first, and the checks stay quiet.
TEST(Invariant, LongtermPinsOfMovablePagesAreMigratedFirstOnBothPaths) {
  for (const bool fast : {false, true}) {
    const core::ModelConfig cfg = special_config();
    const refhammer::harness::Program prog =
        program_of(cfg, {{"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "put slot=0",
                          fast ? "pin_fast_longterm mm=0 pte=0" : "pin_longterm mm=0 pte=0"}});
    refhammer::harness::World w(cfg, prog);
    for (auto& a = w.actors()[0]; !a.done();) EXPECT_EQ(w.step(a), 0) << "op " << a.pc;
    const refhammer::harness::Hold& pin = w.actors()[0].slots[0];
    ASSERT_EQ(pin.kind, refhammer::harness::HoldKind::Pin);
    EXPECT_TRUE(pin.longterm);
    EXPECT_EQ(w.model().frames().zone_of(pin.head), ZoneType::Normal);
    EXPECT_EQ(w.model().probes().count(core::Probe::LongtermMigrated), 1u);
    EXPECT_TRUE(w.model().violations().empty()) << describe(w.model().violations());
    EXPECT_TRUE(audit_of(w.model(), w.ledger()).empty());
  }
}

// --- migration and user data ----------------------------------------------------

TEST(Invariant, MigrationNeverLosesAUserWrite) {
  Model m(special_config());
  core::Mm& mm = m.mm(0);
  const Pfn p = must(core::alloc_pages(m, ZoneType::Movable, 0));
  ASSERT_EQ(core::map_page(m, mm, 3, p), 0);
  core::folio_put(m, p);  // the mapping holds it
  ASSERT_EQ(core::mm_write(m, mm, 3, core::user_write_value(1, 1)), 0);
  ASSERT_EQ(core::mm_write(m, mm, 3, core::user_write_value(1, 2)), 0);
  // The clean core: migration carries the data, nothing fires.
  bool migrated = false;
  ASSERT_TRUE(core::folio_try_get(m, p));  // the isolation reference migrate_folio consumes
  EXPECT_EQ(core::migrate_folio(m, p, ZoneType::Normal, &migrated), 0);
  ASSERT_TRUE(migrated);
  uint64_t v = 0;
  ASSERT_EQ(core::mm_read(m, mm, 3, v), 0);
  EXPECT_EQ(v, core::user_write_value(1, 2));
  EXPECT_TRUE(m.violations().empty()) << describe(m.violations());
  // Planted: the new page holds the copy taken before write #2 landed.
  const Pfn now = core::pte::pfn(mm.pte(3).peek());
  m.frame(now).payload.init(core::user_write_value(1, 1));
  EXPECT_TRUE(has(audit_of(m, HolderLedger(m.frames().size())), ViolationKind::DataLoss, now, "audit:mm"));
  ASSERT_EQ(core::mm_read(m, mm, 3, v), 0);
  EXPECT_TRUE(has(m.violations(), ViolationKind::DataLoss, now, "mm_read"));
}

TEST(Invariant, OtherWritersAndRemapsAreNotLostWrites) {
  Model m(special_config());
  core::Mm& mm = m.mm(0);
  const Pfn p = must(core::alloc_pages(m, ZoneType::Normal, 0));
  ASSERT_EQ(core::map_page(m, mm, 0, p), 0);
  ASSERT_EQ(core::map_page(m, mm, 1, p), 0);
  ASSERT_EQ(core::mm_write(m, mm, 0, core::user_write_value(0, 5)), 0);
  ASSERT_EQ(core::mm_write(m, mm, 1, core::user_write_value(2, 1)), 0);  // another writer, another mapping
  uint64_t v = 0;
  ASSERT_EQ(core::mm_read(m, mm, 0, v), 0);
  ASSERT_TRUE(core::unmap_slot(m, mm, 1));
  ASSERT_TRUE(core::unmap_slot(m, mm, 0));
  m.frame(p).payload.init(core::user_write_value(0, 1));  // stale data in a page mapped afresh
  ASSERT_EQ(core::map_page(m, mm, 0, p), 0);
  ASSERT_EQ(core::mm_read(m, mm, 0, v), 0);
  core::folio_put(m, p);
  ASSERT_TRUE(core::unmap_slot(m, mm, 0));
  EXPECT_TRUE(m.violations().empty()) << describe(m.violations());
}

// --- pins, hugetlb --------------------------------------------------------------

TEST(Invariant, APinnedFolioIsNeverFreed) {
  Model m(special_config());
  const Pfn p = must(core::alloc_frozen_pages(m, ZoneType::Normal, 1));
  m.frame(p).pincount.init(1);  // planted: a pin nobody dropped
  core::free_frozen_pages(m, p, 1);
  EXPECT_TRUE(has(m.violations(), ViolationKind::BadPageFree, p, "free_frozen_pages"));
}

TEST(Invariant, HugetlbPoolFolioIsNeverOnAMigrationList) {
  Model m(special_config());
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  ASSERT_NE(h, kNoPfn);
  core::folio_put(m, h);  // back to the pool: frozen, hugetlb_freed
  EXPECT_TRUE(audit_of(m, HolderLedger(m.frames().size())).empty());
  m.frame(h).refcount.init(1);  // planted: isolate_hugetlb() took the pool folio for migration
  HolderLedger l(m.frames().size());
  l.add_ref(h);  // the migration list's reference
  EXPECT_TRUE(has(audit_of(m, l), ViolationKind::DoubleOwner, h, "audit:accounting"));
}

// The bounded space of the program with ops `actors` (one list per actor) on
// race_config() (16 NORMAL + 16 MOVABLE frames, the default designs), up to
// `bound` preemptions.
refhammer::harness::BoundedResult explore_race(uint32_t bound, const std::vector<std::vector<std::string>>& actors) {
  const core::ModelConfig cfg = race_config(core::OfflineRefcount::Frozen, core::FreeDispatch::OwnerHook);
  refhammer::harness::BoundedOptions o;
  o.bound = bound;
  o.max_runs = 1'000'000;
  return refhammer::harness::explore_bounded(cfg, program_of(cfg, actors), o);
}

// Found by the migrate profile under perturb on the clean core once the
// profile ran long-term pins (mapping-corrupt/audit:page_cache): a holder
// whose reference came from a speculative get (try_get on a pfn) added
// migration's new folio to the page cache at another index while migration
// was moving the old folio's entries to it. Only a folio's owner adds it to
// a page cache now (Hold::owned), and filemap_add_folio takes the folio lock
// as the kernel's __filemap_add_folio requires. The whole space up to 3
// preemptions is clean.
TEST(PageCacheOwnership, ASpeculativeHolderCannotCacheMigrationsNewFolio) {
  expect_exhausted_and_clean(explore_race(3, {{"alloc zone=movable order=0", "cache_insert slot=0 index=2",
                                                "put slot=0", "migrate pfn=28 zone=normal"},
                                               {"try_get pfn=12", "cache_insert slot=0 index=1"}}),
                             10'000);
}

// Found by StressSmoke under TSan (debug checks on): a walker that migrates
// (migrate, compact) took a speculative reference on migration's new folio
// between its allocation and migration's folio_trylock(dst), and locked it
// first; the model asserted (MODEL_BUG_ON) where the kernel backs out. Now
// migration puts dst and returns -EAGAIN. The bounded space up to 2
// preemptions of two migrations meeting on dst is clean, with the debug
// checks of the sanitizer builds on.
TEST(MigrateDst, AWalkerThatLockedTheNewFolioMakesMigrationBackOut) {
  expect_exhausted_and_clean(explore_race(2, {{"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0",
                                                "put slot=0", "migrate pfn=28 zone=normal"},
                                               {"migrate pfn=12 zone=movable", "compact pfn=12"}}),
                             1'000);
}

}  // namespace
