// core::GuestMemfd — a guest_memfd file with in-place shared/private
// conversion (seed 003; kernel-semantics.md §9).
//
// The file has gmem_pages 4 KiB pages, backed in huge units of
// 2^gmem_huge_order pages. Each 4 KiB page is Absent, Shared or Private.
// Shared pages may be mapped by the host (fault_map) and pinned through those
// mappings; private pages may not be touched by the host at all.
//
// shared -> private (convert):
//   1. filemap_invalidate_lock: no new host faults
//   2. unmap every host mapping of the range
//   3. wait, spinning on sync points up to gmem_convert_spins, until each
//      folio's refcount is what the page cache holds (folio_nr_pages);
//      still elevated -> -EAGAIN, the pages stay shared (and unmapped)
//   4. mark private, scrub the payload
// private -> shared: mark shared (transient references are harmless).
//
// Design variants (DesignConfig::gmem_pin_policy):
//   (a) RefuseLongterm: a huge unit is one folio; FOLL_LONGTERM pins on its
//       shared pages are refused, so only transient references delay
//       conversion — but any of them, on any page of the huge folio.
//   (b) SplitSmallFolios: the huge unit is split into 4 KiB folios (still
//       allocated and freed as one unit); long-term pins are allowed and
//       block conversion of their own 4 KiB page only.
// Folios are owned by guest_memfd (OwnerId::Guestmem): with the owner hook,
// their last put runs free_folio (scrub, then back to the buddy).
//
// Left out: KVM's own mappings (SPTEs), the RMP/SNP invalidation, merging
// split folios back into a huge folio, hugetlb-backed guest_memfd.
#pragma once

#include <cstdint>
#include <memory>

#include "core/atomic.hpp"
#include "core/filemap.hpp"
#include "core/model.hpp"
#include "core/owner.hpp"
#include "core/types.hpp"

namespace core {

class Model;
class Mm;

enum class GmemState : uint8_t { Absent, Shared, Private };
inline constexpr uint64_t kGmemScrubbed = 0x5c5c5c5c5c5c5c5cull;  // payload after a scrub

class GuestMemfd final : public FolioOwnerOps {
 public:
  GuestMemfd(Model& m, uint16_t mapping_id, uint32_t nr_pages, uint8_t huge_order);

  uint32_t size() const noexcept { return nr_; }
  uint32_t huge_pages() const noexcept { return 1u << huge_order_; }
  PageCache& cache() noexcept { return cache_; }
  const PageCache& cache() const noexcept { return cache_; }
  GmemState state(uint32_t index) const noexcept;
  GmemState state_quiescent(uint32_t index) const noexcept;

  // Allocates the backing of the huge unit containing `index`, all shared.
  // 0, -EEXIST, -ENOMEM, -EINVAL.
  int populate(uint32_t index);
  // Host page fault: maps page `index` at mm slot `slot` if it is shared.
  // 0, -EPERM (private), -ENOENT (no backing), or map_page's errors.
  int fault_map(Mm& mm, uint32_t slot, uint32_t index);
  // Converts [start, start+nr) (within one huge unit or more). 0 or -EAGAIN.
  int convert(uint32_t start, uint32_t nr, bool to_private);
  // Frees the backing of the huge unit containing `index` (PUNCH_HOLE).
  int punch_hole(uint32_t index);

  // FolioOwnerOps.
  const char* name() const noexcept override { return "guest_memfd"; }
  void free_folio(Model& m, Pfn head) override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;

  // The state of the gmem page a frame backs, or Absent if it backs none.
  // The caller holds a reference on the frame's folio. A folio truncated out
  // of the file (PUNCH_HOLE) backs none, even if the caller read its mapping
  // before the truncation: the per-index state counts only while the cache
  // entry at that index is still this folio (re-checked after reading it).
  GmemState page_state(Pfn page) const;

 private:
  GmemState page_state_of_file(Pfn page, Pfn head) const;  // page_state() past its owner check
  bool wait_for_expected_refs(Pfn head);
  Model& m_;
  uint32_t nr_;
  uint8_t huge_order_;
  PageCache cache_;
  std::unique_ptr<Atomic<uint8_t>[]> state_;
  SpinLock invalidate_lock_;  // filemap_invalidate_lock
};

// Hooks that host-access paths (map_page, GUP, mm_read/mm_write) call.
bool gmem_host_may_map(Model& m, Pfn page);
bool gmem_may_longterm_pin(Model& m, Pfn page);
// Reports a Security violation when the host touches a private page.
// Inline (with page_state()'s owner check): it sits on every GUP and host
// access, and nearly all of them reach folios guest_memfd does not own.
[[gnu::noinline, gnu::cold]] void gmem_report_host_access(Model& m, Pfn page, const char* site);
inline void gmem_check_host_access(Model& m, Pfn page, const char* site) {
  if (m.gmem().page_state(page) == GmemState::Private) [[unlikely]]
    gmem_report_host_access(m, page, site);
}

inline GmemState GuestMemfd::page_state(Pfn page) const {
  // relaxed (head, owner): the caller holds a reference on the folio, so its
  // layout and owner are stable.
  const Pfn head = m_.frame(page).head.load(std::memory_order_relaxed);
  if (static_cast<OwnerId>(m_.frame(head).owner.load(std::memory_order_relaxed)) != OwnerId::Guestmem)
    return GmemState::Absent;
  return page_state_of_file(page, head);
}

}  // namespace core
