// core::buddy — mm/page_alloc.c in miniature.
#include "core/buddy.hpp"

#include <string>

#include "core/model.hpp"
#include "core/page_ref.hpp"

namespace core {
namespace {
constexpr unsigned zone_index(ZoneType z) { return z == ZoneType::Normal ? 0u : 1u; }
}  // namespace

Buddy::Buddy(Model& m, FrameTable& t, unsigned max_page_order) : m_(m), t_(t), max_order_(max_page_order) {
  zones_[0].span = t.zone(ZoneType::Normal);
  zones_[0].default_mt = MigrateType::Unmovable;
  zones_[1].span = t.zone(ZoneType::Movable);
  zones_[1].default_mt = MigrateType::Movable;
}

Zone& Buddy::zone(ZoneType z) noexcept {
  MODEL_BUG_ON(z == ZoneType::Device);
  return zones_[zone_index(z)];
}
const Zone& Buddy::zone(ZoneType z) const noexcept {
  MODEL_BUG_ON(z == ZoneType::Device);
  return zones_[zone_index(z)];
}

uint32_t Buddy::nr_free_pages(ZoneType zt) {
  Zone& z = zone(zt);
  SpinGuard g(z.lock);
  return z.nr_free_pages;
}

void Buddy::init_free_all() {
  for (Zone& z : zones_) {
    // memmap init: frames start as refcount-0 singletons (init_page_count and
    // the first __free_pages collapsed into one step), then are freed in
    // maximal aligned blocks, as memblock_free_all does.
    for (Pfn p = z.span.start; p < z.span.end; ++p) {
      Frame& f = t_.frame(p);
      f.refcount.init(0);
      f.mapcount.init(0);
      f.pincount.init(0);
      f.flags.init(0);
      f.page_type.init(static_cast<uint8_t>(PageType::None));
      f.order.init(0);
      f.owner.init(static_cast<uint8_t>(OwnerId::Buddy));
      f.head.init(p);
      f.generation.init(0);
      f.payload.init(0);
      f.mapping.init(0);
      f.index.init(0);
      f.rcu_free_after.init(0);
    }
    SpinGuard g(z.lock);
    const uint32_t block = 1u << max_order_;
    for (Pfn p = z.span.start; p < z.span.end; p += block) {
      MigrateType mt = t_.get_pfnblock_migratetype(p);
      free_one_page_locked(z, p, max_order_, mt);
    }
  }
}

// --- free lists (zone->lock held) -------------------------------------------

void Buddy::add_to_free_list(Zone& z, Pfn pfn, unsigned order, MigrateType mt) {
  FreeArea& a = z.free_area[order][static_cast<unsigned>(mt)];
  Frame& f = t_.frame(pfn);
  f.lru_prev = kNoPfn;
  f.lru_next = a.head;
  if (a.head != kNoPfn) t_.frame(a.head).lru_prev = pfn;
  a.head = pfn;
  a.nr_free++;
  z.nr_free_pages += 1u << order;
  // relaxed (both): written under zone->lock; unlocked readers
  // (page_is_buddy-style speculation in pfn walkers) re-check under the lock
  // or via refcount, as with the kernel's buddy_order_unsafe().
  f.order.store(static_cast<uint8_t>(order), std::memory_order_relaxed);
  f.page_type.store(static_cast<uint8_t>(PageType::Buddy), std::memory_order_relaxed);
}

void Buddy::del_page_from_free_list(Zone& z, Pfn pfn, unsigned order, MigrateType mt) {
  FreeArea& a = z.free_area[order][static_cast<unsigned>(mt)];
  Frame& f = t_.frame(pfn);
  if (f.lru_prev != kNoPfn) t_.frame(f.lru_prev).lru_next = f.lru_next;
  else a.head = f.lru_next;
  if (f.lru_next != kNoPfn) t_.frame(f.lru_next).lru_prev = f.lru_prev;
  f.lru_next = f.lru_prev = kNoPfn;
  MODEL_BUG_ON_PAGE(a.nr_free == 0, t_, pfn);
  a.nr_free--;
  z.nr_free_pages -= 1u << order;
  // relaxed (all three): under zone->lock; see add_to_free_list(). PageReported
  // is cleared when a page leaves the free list.
  f.page_type.store(static_cast<uint8_t>(PageType::None), std::memory_order_relaxed);
  f.order.store(0, std::memory_order_relaxed);
  f.flags.fetch_and(~pg::reported, std::memory_order_relaxed);
}

bool Buddy::page_is_buddy(Pfn buddy, unsigned order) {
  if (!t_.pfn_valid(buddy)) return false;
  const Frame& b = t_.frame(buddy);
  // relaxed (both): zone->lock is held, and only holders of it write these.
  return static_cast<PageType>(b.page_type.load(std::memory_order_relaxed)) == PageType::Buddy &&
         b.order.load(std::memory_order_relaxed) == order;
}

// __free_one_page(): merge with free buddies while possible, then enqueue.
void Buddy::free_one_page_locked(Zone& z, Pfn pfn, unsigned order, MigrateType mt) {
  while (order < max_order_) {
    Pfn buddy = pfn ^ (1u << order);
    // The buddy is in the same pageblock (pageblock = largest block), hence
    // the same zone and migratetype.
    if (!page_is_buddy(buddy, order)) break;
    del_page_from_free_list(z, buddy, order, mt);
    m_.probe(Probe::BuddyMerged);
    pfn &= ~(1u << order);
    ++order;
  }
  if (mt == MigrateType::Isolate) m_.probe(Probe::FreeToIsolated);
  add_to_free_list(z, pfn, order, mt);
}

// __rmqueue_smallest() + expand().
Pfn Buddy::rmqueue_smallest_locked(Zone& z, unsigned order, MigrateType mt) {
  for (unsigned o = order; o <= max_order_; ++o) {
    FreeArea& a = z.free_area[o][static_cast<unsigned>(mt)];
    if (a.head == kNoPfn) continue;
    Pfn pfn = a.head;
    del_page_from_free_list(z, pfn, o, mt);
    while (o > order) {
      --o;
      add_to_free_list(z, pfn + (1u << o), o, mt);
      m_.probe(Probe::BuddySplit);
    }
    return pfn;
  }
  return kNoPfn;
}

// prep_new_page() + prep_compound_page() + (unless frozen) set_page_refcounted().
void Buddy::prep_new_page(Pfn pfn, unsigned order, bool frozen) {
  Frame& h = t_.frame(pfn);
  // The block is off the free lists with refcount 0: speculative getters
  // fail, so these relaxed stores are published by the release store of the
  // refcount (set_page_refcounted) or, for frozen allocations, by the
  // holder's later unfreeze.
  for (Pfn p = pfn + 1; p < pfn + (1u << order); ++p) {
    Frame& t = t_.frame(p);
    t.head.store(pfn, std::memory_order_relaxed);        // relaxed: see above
    t.flags.store(pg::tail, std::memory_order_relaxed);  // relaxed: see above
    t.order.store(0, std::memory_order_relaxed);         // relaxed: see above
    t.owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);  // relaxed: see above
  }
  h.head.store(pfn, std::memory_order_relaxed);                                     // relaxed: see above
  h.flags.store(order > 0 ? pg::head : 0u, std::memory_order_relaxed);              // relaxed: see above
  h.order.store(static_cast<uint8_t>(order), std::memory_order_relaxed);            // relaxed: see above
  h.owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);   // relaxed: see above
  h.mapcount.store(0, std::memory_order_relaxed);                                   // relaxed: see above
  h.pincount.store(0, std::memory_order_relaxed);                                   // relaxed: see above
  h.generation.fetch_add(1, std::memory_order_relaxed);                             // relaxed: see above
  h.mapping.store(0, std::memory_order_relaxed);                                    // relaxed: see above
  h.rcu_free_after.store(0, std::memory_order_relaxed);                             // relaxed: see above
  h.record(frozen ? RefEvent::AllocFrozen : RefEvent::Alloc, 0);
  if (!frozen) set_page_refcounted(m_, pfn);
}

Pfn Buddy::alloc(ZoneType zt, unsigned order, bool frozen) {
  if (order > max_order_ || zt == ZoneType::Device) return kNoPfn;
  if (m_.fault(FaultSite::AllocFail)) {
    m_.probe(Probe::AllocFailed);
    return kNoPfn;
  }
  // Zonelist: MOVABLE requests may fall back to NORMAL; NORMAL ones may not.
  const ZoneType order_of_zones[2] = {zt, ZoneType::Normal};
  const unsigned nz = zt == ZoneType::Movable ? 2 : 1;
  for (unsigned i = 0; i < nz; ++i) {
    Zone& z = zone(order_of_zones[i]);
    Pfn pfn;
    {
      SpinGuard g(z.lock);
      pfn = rmqueue_smallest_locked(z, order, z.default_mt);
    }
    if (pfn != kNoPfn) {
      if (i > 0) m_.probe(Probe::AllocFellBack);
      prep_new_page(pfn, order, frozen);
      return pfn;
    }
  }
  m_.probe(Probe::AllocFailed);
  return kNoPfn;
}

// free_pages_prepare(): the bad-page checks. False refuses the free.
bool Buddy::free_pages_prepare(Pfn head, unsigned order) {
  if (!t_.pfn_valid(head) || order > max_order_ || (head & ((1u << order) - 1)) != 0) {
    m_.report(ViolationKind::BadPageFree, t_.pfn_valid(head) ? head : kNoPfn, "free_frozen_pages",
              "bad pfn/order " + std::to_string(head) + "/" + std::to_string(order));
    return false;
  }
  Frame& h = t_.frame(head);
  if (t_.zone_of(head) == ZoneType::Device) {
    m_.report(ViolationKind::BadPageFree, head, "free_frozen_pages", "ZONE_DEVICE frame freed to the buddy");
    return false;
  }
  // relaxed (loads below): the put that reached zero (acq_rel) or the
  // freezer's CAS ordered every holder's writes before these reads.
  if (static_cast<PageType>(h.page_type.load(std::memory_order_relaxed)) == PageType::Buddy) {
    m_.report(ViolationKind::DoubleFree, head, "free_frozen_pages", "frame is already PageBuddy");
    return false;
  }
  const char* bad = nullptr;
  // relaxed (these five and the tail loop): ordered as above.
  if (page_ref_count(m_, head) != 0) bad = "nonzero _refcount";
  else if (h.mapcount.load(std::memory_order_relaxed) != 0) bad = "nonzero mapcount";
  else if (h.pincount.load(std::memory_order_relaxed) != 0) bad = "nonzero pincount";
  else if (h.flags.load(std::memory_order_relaxed) & pg::tail) bad = "freeing a tail page";
  else if (h.order.load(std::memory_order_relaxed) != order) bad = "order does not match the folio";
  else if (h.mapping.load(std::memory_order_relaxed) != 0) bad = "non-NULL mapping";
  if (bad == nullptr) {
    for (Pfn p = head + 1; p < head + (1u << order); ++p) {
      Frame& t = t_.frame(p);
      // relaxed (both): FREEING; ordered as above.
      if (page_ref_count(m_, p) != 0) { bad = "nonzero tail _refcount"; break; }
      if (t.head.load(std::memory_order_relaxed) != head) { bad = "corrupted compound_head in tail page"; break; }
    }
  }
  if (bad != nullptr) {
    m_.report(ViolationKind::BadPageFree, head, "free_frozen_pages", bad);
    return false;
  }
  for (Pfn p = head + 1; p < head + (1u << order); ++p) {
    Frame& t = t_.frame(p);
    t.flags.store(0, std::memory_order_relaxed);  // relaxed: FREEING, only we touch it
    t.head.store(p, std::memory_order_relaxed);   // relaxed: FREEING, only we touch it
  }
  h.flags.store(0, std::memory_order_relaxed);                                    // relaxed: FREEING
  h.order.store(0, std::memory_order_relaxed);                                    // relaxed: FREEING
  h.owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed); // relaxed: FREEING
  h.page_type.store(static_cast<uint8_t>(PageType::None), std::memory_order_relaxed);  // relaxed: FREEING
  h.record(RefEvent::Free, 0);
  return true;
}

void Buddy::free(Pfn head, unsigned order) {
  if (!free_pages_prepare(head, order)) return;
  Zone& z = zone(t_.zone_of(head));
  SpinGuard g(z.lock);
  free_one_page_locked(z, head, order, t_.get_pfnblock_migratetype(head));
}

// --- isolation --------------------------------------------------------------

void Buddy::move_freepages_block_locked(Zone& z, Pfn start, MigrateType from, MigrateType to) {
  const Pfn end = start + t_.pageblock_frames();
  for (Pfn p = start; p < end;) {
    Frame& f = t_.frame(p);
    // relaxed (both): zone->lock held; only holders of it write these.
    if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) == PageType::Buddy) {
      unsigned o = f.order.load(std::memory_order_relaxed);
      del_page_from_free_list(z, p, o, from);
      add_to_free_list(z, p, o, to);
      p += 1u << o;
    } else {
      ++p;
    }
  }
}

template <class Fn>
Pfn Buddy::for_each_pageblock(Pfn start, Pfn end, Fn fn) {
  const uint32_t pb = t_.pageblock_frames();
  start &= ~(pb - 1);
  end = (end + pb - 1) & ~(pb - 1);
  if (end > t_.size()) end = t_.size();
  for (Pfn p = start; p < end; p += pb) {
    const ZoneType zt = t_.zone_of(p);
    if (zt == ZoneType::Device) continue;
    if (!fn(p, zone(zt))) return p;
  }
  return kNoPfn;
}

bool Buddy::start_isolate_page_range(Pfn start, Pfn end) {
  const Pfn stopped = for_each_pageblock(start, end, [&](Pfn p, Zone& z) {
    SpinGuard g(z.lock);
    if (t_.get_pfnblock_migratetype(p) == MigrateType::Isolate) return false;  // busy
    t_.set_pageblock_migratetype(p, MigrateType::Isolate);
    move_freepages_block_locked(z, p, z.default_mt, MigrateType::Isolate);
    return true;
  });
  if (stopped == kNoPfn) return true;
  m_.probe(Probe::IsolateBusy);
  undo_isolate_page_range(start, stopped);
  return false;
}

void Buddy::undo_isolate_page_range(Pfn start, Pfn end) {
  for_each_pageblock(start, end, [&](Pfn p, Zone& z) {
    SpinGuard g(z.lock);
    if (t_.get_pfnblock_migratetype(p) != MigrateType::Isolate) return true;
    t_.set_pageblock_migratetype(p, z.default_mt);
    move_freepages_block_locked(z, p, MigrateType::Isolate, z.default_mt);
    return true;
  });
}

bool Buddy::test_pages_isolated(Pfn start, Pfn end) {
  if (end > t_.size()) end = t_.size();
  for (Pfn p = start; p < end;) {
    ZoneType zt = t_.zone_of(p);
    if (zt == ZoneType::Device) return false;
    Zone& z = zone(zt);
    SpinGuard g(z.lock);
    if (t_.get_pfnblock_migratetype(p) != MigrateType::Isolate) return false;
    // Find the free block covering p: its head is p rounded down to some order.
    bool covered = false;
    for (unsigned o = 0; o <= max_order_; ++o) {
      Pfn h = p & ~((1u << o) - 1);
      Frame& f = t_.frame(h);
      // relaxed (both): zone->lock held.
      if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) == PageType::Buddy &&
          f.order.load(std::memory_order_relaxed) >= o && h + (1u << f.order.load(std::memory_order_relaxed)) > p) {
        p = h + (1u << f.order.load(std::memory_order_relaxed));
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

// --- kernel-named entry points ---------------------------------------------

Pfn alloc_pages(Model& m, ZoneType zone, unsigned order) { return m.buddy().alloc(zone, order, false); }
Pfn alloc_frozen_pages(Model& m, ZoneType zone, unsigned order) { return m.buddy().alloc(zone, order, true); }
void free_frozen_pages(Model& m, Pfn head, unsigned order) { m.buddy().free(head, order); }

bool split_folio(Model& m, Pfn head) {
  Frame& h = m.frame(head);
  // relaxed (three loads): the caller holds a reference; these only decide
  // whether to try, and the freeze below is the real check.
  const unsigned order = h.order.load(std::memory_order_relaxed);
  if (order == 0) return true;
  if (h.pincount.load(std::memory_order_relaxed) != 0 || h.mapcount.load(std::memory_order_relaxed) != 0) {
    m.probe(Probe::SplitRefused);
    return false;
  }
  // Only the caller's reference may exist (split_huge_page freezes to
  // 1 + extra pins; the model has no mappings here, so 1).
  if (!folio_ref_freeze(m, head, 1)) {
    m.probe(Probe::SplitRefused);
    return false;
  }
  for (Pfn p = head + 1; p < head + (1u << order); ++p) {
    Frame& t = m.frame(p);
    // relaxed (three stores): the tail is frozen at 0 and not yet its own
    // folio; the release in folio_ref_unfreeze() publishes them.
    t.head.store(p, std::memory_order_relaxed);
    t.flags.store(0, std::memory_order_relaxed);
    t.generation.fetch_add(1, std::memory_order_relaxed);
    t.record(RefEvent::Split, 0);
    folio_ref_unfreeze(m, p, 1);
  }
  // relaxed (both): frozen head; published by the unfreeze's release.
  h.flags.fetch_and(~pg::head, std::memory_order_relaxed);
  h.order.store(0, std::memory_order_relaxed);
  h.record(RefEvent::Split, 0);
  folio_ref_unfreeze(m, head, 1);
  return true;
}

}  // namespace core
