// core::DevicePgmap — see zone_device.hpp.
#include "core/zone_device.hpp"

#include <algorithm>
#include <string>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"

namespace core {

DevicePgmap::DevicePgmap(Model& m)
    : m_(m), start_(m.frames().zone(ZoneType::Device).start),
      nr_folios_(m.frames().zone(ZoneType::Device).size() >> std::min(m.config().device_folio_order, m.config().max_page_order)),
      order_(std::min(m.config().device_folio_order, m.config().max_page_order)), state_(std::make_unique<Atomic<uint8_t>[]>(nr_folios_ + 1)),
      page_free_calls_(std::make_unique<Atomic<uint32_t>[]>(nr_folios_ + 1)) {}

bool DevicePgmap::legacy() const noexcept {
  return m_.config().design.zone_device == ZoneDeviceRefcount::LegacyOneBased;
}

bool DevicePgmap::live() const {
  SpinGuard g(lock_);
  return live_;
}

uint32_t DevicePgmap::page_free_calls(Pfn head) const {
  return page_free_calls_[index(head)].peek();
}

int DevicePgmap::memremap_pages() {
  if (nr_folios_ == 0) return -ENODEV;
  SpinGuard g(lock_);
  // relaxed: under lock_.
  if (static_cast<DevState>(state_[0].load(std::memory_order_relaxed)) != DevState::Unpopulated) return -EEXIST;
  for (uint32_t i = 0; i < nr_folios_; ++i) {
    const Pfn head = start_ + (i << order_);
    // relaxed (all): unpopulated frames are refcount 0 and no getter can
    // succeed on them; the legacy set_page_refcounted's release and the
    // lock publish the layout.
    for (Pfn p = head + 1; p < head + (1u << order_); ++p) {
      m_.frame(p).head.store(head, std::memory_order_relaxed);
      m_.frame(p).flags.store(pg::tail, std::memory_order_relaxed);
      m_.frame(p).owner.store(static_cast<uint8_t>(OwnerId::DevicePgmap), std::memory_order_relaxed);
    }
    Frame& h = m_.frame(head);
    h.head.store(head, std::memory_order_relaxed);  // relaxed: see above
    h.flags.store(order_ > 0 ? pg::head : 0u, std::memory_order_relaxed);  // relaxed: see above
    h.order.store(static_cast<uint8_t>(order_), std::memory_order_relaxed);  // relaxed: see above
    h.owner.store(static_cast<uint8_t>(OwnerId::DevicePgmap), std::memory_order_relaxed);  // relaxed: see above
    h.generation.fetch_add(1, std::memory_order_relaxed);  // relaxed: see above
    if (legacy()) set_page_refcounted(m_, head);  // init_page_count: 1 means idle
    // release: pairs with the acquire in wait_idle().
    state_[i].store(static_cast<uint8_t>(DevState::Free), std::memory_order_release);
    free_.push_back(head);
  }
  live_ = true;
  return 0;
}

Pfn DevicePgmap::dev_alloc() {
  Pfn head;
  {
    SpinGuard g(lock_);
    if (!live_ || free_.empty()) return kNoPfn;
    head = free_.back();
    free_.pop_back();
    // release: pairs with the acquire in wait_idle(): teardown waits for it.
    state_[index(head)].store(static_cast<uint8_t>(DevState::Allocated), std::memory_order_release);
  }
  if (legacy()) folio_get(m_, head);  // 1 -> 2: the pgmap's idle reference pins it
  else set_page_refcounted(m_, head);  // zone_device_page_init: 0 -> 1
  return head;
}

void DevicePgmap::page_free(Pfn head, const char* site) {
  const uint32_t i = index(head);
  // relaxed: a statistic for tests; the state transition below is the check.
  page_free_calls_[i].fetch_add(1, std::memory_order_relaxed);
  m_.probe(Probe::DevicePageFree);
  SpinGuard g(lock_);
  // relaxed: under lock_.
  if (static_cast<DevState>(state_[i].load(std::memory_order_relaxed)) != DevState::Allocated) {
    m_.report(ViolationKind::FreeCallback, head, site, "page_free ran on a device folio that is not allocated (twice for one transition?)");
    return;
  }
  free_.push_back(head);
  // release: pairs with the acquire in wait_idle().
  state_[i].store(static_cast<uint8_t>(DevState::Free), std::memory_order_release);
}

void DevicePgmap::free_folio(Model& m, Pfn head) {
  // free_zone_device_folio(): the put reached 0 (FREEING).
  if (legacy()) {
    // A legacy device page never reaches 0 outside teardown (which freezes
    // the idle reference instead): a put went below the idle reference.
    m.report(ViolationKind::FreeCallback, head, "free_zone_device_folio",
             "legacy device page dropped below its idle reference");
    return;
  }
  // relaxed (two): FREEING, ordered by the put that reached zero.
  if (m.frame(head).mapcount.load(std::memory_order_relaxed) != 0 ||
      m.frame(head).pincount.load(std::memory_order_relaxed) != 0) {
    m.report(ViolationKind::BadPageFree, head, "free_zone_device_folio", "device folio freed mapped or pinned");
    return;
  }
  page_free(head, "free_zone_device_folio");
}

// __put_devmap_managed_page(): page_ref_sub_return(), and the count of an
// idle legacy (1-based) device page is 1, so falling below 1 is the underflow
// (reported and undone by folio_ref_sub_return).
bool DevicePgmap::put_devmap_managed_page(Pfn head, int32_t refs) {
  if (!legacy() || m_.frames().zone_of(head) != ZoneType::Device) return false;
  // acq_rel inside: release orders this holder's accesses before the drop;
  // acquire lets page_free (count now 1) see every earlier holder's accesses.
  if (folio_ref_sub_return(m_, head, refs, "put_devmap_managed_page", 1) == 1)
    page_free(head, "put_devmap_managed_page");  // count == 1: now free
  return true;
}

bool DevicePgmap::wait_idle(Pfn head) {
  const int32_t idle = legacy() ? 1 : 0;
  for (uint32_t spins = 0;; ++spins) {
    // acquire (both): pair with the release stores of state in page_free()
    // and the holders' acq_rel puts, so the folio's last use happened before
    // teardown.
    if (static_cast<DevState>(state_[index(head)].load(std::memory_order_acquire)) == DevState::Free &&
        folio_ref_count_acquire(m_, head) == idle) {
      if (!legacy() || folio_ref_freeze(m_, head, 1)) return true;
    }
    if (spins == 0) m_.probe(Probe::PgmapTeardownWaited);
    if (spins >= m_.config().pgmap_teardown_spins) return false;
    cpu_relax();
  }
}

int DevicePgmap::memunmap_pages() {
  {
    SpinGuard g(lock_);  // 1.
    if (!live_) return -ENODEV;
    live_ = false;
  }
  // 2. Not under lock_: page_free needs it.
  uint32_t done = 0;
  for (; done < nr_folios_; ++done)
    if (!m_.bug_on(Bug::PgmapTeardownSkipsWait) && !wait_idle(start_ + (done << order_))) break;
  if (done < nr_folios_) {
    for (uint32_t i = 0; i < done && legacy(); ++i) folio_ref_unfreeze(m_, start_ + (i << order_), 1);
    m_.probe(Probe::PgmapTeardownBusy);
    SpinGuard g(lock_);
    live_ = true;
    return -EBUSY;
  }
  // 3.
  SpinGuard g(lock_);
  free_.clear();
  for (uint32_t i = 0; i < nr_folios_; ++i) {
    const Pfn head = start_ + (i << order_);
    for (Pfn p = head; p < head + (1u << order_); ++p) {
      // relaxed (all): refcount 0 everywhere; getters fail.
      m_.frame(p).flags.store(0, std::memory_order_relaxed);
      m_.frame(p).head.store(p, std::memory_order_relaxed);
      m_.frame(p).order.store(0, std::memory_order_relaxed);
      m_.frame(p).owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);
    }
    // relaxed: under lock_; nobody waits on an unpopulated folio.
    state_[i].store(static_cast<uint8_t>(DevState::Unpopulated), std::memory_order_relaxed);
  }
  return 0;
}

void DevicePgmap::audit_claims(const Model&, HolderLedger& ledger) const {
  for (uint32_t i = 0; i < nr_folios_; ++i) {
    const Pfn head = start_ + (i << order_);
    const auto s = static_cast<DevState>(state_[i].peek());
    if (s == DevState::Unpopulated) continue;
    if (legacy()) ledger.add_ref(head, 1);  // the pgmap's idle reference
    else if (s == DevState::Free) ledger.add_frozen(head, "device pgmap");
  }
}

void DevicePgmap::audit_check(Model& m, const HolderLedger&, std::vector<Violation>& out) const {
  const int32_t idle = legacy() ? 1 : 0;
  for (uint32_t i = 0; i < nr_folios_; ++i) {
    const Pfn head = start_ + (i << order_);
    const auto s = static_cast<DevState>(state_[i].peek());
    if (s == DevState::Unpopulated) continue;
    const int32_t rc = m.frame(head).refcount.peek();
    const char* bad = nullptr;
    if (s == DevState::Allocated && rc == idle) bad = "device folio is idle but page_free never ran (a put skipped the devmap path)";
    // Legacy free folios sit at 1 and speculative holders may add to that;
    // a 0-based free folio cannot be referenced at all.
    else if (s == DevState::Free && !legacy() && rc != 0) bad = "device folio is free in the driver's pool but referenced";
    if (bad == nullptr) continue;
    out.push_back(m.frames().violation(ViolationKind::FreeCallback, head, "audit:pgmap", bad));
  }
}

void put_page(Model& m, Pfn head) {
  if (m.frames().zone_of(head) == ZoneType::Device && !m.bug_on(Bug::DevmapPutSkipsManagedPage) &&
      m.pgmap().put_devmap_managed_page(head))
    return;
  folio_put(m, head);
}

void put_page_refs(Model& m, Pfn head, int32_t refs) {
  if (refs == 0) return;
  if (m.frames().zone_of(head) == ZoneType::Device && !m.bug_on(Bug::DevmapPutSkipsManagedPage) &&
      m.pgmap().put_devmap_managed_page(head, refs))
    return;
  folio_put_refs(m, head, refs);
}

}  // namespace core
