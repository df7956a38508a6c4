// The seed-000 race on the deterministic scheduler: a pfn walker's
// speculative reference on a legacy PageOffline page outlives
// MEM_GOING_OFFLINE's drop, and its put frees the page into the buddy.
//
//   t0 (virtio-mem + offliner)        t1 (pfn walker)
//   offline_alloc: PageOffline, rc 1
//                                     try_get: folio_try_get 1 -> 2
//   block_offline: isolate;
//     GOING_OFFLINE: dec 2 -> 1 (WARN)
//     pass: test fails (rc 1), spin
//                                     put: 1 -> 0 -> __folio_put
//   legacy + PerTypeChecks: free_frozen_pages: the page is in the buddy  -> DataLoss
//   legacy + OwnerHook:     the driver's free_folio keeps it offline    -> clean
//   frozen:                 try_get sees 0 and fails                    -> clean
//
// Bounded exploration (preemption bound 2, iterative context bounding)
// enumerates every schedule of the 2-actor program.
#include <gtest/gtest.h>

#include <string>

#include "core/offline.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer::harness;
using namespace refhammer_test;
using core::OfflineRefcount;

Program race_program(const core::ModelConfig& cfg) {
  const std::string pfn = std::to_string(offline_alloc_pfn(cfg));
  return program_of(cfg, {{"offline_alloc zone=movable", "block_offline pfn=" + pfn},
                          {"try_get pfn=" + pfn, "put slot=0"}});
}

BoundedResult explore(OfflineRefcount o, core::FreeDispatch d) {
  const core::ModelConfig cfg = race_config(o, d);
  BoundedOptions bo;
  bo.bound = 2;
  bo.run.audit_every = 1;
  return explore_bounded(cfg, race_program(cfg), bo);
}

TEST(Seed000Race, LegacyWithPerTypeChecksLeaksAPageOfflinePageIntoTheBuddy) {
  const BoundedResult b = explore(OfflineRefcount::Legacy, core::FreeDispatch::PerTypeChecks);
  ASSERT_TRUE(b.has_failure) << b.runs << " schedules explored";
  const std::string sig = b.first_failure.report.signature;
  EXPECT_NE(sig.find("data-loss"), std::string::npos) << sig;
  // The failing schedule replays to the same finding.
  auto rec = make_recorded_source(b.first_failure.schedule);
  const core::ModelConfig cfg = race_config(OfflineRefcount::Legacy, core::FreeDispatch::PerTypeChecks);
  RunOptions ro;
  ro.audit_every = 1;
  const RunResult r = run_deterministic(cfg, race_program(cfg), *rec, ro);
  EXPECT_FALSE(r.clean());
  EXPECT_EQ(r.report.signature, sig);
  std::string text;
  for (const auto& [s, n] : b.signatures) text += s + " x" + std::to_string(n) + "\n";
  RecordProperty("signatures", text);
}

TEST(Seed000Race, LegacyWithTheOwnerHookIsCleanInTheWholeBoundedSpace) {
  const BoundedResult b = explore(OfflineRefcount::Legacy, core::FreeDispatch::OwnerHook);
  EXPECT_TRUE(b.exhausted);
  EXPECT_EQ(b.failing, 0u) << b.first_failure.report.signature;
}

TEST(Seed000Race, FrozenIsCleanInTheWholeBoundedSpaceWithEitherDispatch) {
  for (auto d : {core::FreeDispatch::OwnerHook, core::FreeDispatch::PerTypeChecks}) {
    const BoundedResult b = explore(OfflineRefcount::Frozen, d);
    EXPECT_TRUE(b.exhausted) << core::design_value_name(d);
    EXPECT_EQ(b.failing, 0u) << core::design_value_name(d) << ": " << b.first_failure.report.signature;
    EXPECT_GT(b.runs, 1u);
  }
}

}  // namespace
