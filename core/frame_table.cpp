// core::FrameTable — memmap layout and pageblock migratetypes.
#include "core/frame_table.hpp"

#include "core/violation.hpp"

namespace core {

FrameTable::FrameTable(const ModelConfig& cfg)
    : nr_frames_(cfg.total_frames()), block_frames_(cfg.block_frames), pageblock_order_(cfg.max_page_order) {
  Pfn p = 0;
  zones_[0] = ZoneSpan{ZoneType::Normal, p, p + cfg.normal_frames};
  p += cfg.normal_frames;
  zones_[1] = ZoneSpan{ZoneType::Movable, p, p + cfg.movable_frames};
  p += cfg.movable_frames;
  zones_[2] = ZoneSpan{ZoneType::Device, p, p + cfg.device_frames};
  frames_ = std::make_unique<Frame[]>(nr_frames_);
  for (Pfn i = 0; i < nr_frames_; ++i) {
    frames_[i].head.init(i);
    frames_[i].history.set_enabled(cfg.page_ref_history);
  }
  pageblock_mt_ = std::make_unique<Atomic<uint8_t>[]>(nr_pageblocks());
  for (uint32_t b = 0; b < nr_pageblocks(); ++b) {
    ZoneType z = zone_of(b << pageblock_order_);
    pageblock_mt_[b].init(static_cast<uint8_t>(z == ZoneType::Movable ? MigrateType::Movable : MigrateType::Unmovable));
  }
}

MigrateType FrameTable::get_pfnblock_migratetype(Pfn p) const noexcept {
  // relaxed: written under zone->lock; readers either hold it or re-check
  // under it (the kernel reads pageblock bits without ordering too).
  return static_cast<MigrateType>(pageblock_mt_[p >> pageblock_order_].load(std::memory_order_relaxed));
}

void FrameTable::set_pageblock_migratetype(Pfn p, MigrateType mt) noexcept {
  // relaxed: caller holds zone->lock, whose release publishes it to lockers.
  pageblock_mt_[p >> pageblock_order_].store(static_cast<uint8_t>(mt), std::memory_order_relaxed);
}

MigrateType FrameTable::pageblock_migratetype_quiescent(Pfn p) const noexcept {
  return static_cast<MigrateType>(pageblock_mt_[p >> pageblock_order_].peek());
}

FrameSnapshot FrameTable::snapshot(Pfn p) const {
  FrameSnapshot s;
  if (!pfn_valid(p)) return s;
  const Frame& f = frames_[p];
  s.pfn = p;
  s.refcount = f.refcount.peek();
  s.mapcount = f.mapcount.peek();
  s.pincount = f.pincount.peek();
  s.flags = f.flags.peek();
  s.generation = f.generation.peek();
  s.page_type = static_cast<PageType>(f.page_type.peek());
  s.order = f.order.peek();
  s.owner = static_cast<OwnerId>(f.owner.peek());
  s.head = f.head.peek();
  s.zone = zone_of(p);
  s.history = f.history.snapshot();
  return s;
}

}  // namespace core
