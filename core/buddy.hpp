// core::buddy — the buddy allocator: free lists per zone, order and
// migratetype; split and merge; pageblock isolation; large folios.
//
// A free block of order o is represented by its head frame only: page_type
// Buddy, order o, refcount 0, linked on zone->free_area[o][mt]. The other
// frames of a free block carry nothing (page_type None, refcount 0).
//
// Left out of the model: per-CPU page lists (FREE_PCP), watermarks and
// reclaim, zone fallback beyond MOVABLE->NORMAL, migratetype stealing,
// __GFP_ZERO (payloads keep stale data, on purpose: a use-after-free then
// reads someone else's bytes), non-compound high-order allocations.
#pragma once

#include <array>
#include <cstdint>

#include "core/atomic.hpp"
#include "core/frame_table.hpp"
#include "core/types.hpp"

namespace core {

class Model;

struct FreeArea {
  Pfn head = kNoPfn;     // first free block (list linked through Frame::lru_*)
  uint32_t nr_free = 0;  // blocks on this list
};

// One allocatable zone (NORMAL or MOVABLE; DEVICE frames are never in the
// buddy). All fields but `span` are protected by `lock` (zone->lock).
struct Zone {
  ZoneSpan span{};
  MigrateType default_mt = MigrateType::Unmovable;
  SpinLock lock;
  std::array<std::array<FreeArea, kNrMigrateTypes>, kMaxPageOrderLimit + 1> free_area{};
  uint32_t nr_free_pages = 0;  // frames in free blocks, all lists
};

class Buddy {
 public:
  Buddy(Model& m, FrameTable& t, unsigned max_page_order);
  Buddy(const Buddy&) = delete;
  Buddy& operator=(const Buddy&) = delete;

  // memmap init: every NORMAL and MOVABLE frame is freed into the buddy.
  void init_free_all();

  // Allocate a folio of 2^order frames from `zone` (MOVABLE falls back to
  // NORMAL). frozen: refcount stays 0 (alloc_frozen_pages); otherwise 1.
  // Returns the head pfn, or kNoPfn when nothing fits.
  Pfn alloc(ZoneType zone, unsigned order, bool frozen);
  // Free a folio whose refcount is 0 (free_frozen_pages). Bad-page checks
  // report violations and refuse the free.
  void free(Pfn head, unsigned order);

  // Pageblock isolation of [start, end) (rounded out to pageblocks): free
  // blocks move to the ISOLATE lists and nothing is allocated from them;
  // frees into the range land there. -EBUSY (returns false) if a pageblock
  // is already isolated; nothing is left half-done. The caller checks for
  // unmovable pages (has_unmovable_pages) before; the model leaves that
  // check to it.
  bool start_isolate_page_range(Pfn start, Pfn end);
  void undo_isolate_page_range(Pfn start, Pfn end);
  // Every frame of [start, end) is free on an ISOLATE list.
  bool test_pages_isolated(Pfn start, Pfn end);

  unsigned max_page_order() const noexcept { return max_order_; }
  Zone& zone(ZoneType z) noexcept;
  const Zone& zone(ZoneType z) const noexcept;
  bool zone_is_buddy(ZoneType z) const noexcept { return z != ZoneType::Device; }
  // Free frames in a zone, read under its lock.
  uint32_t nr_free_pages(ZoneType z);

  // Takes a free block off its list, under zone->lock. Also the body of
  // __isolate_free_page, which page_alloc.c exports to page reporting and
  // offlining (isolate_free_block_locked).
  void del_page_from_free_list(Zone& z, Pfn pfn, unsigned order, MigrateType mt);

 private:
  void add_to_free_list(Zone& z, Pfn pfn, unsigned order, MigrateType mt);
  // fn(pageblock start, its zone) for each buddy pageblock of [start, end),
  // rounded out to pageblocks; fn returns false to stop. Returns the
  // pageblock it stopped at, or kNoPfn when it ran to the end.
  template <class Fn>
  Pfn for_each_pageblock(Pfn start, Pfn end, Fn fn);
  void free_one_page_locked(Zone& z, Pfn pfn, unsigned order, MigrateType mt);
  Pfn rmqueue_smallest_locked(Zone& z, unsigned order, MigrateType mt);
  void prep_new_page(Pfn pfn, unsigned order, bool frozen);
  void move_freepages_block_locked(Zone& z, Pfn pageblock_start, MigrateType from, MigrateType to);
  bool page_is_buddy(Pfn buddy, unsigned order);
  bool free_pages_prepare(Pfn head, unsigned order);

  Model& m_;
  FrameTable& t_;
  unsigned max_order_;
  std::array<Zone, 2> zones_;  // NORMAL, MOVABLE
};

// Kernel-named entry points.
Pfn alloc_pages(Model& m, ZoneType zone, unsigned order);
Pfn alloc_frozen_pages(Model& m, ZoneType zone, unsigned order);
void free_frozen_pages(Model& m, Pfn head, unsigned order);
// Split a large folio into order-0 folios. The caller must hold the only
// reference; it then holds one reference on each resulting folio. Refused
// (false) when other references or pins exist or the folio is mapped.
bool split_folio(Model& m, Pfn head);

}  // namespace core
