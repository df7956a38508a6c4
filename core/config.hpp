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
const char* free_dispatch_name(FreeDispatch d) noexcept;

// guest_memfd and long-term pins (seed 003).
enum class GmemPinPolicy : uint8_t {
  // (a) refuse FOLL_LONGTERM pins on shared guest_memfd pages: conversion is
  // then only ever delayed by transient references.
  RefuseLongterm,
  // (b) back each huge page by 4 KiB folios (unmovable, still tracked as one
  // huge page), so a long-term pin on one subpage blocks only that subpage.
  SplitSmallFolios,
};
const char* gmem_pin_policy_name(GmemPinPolicy p) noexcept;

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
const char* zone_device_refcount_name(ZoneDeviceRefcount z) noexcept;

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
const char* offline_refcount_name(OfflineRefcount o) noexcept;

// The design variants the seeds argue about. Later core issues add theirs
// here (PageOffline, ZONE_DEVICE, guest_memfd); legacy ones are off by default.
struct DesignConfig {
  FreeDispatch free_dispatch = FreeDispatch::OwnerHook;
  GmemPinPolicy gmem_pin_policy = GmemPinPolicy::RefuseLongterm;
  ZoneDeviceRefcount zone_device = ZoneDeviceRefcount::ZeroBased;
  OfflineRefcount offline = OfflineRefcount::Frozen;
};

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
