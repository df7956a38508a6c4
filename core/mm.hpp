// core::Mm — a process address space (mm_struct): page-table slots that map
// pages of folios, the page-table lock, and the reverse map.
//
// A present PTE at a slot maps one page (a frame of some folio) and holds one
// reference and one mapcount on the folio (the kernel counts per page; the
// model counts on the folio). A migration entry replaces a PTE while its
// folio migrates: not present, so GUP-fast backs out and faults wait.
//
// Left out: page-table levels (one flat table per mm), split PTLs, TLB
// flushes (the model's "TLB" is the PTE itself), THP PMD mappings, COW.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/atomic.hpp"
#include "core/types.hpp"

namespace core {

class Model;

namespace pte {
inline constexpr uint64_t present = 1ull << 63;
inline constexpr uint64_t migration = 1ull << 62;
inline constexpr uint64_t mk(Pfn page) { return present | page; }
inline constexpr uint64_t mk_migration(Pfn page) { return migration | page; }
inline constexpr Pfn pfn(uint64_t v) { return static_cast<Pfn>(v & 0xffffffffu); }
inline constexpr bool is_present(uint64_t v) { return (v & present) != 0; }
inline constexpr bool is_migration(uint64_t v) { return (v & migration) != 0; }
}  // namespace pte

// User data. The harness's writers store user_write_value(writer, seq) with
// seq increasing per writer. A page that, through the mapping a writer last
// wrote through, shows an older write of that same writer has lost the newer
// one (migration copied before the last write landed, a stale copy came
// back): user_write_lost(). Other writers' values, the guest_memfd scrub and
// the reporting poison are not comparable and never count as lost.
inline constexpr uint64_t kNoUserWrite = ~0ull;
inline constexpr uint64_t kUserWriteSeqMask = (1ull << 56) - 1;
inline constexpr uint64_t user_write_value(uint8_t writer, uint64_t seq) {
  return (uint64_t(writer) << 56) | (seq & kUserWriteSeqMask);
}
inline constexpr bool user_write_lost(uint64_t last, uint64_t now) {
  return last != kNoUserWrite && (now >> 56) == (last >> 56) && (now & kUserWriteSeqMask) < (last & kUserWriteSeqMask);
}
std::string describe_lost_write(uint64_t last, uint64_t now);

class Mm {
 public:
  Mm(uint32_t id, uint32_t nr_slots);
  Mm(const Mm&) = delete;
  Mm& operator=(const Mm&) = delete;

  uint32_t id() const noexcept { return id_; }
  uint32_t nr_slots() const noexcept { return ptes_.size(); }
  // The PTE of a slot. Written under ptl; read locklessly by GUP-fast.
  Atomic<uint64_t>& pte(uint32_t slot) noexcept { return ptes_[slot]; }
  const Atomic<uint64_t>& pte(uint32_t slot) const noexcept { return ptes_[slot]; }

  SpinLock ptl;  // the page-table lock (one per mm)

  // The oracle's shadow of user memory: the last value written through a
  // slot since its PTE last changed to another page (kNoUserWrite: none).
  // Guarded by ptl (plain data, no sync point); read without it only at
  // quiescence. Migration entries and their removal keep it: the mapping
  // still names the same user page.
  uint64_t last_user_write(uint32_t slot) const noexcept { return user_data_[slot]; }
  void set_last_user_write(uint32_t slot, uint64_t v) noexcept { user_data_[slot] = v; }

 private:
  uint32_t id_;
  AtomicSlots<uint64_t> ptes_;
  std::unique_ptr<uint64_t[]> user_data_;
};

// Maps `page` at `slot`. The caller holds a reference on the page's folio;
// the mapping takes its own reference and a mapcount. A folio in a page cache
// is mapped only while it is still there (checked under the folio lock).
// 0, -EINVAL (bad slot), -EBUSY (slot in use), -ENOENT (truncated meanwhile).
int map_page(Model& m, Mm& mm, uint32_t slot, Pfn page);
// zap_pte_range for one slot: clears a present PTE, drops the mapcount and
// the mapping's reference (which may be the last). False if nothing mapped.
bool unmap_slot(Model& m, Mm& mm, uint32_t slot);

// Reverse map: calls fn(ctx, mm, slot, pte) for each present or migration
// PTE whose page belongs to `head`'s folio (pages [head, head+nr)), with that
// mm's PTL held. fn returns false to stop the walk.
using RmapFn = bool (*)(void* ctx, Mm& mm, uint32_t slot, uint64_t pte);
void rmap_walk(Model& m, Pfn head, uint32_t nr_pages, RmapFn fn, void* ctx);
// try_to_unmap: zaps every present PTE mapping the folio; returns how many.
// The caller holds a reference, so the folio survives.
uint32_t try_to_unmap(Model& m, Pfn head);
// Unmaps every present PTE that maps exactly `page`.
uint32_t unmap_page_everywhere(Model& m, Pfn page);

// User accesses through a mapping (what a process does with the page), so
// that lost writes and host access to private memory are observable.
// -EFAULT when the slot maps nothing (or a migration entry: the access
// would wait). mm_read reports data-loss when the page lost a write made
// through the same slot (user_write_lost()).
int mm_write(Model& m, Mm& mm, uint32_t slot, uint64_t value);
int mm_read(Model& m, Mm& mm, uint32_t slot, uint64_t& value);

}  // namespace core
