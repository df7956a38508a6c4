// core::types — the model's vocabulary: pfns, zones, migratetypes, page types,
// page flags, owners, and the kernel constants the protocols are built on.
#pragma once

#include <cerrno>
#include <cstdint>
#include <limits>

namespace core {

// Page frame number: an index into the FrameTable (the memmap).
using Pfn = uint32_t;
inline constexpr Pfn kNoPfn = std::numeric_limits<Pfn>::max();

// mm/gup.c: a FOLL_PIN on a small folio adds this many references, so that
// folio_maybe_dma_pinned() can tell pins from plain references.
inline constexpr int32_t GUP_PIN_COUNTING_BIAS = 1024;

// Largest buddy order the model supports (the kernel's MAX_PAGE_ORDER is
// configurable too; the model's is set per Model, at most this).
inline constexpr unsigned kMaxPageOrderLimit = 10;

enum class ZoneType : uint8_t { Normal, Movable, Device };
inline constexpr unsigned kNrZoneTypes = 3;
const char* zone_name(ZoneType z) noexcept;

// Per-pageblock migratetype. The model has one migratetype per zone
// (NORMAL: Unmovable, MOVABLE: Movable) plus Isolate; it leaves out
// Reclaimable, HighAtomic and CMA, and the fallback stealing between them.
enum class MigrateType : uint8_t { Unmovable, Movable, Isolate };
inline constexpr unsigned kNrMigrateTypes = 3;
const char* migratetype_name(MigrateType mt) noexcept;

// page_type: at most one per page, as since 6.12. Device frames are not a
// type (ZONE_DEVICE is a zone), as in the kernel.
enum class PageType : uint8_t { None, Buddy, Offline, Hugetlb, Guestmem };
const char* page_type_name(PageType t) noexcept;

// Page flags (PG_*), one bit each in Frame::flags.
namespace pg {
inline constexpr uint32_t head = 1u << 0;           // first frame of a large folio
inline constexpr uint32_t tail = 1u << 1;           // compound tail (Frame::head names the head)
inline constexpr uint32_t reported = 1u << 2;       // PageReported: free and reported to the host
inline constexpr uint32_t offline_skippable = 1u << 3;   // PageOffline may be skipped by offlining
inline constexpr uint32_t offline_never_onlined = 1u << 4;  // PageOffline never given to the buddy
inline constexpr uint32_t hugetlb_freed = 1u << 5;  // hugetlb folio sits on the pool's free list
inline constexpr uint32_t isolated = 1u << 6;       // isolated for migration (off the LRU)
inline constexpr uint32_t locked = 1u << 7;         // PG_locked
inline constexpr uint32_t lru = 1u << 8;            // on an LRU list (movable, migratable)
inline constexpr uint32_t was_onlined = 1u << 9;    // legacy virtio-mem "PageDirty" trick
}  // namespace pg

// Who frees a folio when its refcount reaches zero (the folio_owner_ops idea
// of seed 000): the owner hook dispatches on this id.
enum class OwnerId : uint8_t { Buddy, Hugetlb, DevicePgmap, Offline, Guestmem };
inline constexpr unsigned kNrOwners = 5;
const char* owner_name(OwnerId o) noexcept;

}  // namespace core
