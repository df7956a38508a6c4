// core::DevicePgmap — a ZONE_DEVICE pgmap over the DEVICE zone (mm/memremap.c;
// seed 002; kernel-semantics.md §4), with its driver's free-page pool.
//
// The pgmap covers every DEVICE frame, grouped into device folios of
// device_folio_order (compound when > 0). Per folio the driver keeps a state,
// Free or Allocated, and page_free flips Allocated -> Free.
//
// | design (DesignConfig::zone_device) | free/idle refcount | allocated | page_free runs when       |
// |------------------------------------|--------------------|-----------|---------------------------|
// | ZeroBased (6.2+, default)          | 0 (frozen)         | n >= 1    | the put reaches 0: owner  |
// |                                    |                    |           | hook -> free_folio        |
// | LegacyOneBased (<= 5.18)           | 1 (the pgmap's)    | n >= 2    | a put reaches 1, IF it    |
// |                                    |                    |           | went through              |
// |                                    |                    |           | put_devmap_managed_page() |
//
// page_free must run exactly once per zero (legacy: idle) transition: a
// second call for one transition, or an idle folio still Allocated at
// quiescence (a generic put path skipped put_devmap_managed_page: the
// c5d6c45e90c4 class), is a FreeCallback violation.
//
// memremap_pages(): populate the frames (legacy: refcount 1 each), all Free.
// memunmap_pages() (no pgmap refcount; scan and wait, as proposed in 2024):
//   1. under the pgmap lock: kill (no new dev_alloc)
//   2. per folio: spin (pgmap_teardown_spins) until it is Free and idle;
//      legacy: freeze the idle reference 1 -> 0 (a speculative holder makes
//      it fail: keep waiting); on timeout: revive the pgmap, -EBUSY
//   3. unpopulate: frames become plain refcount-0 device frames.
// dev_alloc (zone_device_page_init / legacy get): pop a Free folio under
//   the lock, mark it Allocated, then 0 -> 1 (legacy: 1 -> 2).
//
// Left out: fsdax/device-dax/p2pdma types, device-private migration,
// get_dev_pagemap(), per-page pgmap references.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/atomic.hpp"
#include "core/owner.hpp"
#include "core/types.hpp"

namespace core {

class DevicePgmap final : public FolioOwnerOps {
 public:
  explicit DevicePgmap(Model& m);

  // memremap_pages(). 0, -EEXIST (already mapped), -ENODEV (no frames).
  int memremap_pages();
  // memunmap_pages(). 0, -EBUSY (a folio stayed referenced), -ENODEV.
  int memunmap_pages();
  // A driver allocates a device folio. Returns its head with one reference
  // for the caller, or kNoPfn (none free, or the pgmap is dead).
  Pfn dev_alloc();
  bool live() const;
  uint32_t nr_folios() const noexcept { return nr_folios_; }
  // page_free calls so far, per folio (tests).
  uint32_t page_free_calls(Pfn head) const;
  // Legacy: the put of a devmap-managed page. True when it handled the put
  // (the page is a legacy device page); the caller must not put again.
  bool put_devmap_managed_page(Pfn head, int32_t refs = 1);  // put_devmap_managed_page_refs()

  // FolioOwnerOps: free_zone_device_folio().
  const char* name() const noexcept override { return "device-pgmap"; }
  void free_folio(Model& m, Pfn head) override;
  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;

 private:
  enum class DevState : uint8_t { Unpopulated, Free, Allocated };
  bool legacy() const noexcept;
  uint32_t index(Pfn head) const noexcept { return (head - start_) >> order_; }
  void page_free(Pfn head, const char* site);
  bool wait_idle(Pfn head);

  Model& m_;
  Pfn start_;
  uint32_t nr_folios_;
  unsigned order_;
  mutable SpinLock lock_;   // pgmap and pool
  bool live_ = false;       // protected by lock_
  std::vector<Pfn> free_;   // Free folio heads; protected by lock_
  // Per folio: DevState. Written under lock_ or by page_free (which owns the
  // folio in FREEING); read by memunmap_pages' wait (acquire).
  std::unique_ptr<Atomic<uint8_t>[]> state_;
  std::unique_ptr<Atomic<uint32_t>[]> page_free_calls_;
};

// put_page(): the generic put. Device pages of a legacy (1-based) pgmap go
// through put_devmap_managed_page(); everything else is folio_put().
void put_page(Model& m, Pfn head);
// The same for `refs` references at once (put_page_refs / the
// put_devmap_managed_page_refs() of unpin_user_page and release_pages()).
void put_page_refs(Model& m, Pfn head, int32_t refs);

}  // namespace core
