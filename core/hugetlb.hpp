// core::Hugetlb — the hugetlb pool (mm/hugetlb.c; kernel-semantics.md §7).
//
// State table of a pool folio (head; tails always refcount 0):
//
// | state        | refcount | hugetlb_freed | on free list | page_type/owner |
// |--------------|----------|---------------|--------------|-----------------|
// | POOL_FREE    | 0 frozen | set           | yes          | Hugetlb/Hugetlb |
// | IN_USE       | n >= 1   | clear         | no           | Hugetlb/Hugetlb |
// | FREEING      | 0        | clear         | no           | Hugetlb/Hugetlb |
// | DISSOLVING   | 0 frozen | clear         | no           | -> None/Buddy   |
//
// Fresh allocation (alloc_buddy_hugetlb_folio + prep_new_hugetlb_folio):
//   1. alloc_pages(NORMAL, hugetlb_order): refcount 1
//   2. folio_ref_freeze(1): a speculative reference on the head makes it
//      fail -> folio_put (whoever puts last frees it to the buddy), retry
//   3. frozen: page_type Hugetlb, owner Hugetlb; enqueue (sets freed)
// Dequeue (alloc from the pool): under hugetlb_lock take a POOL_FREE folio,
//   clear freed; folio_ref_unfreeze(1).
// Free (the owner hook, free_huge_folio): the put reached 0 (FREEING);
//   A. check mapcount/pincount; B. under hugetlb_lock enqueue, set freed.
// Dissolve (dissolve_free_hugetlb_folio), under hugetlb_lock:
//   a. not Hugetlb -> nothing to do; refcount != 0 -> -EBUSY (in use)
//   b. refcount 0 but !freed: FREEING between its zero transition and B —
//      "race window": drop the lock, cpu_relax, retry (7ffddd499ba6)
//   c. freed: unlink, clear freed, type and owner; unlock; free the frozen
//      folio to the buddy.
// Demote: take a POOL_FREE folio of order o > 0, split it into two frozen
//   folios of order o-1 (tails of each name its own head), enqueue both.
// The critical interleavings: a pfn walker's folio_try_get on a head or a
// tail (which resolves to the head) during 2, c or demote sees 0 and fails;
// a walker that took a reference on an IN_USE folio may drop the last one,
// and then the walker runs free_huge_folio.
//
// Left out: hstates per size (one pool, orders <= hugetlb_order), surplus
// and temporary folios, reservations, HVO (vmemmap remap), migration of
// hugetlb folios, gigantic pages.
#pragma once

#include <cstdint>
#include <vector>

#include "core/atomic.hpp"
#include "core/owner.hpp"
#include "core/types.hpp"

namespace core {

class Hugetlb final : public FolioOwnerOps {
 public:
  explicit Hugetlb(Model& m);

  // Grows the pool by one fresh frozen folio. 0, -ENOMEM, -EAGAIN (the
  // freeze kept losing to speculative references).
  int alloc_fresh_hugetlb_folio();
  // alloc_hugetlb_folio(): dequeue a free folio (growing the pool when it
  // is empty). Returns the head with refcount 1, or kNoPfn.
  Pfn alloc_hugetlb_folio();
  // 0 (dissolved), -ENOENT (not a hugetlb folio), -EBUSY (in use, or the
  // race window did not close within hugetlb_dissolve_retries).
  int dissolve_free_hugetlb_folio(Pfn pfn);
  // Demotes the free folio containing `pfn`. 0, -ENOENT, -EINVAL (order 0).
  int demote_free_hugetlb_folio(Pfn pfn);
  // The head of the i-th free folio (i modulo the free count), or kNoPfn.
  Pfn free_folio_at(uint32_t i);
  uint32_t nr_free() const;
  // Harness teardown: dissolve every free folio.
  void dissolve_all_free();

  // FolioOwnerOps: free_huge_folio().
  const char* name() const noexcept override { return "hugetlb"; }
  void free_folio(Model& m, Pfn head) override;
  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;

 private:
  void enqueue_locked(Pfn head);
  bool unlink_free_locked(Pfn head);
  void prep_hugetlb_folio(Pfn head, unsigned order);

  Model& m_;
  mutable SpinLock hugetlb_lock_;
  std::vector<Pfn> free_;  // POOL_FREE heads; protected by hugetlb_lock_
};

}  // namespace core
