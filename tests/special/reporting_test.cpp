// core/reporting.hpp — a reporting cycle: isolation off the free lists,
// poison, putback and PageReported; capacity and budget; ISOLATE lists are
// never reported; a handout under report is DataLoss.
#include <gtest/gtest.h>

#include "core/buddy.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

uint32_t reported_heads(Model& m) {
  uint32_t n = 0;
  for (Pfn p = 0; p < m.frames().size(); ++p) n += (m.frame(p).flags.peek() & core::pg::reported) != 0;
  return n;
}

TEST(PageReporting, ACycleReportsCapacityTimesBudgetBlocks) {
  Model m(special_config());  // capacity 4, budget 2; 16 free order-4 blocks
  EXPECT_EQ(m.reporting().report_cycle(), 8);
  EXPECT_EQ(reported_heads(m), 8u);
  EXPECT_EQ(m.probes().count(core::Probe::ReportMarked), 8u);
  EXPECT_EQ(nr_free(m), 256u);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.reporting().report_cycle(), 8);  // the others
  EXPECT_EQ(m.reporting().report_cycle(), 0);  // all reported
  EXPECT_EQ(reported_heads(m), 16u);
  EXPECT_EQ(audit_text(m), "");
}

TEST(PageReporting, CapacityAndBudgetAreConfigurable) {
  core::ModelConfig c = special_config();
  c.reporting_capacity = 1;
  c.reporting_budget = 1;
  Model m(c);
  EXPECT_EQ(m.reporting().report_cycle(), 1);
}

TEST(PageReporting, AReportedPageHandedOutLaterIsDiscardedMemory) {
  Model m(special_config());
  while (m.reporting().report_cycle() > 0) {
  }
  const Pfn p = core::alloc_pages(m, core::ZoneType::Normal, 0);
  ASSERT_NE(p, kNoPfn);
  EXPECT_EQ(m.frame(p).payload.peek(), core::kReportedPoison);
  EXPECT_FALSE(m.frame(p).flags.peek() & core::pg::reported);  // cleared on leaving the free list
  core::folio_put(m, p);
  EXPECT_EQ(audit_text(m), "");
}

TEST(PageReporting, IsolatedPageblocksAreNeverReported) {
  Model m(special_config());
  ASSERT_TRUE(m.buddy().start_isolate_page_range(0, 16));
  while (m.reporting().report_cycle() > 0) {
  }
  EXPECT_FALSE(m.frame(0).flags.peek() & core::pg::reported);
  EXPECT_TRUE(m.frame(16).flags.peek() & core::pg::reported);
  EXPECT_EQ(audit_text(m), "");
}

TEST(PageReporting, BelowTheReportingOrderNothingIsReported) {
  Model m(special_config());
  // Fragment everything into order-1 free blocks: allocate all order-0
  // pages, free every other one.
  std::vector<Pfn> held;
  for (Pfn p; (p = core::alloc_pages(m, core::ZoneType::Movable, 0)) != kNoPfn;) held.push_back(p);  // falls back to NORMAL
  for (size_t i = 0; i < held.size(); i += 2) core::folio_put(m, held[i]);
  EXPECT_EQ(m.reporting().report_cycle(), 0);
  for (size_t i = 1; i < held.size(); i += 2) core::folio_put(m, held[i]);
}

// The check behind "the allocator never hands out a page under report": a
// stand-in for a broken allocator hands a block out during the report.
TEST(PageReporting, HandingOutAPageUnderReportIsDataLoss) {
  Model m(special_config());
  m.reporting().set_report_hook(
      [](Model& mm, Pfn head, unsigned, void*) {
        mm.frame(head).generation.fetch_add(1, std::memory_order_relaxed);  // relaxed: test, one thread
      },
      nullptr);
  m.reporting().report_cycle();
  ASSERT_FALSE(m.violations().empty());
  EXPECT_EQ(m.violations()[0].kind, core::ViolationKind::DataLoss);
  EXPECT_EQ(std::string(m.violations()[0].site), "page_reporting_drain");
}

TEST(PageReporting, InFlightBlocksAreClaimedByTheReporter) {
  Model m(special_config());
  std::string seen;
  m.reporting().set_report_hook(
      [](Model& mm, Pfn, unsigned, void* c) {
        const core::AuditReport r = core::audit(mm, core::HolderLedger(mm.frames().size()), false);
        *static_cast<std::string*>(c) += r.clean() ? "" : r.summary();
        EXPECT_GT(r.frozen_folios, 0u);
      },
      &seen);
  m.reporting().report_cycle();
  EXPECT_EQ(seen, "");
}

}  // namespace
