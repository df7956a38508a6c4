// core::OfflineDriver and core::MemoryHotplug — see offline.hpp.
#include "core/offline.hpp"

#include <algorithm>
#include <string>

#include "core/audit.hpp"
#include "core/folio.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"

namespace core {
namespace {
constexpr uint32_t kOfflineFlags = pg::offline_skippable | pg::offline_never_onlined | pg::was_onlined;
}  // namespace

// --- OfflineDriver -------------------------------------------------------------

OfflineDriver::OfflineDriver(Model& m) : m_(m), offlining_(m.frames().nr_blocks(), 0) {}

bool OfflineDriver::legacy() const noexcept { return m_.config().design.offline == OfflineRefcount::Legacy; }

uint32_t OfflineDriver::nr_pages() const {
  SpinGuard g(lock_);
  return static_cast<uint32_t>(pages_.size());
}

Pfn OfflineDriver::page_at(uint32_t i) const {
  SpinGuard g(lock_);
  return pages_.empty() ? kNoPfn : pages_[i % pages_.size()];
}

bool OfflineDriver::still_offline(Pfn p) const {
  // relaxed: the type is written by this driver (under lock_) or by a free
  // path that wrongly took the page; the caller only reports the outcome.
  return static_cast<PageType>(m_.frame(p).page_type.load(std::memory_order_relaxed)) == PageType::Offline;
}

void OfflineDriver::leaked(Pfn p, const char* site) {
  m_.report(ViolationKind::DataLoss, p, site,
            "PageOffline page freed into the buddy (a stray reference dropped the last count): the driver still owns it");
}

Pfn OfflineDriver::offline_alloc(ZoneType zone) {
  const bool old = legacy();
  // virtio_mem_sbm_unplug_request() fake-offlines (virtio_mem_fake_offline:
  // alloc_contig_range, then virtio_mem_set_fake_offline) with
  // vm->hotplug_mutex held, and the memory notifier holds the same mutex
  // from MEM_GOING_OFFLINE to MEM_OFFLINE/MEM_CANCEL_OFFLINE. So a page is
  // either PageOffline and listed before GOING_OFFLINE walks the block
  // (which then drops its reference, and CANCEL_OFFLINE takes it back), or
  // taken only after the offlining is over. Without the mutex, a page
  // allocated before the block's isolation but marked after GOING_OFFLINE
  // got CANCEL_OFFLINE's page_ref_inc without GOING_OFFLINE's dec: one
  // reference leaked (legacy), found by the fuzzer.
  // SpinLock::lock: acquire CAS, pairs with the release store of the
  // unlock in offline()/cancel_offline() or of a previous offline_alloc.
  SpinGuard hm(hotplug_mutex_);
  // alloc_contig_range()-like in legacy (refcount 1); alloc_offline_page()
  // in the frozen design (refcount 0, never touched again).
  const Pfn p = old ? alloc_pages(m_, zone, 0) : alloc_frozen_pages(m_, zone, 0);
  if (p == kNoPfn) return kNoPfn;
  Frame& f = m_.frame(p);
  SpinGuard g(lock_);
  // relaxed (three): __SetPageOffline on a page we own. Legacy: a
  // speculative holder may read them, but never frees the page (we hold a
  // reference); frozen: nobody can hold it.
  f.flags.fetch_or(old ? pg::was_onlined : pg::offline_skippable, std::memory_order_relaxed);
  f.owner.store(static_cast<uint8_t>(OwnerId::Offline), std::memory_order_relaxed);
  f.page_type.store(static_cast<uint8_t>(PageType::Offline), std::memory_order_relaxed);
  pages_.push_back(p);
  return p;
  // SpinGuard hm: SpinLock::unlock, a release store, pairs with the acquire
  // CAS of going_offline()'s lock (or of the next offline_alloc).
}

void OfflineDriver::give_back(Pfn p) {
  Frame& f = m_.frame(p);
  // relaxed (three): ours; legacy: the put below (acq_rel) publishes them to
  // whoever puts last; frozen: free_frozen_pages runs here.
  f.flags.fetch_and(~kOfflineFlags, std::memory_order_relaxed);
  f.owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);
  f.page_type.store(static_cast<uint8_t>(PageType::None), std::memory_order_relaxed);
  if (legacy()) folio_put(m_, p);  // generic_online_page / __free_page: 1 -> 0
  else free_frozen_pages(m_, p, 0);  // free_offline_page: the refcount stays 0
}

int OfflineDriver::offline_free(uint32_t i) {
  // virtio_mem_plug_request() gives fake-offline pages back
  // (virtio_mem_fake_online) with vm->hotplug_mutex held ("Don't race with
  // onlining/offlining"), from the choice of the page until it is in the
  // buddy. Without it, a page chosen while its block was online could be
  // given back after offlining had skipped it as PageOffline: it went into
  // the buddy of an offline block (held-but-free), and onlining then freed
  // or withheld that frame a second time (double-free in block_online, "on a
  // free list but not PageBuddy"). Found by the offline stress profile; see
  // tests/special/offline_legacy_race_test.cpp.
  // SpinLock::lock: acquire CAS, pairs with the release unlock of
  // offline()/cancel_offline()/online() or of a previous offline_alloc /
  // offline_free, so the block state (offlining_) read below is the one the
  // notifier left.
  SpinGuard hm(hotplug_mutex_);
  Pfn p;
  {
    SpinGuard g(lock_);
    if (pages_.empty()) return -ENOENT;
    const size_t k = i % pages_.size();
    p = pages_[k];
    if (offlining_[m_.frames().block_of(p)]) return -EBUSY;
    pages_.erase(pages_.begin() + static_cast<std::ptrdiff_t>(k));
  }
  if (!still_offline(p)) {
    leaked(p, "offline_free");
    return 0;
  }
  give_back(p);
  return 0;
  // SpinGuard hm: SpinLock::unlock, a release store (the page is in the
  // buddy by now), pairs with the acquire CAS of going_offline() /
  // going_online() (or of the next offline_alloc / offline_free).
}

void OfflineDriver::going_offline(uint32_t block) {
  // virtio_mem_memory_notifier_cb(MEM_GOING_OFFLINE): mutex_lock(&vm->hotplug_mutex),
  // released only by MEM_OFFLINE (offline()) or MEM_CANCEL_OFFLINE
  // (cancel_offline()). SpinLock::lock: acquire CAS, pairs with the release
  // unlock of offline_alloc's guard, so every page fake-offlined before is
  // listed and marked here.
  hotplug_mutex_.lock();
  SpinGuard g(lock_);
  offlining_[block] = 1;
  if (!legacy()) return;  // frozen: no refcount games
  for (Pfn p : pages_) {
    if (m_.frames().block_of(p) != block) continue;
    // virtio_mem_fake_offline_going_offline(): page_ref_dec_and_test; the
    // kernel only WARNs when it does not reach 0.
    if (!folio_put_testzero(m_, p)) m_.probe(Probe::OfflineGoingOfflineReferenced);
  }
}

void OfflineDriver::offline(uint32_t block) {
  (void)block;  // legacy pages stay at refcount 0 with the offline block
  // MEM_OFFLINE: mutex_unlock(&vm->hotplug_mutex). SpinLock::unlock: release
  // store, pairs with the acquire CAS of a waiting offline_alloc.
  hotplug_mutex_.unlock();
}

void OfflineDriver::end_offlining(uint32_t block, const char* site, void (*retake)(Model&, Pfn)) {
  {
    SpinGuard g(lock_);
    offlining_[block] = 0;
    if (legacy()) {
      for (Pfn p : pages_) {
        if (m_.frames().block_of(p) != block) continue;
        if (!still_offline(p)) {
          leaked(p, site);
          continue;
        }
        retake(m_, p);
      }
    }
  }
  // MEM_CANCEL_OFFLINE / MEM_ONLINE: mutex_unlock(&vm->hotplug_mutex).
  // SpinLock::unlock: release store, pairs with the acquire CAS of a waiting
  // offline_alloc / offline_free, which then see the block and its pages.
  hotplug_mutex_.unlock();
}

void OfflineDriver::cancel_offline(uint32_t block) {
  // The driver takes its reference back: page_ref_inc, also from 0.
  end_offlining(block, "virtio_mem_fake_offline_cancel_offline", [](Model& m, Pfn p) { page_ref_inc(m, p); });
}

void OfflineDriver::going_online(uint32_t block) {
  (void)block;
  // virtio_mem_memory_notifier_cb(MEM_GOING_ONLINE): mutex_lock(&vm->hotplug_mutex),
  // released only by MEM_ONLINE (online()); the online_page callback
  // (virtio_mem_online_page_cb, withhold()) runs in between, so no page is
  // fake-offlined or fake-onlined while the block's frames are handed out.
  // SpinLock::lock: acquire CAS, pairs with the release unlock of
  // offline_alloc's / offline_free's guard.
  hotplug_mutex_.lock();
}

void OfflineDriver::online(uint32_t block) {
  end_offlining(block, "online_pages", [](Model& m, Pfn p) {
    // Onlining re-inits the memmap: refcount 1 — for the pages that went
    // offline with the block (GOING_OFFLINE left them at 0). Pages withheld
    // by this very onlining are at 1 already (withhold()). The hotplug lock
    // is held and the pages are the driver's: a relaxed read suffices.
    if (page_ref_count(m, p) == 0) set_page_refcounted(m, p);
  });
}

void OfflineDriver::withhold(Pfn p) {
  Frame& f = m_.frame(p);
  SpinGuard g(lock_);
  // relaxed (three): an offlined frame (refcount 0, off every list) that
  // only the hotplug code holds; legacy's set_page_refcounted publishes.
  f.flags.store(legacy() ? 0u : (pg::offline_never_onlined | pg::offline_skippable), std::memory_order_relaxed);
  f.owner.store(static_cast<uint8_t>(OwnerId::Offline), std::memory_order_relaxed);
  f.page_type.store(static_cast<uint8_t>(PageType::Offline), std::memory_order_relaxed);
  if (legacy()) set_page_refcounted(m_, p);
  pages_.push_back(p);
}

bool OfflineDriver::skippable(Pfn p) const {
  const Frame& f = m_.frame(p);
  // relaxed (all): zone->lock held by the caller; a stray put that could
  // change a legacy count to 0 frees (if at all) under the same lock, and
  // the decision is re-made on the next pass anyway.
  if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) != PageType::Offline) return false;
  if (legacy()) return page_ref_count(m_, p) == 0;
  return (f.flags.load(std::memory_order_relaxed) & pg::offline_skippable) != 0;
}

void OfflineDriver::free_all() {
  // As offline_free: vm->hotplug_mutex across the give-back. SpinLock::lock:
  // acquire CAS, pairs with the release unlock of the notifier callbacks.
  SpinGuard hm(hotplug_mutex_);
  std::vector<Pfn> out;
  {
    SpinGuard g(lock_);
    std::vector<Pfn> keep;
    for (Pfn p : pages_) (offlining_[m_.frames().block_of(p)] ? keep : out).push_back(p);
    pages_.swap(keep);  // pages of offline blocks stay with their block
  }
  for (Pfn p : out) {
    if (!still_offline(p)) leaked(p, "offline_free");
    else give_back(p);
  }
}

void OfflineDriver::free_folio(Model& m, Pfn head) {
  if (!legacy()) {
    m.report(ViolationKind::FreeCallback, head, "offline_free_folio",
             "a frozen PageOffline page went through a zero transition (someone resurrected it)");
    return;
  }
  // Legacy + owner hook: a stray reference outlived MEM_GOING_OFFLINE's
  // drop. The page stays PageOffline at refcount 0, as going_offline meant.
  m.probe(Probe::OfflineStrayPutKept);
}

void OfflineDriver::audit_claims(const Model& m, HolderLedger& ledger) const {
  SpinGuard g(lock_);
  for (Pfn p : pages_) {
    if (static_cast<PageType>(m.frames().frame(p).page_type.peek()) != PageType::Offline) continue;  // leaked: audit_check
    if (!legacy()) ledger.add_frozen(p, "virtio-mem");
    else if (!offlining_[m.frames().block_of(p)]) ledger.add_ref(p, 1);
    else if (m.frames().frame(p).refcount.peek() == 0) ledger.add_frozen(p, "virtio-mem");
    // else: a stray holder's reference is all that is left; it names it.
  }
}

void OfflineDriver::audit_check(Model& m, const HolderLedger&, std::vector<Violation>& out) const {
  auto bad = [&](Pfn p, ViolationKind k, const char* what) {
    out.push_back(m.frames().violation(k, p, "audit:offline", what));
  };
  std::vector<uint8_t> listed(m.frames().size(), 0);
  {
    SpinGuard g(lock_);
    for (Pfn p : pages_) listed[p] = 1;
  }
  for (Pfn p = 0; p < m.frames().size(); ++p) {
    const Frame& f = m.frame(p);
    const bool offline = static_cast<PageType>(f.page_type.peek()) == PageType::Offline;
    if (listed[p] && !offline)
      bad(p, ViolationKind::DataLoss, "PageOffline page freed into the buddy (a stray reference dropped the last count)");
    else if (!listed[p] && offline)
      bad(p, ViolationKind::FreeCallback, "PageOffline page the driver does not know");
    else if (offline && !legacy() && f.refcount.peek() != 0)
      bad(p, ViolationKind::GetOnFrozen, "frozen PageOffline page has a refcount");
  }
}

// --- MemoryHotplug ---------------------------------------------------------------

MemoryHotplug::MemoryHotplug(Model& m) : m_(m), offline_(m.frames().nr_blocks(), 0) {}

bool MemoryHotplug::is_offline(uint32_t block) const {
  SpinGuard g(hotplug_lock_);
  return block < offline_.size() && offline_[block] != 0;
}

void MemoryHotplug::scan_and_migrate(Pfn start, Pfn end) {
  for (Pfn p = start; p < end;) {
    const Frame& f = m_.frame(p);
    // relaxed (all): a racy scan, as scan_movable_pages; step b re-checks
    // everything under zone->lock.
    const auto type = static_cast<PageType>(f.page_type.load(std::memory_order_relaxed));
    if (type == PageType::Buddy) {
      p += 1u << std::min<unsigned>(f.order.load(std::memory_order_relaxed), m_.buddy().max_page_order());
      continue;
    }
    if (type == PageType::Offline) {  // never take a reference on PageOffline
      ++p;
      continue;
    }
    const Pfn head = page_folio(m_, p);
    if (!m_.frames().pfn_valid(head)) {
      ++p;
      continue;
    }
    const Frame& h = m_.frame(head);
    if (static_cast<PageType>(h.page_type.load(std::memory_order_relaxed)) == PageType::Hugetlb &&  // relaxed: see above
        folio_ref_count(m_, head) == 0) {
      m_.hugetlb().dissolve_free_hugetlb_folio(p);
      ++p;
      continue;
    }
    if (folio_ref_count(m_, head) == 0) {  // free-isolated, frozen, in flight
      ++p;
      continue;
    }
    const Pfn got = pfn_walk_get(m_, p);
    if (got == kNoPfn) {
      ++p;
      continue;
    }
    const uint32_t nr = folio_nr_pages(m_, got);
    if (got >= start && got < end) migrate_folio(m_, got, m_.frames().zone_of(got));
    else folio_put(m_, got);
    p = std::max<Pfn>(p + 1, got + nr);
  }
}

bool MemoryHotplug::test_and_offline(Zone& z, Pfn start, Pfn end) {
  const unsigned max_order = m_.buddy().max_page_order();
  SpinGuard g(z.lock);
  // b. test_pages_isolated(), tolerating skippable PageOffline pages.
  for (Pfn p = start; p < end;) {
    if (m_.offline_driver().skippable(p)) {
      ++p;
      continue;
    }
    if (m_.frames().get_pfnblock_migratetype(p) != MigrateType::Isolate) return false;
    bool covered = false;
    for (unsigned o = 0; o <= max_order && !covered; ++o) {
      const Pfn h = p & ~((Pfn{1} << o) - 1);
      const Frame& f = m_.frame(h);
      // relaxed (both): zone->lock held.
      const unsigned fo = f.order.load(std::memory_order_relaxed);
      if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) == PageType::Buddy && fo >= o &&
          h + (1u << fo) > p) {
        p = h + (1u << fo);
        covered = true;
      }
    }
    if (!covered) return false;
  }
  // c. __offline_isolated_pages(): the free blocks leave the buddy.
  for (Pfn p = start; p < end;) {
    const Frame& f = m_.frame(p);
    // relaxed (both): zone->lock held.
    if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) != PageType::Buddy) {
      ++p;  // a skippable PageOffline page: stays with the driver
      continue;
    }
    const unsigned o = f.order.load(std::memory_order_relaxed);
    isolate_free_block_locked(m_, z, p, o, MigrateType::Isolate);
    p += 1u << o;
  }
  return true;
}

int MemoryHotplug::offline_pages(uint32_t block) {
  if (block >= offline_.size()) return -EINVAL;
  const Pfn start = m_.frames().block_start(block), end = start + m_.frames().block_frames();
  const ZoneType zt = m_.frames().zone_of(start);
  if (zt == ZoneType::Device) return -EINVAL;
  SpinGuard hp(hotplug_lock_);
  if (offline_[block]) return -EINVAL;
  if (!m_.buddy().start_isolate_page_range(start, end)) return -EBUSY;  // 1.
  m_.offline_driver().going_offline(block);                            // 2.
  bool ok = false;
  for (uint32_t pass = 0; pass < m_.config().offline_passes && !ok; ++pass) {  // 3.
    scan_and_migrate(start, end);
    ok = test_and_offline(m_.buddy().zone(zt), start, end);
    if (!ok) {
      m_.probe(Probe::OfflinePassRetry);
      cpu_relax();
    }
  }
  if (!ok) {  // 4.
    m_.offline_driver().cancel_offline(block);
    m_.buddy().undo_isolate_page_range(start, end);
    m_.probe(Probe::OfflineBusy);
    return -EBUSY;
  }
  m_.offline_driver().offline(block);  // MEM_OFFLINE
  offline_[block] = 1;
  m_.probe(Probe::OfflineSucceeded);
  return 0;
}

int MemoryHotplug::online_pages(uint32_t block, uint32_t withhold) {
  if (block >= offline_.size()) return -EINVAL;
  const Pfn start = m_.frames().block_start(block), end = start + m_.frames().block_frames();
  SpinGuard hp(hotplug_lock_);
  if (!offline_[block]) return -EINVAL;
  offline_[block] = 0;
  m_.offline_driver().going_online(block);  // MEM_GOING_ONLINE
  uint32_t withheld = 0;
  for (Pfn p = start; p < end; ++p) {
    // relaxed: offlined frames are ours (hotplug lock); PageOffline ones the
    // driver's, and it writes the type only under that discipline too.
    if (static_cast<PageType>(m_.frame(p).page_type.load(std::memory_order_relaxed)) == PageType::Offline) continue;
    if (withheld < withhold) {  // the driver's online_page callback keeps it
      m_.offline_driver().withhold(p);
      ++withheld;
      continue;
    }
    free_frozen_pages(m_, p, 0);  // generic_online_page: to the (still isolated) buddy
  }
  // MEM_ONLINE (legacy pages back to 1) only after the frames were given
  // back: until then the driver holds its hotplug_mutex (since
  // MEM_GOING_ONLINE) and refuses to free its pages of this block, so a
  // concurrent offline_free cannot turn a PageOffline frame into a plain
  // one that the loop above would free a second time (found by the
  // 'special' stress profile: a double free).
  m_.offline_driver().online(block);
  m_.buddy().undo_isolate_page_range(start, end);
  return 0;
}

void MemoryHotplug::online_all() {
  for (uint32_t b = 0; b < offline_.size(); ++b)
    if (is_offline(b)) online_pages(b, 0);
}

void MemoryHotplug::audit_claims(const Model& m, HolderLedger& ledger) const {
  SpinGuard g(hotplug_lock_);
  for (uint32_t b = 0; b < offline_.size(); ++b) {
    if (!offline_[b]) continue;
    const Pfn start = m.frames().block_start(b);
    for (Pfn p = start; p < start + m.frames().block_frames(); ++p)
      if (static_cast<PageType>(m.frames().frame(p).page_type.peek()) != PageType::Offline)
        ledger.add_frozen(p, "offline memory block");
  }
}

void MemoryHotplug::audit_check(Model& m, const HolderLedger&, std::vector<Violation>& out) const {
  SpinGuard g(hotplug_lock_);
  for (uint32_t b = 0; b < offline_.size(); ++b) {
    if (!offline_[b]) continue;
    const Pfn start = m.frames().block_start(b);
    for (Pfn p = start; p < start + m.frames().block_frames(); ++p) {
      const Frame& f = m.frame(p);
      if (f.refcount.peek() == 0 && static_cast<PageType>(f.page_type.peek()) != PageType::Buddy &&
          !(f.flags.peek() & (pg::head | pg::tail)))
        continue;
      out.push_back(m.frames().violation(ViolationKind::DataLoss, p, "audit:memory_hotplug",
                                         "a frame of an offline memory block is free or in use"));
    }
  }
}

}  // namespace core
