// core::FrameTable — the memmap: frames in zones, pageblocks and memory blocks.
//
// Layout: [NORMAL | MOVABLE | DEVICE], each zone a whole number of memory
// blocks, each memory block a whole number of pageblocks.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/atomic.hpp"
#include "core/config.hpp"
#include "core/frame.hpp"
#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

struct ZoneSpan {
  ZoneType type;
  Pfn start;  // first pfn
  Pfn end;    // one past the last pfn
  bool contains(Pfn p) const noexcept { return p >= start && p < end; }
  uint32_t size() const noexcept { return end - start; }
};

class FrameTable {
 public:
  explicit FrameTable(const ModelConfig& cfg);
  FrameTable(const FrameTable&) = delete;
  FrameTable& operator=(const FrameTable&) = delete;

  uint32_t size() const noexcept { return nr_frames_; }
  bool pfn_valid(Pfn p) const noexcept { return p < nr_frames_; }
  Frame& frame(Pfn p) noexcept { return frames_[p]; }
  const Frame& frame(Pfn p) const noexcept { return frames_[p]; }

  const ZoneSpan& zone(ZoneType z) const noexcept { return zones_[static_cast<unsigned>(z)]; }
  ZoneType zone_of(Pfn p) const noexcept {
    if (p < zones_[0].end) return ZoneType::Normal;
    if (p < zones_[1].end) return ZoneType::Movable;
    return ZoneType::Device;
  }

  unsigned pageblock_order() const noexcept { return pageblock_order_; }
  uint32_t pageblock_frames() const noexcept { return 1u << pageblock_order_; }
  uint32_t nr_pageblocks() const noexcept { return nr_frames_ >> pageblock_order_; }
  // Per-pageblock migratetype. Written under the zone lock; read without it
  // by the free path's migratetype lookup (get_pfnblock_migratetype) and by
  // isolation checks.
  MigrateType get_pfnblock_migratetype(Pfn p) const noexcept;
  void set_pageblock_migratetype(Pfn p, MigrateType mt) noexcept;
  MigrateType pageblock_migratetype_quiescent(Pfn p) const noexcept;

  uint32_t block_frames() const noexcept { return block_frames_; }
  uint32_t nr_blocks() const noexcept { return nr_frames_ / block_frames_; }
  uint32_t block_of(Pfn p) const noexcept { return p / block_frames_; }
  Pfn block_start(uint32_t b) const noexcept { return b * block_frames_; }

  FrameSnapshot snapshot(Pfn p) const;
  // An audit's finding on frame p, with the frame's snapshot.
  Violation violation(ViolationKind kind, Pfn p, const char* site, std::string detail) const {
    Violation v;
    v.kind = kind;
    v.pfn = p;
    v.site = site;
    v.detail = std::move(detail);
    v.frame = snapshot(p);
    return v;
  }

 private:
  uint32_t nr_frames_;
  uint32_t block_frames_;
  unsigned pageblock_order_;
  std::array<ZoneSpan, kNrZoneTypes> zones_;
  std::unique_ptr<Frame[]> frames_;
  std::unique_ptr<Atomic<uint8_t>[]> pageblock_mt_;
};

}  // namespace core
