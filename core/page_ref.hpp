// core::page_ref — the refcount primitives, named as in include/linux/page_ref.h.
//
// Every function takes the Model and the pfn of a folio's head (or of a small
// folio). Violations are reported through the Model and the primitive backs
// out (an underflowing put is undone, a resurrecting get is undone), so that
// one finding does not cascade into many.
//
// The speculative-reference protocol (pagemap.h's old comment, renumbered):
//
//   lookup side (speculative getter)        remove side (owner freeing / freezing)
//   1. find the frame through a non-owning  A. unpublish: make the frame
//      pointer (slot, PTE, pfn)                unreachable from where 1 looks
//   2. folio_try_get(): add unless zero     B. folio_ref_freeze(expected) or the
//                                               last folio_put(): refcount -> 0
//   3. re-check that the frame is still     C. free / reuse the frame
//      what 1 found; else folio_put()
//      and retry
//
// The interleavings that matter:
//   - B before 2: the get sees zero and fails (probe TryGetSawZero).
//   - 2 before B: the freeze fails (probe FreezeFailed) or the owner's put is
//     not the last one; the getter's put in 3 becomes the freeing put.
//   - A, B, C, then reallocation, then 2: the get succeeds on a new folio;
//     only the re-check in 3 (generation, head, owner) notices.
// Dropping step 2's "unless zero" resurrects a freed page; dropping step 3
// lets a getter use a folio it never looked up.
#pragma once

#include <cstdint>

#include "core/model.hpp"
#include "core/owner.hpp"
#include "core/types.hpp"

namespace core {

// This file owns Frame::refcount: no other file of core/ reads or writes it
// except through the functions below (audits and dumps use peek(); memmap
// init uses init()). The hot paths are inline here — "the atomic, then the
// instrumentation" — and everything that only runs on a violation or a
// refusal is out of line in page_ref.cpp.

// page_ref_count(): any frame's count, tails included (they must stay 0).
// relaxed: a snapshot for decisions the caller re-validates or only uses
// under a lock that keeps the count stable (atomic_read in the kernel).
inline int32_t page_ref_count(Model& m, Pfn pfn) { return m.frame(pfn).refcount.load(std::memory_order_relaxed); }
inline int32_t folio_ref_count(Model& m, Pfn head) { return page_ref_count(m, head); }
// The same read with acquire, for a waiter that then acts on the folio as if
// every other holder had gone: pairs with the release half of the holders'
// acq_rel puts (folio_put_testzero, folio_ref_sub_return), so their accesses
// happened before. The kernel gets this from the smp_mb() around its waits
// (e.g. folio_expected_ref_count users re-check under the folio lock).
inline int32_t folio_ref_count_acquire(Model& m, Pfn head) {
  return m.frame(head).refcount.load(std::memory_order_acquire);
}
// set_page_count(): an unconditional store, as in the kernel, where it is
// legal only on a frame nobody else can reach. Clobbering a speculative
// reference with it is catalog bug hugetlb-fresh-skips-freeze (7118fc2906e2).
// relaxed: nothing pairs with it — that is the point of the bug's fix, which
// freezes (an acq_rel CAS) instead.
inline void set_page_count(Model& m, Pfn pfn, int32_t v) {
  m.frame(pfn).refcount.store(v, std::memory_order_relaxed);
  m.frame(pfn).record(RefEvent::SetCount, v);
}

// page_ref_inc(): an unconditional increment, also from 0 — only for a
// frame's owner that knows no one else can change the count (the legacy
// PageOffline driver taking its reference back on MEM_CANCEL_OFFLINE).
inline void page_ref_inc(Model& m, Pfn pfn) {
  // release: pairs with the acquire of a speculative getter's
  // folio_ref_add_unless() that sees the new count, as for
  // set_page_refcounted(): the owner's earlier writes are visible to it.
  const int32_t old = m.frame(pfn).refcount.fetch_add(1, std::memory_order_release);
  m.frame(pfn).record(RefEvent::Get, old + 1);
}

namespace page_ref_detail {
enum class Refusal : uint8_t { SawUnless, AtLimit, Fault };
// The out-of-line halves: instrumentation of a refusal, and the reports (with
// undo) of a count that was already wrong.
[[gnu::noinline, gnu::cold]] bool add_unless_refused(Model& m, Pfn head, int32_t old, int32_t u, Refusal why);
[[gnu::noinline, gnu::cold]] void added_to_negative(Model& m, Pfn head, int32_t old, int32_t nr);
[[gnu::noinline, gnu::cold]] void add_checked_bad(Model& m, Pfn head, int32_t old, int32_t nr, const char* site);
[[gnu::noinline, gnu::cold]] void sub_underflow(Model& m, Pfn head, int32_t old, int32_t nr, const char* site);
}  // namespace page_ref_detail

// Unconditional get: legal only while the caller already holds a reference
// (or a lock that pins the folio). A get on refcount 0 is a violation
// (GetOnFree / GetOnFrozen / GetOnTail), as is going past refcount_limit.
[[gnu::always_inline]] inline void folio_ref_add_site(Model& m, Pfn head, int32_t nr, const char* site) {
  Frame& f = m.frame(head);
  // relaxed: the caller already holds a reference, so no ordering is needed
  // to keep the folio alive (atomic_add in page_ref_add is unordered too).
  const int32_t old = f.refcount.fetch_add(nr, std::memory_order_relaxed);
  if (old <= 0 || int64_t(old) + nr > m.refcount_limit()) [[unlikely]]
    return page_ref_detail::add_checked_bad(m, head, old, nr, site);
  f.record(nr == 1 ? RefEvent::Get : RefEvent::Add, old + nr);
}
inline void folio_get(Model& m, Pfn head) { folio_ref_add_site(m, head, 1, "folio_get"); }
inline void folio_ref_add(Model& m, Pfn head, int32_t nr) { folio_ref_add_site(m, head, nr, "folio_ref_add"); }

// folio_ref_add_unless(folio, nr, u): add nr unless the count is u. Refuses
// (returns false) instead of passing refcount_limit.
[[gnu::always_inline]] inline bool folio_ref_add_unless(Model& m, Pfn head, int32_t nr, int32_t u) {
  using page_ref_detail::Refusal;
  Frame& f = m.frame(head);
  // relaxed: the first read only seeds the CAS loop, which does the ordering.
  int32_t old = f.refcount.load(std::memory_order_relaxed);
  do {
    if (old == u) [[unlikely]]
      return page_ref_detail::add_unless_refused(m, head, old, u, Refusal::SawUnless);
    if (int64_t(old) + nr > m.refcount_limit()) [[unlikely]]
      return page_ref_detail::add_unless_refused(m, head, old, u, Refusal::AtLimit);
    if (m.fault(FaultSite::SpuriousCas)) [[unlikely]]  // as if a racing get/put had changed the count
      return page_ref_detail::add_unless_refused(m, head, old, u, Refusal::Fault);
    // acq_rel on success: acquire pairs with the release in
    // set_page_refcounted()/folio_ref_unfreeze()/folio_put_testzero(), so the
    // getter's re-check (step 3) sees the identity its owner published;
    // release keeps this getter's earlier reads before the increment, as the
    // kernel's fully ordered atomic_add_unless does. relaxed on failure:
    // the loop retries with the fresh value. (Catalog bug try-get-relaxed:
    // relaxed on success too.)
  } while (__builtin_expect(m.bug_on(Bug::TryGetRelaxed), 0)
               ? !f.refcount.compare_exchange(old, old + nr, std::memory_order_relaxed, std::memory_order_relaxed)
               : !f.refcount.compare_exchange(old, old + nr, std::memory_order_acq_rel, std::memory_order_relaxed));
  if (old < 0) [[unlikely]]
    page_ref_detail::added_to_negative(m, head, old, nr);  // a previous underflow was not undone
  f.record(RefEvent::TryGet, old + nr);
  return true;
}
// Speculative get: add one unless zero.
[[gnu::always_inline]] inline bool folio_try_get(Model& m, Pfn head) { return folio_ref_add_unless(m, head, 1, 0); }
// Speculative add of nr references unless zero (GUP-fast's try_get_folio).
[[gnu::always_inline]] inline bool folio_ref_try_add(Model& m, Pfn head, int32_t nr) { return folio_ref_add_unless(m, head, nr, 0); }
// try_get_page() after CVE-2019-11487: a non-speculative get that refuses
// when the count is not positive or would pass the limit.
bool try_get_page(Model& m, Pfn head);

// folio_ref_sub_return(): drop nr references and return the new count. A
// count that would fall below `floor` (0 for an ordinary folio; 1 for a
// legacy 1-based ZONE_DEVICE page, whose idle count is 1) is an underflow:
// reported at `site`, undone, and -1 returned.
[[gnu::always_inline]] inline int32_t folio_ref_sub_return(Model& m, Pfn head, int32_t nr, const char* site, int32_t floor = 0) {
  Frame& f = m.frame(head);
  // acq_rel: release orders this holder's accesses to the folio before the
  // decrement, so whoever frees it (the put that reaches zero) or freezes it
  // (acquire CAS in folio_ref_freeze) sees them; acquire makes the put that
  // reaches zero see every earlier holder's accesses before it frees.
  // (Catalog bug put-decrement-relaxed: relaxed.)
  const int32_t old = __builtin_expect(m.bug_on(Bug::PutDecrementRelaxed), 0) ? f.refcount.fetch_sub(nr, std::memory_order_relaxed)
                                                                     : f.refcount.fetch_sub(nr, std::memory_order_acq_rel);
  if (old - nr < floor) [[unlikely]] {
    page_ref_detail::sub_underflow(m, head, old, nr, site);
    return -1;
  }
  f.record(old == nr ? RefEvent::PutLast : RefEvent::Put, old - nr);
  return old - nr;
}
// Decrement; true when this put took the count to zero. Underflow is a
// violation (and is undone).
[[gnu::always_inline]] inline bool folio_put_testzero(Model& m, Pfn head) { return folio_ref_sub_return(m, head, 1, "folio_put") == 0; }
// Put; the put that reaches zero runs the owner's free path (__folio_put).
[[gnu::always_inline]] inline void folio_put(Model& m, Pfn head) {
  if (folio_put_testzero(m, head)) __folio_put(m, head);
}
[[gnu::always_inline]] inline void folio_put_refs(Model& m, Pfn head, int32_t nr) {
  if (folio_ref_sub_return(m, head, nr, "folio_put_refs") == 0) __folio_put(m, head);
}

// Freeze: succeeds only if the count is exactly `count`, making it 0 so that
// every folio_try_get fails until unfreeze.
bool folio_ref_freeze(Model& m, Pfn head, int32_t count);
// Unfreeze a frozen folio to a new count (> 0).
void folio_ref_unfreeze(Model& m, Pfn head, int32_t count);
// The allocation transition FREE -> ALLOCATED: refcount 0 -> 1.
void set_page_refcounted(Model& m, Pfn head);

// page_ref_zero_or_close_to_overflow(), against the model's refcount_limit.
bool folio_ref_zero_or_close_to_overflow(Model& m, Pfn head);

}  // namespace core
