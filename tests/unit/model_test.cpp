// tests for core/model.hpp, core/config.hpp and core/violation.hpp — config
// validation, violation bookkeeping, sinks, and the report formats.
#include "core/model.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/config.hpp"
#include "core/page_ref.hpp"
#include "core/violation.hpp"
#include "tests/support/support.hpp"

namespace {

using core::ModelConfig;
using namespace refhammer_test;

TEST(ModelConfig, DefaultAndSmallConfigsAreValid) {
  EXPECT_EQ(ModelConfig{}.validate(), "");
  EXPECT_EQ(small_config().validate(), "");
  EXPECT_EQ(small_config().total_frames(), 3 * kZoneFrames);
}

TEST(ModelConfig, InvalidConfigsAreRejectedWithTheReason) {
  const struct {
    const char* name;
    void (*bend)(ModelConfig&);
    const char* reason;
  } cases[] = {
      {"order_above_limit", [](ModelConfig& c) { c.max_page_order = core::kMaxPageOrderLimit + 1; },
       "max_page_order 11 is above 10"},
      {"block_not_multiple_of_pageblock", [](ModelConfig& c) { c.block_frames = 12; },
       "block_frames 12 is not a positive multiple of the pageblock (8 frames)"},
      {"zero_block", [](ModelConfig& c) { c.block_frames = 0; }, "block_frames 0"},
      {"zone_not_multiple_of_block", [](ModelConfig& c) { c.movable_frames = 40; },
       "movable_frames 40 is not a multiple of block_frames 32"},
      {"no_normal", [](ModelConfig& c) { c.normal_frames = 0; }, "normal_frames must be at least one memory block"},
      {"limit_below_two_pins", [](ModelConfig& c) { c.refcount_limit = 2047; },
       "refcount_limit 2047 is below 2 * GUP_PIN_COUNTING_BIAS"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ModelConfig cfg = small_config();
    c.bend(cfg);
    EXPECT_NE(cfg.validate().find(c.reason), std::string::npos) << cfg.validate();
    EXPECT_THROW(Model{cfg}, std::invalid_argument);
  }
}

TEST(ModelConfig, LayoutFollowsTheZoneSizes) {
  Model m(small_config());
  const auto& t = m.frames();
  EXPECT_EQ(t.size(), 3 * kZoneFrames);
  EXPECT_EQ(t.zone(core::ZoneType::Normal).start, kNormalStart);
  EXPECT_EQ(t.zone(core::ZoneType::Movable).start, kMovableStart);
  EXPECT_EQ(t.zone(core::ZoneType::Device).start, kDeviceStart);
  EXPECT_EQ(t.zone(core::ZoneType::Device).end, 3 * kZoneFrames);
  EXPECT_EQ(t.zone_of(kMovableStart - 1), core::ZoneType::Normal);
  EXPECT_EQ(t.zone_of(kMovableStart), core::ZoneType::Movable);
  EXPECT_EQ(t.zone_of(kDeviceStart), core::ZoneType::Device);
  EXPECT_EQ(t.pageblock_frames(), kPageblock);
  EXPECT_EQ(t.nr_pageblocks(), 3 * kZoneFrames / kPageblock);
  EXPECT_EQ(t.nr_blocks(), 6u);
  EXPECT_EQ(t.block_of(95), 2u);
  EXPECT_EQ(t.pageblock_migratetype_quiescent(0), core::MigrateType::Unmovable);
  EXPECT_EQ(t.pageblock_migratetype_quiescent(kMovableStart), core::MigrateType::Movable);
}

// Without a sink the Model keeps violations; with one, the sink gets them and
// nothing is kept. The count covers both.
TEST(ModelViolations, SinkReceivesReportsInsteadOfTheKeptList) {
  Model m(small_config());
  CollectingSink sink;
  m.set_violation_sink(&sink);
  core::folio_put(m, kNormalStart);  // 0 --put--> -1 ! undone
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_TRUE(only_violation(sink.got, ViolationKind::RefcountUnderflow, kNormalStart, "folio_put",
                             "refcount was 0, putting 1"));
  EXPECT_EQ(sink.got[0].frame.pfn, kNormalStart);
  EXPECT_EQ(sink.got[0].frame.page_type, core::PageType::Buddy);
  EXPECT_TRUE(m.violations().empty());
  EXPECT_EQ(m.violation_count(), 1u);

  m.set_violation_sink(nullptr);
  core::folio_get(m, kMovableStart);
  EXPECT_EQ(sink.got.size(), 1u);
  EXPECT_TRUE(only_violation(m, ViolationKind::GetOnFree, kMovableStart, "folio_get"));
  EXPECT_EQ(m.violation_count(), 2u);
}

TEST(ModelViolations, KeptListIsBoundedAndClearable) {
  Model m(small_config());
  for (size_t i = 0; i < Model::kMaxKept + 10; ++i) core::folio_put(m, kNormalStart);
  EXPECT_EQ(m.violations().size(), Model::kMaxKept);
  EXPECT_EQ(m.violation_count(), Model::kMaxKept + 10);
  EXPECT_EQ(refcount(m, kNormalStart), 0);
  m.clear_violations();
  EXPECT_TRUE(m.violations().empty());
  EXPECT_EQ(m.violation_count(), 0u);
}

TEST(ModelViolations, ReportWithoutAFrame) {
  Model m(small_config());
  m.report(ViolationKind::BuddyCorrupt, core::kNoPfn, "test", "no frame");
  const auto vs = m.violations();
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].frame.pfn, core::kNoPfn);
  EXPECT_EQ(core::format_violation(vs[0]), "buddy-corrupt at test: no frame");
  EXPECT_EQ(core::format_frame(vs[0].frame), "  (no frame)\n");
}

TEST(ViolationFormat, OneLineSummaryAndFrameDump) {
  Model m(small_config());
  const Pfn p = core::alloc_frozen_pages(m, core::ZoneType::Normal, 0);
  ASSERT_NE(p, core::kNoPfn);
  core::folio_get(m, p);  // 0 (frozen) --get--> 1 ! undone --> 0
  const auto vs = m.violations();
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(core::format_violation(vs[0]),
            "get-on-frozen pfn " + std::to_string(p) + " at folio_get: refcount was 0, adding 1");
  const std::string dump = core::format_violation_long(vs[0]);
  EXPECT_NE(dump.find("frame pfn " + std::to_string(p) + " zone Normal: refcount 0 mapcount 0 pincount 0 order 0"),
            std::string::npos)
      << dump;
  EXPECT_NE(dump.find("page_ref history (oldest first): alloc_frozen(0) VIOLATION(0)"), std::string::npos) << dump;
}

TEST(ViolationFormat, EveryKindHasAName) {
  for (unsigned k = 0; k < core::kNrViolationKinds; ++k)
    EXPECT_STRNE(core::violation_kind_name(static_cast<ViolationKind>(k)), "?") << k;
  EXPECT_STREQ(core::violation_kind_name(ViolationKind::TailCorrupt), "tail-corrupt");
}

}  // namespace
