// core::owner — the one hook that intercepts a folio's refcount reaching zero.
//
// Seed 000 (folio_owner_ops): instead of an ever-growing list of per-type
// checks on the page freeing fast path, each folio names its owner, and the
// zero transition calls that owner's free path through one registry. The
// buddy is the default owner and costs one predictable branch; hugetlb, the
// device pgmap, the PageOffline driver and guest_memfd register their own.
//
// DesignConfig::free_dispatch selects the old design instead (PerTypeChecks):
// mainline's __folio_put with hard-coded zone-device and hugetlb checks and
// nothing for anyone else.
#pragma once

#include <vector>

#include "core/claimant.hpp"
#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

class Model;
class HolderLedger;

// An owner is a claimant too: the audit asks it for the frames its pools
// hold (audit_claims, by default none) and its own checks (audit_check, by
// default none).
class FolioOwnerOps : public FrameClaimant {
 public:
  virtual const char* name() const noexcept = 0;
  // The folio at `head` (owned by this owner) has just reached refcount 0 and
  // is in the FREEING state: only this call may touch it.
  virtual void free_folio(Model& m, Pfn head) = 0;
  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;
};

// The zero transition: called by folio_put() & co. when the count reached 0.
void __folio_put(Model& m, Pfn head);

// The buddy's free path for a folio that reached zero (page_cache_release,
// then free_frozen_pages in the kernel). Public so that benchmarks can
// compare it with the dispatching __folio_put.
void free_folio_to_buddy(Model& m, Pfn head);
// The RCU grace-period rule on every free path (see filemap.hpp).
void folio_check_rcu_free(Model& m, Pfn head);

}  // namespace core
