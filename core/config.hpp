// core::ModelConfig — sizes, design variants and limits of one Model.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "core/faults.hpp"

namespace core {

// How the zero transition finds the free path (seed 000).
enum class FreeDispatch : uint8_t {
  // One generic hook: the frame's owner id selects the free path; the common
  // (buddy) case pays one predictable branch. The new design.
  OwnerHook,
  // Mainline's __folio_put: hard-coded per-type checks (zone device,
  // hugetlb) in front of the buddy free, and nothing for other owners.
  PerTypeChecks,
};

// guest_memfd and long-term pins (seed 003).
enum class GmemPinPolicy : uint8_t {
  // (a) refuse FOLL_LONGTERM pins on shared guest_memfd pages: conversion is
  // then only ever delayed by transient references.
  RefuseLongterm,
  // (b) back each huge page by 4 KiB folios (unmovable, still tracked as one
  // huge page), so a long-term pin on one subpage blocks only that subpage.
  SplitSmallFolios,
};

// ZONE_DEVICE refcounting (seed 002; kernel-semantics.md §4).
enum class ZoneDeviceRefcount : uint8_t {
  // 6.2+: a free device folio sits at refcount 0 in the driver's pool; the
  // zero transition reaches page_free through the owner hook. The new design.
  ZeroBased,
  // <= 5.18: refcount 1 means free/idle; the put that reaches 1 calls
  // page_free, and every generic put path must route through
  // put_devmap_managed_page() (missing that is the c5d6c45e90c4 bug class).
  LegacyOneBased,
};

// PageOffline (virtio-mem fake-offline) pages (seeds 000, 001; §5).
enum class OfflineRefcount : uint8_t {
  // Refcount stays 0 (frozen); flags NeverOnlined and Skippable;
  // alloc_offline_page()/free_offline_page() never touch the refcount. New.
  Frozen,
  // Refcount 1 owned by the driver, pg::was_onlined ("PageDirty trick");
  // MEM_GOING_OFFLINE drops 1->0, MEM_CANCEL_OFFLINE re-increments. Racy
  // with speculative references (seed 000).
  Legacy,
};

// The design variants the seeds argue about, one row per axis:
//   X(field of DesignConfig, its enum, "name of value 0", "name of value 1")
// Value 0 (the enum's first enumerator) is the default: the new design; the
// legacy one is switched on by name (`--design field=name`, a trace's design
// line). Everything else is derived from this row: DesignConfig's field,
// design_value_name(), the parser and formatter of the trace's design line,
// `--design` help, the fuzz dictionaries. A new variant is its enum above,
// its row here and the code that tests it (two values per axis; an axis with
// more would widen the row).
#define REFHAMMER_DESIGN_AXES(X)                                        \
  X(free_dispatch, FreeDispatch, "owner-hook", "per-type-checks")       \
  X(gmem_pin_policy, GmemPinPolicy, "refuse-longterm", "split-small-folios") \
  X(zone_device, ZoneDeviceRefcount, "0-based", "1-based")              \
  X(offline, OfflineRefcount, "frozen", "legacy")

struct DesignConfig {
#define REFHAMMER_DESIGN_FIELD(field, Enum, v0, v1) Enum field = static_cast<Enum>(0);
  REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_FIELD)
#undef REFHAMMER_DESIGN_FIELD
};

#define REFHAMMER_DESIGN_NAME(field, Enum, v0, v1) const char* design_value_name(Enum e) noexcept;
REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_NAME)
#undef REFHAMMER_DESIGN_NAME

// The axes as data, for parsers and listings.
struct DesignAxis {
  const char* key;        // the DesignConfig field: "free_dispatch"
  const char* values[2];  // by enum value; [0] is the default
};
#define REFHAMMER_DESIGN_COUNT(...) +1
inline constexpr unsigned kNrDesignAxes = 0 REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_COUNT);
#undef REFHAMMER_DESIGN_COUNT
const DesignAxis& design_axis(unsigned axis) noexcept;
uint8_t design_value(const DesignConfig& d, unsigned axis) noexcept;
void set_design_value(DesignConfig& d, unsigned axis, uint8_t v) noexcept;

struct ModelConfig {
  // Frames per zone. NORMAL and MOVABLE frames start in the buddy; DEVICE
  // frames belong to no one until a pgmap claims them.
  uint32_t normal_frames = 256;
  uint32_t movable_frames = 256;
  uint32_t device_frames = 64;
  // MAX_PAGE_ORDER: the largest buddy block is 2^max_page_order frames. The
  // model's pageblock is that largest block, so a free block never spans two
  // migratetypes (the kernel allows MAX_PAGE_ORDER > pageblock_order).
  uint8_t max_page_order = 4;
  // Frames per memory block, the unit of hotplug and offlining.
  uint32_t block_frames = 64;
  // Highest legal refcount: the model reports an overflow when a plain get
  // goes past it, and try-style gets refuse to. INT32_MAX is the kernel's
  // int; tests lower it so that CVE-2019-11487-style overflows are reachable.
  int32_t refcount_limit = std::numeric_limits<int32_t>::max();
  // Process address spaces (mm_struct) and the page-table slots of each.
  uint32_t nr_mms = 2;
  uint32_t mm_slots = 16;
  // One regular file's page cache: indices 0 .. file_pages-1.
  uint32_t file_pages = 16;
  // guest_memfd: 4 KiB pages in the file, backed by folios of gmem_huge_order
  // ("huge" in the model's scale) unless the pin policy splits them.
  uint32_t gmem_pages = 16;
  uint8_t gmem_huge_order = 2;
  // Sync points a shared->private conversion spins waiting for transient
  // references to drop before it returns busy (-EAGAIN).
  uint32_t gmem_convert_spins = 512;
  // RCU reader slots (concurrent rcu_read_lock sections).
  uint32_t rcu_readers = 16;
  // Passes migrate_pages() makes over a folio before giving up (the kernel's
  // NR_MAX_MIGRATE_PAGES_RETRY is 10; small here so failures are quick).
  uint32_t migrate_passes = 3;
  // (The three orders below are clamped to max_page_order where used.)
  // hugetlb: order of a fresh pool folio (the hstate's order; demote
  // splits it down to order 0) and dissolve's "race window, retry" budget.
  uint8_t hugetlb_order = 3;
  uint32_t hugetlb_dissolve_retries = 256;
  // ZONE_DEVICE: order of the pgmap's device folios (compound when > 0) and
  // the sync points memunmap_pages() spins per folio before -EBUSY.
  uint8_t device_folio_order = 1;
  uint32_t pgmap_teardown_spins = 512;
  // Memory offlining: scan/migrate/test passes before -EBUSY (the kernel
  // retries until a signal; bounded here, as proposed in 2025).
  uint32_t offline_passes = 8;
  // Free page reporting: lowest reported order (page_reporting_order),
  // blocks per report (PAGE_REPORTING_CAPACITY, 32 in the kernel) and
  // reports per cycle (the per-list budget).
  uint8_t reporting_order = 2;
  uint32_t reporting_capacity = 4;
  uint32_t reporting_budget = 2;
  DesignConfig design;
  // Per-frame page_ref event history (the tracepoint ring every violation
  // report carries). On by default; off only to measure what it costs.
  bool page_ref_history = true;
  // Catalog bugs switched on (bit per core::Bug, see bugs.hpp). 0 = none.
  uint64_t bugs = 0;
  // Fault sites switched on for this run (faults.hpp).
  FaultConfig faults;

  uint32_t total_frames() const noexcept { return normal_frames + movable_frames + device_frames; }
  // Empty when the configuration is usable; otherwise what is wrong.
  std::string validate() const;
};

}  // namespace core
