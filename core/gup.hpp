// core::gup — get_user_pages: FOLL_GET references and FOLL_PIN pins on the
// pages a process maps, the slow path under the PTL, GUP-fast, FOLL_LONGTERM.
//
// Pin accounting (mm/gup.c):
//   small folio: refcount += GUP_PIN_COUNTING_BIAS per pin
//   large folio: refcount += 1 and pincount += 1 per pin
// folio_maybe_dma_pinned() (folio.hpp) reads it back.
//
// GUP-fast, the lookup side of page_ref.hpp's protocol on a PTE:
//   1. read the PTE locklessly; not present -> fall back to the slow path
//   2. try_get_folio: add unless zero on the head, then re-check that the page
//      still belongs to that head (THP split race, c24d37322548) else put+retry
//   3. pin: adjust to the pin accounting; then re-check the PTE (seq_cst,
//      pairs with the zap's seq_cst clear): changed -> undo and fall back
// FOLL_LONGTERM: GUP-fast refuses folios that are not long-term pinnable; the
// slow path pins, finds the folio in ZONE_MOVABLE (or an isolated pageblock),
// unpins, migrates it to ZONE_NORMAL and tries again
// (check_and_migrate_movable_pages), a bounded number of times here.
// Overflow (CVE-2019-11487): every grab refuses a count that would pass the
// model's refcount limit.
//
// Left out: multi-page ranges (one page per call), FOLL_WRITE/COW unsharing,
// the zero page, P2PDMA, device-coherent conversion to plain references.
#pragma once

#include <cstdint>

#include "core/types.hpp"

namespace core {

class Model;
class Mm;

namespace foll {
inline constexpr unsigned get = 1u << 0;       // FOLL_GET: a plain reference
inline constexpr unsigned pin = 1u << 1;       // FOLL_PIN: a pin
inline constexpr unsigned longterm = 1u << 2;  // FOLL_LONGTERM (with FOLL_PIN)
}  // namespace foll

struct GupResult {
  int err = 0;         // 0, -EFAULT (nothing mapped), -EAGAIN (fall back / retry), -ENOMEM (refused), -EPERM
  Pfn page = kNoPfn;   // the page the reference or pin is on
  Pfn head = kNoPfn;   // its folio
};

// Slow path: under the PTL. With foll::longterm, may migrate first.
GupResult get_user_page(Model& m, Mm& mm, uint32_t slot, unsigned flags);
// GUP-fast: lockless. -EAGAIN/-EFAULT mean "use the slow path".
GupResult get_user_page_fast(Model& m, Mm& mm, uint32_t slot, unsigned flags);
// Releases one reference (FOLL_GET: put_page) or one pin (unpin_user_page).
void put_user_page(Model& m, Pfn page);
void unpin_user_page(Model& m, Pfn page);

bool folio_is_longterm_pinnable(Model& m, Pfn head);

}  // namespace core
