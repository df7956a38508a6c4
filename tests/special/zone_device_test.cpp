// core/zone_device.hpp — the pgmap: 0-based and legacy 1-based refcounts,
// page_free exactly once per transition, compound device folios, teardown.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/migrate.hpp"
#include "core/page_ref.hpp"
#include "core/zone_device.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

core::ModelConfig legacy_config() {
  core::ModelConfig c = special_config();
  c.design.zone_device = core::ZoneDeviceRefcount::LegacyOneBased;
  return c;
}

// memremap_pages(), then dev_alloc(): a populated pgmap and one device folio
// (its head; kNoPfn when none is free). A failed memremap_pages throws (the
// test fails).
Pfn populate_and_alloc(Model& m) {
  const int e = m.pgmap().memremap_pages();
  if (e != 0) throw std::runtime_error("memremap_pages: " + std::to_string(e));
  return m.pgmap().dev_alloc();
}

TEST(ZoneDevice, ZeroBasedFreeFoliosAreFrozenAndCompound) {
  Model m(special_config());
  ASSERT_EQ(m.pgmap().memremap_pages(), 0);
  EXPECT_TRUE(m.pgmap().live());
  EXPECT_EQ(m.pgmap().nr_folios(), 32u);
  const Pfn first = m.frames().zone(core::ZoneType::Device).start;
  EXPECT_EQ(m.frame(first).refcount.peek(), 0);
  EXPECT_TRUE(m.frame(first).flags.peek() & core::pg::head);
  EXPECT_EQ(m.frame(first + 1).head.peek(), first);
  EXPECT_EQ(core::pfn_walk_get(m, first + 1), kNoPfn);
  EXPECT_EQ(audit_text(m), "");
}

TEST(ZoneDevice, ZeroBasedPutRunsPageFreeOnceThroughTheOwnerHook) {
  for (auto d : {core::FreeDispatch::OwnerHook, core::FreeDispatch::PerTypeChecks}) {
    core::ModelConfig c = special_config();
    c.design.free_dispatch = d;
    Model m(c);
    const Pfn h = populate_and_alloc(m);
    ASSERT_NE(h, kNoPfn);
    EXPECT_EQ(core::folio_ref_count(m, h), 1);
    HolderLedger l(m.frames().size());
    l.add_ref(h);
    EXPECT_EQ(audit_text(m, l), "");
    core::put_page(m, h);
    EXPECT_EQ(m.pgmap().page_free_calls(h), 1u);
    EXPECT_EQ(core::folio_ref_count(m, h), 0);
    EXPECT_TRUE(all_clean(m));
  }
}

TEST(ZoneDevice, ZeroBasedWalkerDropsTheLastReference) {
  Model m(special_config());
  const Pfn h = populate_and_alloc(m);
  EXPECT_EQ(core::pfn_walk_get(m, h + 1), h);
  core::folio_put(m, h);
  EXPECT_EQ(m.pgmap().page_free_calls(h), 0u);
  core::folio_put(m, h);
  EXPECT_EQ(m.pgmap().page_free_calls(h), 1u);
  EXPECT_EQ(audit_text(m), "");
}

TEST(ZoneDevice, TeardownWaitsForReferencesThenUnpopulates) {
  Model m(special_config());
  const Pfn h = populate_and_alloc(m);
  EXPECT_EQ(m.pgmap().memunmap_pages(), -EBUSY);
  EXPECT_GT(m.probes().count(core::Probe::PgmapTeardownBusy), 0u);
  EXPECT_TRUE(m.pgmap().live());
  core::put_page(m, h);
  EXPECT_EQ(m.pgmap().memunmap_pages(), 0);
  EXPECT_FALSE(m.pgmap().live());
  EXPECT_EQ(m.pgmap().dev_alloc(), kNoPfn);
  EXPECT_EQ(m.pgmap().memunmap_pages(), -ENODEV);
  const core::AuditReport r = core::audit(m, HolderLedger(m.frames().size()), false);
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.unpopulated_frames, 64u);
  EXPECT_EQ(m.pgmap().memremap_pages(), 0);
  EXPECT_EQ(m.pgmap().memremap_pages(), -EEXIST);
  EXPECT_NE(m.pgmap().dev_alloc(), kNoPfn);
}

TEST(ZoneDevice, LegacyIdleIsOneAndPutDevmapManagedPageCallsPageFreeAtOne) {
  Model m(legacy_config());
  ASSERT_EQ(m.pgmap().memremap_pages(), 0);
  const Pfn first = m.frames().zone(core::ZoneType::Device).start;
  EXPECT_EQ(m.frame(first).refcount.peek(), 1);
  EXPECT_EQ(audit_text(m), "");
  const Pfn h = m.pgmap().dev_alloc();
  EXPECT_EQ(core::folio_ref_count(m, h), 2);
  core::put_page(m, h);
  EXPECT_EQ(core::folio_ref_count(m, h), 1);
  EXPECT_EQ(m.pgmap().page_free_calls(h), 1u);
  EXPECT_TRUE(all_clean(m));
}

// c5d6c45e90c4 class: a generic put path that skips put_devmap_managed_page
// takes a legacy page to its idle count without page_free.
TEST(ZoneDevice, LegacyGenericPutMissesPageFree) {
  Model m(legacy_config());
  const Pfn h = populate_and_alloc(m);
  core::folio_put(m, h);  // release_pages() without the devmap case
  EXPECT_EQ(core::folio_ref_count(m, h), 1);
  EXPECT_EQ(m.pgmap().page_free_calls(h), 0u);
  EXPECT_TRUE(has_kind(m, HolderLedger(m.frames().size()), core::ViolationKind::FreeCallback));
}

TEST(ZoneDevice, LegacyPutBelowIdleIsReported) {
  Model m(legacy_config());
  ASSERT_EQ(m.pgmap().memremap_pages(), 0);
  const Pfn first = m.frames().zone(core::ZoneType::Device).start;
  core::put_page(m, first);
  EXPECT_EQ(m.violation_count(), 1u);
  EXPECT_EQ(core::folio_ref_count(m, first), 1);
}

TEST(ZoneDevice, LegacyTeardownFreezesTheIdleReferences) {
  Model m(legacy_config());
  const Pfn h = populate_and_alloc(m);
  EXPECT_EQ(m.pgmap().memunmap_pages(), -EBUSY);
  EXPECT_EQ(audit_text(m, [&] { HolderLedger l(m.frames().size()); l.add_ref(h); return l; }()), "");
  core::put_page(m, h);
  EXPECT_EQ(m.pgmap().memunmap_pages(), 0);
  for (Pfn p = m.frames().zone(core::ZoneType::Device).start; p < m.frames().size(); ++p)
    EXPECT_EQ(m.frame(p).refcount.peek(), 0);
  EXPECT_EQ(audit_text(m), "");
  EXPECT_EQ(m.pgmap().memremap_pages(), 0);
  EXPECT_EQ(audit_text(m), "");
}

TEST(ZoneDevice, PageFreeOnAFreeFolioIsReported) {
  Model m(special_config());
  const Pfn h = populate_and_alloc(m);
  core::put_page(m, h);
  m.pgmap().free_folio(m, h);  // a second callback for one transition
  ASSERT_EQ(m.violations().size(), 1u);
  EXPECT_EQ(m.violations()[0].kind, core::ViolationKind::FreeCallback);
}

}  // namespace
