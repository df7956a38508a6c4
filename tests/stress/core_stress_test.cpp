// Stress smoke: TBB workers race try_get/put/alloc/free/freeze/split/isolate
// on shared frames; quiescent audits and the teardown audit must stay clean,
// the named interleavings must actually be reached, and a planted leak must
// be caught by the audit.
#include <gtest/gtest.h>

#include "stress/core_stress.hpp"

namespace {

using refhammer::stress::CoreStressOptions;
using refhammer::stress::run_core_stress;

uint64_t probe(const refhammer::stress::CoreStressResult& r, core::Probe p) {
  return r.probes[static_cast<unsigned>(p)];
}

CoreStressOptions smoke(unsigned threads, uint64_t seed) {
  CoreStressOptions o;
  o.threads = threads;
  o.seconds = 2.0;
  o.max_ops = 3'000'000;
  o.seed = seed;
  o.audit_every = 5000;
  return o;
}

void expect_clean(const CoreStressOptions& o) {
  auto r = run_core_stress(o);
  SCOPED_TRACE(refhammer::stress::describe(o, r));
  EXPECT_EQ(r.violations, 0u);
  EXPECT_TRUE(r.final_all_free);
  EXPECT_GT(r.ops, 10'000u);
  EXPECT_GT(r.audits, 0u);
  // The run must have reached the interleavings it exists to exercise.
  EXPECT_GT(probe(r, core::Probe::TryGetSawZero), 0u);
  EXPECT_GT(probe(r, core::Probe::FreezeFailed), 0u);
  EXPECT_GT(probe(r, core::Probe::PutWasLast), 0u);
  EXPECT_GT(probe(r, core::Probe::BuddyMerged), 0u);
}

TEST(CoreStress, TwoThreadsClean) { expect_clean(smoke(2, 1)); }

TEST(CoreStress, FourThreadsOversubscribedClean) { expect_clean(smoke(4, 7)); }

TEST(CoreStress, PerTypeChecksDesignClean) {
  auto o = smoke(2, 3);
  o.model.design.free_dispatch = core::FreeDispatch::PerTypeChecks;
  expect_clean(o);
}

// The second half of the core (mappings, GUP, migration, page cache,
// guest_memfd) under the same stress: clean, and its named interleavings
// reached — GUP-fast finding no PTE, migration refused by an extra reference
// and succeeding, FOLL_LONGTERM migrating out of ZONE_MOVABLE, conversion
// waiting for transient references.
TEST(CoreStress, AllOpsReachGupMigrateTruncateConvertInterleavings) {
  for (auto policy : {core::GmemPinPolicy::RefuseLongterm, core::GmemPinPolicy::SplitSmallFolios}) {
    auto o = smoke(2, 21);
    o.profile = CoreStressOptions::Profile::All;
    o.model.design.gmem_pin_policy = policy;
    auto r = run_core_stress(o);
    SCOPED_TRACE(refhammer::stress::describe(o, r));
    EXPECT_EQ(r.violations, 0u);
    EXPECT_TRUE(r.final_all_free);
    EXPECT_GT(probe(r, core::Probe::GupFastNotPresent), 0u);
    EXPECT_GT(probe(r, core::Probe::MigrateExtraRefs), 0u);
    EXPECT_GT(probe(r, core::Probe::MigrateSucceeded), 0u);
    EXPECT_GT(probe(r, core::Probe::LongtermMigrated), 0u);
    EXPECT_GT(probe(r, core::Probe::GmemConvertWaited), 0u);
    EXPECT_GT(probe(r, core::Probe::PutLastByOwnerHook), 0u);  // guest_memfd folios freed through the hook
  }
}

// The special owners (issue 4) under the same stress: hugetlb pool allocs,
// dissolves and demotes, device pages, PageOffline pages, memory-block
// offlining/onlining and reporting passes, with pfn walkers and migration
// racing them. The new designs (0-based ZONE_DEVICE, frozen PageOffline)
// must stay clean, and the named interleavings must be reached.
TEST(CoreStress, SpecialOwnersClean) {
  auto o = smoke(2, 13);
  o.profile = CoreStressOptions::Profile::Special;
  o.model.device_frames = 32;
  auto r = run_core_stress(o);
  SCOPED_TRACE(refhammer::stress::describe(o, r));
  EXPECT_EQ(r.violations, 0u);
  EXPECT_TRUE(r.final_all_free);
  EXPECT_GT(probe(r, core::Probe::HugetlbDissolved), 0u);
  EXPECT_GT(probe(r, core::Probe::DevicePageFree), 0u);
  EXPECT_GT(probe(r, core::Probe::OfflineSucceeded), 0u);
  EXPECT_GT(probe(r, core::Probe::ReportIsolated), 0u);
  EXPECT_GT(probe(r, core::Probe::PutLastByOwnerHook), 0u);
}

TEST(CoreStress, RefcountProfileClean) {
  auto o = smoke(2, 5);
  o.profile = CoreStressOptions::Profile::Refcount;
  expect_clean(o);
}

TEST(CoreStress, PlantedLeakIsCaughtByQuiescentAudit) {
  auto o = smoke(2, 11);
  o.plant_leak_at_op = 20'000;
  o.audit_every = 2000;
  auto r = run_core_stress(o);
  SCOPED_TRACE(refhammer::stress::describe(o, r));
  ASSERT_GT(r.violations, 0u);
  ASSERT_FALSE(r.first_violations.empty());
  EXPECT_EQ(r.first_violations.front().kind, core::ViolationKind::Leak);
  EXPECT_NE(r.first_violations.front().detail.find("1 reference(s) leaked"), std::string::npos);
  EXPECT_FALSE(r.clean());
}

}  // namespace
