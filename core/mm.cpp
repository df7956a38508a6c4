// core::Mm — mappings and the reverse map.
#include "core/mm.hpp"

#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/page_ref.hpp"
#include "core/zone_device.hpp"

namespace core {

Mm::Mm(uint32_t id, uint32_t nr_slots)
    : id_(id), ptes_(nr_slots, 0),
      user_data_(std::make_unique<uint64_t[]>(nr_slots)) {
  for (uint32_t s = 0; s < nr_slots; ++s) user_data_[s] = kNoUserWrite;
}

std::string describe_lost_write(uint64_t last, uint64_t now) {
  return "writer " + std::to_string(last >> 56) + " wrote #" + std::to_string(last & kUserWriteSeqMask) +
         " through this mapping, the page holds its older #" + std::to_string(now & kUserWriteSeqMask) +
         ": a user write was lost";
}

int map_page(Model& m, Mm& mm, uint32_t slot, Pfn page) {
  if (slot >= mm.nr_slots() || !m.frames().pfn_valid(page)) return -EINVAL;
  const Pfn head = page_folio(m, page);  // stable: the caller holds a reference
  // relaxed: a hint; re-checked under the folio lock below.
  const bool file = m.frame(head).mapping.load(std::memory_order_relaxed) != 0;
  if (file) {
    folio_lock(m, head);
    // relaxed: the folio lock orders it against truncation (which clears it
    // with the folio locked).
    if (m.frame(head).mapping.load(std::memory_order_relaxed) == 0) {
      folio_unlock(m, head);
      m.probe(Probe::MapRaceTruncate);
      return -ENOENT;
    }
  }
  if (!gmem_host_may_map(m, page)) {
    if (file) folio_unlock(m, head);
    return -EPERM;
  }
  int err = 0;
  {
    SpinGuard g(mm.ptl);
    // relaxed: the PTL serialises writers of this PTE.
    if (mm.pte(slot).load(std::memory_order_relaxed) != 0) {
      err = -EBUSY;
    } else {
      folio_get(m, head);
      // relaxed: mapcount is a statistic of the folio; PTLs of several mms
      // update it, and readers (migration, audit) hold the folio lock or run
      // at quiescence.
      m.frame(head).mapcount.fetch_add(1, std::memory_order_relaxed);
      // release: pairs with GUP-fast's acquire read of the PTE, which then
      // sees the mapping's reference and mapcount.
      mm.pte(slot).store(pte::mk(page), std::memory_order_release);
      mm.set_last_user_write(slot, kNoUserWrite);  // a new user page
    }
  }
  if (file) folio_unlock(m, head);
  return err;
}

namespace {

// Clears a present PTE under the PTL and drops its mapcount. The caller drops
// the reference after releasing the PTL (the TLB-gather batch).
Pfn zap_pte_locked(Model& m, Mm& mm, uint32_t slot, uint64_t v) {
  // seq_cst: pairs with GUP-fast's seq_cst re-check of the PTE after it took
  // its reference (the smp_mb__after_atomic / TLB-flush handshake).
  mm.pte(slot).store(0, std::memory_order_seq_cst);
  mm.set_last_user_write(slot, kNoUserWrite);
  const Pfn head = page_folio(m, pte::pfn(v));
  // relaxed: see map_page().
  int32_t old = m.frame(head).mapcount.fetch_sub(1, std::memory_order_relaxed);
  if (old <= 0) m.report(ViolationKind::MapcountMismatch, head, "zap_pte_range", "mapcount was " + std::to_string(old));
  return head;
}

}  // namespace

bool unmap_slot(Model& m, Mm& mm, uint32_t slot) {
  if (slot >= mm.nr_slots()) return false;
  Pfn head;
  {
    SpinGuard g(mm.ptl);
    // relaxed: under the PTL.
    const uint64_t v = mm.pte(slot).load(std::memory_order_relaxed);
    if (!pte::is_present(v)) return false;
    head = zap_pte_locked(m, mm, slot, v);
  }
  // zap_pte_range -> tlb_flush_mmu -> release_pages(): device pages of a
  // legacy (1-based) pgmap go through put_devmap_managed_page() there, as in
  // every generic put path (put_page); may be the last reference.
  put_page(m, head);
  return true;
}

void rmap_walk(Model& m, Pfn head, uint32_t nr_pages, RmapFn fn, void* ctx) {
  for (uint32_t i = 0; i < m.nr_mms(); ++i) {
    Mm& mm = m.mm(i);
    SpinGuard g(mm.ptl);
    for (uint32_t s = 0; s < mm.nr_slots(); ++s) {
      // relaxed: under the PTL.
      const uint64_t v = mm.pte(s).load(std::memory_order_relaxed);
      if (v == 0) continue;
      const Pfn p = pte::pfn(v);
      if (p >= head && p < head + nr_pages && !fn(ctx, mm, s, v)) return;
    }
  }
}

namespace {
struct UnmapCtx {
  Model& m;
  Pfn exact;  // kNoPfn: any page of the folio
  uint32_t zapped = 0;
  Pfn head = kNoPfn;
};
bool unmap_one(void* c, Mm& mm, uint32_t slot, uint64_t v) {
  auto& ctx = *static_cast<UnmapCtx*>(c);
  if (!pte::is_present(v) || (ctx.exact != kNoPfn && pte::pfn(v) != ctx.exact)) return true;
  ctx.head = zap_pte_locked(ctx.m, mm, slot, v);
  ctx.zapped++;
  return true;
}
}  // namespace

uint32_t try_to_unmap(Model& m, Pfn head) {
  UnmapCtx ctx{m, kNoPfn};
  rmap_walk(m, head, folio_nr_pages(m, head), unmap_one, &ctx);
  put_page_refs(m, head, static_cast<int32_t>(ctx.zapped));  // release_pages(): devmap-aware
  return ctx.zapped;
}

uint32_t unmap_page_everywhere(Model& m, Pfn page) {
  UnmapCtx ctx{m, page};
  rmap_walk(m, page, 1, unmap_one, &ctx);
  put_page_refs(m, ctx.head, static_cast<int32_t>(ctx.zapped));
  return ctx.zapped;
}

int mm_write(Model& m, Mm& mm, uint32_t slot, uint64_t value) {
  if (slot >= mm.nr_slots()) return -EINVAL;
  SpinGuard g(mm.ptl);
  // relaxed: under the PTL.
  const uint64_t v = mm.pte(slot).load(std::memory_order_relaxed);
  if (!pte::is_present(v)) return -EFAULT;
  gmem_check_host_access(m, pte::pfn(v), "mm_write");
  // relaxed: user data; the mapping's reference keeps the page, and readers
  // that care about ordering hold this PTL too.
  m.frame(pte::pfn(v)).payload.store(value, std::memory_order_relaxed);
  mm.set_last_user_write(slot, value);
  return 0;
}

int mm_read(Model& m, Mm& mm, uint32_t slot, uint64_t& value) {
  if (slot >= mm.nr_slots()) return -EINVAL;
  SpinGuard g(mm.ptl);
  // relaxed: under the PTL.
  const uint64_t v = mm.pte(slot).load(std::memory_order_relaxed);
  if (!pte::is_present(v)) return -EFAULT;
  gmem_check_host_access(m, pte::pfn(v), "mm_read");
  // relaxed: user data, see mm_write().
  value = m.frame(pte::pfn(v)).payload.load(std::memory_order_relaxed);
  if (user_write_lost(mm.last_user_write(slot), value))
    m.report(ViolationKind::DataLoss, pte::pfn(v), "mm_read",
             "mm " + std::to_string(mm.id()) + " slot " + std::to_string(slot) + ": " +
                 describe_lost_write(mm.last_user_write(slot), value));
  return 0;
}

}  // namespace core
