// core::audit — the structural and accounting check at quiescence.
//
// Structural: every frame is in exactly one place (a free block on a buddy
// list, an allocated folio, a tail of one, a frozen folio some holder owns,
// an owner's pool or pgmap); free lists are consistent (heads are PageBuddy
// with the list's order, aligned, in the zone and pageblock migratetype of
// their list, counts match); tails have refcount 0 and name a head whose
// order covers them.
//
// Accounting: given the ledger of what holders hold (the harness's actors,
// plus what each registered owner claims), plus the references the model's
// own structures hold (one per present PTE, folio_nr_pages per page-cache
// folio), every allocated folio's refcount equals the references its holders
// can name; its mapcount equals its PTEs; a large folio's pincount equals the
// pins named; no long-term pin is named on a ZONE_MOVABLE or ZONE_DEVICE
// folio. A refcount above that is a leak, reported with the pfn and how many
// references nobody can name.
//
// User data: a present PTE whose page holds an older write of the writer
// that last wrote through it has lost a write (Mm::last_user_write()).
//
// Call only at quiescence: no thread may be inside the model. It reads with
// peek() and takes no locks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

class Model;

// What holders outside the free lists hold, per folio head.
class HolderLedger {
 public:
  explicit HolderLedger(uint32_t nr_frames);

  // A holder holds `nr` references on the folio at `head` (a pin on a small
  // folio is GUP_PIN_COUNTING_BIAS references).
  void add_ref(Pfn head, int64_t nr = 1);
  // A holder holds `nr` GUP pins on the folio at `head`: each is
  // GUP_PIN_COUNTING_BIAS references on a small folio, one reference plus
  // one pincount on a large one.
  void add_pin(Pfn head, int64_t nr = 1);
  // Of those pins, `nr` were taken with FOLL_LONGTERM: the folio must not be
  // in ZONE_MOVABLE or ZONE_DEVICE (kernel-semantics §2, §8). Call add_pin too.
  void add_longterm_pin(Pfn head, int64_t nr = 1);
  // A holder owns the folio at `head` frozen (refcount 0, off the free lists).
  // `holder` names it in reports; it must outlive the ledger (a literal).
  void add_frozen(Pfn head, const char* holder);

  int64_t refs(Pfn p) const { return refs_[p]; }
  int64_t pins(Pfn p) const { return pins_[p]; }
  int64_t longterm_pins(Pfn p) const { return longterm_[p]; }
  const char* frozen_holder(Pfn p) const { return frozen_[p]; }
  uint32_t size() const { return static_cast<uint32_t>(refs_.size()); }
  // Set when a frame was added twice as frozen (two owners of one frame).
  const std::vector<Pfn>& double_frozen() const { return double_frozen_; }

 private:
  std::vector<int64_t> refs_;
  std::vector<int64_t> pins_;
  std::vector<int64_t> longterm_;
  std::vector<const char*> frozen_;
  std::vector<Pfn> double_frozen_;
};

struct AuditReport {
  std::vector<Violation> violations;
  uint32_t free_frames = 0;
  uint32_t allocated_folios = 0;
  uint32_t frozen_folios = 0;
  uint32_t tail_frames = 0;
  uint32_t unpopulated_frames = 0;  // DEVICE frames no pgmap claims
  bool clean() const { return violations.empty(); }
  std::string summary() const;
};

// Structural check plus accounting against `ledger` (extended with what each
// registered owner claims). Violations are returned, and also reported to
// the Model's sink when `report` is set.
AuditReport audit(Model& m, const HolderLedger& ledger, bool report = true);

}  // namespace core
