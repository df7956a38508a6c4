// core names — printable names of the model's enums, and the frame history.
//
// One table per enum, indexed by the enumerator (as mm/page_alloc.c's
// migratetype_names[MIGRATE_TYPES]); each table's size is checked against
// its enum's count, so an enumerator added without its name fails to build.
#include <algorithm>
#include <cstddef>
#include <iterator>

#include "core/frame.hpp"
#include "core/probe.hpp"
#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

namespace {

// names[e], or "?" for a value past the table (a corrupt byte).
template <class E, size_t N>
constexpr const char* name_in(const char* const (&names)[N], E e) noexcept {
  const auto i = static_cast<size_t>(e);
  return i < N ? names[i] : "?";
}

constexpr const char* kZoneNames[] = {
    "Normal",
    "Movable",
    "Device",
};

constexpr const char* kMigratetypeNames[] = {
    "Unmovable",
    "Movable",
    "Isolate",
};

constexpr const char* kPageTypeNames[] = {
    "none",
    "buddy",
    "offline",
    "hugetlb",
    "guestmem",
};

constexpr const char* kOwnerNames[] = {
    "buddy",
    "hugetlb",
    "device-pgmap",
    "offline",
    "guest_memfd",
};

constexpr const char* kRefEventNames[] = {
    "alloc",
    "alloc_frozen",
    "set_refcounted",
    "get",
    "try_get",
    "try_get_fail",
    "add",
    "put",
    "put_last",
    "freeze",
    "freeze_fail",
    "unfreeze",
    "free",
    "split",
    "VIOLATION",
    "owner_free",
    "set_count",
};

constexpr const char* kViolationKindNames[] = {
    "refcount-underflow",
    "refcount-overflow",
    "get-on-free",
    "get-on-frozen",
    "get-on-tail",
    "bad-unfreeze",
    "bad-set-refcounted",
    "bad-page-free",
    "double-free",
    "leak",
    "refcount-deficit",
    "held-but-free",
    "lost-frame",
    "double-owner",
    "buddy-corrupt",
    "tail-corrupt",
    "mapcount-mismatch",
    "pincount-mismatch",
    "use-after-free",
    "data-loss",
    "security",
    "mapping-corrupt",
    "deadlock",
    "free-callback",
    "longterm-pin-movable",
};

constexpr const char* kProbeNames[] = {
    "try_get saw zero (remover B before lookup 2)",
    "get refused at the refcount limit",
    "put reached zero",
    "zero transition went to a non-buddy owner",
    "freeze found another reference (lookup 2 before remover B)",
    "freeze succeeded",
    "buddy merged",
    "buddy block split",
    "MOVABLE allocation fell back to NORMAL",
    "allocation failed",
    "free landed on an ISOLATE list",
    "pageblock already isolated",
    "split refused (extra refs or pins)",
    "map found the file folio truncated",
    "page-cache lookup retried (try_get failed or slot changed)",
    "page-cache lookup's backing-out put freed the folio",
    "synchronize_rcu waited for a reader",
    "truncate found the folio moved and retried",
    "GUP-fast found no present PTE",
    "GUP-fast PTE re-check failed, grab undone",
    "GUP-fast folio re-check failed (split race)",
    "GUP grab refused at the refcount limit",
    "FOLL_LONGTERM migrated a folio out of ZONE_MOVABLE",
    "migration found the folio freed under it",
    "migration freeze failed: extra references or pins",
    "migration could not lock the folio",
    "migration succeeded",
    "guest_memfd conversion waited for transient references",
    "guest_memfd conversion busy (-EAGAIN)",
    "long-term pin on shared guest_memfd page refused (a)",
    "fresh huge folio: freeze(1) lost to a speculative reference",
    "dissolve hit the free race window (refcount 0, !hugetlb_freed), retried",
    "free huge folio dissolved to the buddy",
    "free huge folio demoted",
    "ZONE_DEVICE page_free ran",
    "memunmap_pages waited for a referenced device folio",
    "memunmap_pages gave up (-EBUSY)",
    "GOING_OFFLINE: fake-offline page referenced (dec did not reach 0)",
    "stray last put on a PageOffline page kept by the driver's hook",
    "offlining pass found a busy page, retried",
    "offlining gave up (-EBUSY)",
    "memory block offlined",
    "page reporting isolated a free block",
    "reported block put back and marked PageReported",
    "reported block merged or moved on putback: unmarked",
};

}  // namespace

// A name for every enumerator (the count constants, or the last enumerator).
static_assert(std::size(kZoneNames) == kNrZoneTypes);
static_assert(std::size(kMigratetypeNames) == kNrMigrateTypes);
static_assert(std::size(kPageTypeNames) == static_cast<size_t>(PageType::Guestmem) + 1);
static_assert(std::size(kOwnerNames) == kNrOwners);
static_assert(std::size(kRefEventNames) == static_cast<size_t>(RefEvent::SetCount) + 1);
static_assert(std::size(kViolationKindNames) == kNrViolationKinds);
static_assert(std::size(kProbeNames) == kNrProbes);

const char* zone_name(ZoneType z) noexcept { return name_in(kZoneNames, z); }
const char* migratetype_name(MigrateType mt) noexcept { return name_in(kMigratetypeNames, mt); }
const char* page_type_name(PageType t) noexcept { return name_in(kPageTypeNames, t); }
const char* owner_name(OwnerId o) noexcept { return name_in(kOwnerNames, o); }
const char* ref_event_name(RefEvent e) noexcept { return name_in(kRefEventNames, e); }
const char* violation_kind_name(ViolationKind k) noexcept { return name_in(kViolationKindNames, k); }
const char* probe_name(Probe p) noexcept { return name_in(kProbeNames, p); }

std::vector<PageRefRecord> PageRefHistory::snapshot() const {
  std::vector<PageRefRecord> out;
  for (const auto& slot : ring_) {
    // relaxed: diagnostic ring (see record()).
    uint64_t w = slot.load(std::memory_order_relaxed);
    if ((w >> 63) == 0) continue;
    PageRefRecord r;
    r.event = static_cast<RefEvent>((w >> 48) & 0xff);
    r.actor = static_cast<uint8_t>((w >> 40) & 0xff);
    r.seq = static_cast<uint16_t>((w >> 24) & 0xffff);
    uint32_t c = static_cast<uint32_t>(w & 0xffffff);
    if (c & 0x800000u) c |= 0xff000000u;  // sign-extend the 24-bit count
    r.count = static_cast<int32_t>(c);
    out.push_back(r);
  }
  // Order by sequence, oldest first, allowing for the 16-bit wrap: the newest
  // sequence number is the reference point.
  if (!out.empty()) {
    uint16_t newest = out[0].seq;
    for (const auto& r : out)
      if (static_cast<uint16_t>(r.seq - newest) < 0x8000) newest = r.seq;
    std::sort(out.begin(), out.end(), [newest](const PageRefRecord& a, const PageRefRecord& b) {
      return static_cast<uint16_t>(newest - a.seq) > static_cast<uint16_t>(newest - b.seq);
    });
  }
  return out;
}

void PageRefHistory::clear() noexcept {
  next_.store(0, std::memory_order_relaxed);  // relaxed: diagnostic ring
  for (auto& s : ring_) s.store(0, std::memory_order_relaxed);  // relaxed: diagnostic ring
}

}  // namespace core
