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

}  // namespace

namespace page_ref_detail {

bool add_unless_refused(Model& m, Pfn head, int32_t old, int32_t u, Refusal why) {
  if (why == Refusal::SawUnless && u == 0) m.probe(Probe::TryGetSawZero);
  if (why == Refusal::AtLimit) m.probe(Probe::TryGetRefusedAtLimit);
  m.frame(head).record(RefEvent::TryGetFail, old);
  return false;
}

void added_to_negative(Model& m, Pfn head, int32_t old, int32_t nr) {
  m.report(ViolationKind::RefcountUnderflow, head, "folio_ref_add_unless", counts("refcount was", old, "adding", nr));
}

void add_checked_bad(Model& m, Pfn head, int32_t old, int32_t nr, const char* site) {
  if (old <= 0) {
    const ViolationKind k = bad_get_kind(m, head);
    // relaxed: undo of our own increment; the run is already failing.
    m.frame(head).refcount.fetch_sub(nr, std::memory_order_relaxed);
    m.report(k, head, site, counts("refcount was", old, "adding", nr));
    return;
  }
  m.report(ViolationKind::RefcountOverflow, head, site,
           counts("refcount was", old, "limit", m.refcount_limit()) + ", adding " + std::to_string(nr));
}

void sub_underflow(Model& m, Pfn head, int32_t old, int32_t nr, const char* site) {
  Frame& f = m.frame(head);
  // relaxed: undo of our own decrement; the run is already failing.
  f.refcount.fetch_add(nr, std::memory_order_relaxed);
  // peek: diagnostics only.
  m.report(old == 0 && (f.flags.peek() & pg::tail) ? ViolationKind::GetOnTail : ViolationKind::RefcountUnderflow,
           head, site, counts("refcount was", old, "putting", nr));
}

}  // namespace page_ref_detail

bool try_get_page(Model& m, Pfn head) {
  // The caller holds a stable reference (or the PTL); the check only refuses
  // counts that are already wrong (CVE-2019-11487).
  const int32_t c = folio_ref_count(m, head);
  if (c <= 0 || c >= m.refcount_limit()) {
    m.probe(Probe::TryGetRefusedAtLimit);
    m.frame(head).record(RefEvent::TryGetFail, c);
    return false;
  }
  folio_ref_add_site(m, head, 1, "try_get_page");
  return true;
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
  // Catalog bug set-refcounted-relaxed: relaxed.
  f.refcount.store(1, m.bug_on(Bug::SetRefcountedRelaxed) ? std::memory_order_relaxed : std::memory_order_release);
  f.record(RefEvent::SetRefcounted, 1);
}

bool folio_ref_zero_or_close_to_overflow(Model& m, Pfn head) {
  // A debugging predicate, like the kernel's: a relaxed snapshot.
  const int32_t c = folio_ref_count(m, head);
  return c <= 0 || c >= m.refcount_limit() - 127;
}

}  // namespace core
