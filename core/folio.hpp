// core::folio — folio-level helpers: page_folio, folio_nr_pages, the folio lock.
#pragma once

#include <cstdint>

#include "core/model.hpp"
#include "core/page_ref.hpp"

namespace core {

// page_folio(): the head of the folio a frame belongs to. A speculative
// result unless the caller holds a reference on the folio (or the folio lock,
// or the PTL of a mapping of it): re-check after folio_try_get().
inline Pfn page_folio(Model& m, Pfn page) {
  // relaxed: see above; the re-check is the validation.
  return m.frame(page).head.load(std::memory_order_relaxed);
}

inline uint32_t folio_nr_pages(Model& m, Pfn head) {
  // relaxed: the caller holds a reference; the order is stable.
  return 1u << m.frame(head).order.load(std::memory_order_relaxed);
}

// PG_locked, a bit spinlock here: waiting spins on sync points.
inline bool folio_trylock(Model& m, Pfn head) {
  // acquire: pairs with the release in folio_unlock().
  return (m.frame(head).flags.fetch_or(pg::locked, std::memory_order_acquire) & pg::locked) == 0;
}
inline void folio_lock(Model& m, Pfn head) {
  while (!folio_trylock(m, head)) cpu_relax();
}
inline void folio_unlock(Model& m, Pfn head) {
  // release: pairs with the acquire in folio_trylock().
  m.frame(head).flags.fetch_and(~pg::locked, std::memory_order_release);
}

// folio_maybe_dma_pinned(): exact for large folios (pincount), a heuristic
// for small ones (>= GUP_PIN_COUNTING_BIAS references).
inline bool folio_maybe_dma_pinned(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // relaxed (all): a racy predicate by design, as in the kernel.
  if (f.order.load(std::memory_order_relaxed) > 0) return f.pincount.load(std::memory_order_relaxed) > 0;
  return static_cast<uint32_t>(folio_ref_count(m, head)) >= uint32_t(GUP_PIN_COUNTING_BIAS);
}

}  // namespace core
