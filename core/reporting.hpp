// core::PageReporting — free page reporting (mm/page_reporting.c; seed 004;
// kernel-semantics.md §6), and the two page_alloc.c helpers that take a free
// block off the buddy's lists and put it back (__isolate_free_page,
// __putback_isolated_page), which memory offlining uses too.
//
// One reporting cycle (page_reporting_process_zone), per zone, per order >=
// reporting_order, on the zone's default migratetype only (never ISOLATE:
// memory offlining owns those lists):
//   1. under zone->lock: take up to reporting_capacity free blocks that are
//      not PageReported off the free list (__isolate_free_page): no longer
//      PageBuddy, refcount 0, laid out as a frozen compound block; the
//      allocator cannot see them (FREE_ISOLATED); record them in flight
//   2. drop zone->lock; "report": the hypervisor discards the backing, so
//      every frame's payload becomes kReportedPoison
//   3. check that nobody handed a frame out meanwhile (its generation is
//      unchanged): a page handed out while under report is DataLoss
//   4. __putback_isolated_page: back on the free list (may merge); if the
//      block is still PageBuddy with the same order, __SetPageReported
// A cycle stops after reporting_budget reports (the per-list budget).
//
// A reported page handed out later is discarded memory: its payload is the
// poison, never the data last written (the model's allocator does not zero
// payloads, so the poison written in step 2 is what the next owner sees).
// Memory offlining sees an in-flight block as a non-buddy refcount-0 range:
// its isolation test fails and it retries.
//
// Simplified: step 4 frees through Buddy::free and re-takes zone->lock to
// mark, instead of doing both in one lock hold; a block allocated and freed
// again with the same order in that window is marked reported although its
// backing was not discarded (harmless: only memory not returned to the host).
// No IDLE/REQUESTED/ACTIVE state machine or delayed work: a cycle is an op.
#pragma once

#include <cstdint>
#include <vector>

#include "core/atomic.hpp"
#include "core/buddy.hpp"
#include "core/claimant.hpp"
#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

class Model;
class HolderLedger;

inline constexpr uint64_t kReportedPoison = 0xd15ca2dedd15ca2dull;  // payload of discarded memory

// __isolate_free_page() with zone->lock held: takes the free block `head` of
// `order` off free_area[order][mt]. The block is left with refcount 0 and
// page_type None; its frames are untouched singletons.
void isolate_free_block_locked(Model& m, Zone& z, Pfn head, unsigned order, MigrateType mt);
// Lays an isolated block out as a frozen compound block (head + tails), the
// shape __putback_isolated_page expects. Only the isolator touches it.
void prep_isolated_block(Model& m, Pfn head, unsigned order);
// __putback_isolated_page(): back to the free lists of its pageblock's
// migratetype, merging. Precondition: prep_isolated_block() was applied.
void putback_isolated_block(Model& m, Pfn head, unsigned order);

class PageReporting final : public FrameClaimant {
 public:
  explicit PageReporting(Model& m);

  // One reporting cycle over both buddy zones. Returns the blocks reported.
  int report_cycle();

  // Test seam: called during step 2 for each block in flight (a stand-in
  // for a buggy allocator or hypervisor). Null by default.
  using ReportHook = void (*)(Model& m, Pfn head, unsigned order, void* ctx);
  void set_report_hook(ReportHook h, void* ctx) noexcept { hook_ = h, hook_ctx_ = ctx; }

  // Audit: in-flight blocks belong to the reporter (frozen).
  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  // Audit: PageReported only on free heads, whose payload is the poison.
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;
  uint64_t reported_total() const noexcept { return reported_total_.peek(); }

 private:
  struct InFlight {
    Pfn head;
    uint8_t order;
    std::vector<uint32_t> generation;  // per frame, at isolation
  };
  void report_batch(std::vector<InFlight>& batch);

  Model& m_;
  SpinLock worker_;          // one reporting worker at a time (the work item)
  mutable SpinLock inflight_lock_;
  std::vector<InFlight> inflight_;  // protected by inflight_lock_
  Atomic<uint64_t> reported_total_{0};
  ReportHook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
};

}  // namespace core
