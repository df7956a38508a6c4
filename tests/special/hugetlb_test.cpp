// core/hugetlb.hpp — the pool: fresh allocation and its freeze, dequeue,
// free through the owner hook, dissolve (and its race window), demote, and
// speculative getters on heads and tails.
#include <gtest/gtest.h>

#include "core/folio.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/page_ref.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

TEST(Hugetlb, AllocFromEmptyPoolGrowsItAndHandsOutRefcountOne) {
  Model m(special_config());
  const uint32_t before = nr_free(m);
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  ASSERT_NE(h, kNoPfn);
  EXPECT_EQ(core::folio_ref_count(m, h), 1);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(h).page_type.peek()), core::PageType::Hugetlb);
  EXPECT_EQ(static_cast<core::OwnerId>(m.frame(h).owner.peek()), core::OwnerId::Hugetlb);
  EXPECT_FALSE(m.frame(h).flags.peek() & core::pg::hugetlb_freed);
  for (Pfn t = h + 1; t < h + 8; ++t) EXPECT_EQ(m.frame(t).refcount.peek(), 0);
  EXPECT_EQ(nr_free(m), before - 8);
  HolderLedger l(m.frames().size());
  l.add_ref(h);
  EXPECT_EQ(audit_text(m, l), "");
}

TEST(Hugetlb, LastPutGoesThroughTheOwnerHookBackToThePool) {
  for (auto d : {core::FreeDispatch::OwnerHook, core::FreeDispatch::PerTypeChecks}) {
    Model m(with(special_config(), core::OfflineRefcount::Frozen, d));
    const Pfn h = m.hugetlb().alloc_hugetlb_folio();
    core::folio_put(m, h);
    EXPECT_EQ(core::folio_ref_count(m, h), 0);
    EXPECT_TRUE(m.frame(h).flags.peek() & core::pg::hugetlb_freed);
    EXPECT_EQ(m.hugetlb().nr_free(), 1u);
    EXPECT_EQ(audit_text(m), "") << core::design_value_name(d);
    // Dequeue again: the same folio, unfrozen to 1.
    EXPECT_EQ(m.hugetlb().alloc_hugetlb_folio(), h);
    EXPECT_EQ(core::folio_ref_count(m, h), 1);
    core::folio_put(m, h);
  }
}

TEST(Hugetlb, DissolveFreeFolioReturnsItToTheBuddy) {
  Model m(special_config());
  const uint32_t before = nr_free(m);
  ASSERT_EQ(m.hugetlb().alloc_fresh_hugetlb_folio(), 0);
  const Pfn h = m.hugetlb().free_folio_at(0);
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h + 3), 0);  // by a tail pfn
  EXPECT_EQ(nr_free(m), before);
  EXPECT_EQ(m.hugetlb().nr_free(), 0u);
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h), -ENOENT);
  EXPECT_EQ(audit_text(m), "");
}

TEST(Hugetlb, DissolveRefusesAFolioInUse) {
  Model m(special_config());
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h), -EBUSY);
  core::folio_put(m, h);
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h), 0);
}

// 7ffddd499ba6: the put reached 0 but free_huge_folio has not enqueued yet.
//   put: 1 -> 0 | dissolve: hugetlb, refcount 0, !freed -> retry ... -EBUSY
//   free_huge_folio: enqueue (freed) | dissolve: 0
TEST(Hugetlb, DissolveInTheFreeRaceWindowRetriesInsteadOfFreeing) {
  Model m(special_config());
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  ASSERT_TRUE(core::folio_put_testzero(m, h));  // FREEING: zero, not yet enqueued
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h), -EBUSY);
  EXPECT_GT(m.probes().count(core::Probe::HugetlbDissolveRaceWindow), 0u);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(h).page_type.peek()), core::PageType::Hugetlb);
  m.hugetlb().free_folio(m, h);  // the free path completes
  EXPECT_EQ(m.hugetlb().dissolve_free_hugetlb_folio(h), 0);
  EXPECT_EQ(m.violation_count(), 0u);
  EXPECT_EQ(audit_text(m), "");
}

TEST(Hugetlb, FreshAllocationBacksOffWhenTheFreezeLosesToASpeculativeRef) {
  core::ModelConfig c = special_config();
  c.faults.sites = core::fault_bit(core::FaultSite::SpuriousCas);
  c.faults.rate = 1;  // every freeze fails, as if a walker held the head
  Model m(c);
  const uint32_t before = nr_free(m);
  EXPECT_EQ(m.hugetlb().alloc_fresh_hugetlb_folio(), -EAGAIN);
  EXPECT_EQ(m.probes().count(core::Probe::HugetlbFreezeFailed), 3u);
  EXPECT_EQ(nr_free(m), before);  // each attempt's folio went back
  EXPECT_EQ(m.violation_count(), 0u);
}

TEST(Hugetlb, DemoteSplitsAFreeFolioIntoTwoFrozenHalves) {
  Model m(special_config());
  ASSERT_EQ(m.hugetlb().alloc_fresh_hugetlb_folio(), 0);
  const Pfn h = m.hugetlb().free_folio_at(0);
  ASSERT_EQ(m.hugetlb().demote_free_hugetlb_folio(h), 0);
  EXPECT_EQ(m.hugetlb().nr_free(), 2u);
  EXPECT_EQ(m.frame(h).order.peek(), 2);
  EXPECT_EQ(m.frame(h + 4).order.peek(), 2);
  EXPECT_EQ(m.frame(h + 5).head.peek(), h + 4);
  EXPECT_EQ(m.frame(h + 4).refcount.peek(), 0);
  EXPECT_EQ(audit_text(m), "");
  // Down to order 0.
  ASSERT_EQ(m.hugetlb().demote_free_hugetlb_folio(h), 0);
  ASSERT_EQ(m.hugetlb().demote_free_hugetlb_folio(h), 0);
  EXPECT_EQ(m.hugetlb().demote_free_hugetlb_folio(h), -EINVAL);
  EXPECT_EQ(audit_text(m), "");
  m.hugetlb().dissolve_all_free();
  EXPECT_EQ(nr_free(m), 256u);
  EXPECT_EQ(audit_text(m), "");
}

TEST(Hugetlb, SpeculativeGetsOnFreePoolFoliosFail) {
  Model m(special_config());
  ASSERT_EQ(m.hugetlb().alloc_fresh_hugetlb_folio(), 0);
  const Pfn h = m.hugetlb().free_folio_at(0);
  for (Pfn p = h; p < h + 8; ++p) EXPECT_EQ(core::pfn_walk_get(m, p), kNoPfn);
  EXPECT_EQ(m.violation_count(), 0u);
}

// A walker's reference on a tail outlives the owner's: the walker's put
// runs free_huge_folio.
TEST(Hugetlb, WalkerOnATailDropsTheLastReference) {
  Model m(special_config());
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  EXPECT_EQ(core::pfn_walk_get(m, h + 5), h);
  core::folio_put(m, h);  // the owner
  EXPECT_EQ(m.hugetlb().nr_free(), 0u);
  core::folio_put(m, h);  // the walker: last
  EXPECT_EQ(m.hugetlb().nr_free(), 1u);
  EXPECT_EQ(audit_text(m), "");
}

TEST(Hugetlb, MigrationRefusesHugetlbFolios) {
  Model m(special_config());
  const Pfn h = m.hugetlb().alloc_hugetlb_folio();
  core::folio_get(m, h);
  EXPECT_EQ(core::migrate_folio(m, h, core::ZoneType::Normal), -EBUSY);
  EXPECT_EQ(core::folio_ref_count(m, h), 1);
  core::folio_put(m, h);
}

}  // namespace
