// core::ModelConfig — sizes, design variants and limits of one Model.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

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

// The design variants the seeds argue about. Later core issues add theirs
// here (PageOffline, ZONE_DEVICE, guest_memfd); legacy ones are off by default.
struct DesignConfig {
  FreeDispatch free_dispatch = FreeDispatch::OwnerHook;
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
  DesignConfig design;

  uint32_t total_frames() const noexcept { return normal_frames + movable_frames + device_frames; }
  // Empty when the configuration is usable; otherwise what is wrong.
  std::string validate() const;
};

}  // namespace core
