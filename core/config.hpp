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

// The design variants the seeds argue about. Later core issues add theirs
// here (PageOffline, ZONE_DEVICE, guest_memfd); legacy ones are off by default.
struct DesignConfig {
  FreeDispatch free_dispatch = FreeDispatch::OwnerHook;
  GmemPinPolicy gmem_pin_policy = GmemPinPolicy::RefuseLongterm;
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
