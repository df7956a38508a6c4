// core::gup — see gup.hpp.
#include "core/gup.hpp"

#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/page_ref.hpp"
#include "core/zone_device.hpp"

namespace core {
namespace {

// is_valid_gup_args(): FOLL_GET xor FOLL_PIN; FOLL_LONGTERM only with FOLL_PIN.
bool gup_args_valid(const Mm& mm, uint32_t slot, unsigned flags) {
  return slot < mm.nr_slots() && ((flags & foll::get) != 0) != ((flags & foll::pin) != 0) &&
         (!(flags & foll::longterm) || (flags & foll::pin));
}

// The number of references one grab adds, by folio size and flags.
int32_t grab_refs(Model& m, Pfn head, unsigned flags) {
  // relaxed: the caller holds a reference or the PTL; the order is stable.
  const bool large = m.frame(head).order.load(std::memory_order_relaxed) > 0;
  return (flags & foll::pin) && !large ? GUP_PIN_COUNTING_BIAS : 1;
}

// `nr` is what grab_refs() returned for a FOLL_PIN grab: 1 on a large folio
// (which counts pins in _pincount), the bias on a small one.
void account_pin(Model& m, Pfn head, int32_t nr) {
  // relaxed: a pin count; the reference taken before it keeps the folio
  // alive, and readers that decide on it (migration) freeze first.
  if (nr == 1) m.frame(head).pincount.fetch_add(1, std::memory_order_relaxed);
}

// try_grab_folio(): the slow path's grab; the PTL keeps the mapping's
// reference, so the count is > 0 unless something is broken.
int try_grab_folio(Model& m, Pfn head, unsigned flags) {
  const int32_t nr = grab_refs(m, head, flags);
  if (m.bug_on(Bug::GupPinOverflowUnchecked)) {
    folio_ref_add(m, head, nr);  // CVE-2019-11487: a plain get, no overflow guard
    if (flags & foll::pin) account_pin(m, head, nr);
    return 0;
  }
  // relaxed: see above; the add below is the real operation.
  if (folio_ref_count(m, head) <= 0) return -ENOMEM;
  if (!folio_ref_add_unless(m, head, nr, 0)) {
    m.probe(Probe::GupRefusedOverflow);
    return -ENOMEM;
  }
  if (flags & foll::pin) account_pin(m, head, nr);
  return 0;
}

// Undo of one grab (gup_put_folio).
void gup_put_folio(Model& m, Pfn head, unsigned flags) {
  const int32_t nr = grab_refs(m, head, flags);
  if ((flags & foll::pin) && nr == 1) {  // a large folio: its pins are in _pincount
    // relaxed: see account_pin().
    int32_t old = m.frame(head).pincount.fetch_sub(1, std::memory_order_relaxed);
    if (old <= 0) m.report(ViolationKind::PincountMismatch, head, "unpin_user_page", "pincount was " + std::to_string(old));
  }
  // put_devmap_managed_page_refs() first, as unpin_user_page() did while
  // ZONE_DEVICE was 1-based.
  put_page_refs(m, head, nr);
}

GupResult slow_once(Model& m, Mm& mm, uint32_t slot, unsigned flags) {
  GupResult r;
  SpinGuard g(mm.ptl);
  // relaxed: under the PTL.
  const uint64_t v = mm.pte(slot).load(std::memory_order_relaxed);
  if (pte::is_migration(v)) return GupResult{-EAGAIN};  // migration_entry_wait: retry later
  if (!pte::is_present(v)) return GupResult{-EFAULT};
  r.page = pte::pfn(v);
  r.head = page_folio(m, r.page);
  if ((flags & foll::longterm) && !gmem_may_longterm_pin(m, r.page)) {
    m.probe(Probe::GmemLongtermRefused);
    return GupResult{-EPERM};
  }
  r.err = try_grab_folio(m, r.head, flags);
  return r;
}

}  // namespace

bool folio_is_longterm_pinnable(Model& m, Pfn head) {
  const ZoneType z = m.frames().zone_of(head);
  if (z == ZoneType::Movable || z == ZoneType::Device) return false;
  return m.frames().get_pfnblock_migratetype(head) != MigrateType::Isolate;
}

GupResult get_user_page(Model& m, Mm& mm, uint32_t slot, unsigned flags) {
  if (!gup_args_valid(mm, slot, flags)) return GupResult{-EINVAL};
  // __gup_longterm_locked(): pin, check, migrate what is not pinnable, repeat.
  for (uint32_t pass = 0;; ++pass) {
    GupResult r = slow_once(m, mm, slot, flags);
    if (r.err != 0) return r;
    if (!(flags & foll::longterm) || folio_is_longterm_pinnable(m, r.head)) {
      gmem_check_host_access(m, r.page, "get_user_page");
      return r;
    }
    // check_and_migrate_movable_pages(): keep one plain reference as the
    // isolation reference, drop the pin, migrate to ZONE_NORMAL, retry.
    folio_get(m, r.head);
    gup_put_folio(m, r.head, flags);
    if (pass + 1 >= m.config().migrate_passes) {
      if (!m.bug_on(Bug::GupLongtermLeaksIsolationRef)) folio_put(m, r.head);
      return GupResult{-EAGAIN};
    }
    bool migrated = false;
    migrate_folio(m, r.head, ZoneType::Normal, &migrated);  // consumes the isolation reference
    if (migrated) m.probe(Probe::LongtermMigrated);
  }
}

GupResult get_user_page_fast(Model& m, Mm& mm, uint32_t slot, unsigned flags) {
  if (!gup_args_valid(mm, slot, flags)) return GupResult{-EINVAL};
  // 1. acquire: pairs with the release store in map_page(), so the page's
  //    folio identity written before the mapping is visible.
  const uint64_t v = mm.pte(slot).load(std::memory_order_acquire);
  if (!pte::is_present(v)) {
    m.probe(Probe::GupFastNotPresent);
    return GupResult{-EFAULT};
  }
  GupResult r;
  r.page = pte::pfn(v);
  // 2. try_get_folio(): speculative grab on the head — all the references
  //    the grab needs at once (the kernel adds the pin bias in a second
  //    step; one add-unless-zero of the sum is equivalent and refuses at the
  //    limit) — then re-check the head, and that the folio's size (which
  //    chose the accounting) did not change under us.
  r.head = page_folio(m, r.page);
  const int32_t nr = grab_refs(m, r.head, flags);
  if (!folio_ref_try_add(m, r.head, nr)) {
    // relaxed: only classifies the refusal for the probe.
    if (int64_t(folio_ref_count(m, r.head)) + nr > m.refcount_limit()) {
      m.probe(Probe::GupRefusedOverflow);
      return GupResult{-ENOMEM};
    }
    return GupResult{-EAGAIN};
  }
  if (!m.bug_on(Bug::GupFastSkipsFolioRecheck) && (page_folio(m, r.page) != r.head || grab_refs(m, r.head, flags) != nr)) {
    m.probe(Probe::GupFastHeadChanged);
    put_page_refs(m, r.head, nr);
    return GupResult{-EAGAIN};
  }
  // try_grab_folio_fast(): FOLL_LONGTERM on a folio that is not pinnable
  // backs out, so that the slow path migrates it (the mutant skips that).
  if ((flags & foll::longterm) &&
      (!(m.bug_on(Bug::GupFastLongtermSkipsPinnableCheck) || folio_is_longterm_pinnable(m, r.head)) ||
       !gmem_may_longterm_pin(m, r.page))) {
    put_page_refs(m, r.head, nr);
    return GupResult{-EAGAIN};  // the slow path migrates (or refuses) it
  }
  // 3. pin accounting, then the PTE re-check.
  if (flags & foll::pin) account_pin(m, r.head, nr);
  // seq_cst: pairs with the seq_cst PTE clear in zap_pte_locked() and the
  // migration entry store: either the zapper sees our reference, or we see
  // its PTE change (smp_mb__after_atomic in the kernel).
  if (!m.bug_on(Bug::GupFastSkipsPteRecheck) && mm.pte(slot).load(std::memory_order_seq_cst) != v) {
    m.probe(Probe::GupFastBackedOut);
    gup_put_folio(m, r.head, flags);
    return GupResult{-EAGAIN};
  }
  gmem_check_host_access(m, r.page, "get_user_page_fast");
  return r;
}

void put_user_page(Model& m, Pfn page) { put_page(m, page_folio(m, page)); }

void unpin_user_page(Model& m, Pfn page) {
  if (m.fault(FaultSite::LatePinDrop))
    for (int i = 0; i < 32; ++i) cpu_relax();  // DMA still completing: the pin goes away late
  gup_put_folio(m, page_folio(m, page), foll::pin);
}

}  // namespace core
