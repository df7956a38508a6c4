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
#include <gtest/gtest.h>

#include <string>

#include "core/model.hpp"
#include "core/offline.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"

namespace {

using namespace refhammer::harness;
using core::FreeDispatch;
using core::OfflineRefcount;

// The fuzzer's model (as in the trace), and a small one explored to bound 2.
core::ModelConfig fuzzer_config(OfflineRefcount o, FreeDispatch d) {
  core::ModelConfig c;
  c.normal_frames = 64;
  c.movable_frames = 64;
  c.device_frames = 32;
  c.block_frames = 32;
  c.max_page_order = 3;
  c.nr_mms = 2;
  c.mm_slots = 8;
  c.file_pages = 8;
  c.gmem_pages = 8;
  c.gmem_huge_order = 2;
  c.rcu_readers = 16;
  c.offline_passes = 8;
  c.design.offline = o;
  c.design.free_dispatch = d;
  return c;
}

core::ModelConfig small_config(OfflineRefcount o, FreeDispatch d) {
  core::ModelConfig c;
  c.normal_frames = 16;
  c.movable_frames = 16;
  c.device_frames = 0;
  c.max_page_order = 2;
  c.block_frames = 16;
  c.nr_mms = 1;
  c.mm_slots = 2;
  c.file_pages = 4;
  c.gmem_pages = 4;
  c.gmem_huge_order = 2;
  c.rcu_readers = 2;
  c.offline_passes = 2;
  c.design.offline = o;
  c.design.free_dispatch = d;
  return c;
}

// t0 offline_alloc zone=movable || t1 block_offline of the block offline_alloc takes its page from.
Program race_program(const core::ModelConfig& cfg) {
  core::Model scratch(cfg);
  const core::Pfn p = scratch.offline_driver().offline_alloc(core::ZoneType::Movable);
  EXPECT_NE(p, core::kNoPfn);
  Program prog;
  prog.actors.resize(2);
  for (const auto& [a, line] : std::initializer_list<std::pair<int, std::string>>{
           {0, "offline_alloc zone=movable"}, {1, "block_offline pfn=" + std::to_string(p)}}) {
    Op op;
    EXPECT_EQ(parse_op(line, cfg, op), "") << line;
    prog.actors[a].push_back(op);
  }
  return prog;
}

void expect_clean(const core::ModelConfig& cfg, uint32_t bound, uint32_t audit_every) {
  BoundedOptions bo;
  bo.bound = bound;
  bo.run.audit_every = audit_every;
  const BoundedResult b = explore_bounded(cfg, race_program(cfg), bo);
  const std::string what = std::string(core::offline_refcount_name(cfg.design.offline)) + "+" +
                           core::free_dispatch_name(cfg.design.free_dispatch);
  EXPECT_TRUE(b.exhausted) << what << ": " << b.runs << " schedules";
  EXPECT_GT(b.runs, 1u) << what;
  EXPECT_EQ(b.failing, 0u) << what << ": " << b.first_failure.report.signature;
}

TEST(OfflineAllocVsBlockOffline, CleanInTheWholeBoundedSpaceInBothDesigns) {
  for (auto o : {OfflineRefcount::Legacy, OfflineRefcount::Frozen})
    for (auto d : {FreeDispatch::PerTypeChecks, FreeDispatch::OwnerHook}) {
      expect_clean(small_config(o, d), 2, 0);  // teardown audit, as the fuzzer
      expect_clean(small_config(o, d), 2, 1);  // and after every op
    }
}

// The fuzzer's own model (8 offline passes), to the depth of its finding.
TEST(OfflineAllocVsBlockOffline, FuzzerModelCleanToOnePreemption) {
  for (auto o : {OfflineRefcount::Legacy, OfflineRefcount::Frozen})
    expect_clean(fuzzer_config(o, FreeDispatch::PerTypeChecks), 1, 0);
}

}  // namespace
