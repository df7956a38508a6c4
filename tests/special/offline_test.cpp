// core/offline.hpp — PageOffline pages in both designs, memory-block
// offlining/onlining, and the seed-000 race driven by hand on one thread.
#include <gtest/gtest.h>

#include "core/folio.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;
using core::OfflineRefcount;

TEST(PageOffline, FrozenPagesNeverTouchTheRefcount) {
  Model m(special_config());
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Movable);
  ASSERT_NE(p, kNoPfn);
  EXPECT_EQ(m.frame(p).refcount.peek(), 0);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(p).page_type.peek()), core::PageType::Offline);
  EXPECT_TRUE(m.frame(p).flags.peek() & core::pg::offline_skippable);
  EXPECT_EQ(core::pfn_walk_get(m, p), kNoPfn);  // a walker cannot touch it
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.offline_driver().offline_free(0), 0);
  EXPECT_EQ(nr_free(m), 256u);
  EXPECT_EQ(m.offline_driver().offline_free(0), -ENOENT);
  EXPECT_EQ(audit_text(m), "");
}

TEST(PageOffline, LegacyPagesHoldOneReferenceAndTheWasOnlinedBit) {
  Model m(with(special_config(), OfflineRefcount::Legacy));
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Normal);
  EXPECT_EQ(m.frame(p).refcount.peek(), 1);
  EXPECT_TRUE(m.frame(p).flags.peek() & core::pg::was_onlined);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.offline_driver().offline_free(0), 0);
  EXPECT_EQ(nr_free(m), 256u);
  EXPECT_EQ(audit_text(m), "");
}

class Offlining : public ::testing::TestWithParam<OfflineRefcount> {};

TEST_P(Offlining, BlockWithOfflinePagesGoesOfflineAndComesBackWithheld) {
  Model m(with(special_config(), GetParam()));
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Movable);
  const uint32_t b = m.frames().block_of(p);
  ASSERT_EQ(m.hotplug().offline_pages(b), 0);
  EXPECT_TRUE(m.hotplug().is_offline(b));
  EXPECT_EQ(nr_free(m), 256u - 64u);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(p).page_type.peek()), core::PageType::Offline);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.offline_driver().offline_free(0), -EBUSY);  // its memory is offline
  EXPECT_EQ(m.hotplug().offline_pages(b), -EINVAL);
  ASSERT_EQ(m.hotplug().online_pages(b, 2), 0);
  EXPECT_EQ(m.offline_driver().nr_pages(), 3u);
  EXPECT_EQ(nr_free(m), 256u - 3u);
  EXPECT_EQ(audit_text(m), "");
  const Pfn w = m.offline_driver().page_at(1);
  if (GetParam() == OfflineRefcount::Frozen) {
    EXPECT_TRUE(m.frame(w).flags.peek() & core::pg::offline_never_onlined);
    EXPECT_EQ(m.frame(w).refcount.peek(), 0);
  } else {
    EXPECT_FALSE(m.frame(w).flags.peek() & core::pg::was_onlined);
    EXPECT_EQ(m.frame(w).refcount.peek(), 1);
  }
  m.offline_driver().free_all();
  EXPECT_EQ(nr_free(m), 256u);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.violation_count(), 0u);
}

TEST_P(Offlining, MappedFoliosAreMigratedOutOfTheBlock) {
  Model m(with(special_config(), GetParam()));
  const Pfn f = core::alloc_pages(m, core::ZoneType::Movable, 0);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, f), 0);
  core::folio_put(m, f);  // only the mapping holds it
  const uint32_t b = m.frames().block_of(f);
  ASSERT_EQ(m.hotplug().offline_pages(b), 0);
  const Pfn now = core::pte::pfn(m.mm(0).pte(0).peek());
  EXPECT_NE(m.frames().block_of(now), b);
  EXPECT_EQ(audit_text(m), "");
  ASSERT_EQ(m.hotplug().online_pages(b, 0), 0);
  EXPECT_EQ(audit_text(m), "");
}

TEST_P(Offlining, AnUnexplainedReferenceMakesItBusyAndCancels) {
  Model m(with(special_config(), GetParam()));
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Movable);
  const uint32_t b = m.frames().block_of(p);
  const Pfn f = core::alloc_pages(m, core::ZoneType::Movable, 0);
  ASSERT_EQ(m.frames().block_of(f), b);
  EXPECT_EQ(m.hotplug().offline_pages(b), -EBUSY);
  EXPECT_GT(m.probes().count(core::Probe::OfflineBusy), 0u);
  EXPECT_EQ(m.frames().get_pfnblock_migratetype(f), core::MigrateType::Movable);  // isolation undone
  HolderLedger l(m.frames().size());
  l.add_ref(f);
  EXPECT_EQ(audit_text(m, l), "");  // legacy: CANCEL restored the driver's reference
  if (GetParam() == OfflineRefcount::Legacy) {
    EXPECT_EQ(m.frame(p).refcount.peek(), 1);
  }
  core::folio_put(m, f);
  EXPECT_EQ(m.hotplug().offline_pages(b), 0);
}

TEST_P(Offlining, FreeHugetlbFoliosAreDissolved) {
  Model m(with(special_config(), GetParam()));
  ASSERT_EQ(m.hugetlb().alloc_fresh_hugetlb_folio(), 0);
  const Pfn h = m.hugetlb().free_folio_at(0);
  ASSERT_EQ(m.hotplug().offline_pages(m.frames().block_of(h)), 0);
  EXPECT_EQ(m.hugetlb().nr_free(), 0u);
  EXPECT_EQ(audit_text(m), "");
}

// Offlining meets a report in flight: the reported block is a non-buddy
// refcount-0 range, so the isolation test fails and offlining retries.
struct ReportCtx {
  uint32_t block;
  int result = 1;
};
TEST_P(Offlining, AnInFlightReportMakesTheIsolationTestFail) {
  Model m(with(special_config(), GetParam()));
  ReportCtx ctx{m.frames().block_of(m.frames().zone(core::ZoneType::Normal).start)};
  m.reporting().set_report_hook(
      [](Model& mm, Pfn head, unsigned, void* c) {
        auto& x = *static_cast<ReportCtx*>(c);
        if (x.result == 1 && mm.frames().block_of(head) == x.block) x.result = mm.hotplug().offline_pages(x.block);
      },
      &ctx);
  m.reporting().report_cycle();
  EXPECT_EQ(ctx.result, -EBUSY);
  EXPECT_GT(m.probes().count(core::Probe::OfflinePassRetry), 0u);
  EXPECT_EQ(m.violation_count(), 0u);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.hotplug().offline_pages(ctx.block), 0);  // no report in flight now
}

INSTANTIATE_TEST_SUITE_P(Designs, Offlining, ::testing::Values(OfflineRefcount::Frozen, OfflineRefcount::Legacy),
                         [](const auto& info) { return std::string(core::design_value_name(info.param)); });

// Seed 000 by hand, one thread:
//   walker: folio_try_get 1 -> 2
//   offliner: MEM_GOING_OFFLINE page_ref_dec_and_test 2 -> 1 (WARN)
//   walker: folio_put 1 -> 0 -> __folio_put
TEST(Seed000ByHand, LegacyPerTypeChecksLeaksThePageIntoTheBuddy) {
  Model m(with(special_config(), OfflineRefcount::Legacy, core::FreeDispatch::PerTypeChecks));
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Movable);
  ASSERT_EQ(core::pfn_walk_get(m, p), p);
  m.offline_driver().going_offline(m.frames().block_of(p));
  EXPECT_EQ(m.probes().count(core::Probe::OfflineGoingOfflineReferenced), 1u);
  core::folio_put(m, p);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(p).page_type.peek()), core::PageType::Buddy);
  EXPECT_TRUE(has_kind(m, HolderLedger(m.frames().size()), core::ViolationKind::DataLoss));
}

TEST(Seed000ByHand, LegacyOwnerHookKeepsThePageOffline) {
  Model m(with(special_config(), OfflineRefcount::Legacy, core::FreeDispatch::OwnerHook));
  const Pfn p = m.offline_driver().offline_alloc(core::ZoneType::Movable);
  ASSERT_EQ(core::pfn_walk_get(m, p), p);
  m.offline_driver().going_offline(m.frames().block_of(p));
  core::folio_put(m, p);
  EXPECT_EQ(m.probes().count(core::Probe::OfflineStrayPutKept), 1u);
  EXPECT_EQ(static_cast<core::PageType>(m.frame(p).page_type.peek()), core::PageType::Offline);
  EXPECT_EQ(m.frame(p).refcount.peek(), 0);
  EXPECT_EQ(audit_text(m), "");
  m.offline_driver().cancel_offline(m.frames().block_of(p));
  EXPECT_EQ(m.frame(p).refcount.peek(), 1);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.violation_count(), 0u);
}

}  // namespace
