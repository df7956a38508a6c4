// core::FrameClaimant — a structure that holds frames without owning folios
// (offlined memory blocks, in-flight free page reports) and accounts for
// them in the audit, as FolioOwnerOps owners do for their pools.
#pragma once

#include <vector>

#include "core/violation.hpp"

namespace core {

class Model;
class HolderLedger;

// Claimants (and owners, which are claimants) are registered by address
// with the Model: never copied.
class FrameClaimant {
 public:
  FrameClaimant() = default;
  FrameClaimant(const FrameClaimant&) = delete;
  FrameClaimant& operator=(const FrameClaimant&) = delete;
  // Record every frame held (ledger.add_frozen / add_ref). Quiescence only.
  virtual void audit_claims(const Model& m, HolderLedger& ledger) const = 0;
  // Own checks once the ledger is complete. Quiescence only.
  virtual void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const = 0;
  virtual ~FrameClaimant() = default;
};

}  // namespace core
