// core::Violation — what the model reports when a protocol is broken.
//
// Two tiers of checks (STYLE.md lesson 5):
//  - Model::report(kind, pfn, site, detail): always on. Guards protocol
//    outcomes — underflow, get on a free page, a leak — which are the
//    product's findings. A failing check calls it (there is no macro: the
//    check is plain code, e.g. `if (old <= 0) [[unlikely]] ...report...`);
//    report() builds a Violation and hands it to the Model's sink; the
//    primitive then backs out as far as it safely can and the run goes on to
//    be stopped by the harness.
//  - MODEL_BUG_ON_PAGE: internal consistency of the model itself (a bug in
//    refhammer, not in the protocol under test). On in debug, sanitizer and
//    fuzz builds (REFHAMMER_DEBUG_CHECKS): dumps the frame and aborts. Off,
//    it still type-checks the condition without evaluating it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/frame.hpp"
#include "core/types.hpp"

namespace core {

enum class ViolationKind : uint8_t {
  RefcountUnderflow,   // a put took the refcount below zero
  RefcountOverflow,    // a get took the refcount past the limit
  GetOnFree,           // an unconditional get on a free (buddy) frame
  GetOnFrozen,         // an unconditional get on a frozen / refcount-0 frame (0->1 resurrect)
  GetOnTail,           // a refcount change on a compound tail
  BadUnfreeze,         // unfreeze of a frame that is not frozen, or to count 0
  BadSetRefcounted,    // set_page_refcounted on a frame whose refcount is not 0
  BadPageFree,         // free with nonzero refcount/mapcount/pincount, or a busy tail
  DoubleFree,          // free of a frame already in the buddy
  Leak,                // audit: refcount above what holders can name
  RefcountDeficit,     // audit: refcount below what holders can name (a put to come will underflow)
  HeldButFree,         // audit: a holder names a reference on a free frame
  LostFrame,           // audit: a frame is nowhere (not free, not held, not claimed)
  DoubleOwner,         // audit: a frame is in two places at once
  BuddyCorrupt,        // audit: free lists inconsistent
  TailCorrupt,         // audit: tail with a refcount or a wrong head
  MapcountMismatch,    // audit: mapcount differs from the mappings that exist
  PincountMismatch,    // audit: pincount differs from the pins holders name
  UseAfterFree,        // a folio freed while a reader may still touch it (RCU), or accessed after free
  DataLoss,            // payload lost or handed out while the host may still use it
  Security,            // a private guest_memfd page the host can still map, pin or read
  MappingCorrupt,      // audit: page-cache entry and folio->mapping/index disagree, or a stray migration entry
  Deadlock,            // detected by a scheduler: no actor can make progress (reported by the harness)
  FreeCallback,        // an owner's free callback (ZONE_DEVICE page_free) missed, ran twice, or a pool is inconsistent
  LongtermPinMovable,  // a FOLL_LONGTERM pin on a folio that must stay migratable (ZONE_MOVABLE, ZONE_DEVICE, an isolated pageblock)
};
inline constexpr unsigned kNrViolationKinds = 25;
const char* violation_kind_name(ViolationKind k) noexcept;

struct Violation {
  ViolationKind kind;
  Pfn pfn = kNoPfn;
  // The primitive or audit step that detected it (a kernel name, e.g.
  // "folio_put"); with kind, the stable part of a report's signature.
  const char* site = "";
  // Human-readable specifics: counts, expected values.
  std::string detail;
  uint8_t actor = kNoActor;
  FrameSnapshot frame;  // the frame at detection time, with its history
};

// Where violations go. The harness installs one to stop a run at the first
// finding; with none, the Model keeps them in a bounded list.
class ViolationSink {
 public:
  virtual void report(const Violation& v) = 0;
  virtual ~ViolationSink() = default;
};

// One-line summary: "refcount-underflow pfn 12 at folio_put: ...".
std::string format_violation(const Violation& v);
// The summary plus a frame dump and its page_ref history.
std::string format_violation_long(const Violation& v);
std::string format_frame(const FrameSnapshot& f);

[[noreturn]] void model_bug(const char* cond, const FrameSnapshot* f, const char* file, int line);

}  // namespace core

#ifndef REFHAMMER_DEBUG_CHECKS
#define REFHAMMER_DEBUG_CHECKS 0
#endif

#if REFHAMMER_DEBUG_CHECKS
#define MODEL_BUG_ON(cond)                                                      \
  do {                                                                          \
    if (cond) [[unlikely]]                                                      \
      ::core::model_bug(#cond, nullptr, __FILE__, __LINE__);                    \
  } while (0)
#define MODEL_BUG_ON_PAGE(cond, table, pfn)                                     \
  do {                                                                          \
    if (cond) [[unlikely]] {                                                    \
      auto snap_ = (table).snapshot(pfn);                                       \
      ::core::model_bug(#cond, &snap_, __FILE__, __LINE__);                     \
    }                                                                           \
  } while (0)
#else
// BUILD_BUG_ON_INVALID: type-check, never evaluate.
#define MODEL_BUG_ON(cond) ((void)sizeof(!(cond)))
#define MODEL_BUG_ON_PAGE(cond, table, pfn) ((void)sizeof(!(cond)), (void)sizeof(table), (void)sizeof(pfn))
#endif
