// core::page_ref — refcount primitives (include/linux/page_ref.h, mm/swap.c).
#include "core/page_ref.hpp"

#include <string>

#include "core/model.hpp"

namespace core {
namespace {

// Classifies an unconditional get that found refcount <= 0.
ViolationKind bad_get_kind(Model& m, Pfn pfn) {
  const Frame& f = m.frame(pfn);
  // peek (all): diagnostics only, the violation is already certain.
  if (f.flags.peek() & pg::tail) return ViolationKind::GetOnTail;
  // PageBuddy marks only a free block's head: the frame is free when some
  // PageBuddy head at or below it has an order whose block covers it.
  for (unsigned o = 0; o <= m.buddy().max_page_order(); ++o) {
    const Frame& h = m.frame(pfn & ~((Pfn{1} << o) - 1));
    if (static_cast<PageType>(h.page_type.peek()) == PageType::Buddy && h.order.peek() >= o) return ViolationKind::GetOnFree;
  }
  return ViolationKind::GetOnFrozen;
}

std::string counts(const char* what, int64_t a, const char* what2, int64_t b) {
  return std::string(what) + " " + std::to_string(a) + ", " + what2 + " " + std::to_string(b);
}

void add_checked(Model& m, Pfn head, int32_t nr, const char* site) {
  Frame& f = m.frame(head);
  // relaxed: the caller already holds a reference, so no ordering is needed
  // to keep the folio alive (atomic_add in page_ref_add is unordered too).
  int32_t old = f.refcount.fetch_add(nr, std::memory_order_relaxed);
  if (old <= 0) [[unlikely]] {
    ViolationKind k = bad_get_kind(m, head);
    // relaxed: undo of our own increment; the run is already failing.
    f.refcount.fetch_sub(nr, std::memory_order_relaxed);
    m.report(k, head, site, counts("refcount was", old, "adding", nr));
    return;
  }
  if (int64_t(old) + nr > m.refcount_limit()) [[unlikely]] {
    m.report(ViolationKind::RefcountOverflow, head, site,
             counts("refcount was", old, "limit", m.refcount_limit()) + ", adding " + std::to_string(nr));
    return;
  }
  f.record(nr == 1 ? RefEvent::Get : RefEvent::Add, old + nr);
}

}  // namespace

int32_t folio_ref_count(Model& m, Pfn head) {
  // relaxed: a snapshot for decisions the caller re-validates (page_ref_count
  // is atomic_read).
  return m.frame(head).refcount.load(std::memory_order_relaxed);
}

void folio_get(Model& m, Pfn head) { add_checked(m, head, 1, "folio_get"); }

void folio_ref_add(Model& m, Pfn head, int32_t nr) { add_checked(m, head, nr, "folio_ref_add"); }

bool folio_ref_add_unless(Model& m, Pfn head, int32_t nr, int32_t u) {
  Frame& f = m.frame(head);
  // relaxed: the first read only seeds the CAS loop, which does the ordering.
  int32_t old = f.refcount.load(std::memory_order_relaxed);
  for (;;) {
    if (old == u) {
      if (u == 0) m.probe(Probe::TryGetSawZero);
      f.record(RefEvent::TryGetFail, old);
      return false;
    }
    if (int64_t(old) + nr > m.refcount_limit()) {
      m.probe(Probe::TryGetRefusedAtLimit);
      f.record(RefEvent::TryGetFail, old);
      return false;
    }
    if (m.fault(FaultSite::SpuriousCas)) {  // as if a racing get/put had changed the count
      f.record(RefEvent::TryGetFail, old);
      return false;
    }
    // acq_rel on success: acquire pairs with the release in
    // set_page_refcounted()/folio_ref_unfreeze()/folio_put_testzero(), so the
    // getter's re-check (step 3) sees the identity its owner published;
    // release keeps this getter's earlier reads before the increment, as the
    // kernel's fully ordered atomic_add_unless does. relaxed on failure:
    // the loop retries with the fresh value.
    if (f.refcount.compare_exchange(old, old + nr, std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  if (old < 0) [[unlikely]] {
    // Adding to a negative count: a previous underflow was not undone.
    m.report(ViolationKind::RefcountUnderflow, head, "folio_ref_add_unless",
             counts("refcount was", old, "adding", nr));
  }
  f.record(RefEvent::TryGet, old + nr);
  return true;
}

bool folio_try_get(Model& m, Pfn head) { return folio_ref_add_unless(m, head, 1, 0); }

bool folio_ref_try_add(Model& m, Pfn head, int32_t nr) { return folio_ref_add_unless(m, head, nr, 0); }

bool try_get_page(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // relaxed: the caller holds a stable reference (or the PTL); the check
  // only refuses counts that are already wrong (CVE-2019-11487).
  int32_t c = f.refcount.load(std::memory_order_relaxed);
  if (c <= 0 || c >= m.refcount_limit()) {
    m.probe(Probe::TryGetRefusedAtLimit);
    f.record(RefEvent::TryGetFail, c);
    return false;
  }
  add_checked(m, head, 1, "try_get_page");
  return true;
}

bool folio_put_testzero(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // acq_rel: release orders this holder's accesses to the folio before the
  // decrement, so whoever frees it (the put that reaches zero) or freezes it
  // (acquire CAS in folio_ref_freeze) sees them; acquire makes the put that
  // reaches zero see every earlier holder's accesses before it frees.
  int32_t old = f.refcount.fetch_sub(1, std::memory_order_acq_rel);
  if (old <= 0) [[unlikely]] {
    // relaxed: undo of our own decrement; the run is already failing.
    f.refcount.fetch_add(1, std::memory_order_relaxed);
    m.report(old == 0 && (f.flags.peek() & pg::tail) ? ViolationKind::GetOnTail
                                                      : ViolationKind::RefcountUnderflow,
             head, "folio_put", counts("refcount was", old, "putting", 1));
    return false;
  }
  f.record(old == 1 ? RefEvent::PutLast : RefEvent::Put, old - 1);
  return old == 1;
}

void folio_put(Model& m, Pfn head) {
  if (folio_put_testzero(m, head)) __folio_put(m, head);
}

void folio_put_refs(Model& m, Pfn head, int32_t nr) {
  Frame& f = m.frame(head);
  // acq_rel: as in folio_put_testzero().
  int32_t old = f.refcount.fetch_sub(nr, std::memory_order_acq_rel);
  if (old < nr) [[unlikely]] {
    // relaxed: undo of our own decrement; the run is already failing.
    f.refcount.fetch_add(nr, std::memory_order_relaxed);
    m.report(ViolationKind::RefcountUnderflow, head, "folio_put_refs", counts("refcount was", old, "putting", nr));
    return;
  }
  f.record(old == nr ? RefEvent::PutLast : RefEvent::Put, old - nr);
  if (old == nr) __folio_put(m, head);
}

bool folio_ref_freeze(Model& m, Pfn head, int32_t count) {
  Frame& f = m.frame(head);
  MODEL_BUG_ON_PAGE(count <= 0, m.frames(), head);
  int32_t expected = count;
  if (m.fault(FaultSite::SpuriousCas)) {  // as if a speculative reference had raced in
    m.probe(Probe::FreezeFailed);
    f.record(RefEvent::FreezeFail, count);
    return false;
  }
  // acq_rel on success: acquire pairs with the release of every holder's
  // put, so the freezer sees their last accesses; release publishes the
  // freezer's prior writes to whoever later sees the unfreeze. relaxed on
  // failure: the caller backs out.
  if (!f.refcount.compare_exchange(expected, 0, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    m.probe(Probe::FreezeFailed);
    f.record(RefEvent::FreezeFail, expected);
    return false;
  }
  m.probe(Probe::FreezeSucceeded);
  f.record(RefEvent::Freeze, 0);
  return true;
}

void folio_ref_unfreeze(Model& m, Pfn head, int32_t count) {
  Frame& f = m.frame(head);
  // relaxed: precondition check only (VM_BUG_ON(page_count(page) != 0)).
  int32_t now = f.refcount.load(std::memory_order_relaxed);
  if (now != 0 || count <= 0) [[unlikely]] {
    m.report(ViolationKind::BadUnfreeze, head, "folio_ref_unfreeze", counts("refcount is", now, "unfreezing to", count));
    return;
  }
  // release: pairs with the acquire in folio_ref_add_unless(): a getter that
  // succeeds after the unfreeze sees everything the freezer did meanwhile
  // (atomic_set_release in page_ref_unfreeze).
  f.refcount.store(count, std::memory_order_release);
  f.record(RefEvent::Unfreeze, count);
}

void set_page_refcounted(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // relaxed: precondition check only (VM_BUG_ON(page_ref_count(page))).
  int32_t now = f.refcount.load(std::memory_order_relaxed);
  if (now != 0 || (f.flags.load(std::memory_order_relaxed) & pg::tail)) [[unlikely]] {
    m.report(ViolationKind::BadSetRefcounted, head, "set_page_refcounted", "refcount is " + std::to_string(now));
    return;
  }
  // release: pairs with the acquire in folio_ref_add_unless(), publishing the
  // allocator's identity writes (generation, owner, order) to a speculative
  // getter. The kernel's set_page_count is unordered and relies on the page
  // being published later by other means; the model makes it explicit.
  f.refcount.store(1, std::memory_order_release);
  f.record(RefEvent::SetRefcounted, 1);
}

bool folio_ref_zero_or_close_to_overflow(Model& m, Pfn head) {
  // relaxed: a debugging predicate, like the kernel's.
  int32_t c = m.frame(head).refcount.load(std::memory_order_relaxed);
  return c <= 0 || c >= m.refcount_limit() - 127;
}

}  // namespace core
