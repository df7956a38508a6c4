// Fake-offlining a page while its memory block goes offline (fuzzer finding
// on offline=legacy, free_dispatch=per-type-checks; signature
// leak/audit:accounting/teardown):
//
//   t0 (virtio-mem unplug)              t1 (offline_pages)
//   offline_alloc: alloc_pages, rc 1
//                                       start_isolate_page_range
//                                       MEM_GOING_OFFLINE: page not listed yet,
//                                         no page_ref_dec_and_test
//   __SetPageOffline, list the page
//                                       passes: PageOffline at rc 1 is not
//                                         skippable -> -EBUSY
//                                       MEM_CANCEL_OFFLINE: page_ref_inc 1 -> 2
//   teardown gives the page back: 2 -> 1, a reference nobody holds (leak)
//
// A model bug, not a race of the legacy design: virtio-mem fake-offlines
// (virtio_mem_fake_offline: alloc_contig_range + virtio_mem_set_fake_offline)
// under vm->hotplug_mutex, which its memory notifier holds from
// MEM_GOING_OFFLINE to MEM_OFFLINE / MEM_CANCEL_OFFLINE. The OfflineDriver
// now does the same; this test explores every schedule of the program up to
// the bound and expects none to fail, in both designs and both dispatches.
//
// Giving a fake-offline page back while its block goes offline (stress
// finding on the DEFAULT design, offline=frozen + owner-hook, 'offline'
// profile; signatures double-free/free_frozen_pages/block_online,
// buddy-corrupt/audit:free_list, free-callback/offline_free_folio/put;
// minimized to 3 ops and 1 preemption, held-but-free/audit:accounting):
//
//   t1 (virtio-mem)                     t0 (offline_pages + online_pages)
//   offline_alloc: PageOffline, frozen
//   offline_free: block not offlining,
//     unlist the page
//                                       isolate; MEM_GOING_OFFLINE;
//                                       the page is skippable PageOffline;
//                                       __offline_isolated_pages; MEM_OFFLINE
//   give_back: free_frozen_pages into
//     the now offline block             (held-but-free)
//                                       online_pages: the frame is not
//                                       PageOffline: free it again
//                                       (double free) or withhold it while
//                                       on a free list (buddy-corrupt)
//
// Also a model bug: virtio-mem gives pages back (virtio_mem_fake_online)
// from virtio_mem_plug_request() with vm->hotplug_mutex held ("Don't race
// with onlining/offlining"), and its notifier holds the mutex from
// MEM_GOING_ONLINE to MEM_ONLINE as well. offline_free and onlining now
// take OfflineDriver::hotplug_mutex_ the same way.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/offline.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer::harness;
using namespace refhammer_test;
using core::FreeDispatch;
using core::OfflineRefcount;

// The fuzzer's model (as in the trace); race_config() is the small one
// explored to bound 2.
core::ModelConfig fuzzer_config(OfflineRefcount o, FreeDispatch d) {
  return with(model_of("normal=64 movable=64 device=32 block=32 max_order=3 mms=2 mm_slots=8 file_pages=8 "
                       "gmem_pages=8 gmem_huge_order=2 rcu_readers=16 offline_passes=8"),
              o, d);
}

// t0 offline_alloc zone=movable || t1 block_offline of the block offline_alloc takes its page from.
Program race_program(const core::ModelConfig& cfg) {
  const core::Pfn p = offline_alloc_pfn(cfg);
  EXPECT_NE(p, core::kNoPfn);
  return program_of(cfg, {{"offline_alloc zone=movable"}, {"block_offline pfn=" + std::to_string(p)}});
}

void expect_clean(const core::ModelConfig& cfg, uint32_t bound, uint32_t audit_every) {
  BoundedOptions bo;
  bo.bound = bound;
  bo.run.audit_every = audit_every;
  const BoundedResult b = explore_bounded(cfg, race_program(cfg), bo);
  expect_exhausted_and_clean(b, 1,
                             std::string(core::design_value_name(cfg.design.offline)) + "+" +
                                 core::design_value_name(cfg.design.free_dispatch));
}

TEST(OfflineAllocVsBlockOffline, CleanInTheWholeBoundedSpaceInBothDesigns) {
  for (auto o : {OfflineRefcount::Legacy, OfflineRefcount::Frozen})
    for (auto d : {FreeDispatch::PerTypeChecks, FreeDispatch::OwnerHook}) {
      expect_clean(race_config(o, d), 2, 0);  // teardown audit, as the fuzzer
      expect_clean(race_config(o, d), 2, 1);  // and after every op
    }
}

// The fuzzer's own model (8 offline passes), to the depth of its finding.
TEST(OfflineAllocVsBlockOffline, FuzzerModelCleanToOnePreemption) {
  for (auto o : {OfflineRefcount::Legacy, OfflineRefcount::Frozen})
    expect_clean(fuzzer_config(o, FreeDispatch::PerTypeChecks), 1, 0);
}

// t0 block_offline of the block offline_alloc takes its page from (then,
// with `online`, block_online withholding 2 pages) || t1 offline_alloc,
// offline_free (and, with `online`, an order-0 allocation and its put, which
// finds a frame the race left in a bad state).
Program give_back_program(const core::ModelConfig& cfg, bool online) {
  const core::Pfn p = offline_alloc_pfn(cfg);
  EXPECT_NE(p, core::kNoPfn);
  const std::string pfn = std::to_string(p);
  std::vector<std::vector<std::string>> actors{{"block_offline pfn=" + pfn},
                                               {"offline_alloc zone=movable", "offline_free nth=1"}};
  if (online) {
    actors[0].push_back("block_online pfn=" + pfn + " withhold=2");
    actors[1].push_back("alloc zone=movable order=0");
    actors[1].push_back("put slot=0");
  }
  return program_of(cfg, actors);
}

void expect_give_back_clean(const core::ModelConfig& cfg, bool online, uint32_t bound, uint32_t audit_every) {
  BoundedOptions bo;
  bo.bound = bound;
  bo.run.audit_every = audit_every;
  // The spinner rule lets a spinner run as soon as its lock word is written:
  // the +online program on the stress model has ~120k schedules within 2.
  bo.max_runs = 300'000;
  const BoundedResult b = explore_bounded(cfg, give_back_program(cfg, online), bo);
  expect_exhausted_and_clean(b, 1,
                             std::string(core::design_value_name(cfg.design.offline)) + "+" +
                                 core::design_value_name(cfg.design.free_dispatch) + (online ? " +online" : "") +
                                 " audit_every=" + std::to_string(audit_every));
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RH_SANITIZED 1
#endif
#endif
// The programs with onlining have ~65k-120k schedules within 2 preemptions
// (the spinner rule lets the hotplug_mutex waiter run as soon as the mutex
// is written): 3-9 s each in release, 4-6 minutes per test under ASan/TSan.
// Sanitizer builds explore them to 1 preemption (the race they guard needs
// one); release explores the whole space to 2.
#ifdef RH_SANITIZED
constexpr uint32_t kOnlineBound = 1;
#else
constexpr uint32_t kOnlineBound = 2;
#endif

// The minimized program (3 ops, 1 preemption) and the stress program it came
// from (with onlining), to bound 2 (kOnlineBound), in both designs and both
// dispatches.
TEST(OfflineFreeVsBlockOffline, CleanInTheWholeBoundedSpaceInBothDesigns) {
  for (auto o : {OfflineRefcount::Frozen, OfflineRefcount::Legacy})
    for (auto d : {FreeDispatch::OwnerHook, FreeDispatch::PerTypeChecks}) {
      expect_give_back_clean(race_config(o, d), false, 2, 0);  // teardown audit
      expect_give_back_clean(race_config(o, d), false, 2, 1);  // and after every op
      expect_give_back_clean(race_config(o, d), true, kOnlineBound, 0);  // block_online's double free, teardown audit
    }
}

// The stress run's model (32-frame blocks, 8 offline passes).
TEST(OfflineFreeVsBlockOffline, StressModelCleanToTwoPreemptions) {
  for (auto o : {OfflineRefcount::Frozen, OfflineRefcount::Legacy}) {
    expect_give_back_clean(fuzzer_config(o, FreeDispatch::OwnerHook), false, 2, 1);
    expect_give_back_clean(fuzzer_config(o, FreeDispatch::OwnerHook), true, kOnlineBound, 0);
  }
}

}  // namespace
