// core::OfflineDriver and core::MemoryHotplug — PageOffline pages of a
// virtio-mem style driver, and memory-block offlining/onlining
// (drivers/virtio/virtio_mem.c, mm/memory_hotplug.c; seeds 000, 001;
// kernel-semantics.md §5, §8).
//
// PageOffline pages (page_type Offline, owner Offline) are memory the driver
// took from the buddy (fake-offline, offline_alloc) or never gave to it
// (withheld when a block is onlined).
//
// | design (DesignConfig::offline) | refcount | flags                          | give back (offline_free)     |
// |--------------------------------|----------|--------------------------------|------------------------------|
// | Frozen (default)               | 0 always | Skippable (+NeverOnlined if    | free_offline_page: clear the |
// |                                |          | withheld)                      | type, free_frozen_pages      |
// | Legacy                         | 1 (the   | was_onlined if it came from    | clear the type, folio_put    |
// |                                | driver's)| the buddy ("PageDirty trick")  | (1 -> 0)                     |
//
// Offlining a memory block (offline_pages):
//   1. start_isolate_page_range over the block (-EBUSY if any pageblock is
//      already isolated)
//   2. MEM_GOING_OFFLINE: the driver takes its hotplug_mutex and holds it
//      until MEM_OFFLINE / MEM_CANCEL_OFFLINE, so no page of the block is
//      fake-offlined in between (see offline_alloc); legacy pages drop the
//      driver's reference with page_ref_dec_and_test; not reaching 0 is the
//      kernel's WARN "fake-offline page referenced" (probe)
//   3. up to offline_passes passes:
//      a. scan: dissolve free hugetlb folios; pfn_walk_get every other
//         referenced frame and migrate it (to memory outside the block);
//         PageOffline frames are never touched
//      b. test, under zone->lock: every frame is free on an ISOLATE list, or
//         a skippable PageOffline page (frozen: Skippable; legacy: refcount
//         0); else retry (in-flight reports, busy folios, stray references)
//      c. on success, __offline_isolated_pages: the free blocks leave the
//         buddy; the frames now belong to the offline block; MEM_OFFLINE
//   4. all passes failed: MEM_CANCEL_OFFLINE (legacy: page_ref_inc back to
//      1), undo the isolation, -EBUSY
// Onlining (online_pages): MEM_GOING_ONLINE (the driver takes its
// hotplug_mutex until MEM_ONLINE); every frame of the block that is not
// PageOffline goes back to the buddy, except the first `withhold` ones, which
// the driver's online_page callback keeps as never-onlined PageOffline pages;
// MEM_ONLINE (legacy: refcount 0 -> 1 again); undo the isolation.
// Giving a page back (offline_free) holds hotplug_mutex too, as
// virtio_mem_plug_request() around virtio_mem_fake_online(): a page chosen
// while its block is online is in the buddy before MEM_GOING_OFFLINE.
//
// THE RACE of seed 000 (legacy only): a pfn walker's folio_try_get takes a
// PageOffline page 1 -> 2; step 2's dec leaves 1; the walker's put drops it
// to 0 and __folio_put runs:
//  - PerTypeChecks (mainline): PageOffline has no case, the page is freed
//    into the buddy — "ouch": offlining then removes it as free memory (or
//    the allocator hands it out) while the driver still owns it. The
//    driver's audit (and CANCEL/ONLINE) report DataLoss.
//  - OwnerHook (seed 000's proposal): the zero transition reaches the
//    driver's free_folio, which keeps the page PageOffline at refcount 0,
//    exactly the state step 2 wanted ("intercept the refcount going to 0").
// Frozen pages are at refcount 0 from the start: the walker's try_get fails
// and there is no transition to intercept.
//
// Left out: subblock/big-block modes, the plugged/unplugged device state,
// has_unmovable_pages, memory sections and the memmap's removal, hwpoison.
#pragma once

#include <cstdint>
#include <vector>

#include "core/atomic.hpp"
#include "core/claimant.hpp"
#include "core/owner.hpp"
#include "core/types.hpp"

namespace core {

struct Zone;

class OfflineDriver final : public FolioOwnerOps {
 public:
  explicit OfflineDriver(Model& m);

  // Fake-offline an order-0 page taken from the buddy (alloc_offline_page in
  // the frozen design). Returns its pfn, or kNoPfn (-ENOMEM).
  Pfn offline_alloc(ZoneType zone);
  // Give the i-th page (modulo the count) back to the buddy
  // (free_offline_page / generic_online_page). 0, -ENOENT (none), -EBUSY
  // (its block is going offline or offline).
  int offline_free(uint32_t i);
  uint32_t nr_pages() const;
  Pfn page_at(uint32_t i) const;

  // Memory notifier and online_page callback (MemoryHotplug calls these).
  // going_offline returns holding hotplug_mutex_; offline or cancel_offline
  // (exactly one of them follows) releases it. going_online also returns
  // holding it (withhold() runs under it); online releases it.
  void going_offline(uint32_t block);
  void offline(uint32_t block);
  void cancel_offline(uint32_t block);
  void going_online(uint32_t block);
  void online(uint32_t block);
  void withhold(Pfn p);
  // May offlining skip this frame? (Called under zone->lock.)
  bool skippable(Pfn p) const;
  // Harness teardown: give every page back.
  void free_all();

  // FolioOwnerOps: a PageOffline page's refcount reached 0.
  const char* name() const noexcept override { return "offline"; }
  void free_folio(Model& m, Pfn head) override;
  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;

 private:
  bool legacy() const noexcept;
  bool still_offline(Pfn p) const;
  void leaked(Pfn p, const char* site);
  // MEM_CANCEL_OFFLINE and MEM_ONLINE alike, under lock_: the block is no
  // longer offlining; with legacy pages, `retake` runs on each of its pages
  // that is still fake-offline, and one that is not was leaked (reported at
  // `site`). Then the hotplug mutex is released.
  void end_offlining(uint32_t block, const char* site, void (*retake)(Model&, Pfn));
  void give_back(Pfn p);

  Model& m_;
  // vm->hotplug_mutex: serializes fake-offlining (offline_alloc) and
  // fake-onlining (offline_free, free_all) with the memory notifier, which
  // holds it from MEM_GOING_OFFLINE to MEM_OFFLINE / MEM_CANCEL_OFFLINE and
  // from MEM_GOING_ONLINE to MEM_ONLINE. Taken after MemoryHotplug's
  // hotplug_lock_, before lock_ and any zone->lock.
  SpinLock hotplug_mutex_;
  mutable SpinLock lock_;
  std::vector<Pfn> pages_;        // PageOffline pages; protected by lock_
  std::vector<uint8_t> offlining_;  // per memory block, from GOING_OFFLINE to ONLINE/CANCEL; lock_
};

class MemoryHotplug final : public FrameClaimant {
 public:
  explicit MemoryHotplug(Model& m);

  // offline_pages() of a memory block: 0, -EINVAL (not online / not buddy
  // memory), -EBUSY.
  int offline_pages(uint32_t block);
  // online_pages(): 0, -EINVAL (not offline).
  int online_pages(uint32_t block, uint32_t withhold);
  bool is_offline(uint32_t block) const;
  // Harness teardown: online every offline block, withholding nothing.
  void online_all();

  void audit_claims(const Model& m, HolderLedger& ledger) const override;
  void audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const override;

 private:
  void scan_and_migrate(Pfn start, Pfn end);
  bool test_and_offline(Zone& z, Pfn start, Pfn end);

  Model& m_;
  mutable SpinLock hotplug_lock_;   // mem_hotplug_lock: one offline/online at a time
  std::vector<uint8_t> offline_;    // per memory block; protected by hotplug_lock_
};

}  // namespace core
