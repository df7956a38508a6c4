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

#include "core/types.hpp"

namespace core {

class Model;

int32_t folio_ref_count(Model& m, Pfn head);

// Unconditional get: legal only while the caller already holds a reference
// (or a lock that pins the folio). A get on refcount 0 is a violation
// (GetOnFree / GetOnFrozen / GetOnTail), as is going past refcount_limit.
void folio_get(Model& m, Pfn head);
void folio_ref_add(Model& m, Pfn head, int32_t nr);

// folio_ref_add_unless(folio, nr, u): add nr unless the count is u. Refuses
// (returns false) instead of passing refcount_limit.
bool folio_ref_add_unless(Model& m, Pfn head, int32_t nr, int32_t u);
// Speculative get: add one unless zero.
bool folio_try_get(Model& m, Pfn head);
// Speculative add of nr references unless zero (GUP-fast's try_get_folio).
bool folio_ref_try_add(Model& m, Pfn head, int32_t nr);
// try_get_page() after CVE-2019-11487: a non-speculative get that refuses
// when the count is not positive or would pass the limit.
bool try_get_page(Model& m, Pfn head);

// Decrement; true when this put took the count to zero. Underflow is a
// violation (and is undone).
bool folio_put_testzero(Model& m, Pfn head);
// Put; the put that reaches zero runs the owner's free path (__folio_put).
void folio_put(Model& m, Pfn head);
void folio_put_refs(Model& m, Pfn head, int32_t nr);

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
