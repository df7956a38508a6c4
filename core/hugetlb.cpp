// core::Hugetlb — see hugetlb.hpp.
#include "core/hugetlb.hpp"

#include <algorithm>
#include <string>

#include "core/audit.hpp"
#include "core/folio.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"

namespace core {

Hugetlb::Hugetlb(Model& m) : m_(m) {}

uint32_t Hugetlb::nr_free() const {
  SpinGuard g(hugetlb_lock_);
  return static_cast<uint32_t>(free_.size());
}

void Hugetlb::enqueue_locked(Pfn head) {
  free_.push_back(head);
  // relaxed: hugetlb_lock orders freed for dissolve, which reads it under
  // the lock (folio_set_hugetlb_freed is non-atomic in the kernel too).
  m_.frame(head).flags.fetch_or(pg::hugetlb_freed, std::memory_order_relaxed);
}

bool Hugetlb::unlink_free_locked(Pfn head) {
  auto it = std::find(free_.begin(), free_.end(), head);
  if (it == free_.end()) return false;
  free_.erase(it);
  // relaxed: under hugetlb_lock, see enqueue_locked().
  m_.frame(head).flags.fetch_and(~pg::hugetlb_freed, std::memory_order_relaxed);
  return true;
}

void Hugetlb::prep_hugetlb_folio(Pfn head, unsigned order) {
  // relaxed (all): the folio is frozen (refcount 0) and only we hold it;
  // enqueue under hugetlb_lock and the dequeuer's release unfreeze publish it.
  for (Pfn p = head + 1; p < head + (1u << order); ++p) {
    m_.frame(p).head.store(head, std::memory_order_relaxed);
    m_.frame(p).flags.store(pg::tail, std::memory_order_relaxed);
    m_.frame(p).owner.store(static_cast<uint8_t>(OwnerId::Hugetlb), std::memory_order_relaxed);
  }
  Frame& h = m_.frame(head);
  h.head.store(head, std::memory_order_relaxed);
  h.flags.store(order > 0 ? pg::head : 0u, std::memory_order_relaxed);  // relaxed: see above
  h.order.store(static_cast<uint8_t>(order), std::memory_order_relaxed);  // relaxed: see above
  h.owner.store(static_cast<uint8_t>(OwnerId::Hugetlb), std::memory_order_relaxed);  // relaxed: see above
  h.page_type.store(static_cast<uint8_t>(PageType::Hugetlb), std::memory_order_relaxed);  // relaxed: see above
}

int Hugetlb::alloc_fresh_hugetlb_folio() {
  const unsigned order = std::min<unsigned>(m_.config().hugetlb_order, m_.config().max_page_order);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const Pfn head = alloc_pages(m_, ZoneType::Normal, order);  // 1.
    if (head == kNoPfn) return -ENOMEM;
    if (m_.bug_on(Bug::HugetlbFreshSkipsFreeze)) {
      // set_page_count(0): clobbers any speculative reference (7118fc2906e2).
      set_page_count(m_, head, 0);
    } else if (!folio_ref_freeze(m_, head, 1)) {  // 2.
      m_.probe(Probe::HugetlbFreezeFailed);
      folio_put(m_, head);  // the speculative holder's put may be the last: buddy
      continue;
    }
    prep_hugetlb_folio(head, order);  // 3.
    SpinGuard g(hugetlb_lock_);
    enqueue_locked(head);
    return 0;
  }
  return -EAGAIN;
}

Pfn Hugetlb::alloc_hugetlb_folio() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Pfn head = kNoPfn;
    {
      SpinGuard g(hugetlb_lock_);
      if (!free_.empty()) {
        head = free_.back();
        unlink_free_locked(head);
      }
    }
    if (head != kNoPfn) {
      // relaxed (both): POOL_FREE -> ours; the unfreeze below publishes.
      m_.frame(head).generation.fetch_add(1, std::memory_order_relaxed);
      m_.frame(head).mapcount.store(0, std::memory_order_relaxed);
      folio_ref_unfreeze(m_, head, 1);
      return head;
    }
    if (alloc_fresh_hugetlb_folio() != 0) return kNoPfn;
  }
  return kNoPfn;
}

void Hugetlb::free_folio(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // A. relaxed (three): FREEING; the put that reached zero (acq_rel)
  // ordered every holder's writes before these reads.
  if (f.mapcount.load(std::memory_order_relaxed) != 0 || f.pincount.load(std::memory_order_relaxed) != 0 ||
      f.mapping.load(std::memory_order_relaxed) != 0) {
    m.report(ViolationKind::BadPageFree, head, "free_huge_folio", "hugetlb folio freed mapped, pinned or cached");
    return;
  }
  if (f.flags.load(std::memory_order_relaxed) & pg::hugetlb_freed) {
    m.report(ViolationKind::DoubleFree, head, "free_huge_folio", "hugetlb folio is already on the free list");
    return;
  }
  // B.
  SpinGuard g(hugetlb_lock_);
  enqueue_locked(head);
}

int Hugetlb::dissolve_free_hugetlb_folio(Pfn pfn) {
  if (!m_.frames().pfn_valid(pfn)) return -ENOENT;
  for (uint32_t tries = 0;; ++tries) {
    Pfn head;
    unsigned order;
    {
      SpinGuard g(hugetlb_lock_);
      head = page_folio(m_, pfn);
      Frame& h = m_.frame(head);
      // relaxed (all): written under hugetlb_lock (pool folios) or while
      // frozen; an IN_USE folio's refcount is only compared with 0 here.
      if (static_cast<PageType>(h.page_type.load(std::memory_order_relaxed)) != PageType::Hugetlb ||
          static_cast<OwnerId>(h.owner.load(std::memory_order_relaxed)) != OwnerId::Hugetlb)
        return -ENOENT;  // a.
      if (folio_ref_count(m_, head) != 0) return -EBUSY;
      if (!m_.bug_on(Bug::HugetlbDissolveSkipsFreedCheck) && !(h.flags.load(std::memory_order_relaxed) & pg::hugetlb_freed)) {
        head = kNoPfn;  // b. FREEING: retry below
      } else {
        unlink_free_locked(head);  // c.
        order = h.order.load(std::memory_order_relaxed);  // relaxed: see above
        h.page_type.store(static_cast<uint8_t>(PageType::None), std::memory_order_relaxed);  // relaxed: see above
        h.owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);  // relaxed: see above
        for (Pfn p = head + 1; p < head + (1u << order); ++p)
          m_.frame(p).owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);  // relaxed: see above
      }
    }
    if (head != kNoPfn) {
      free_frozen_pages(m_, head, order);
      m_.probe(Probe::HugetlbDissolved);
      return 0;
    }
    m_.probe(Probe::HugetlbDissolveRaceWindow);
    if (tries >= m_.config().hugetlb_dissolve_retries) return -EBUSY;
    cpu_relax();
  }
}

int Hugetlb::demote_free_hugetlb_folio(Pfn pfn) {
  if (!m_.frames().pfn_valid(pfn)) return -ENOENT;
  Pfn head;
  unsigned order;
  {
    SpinGuard g(hugetlb_lock_);
    head = page_folio(m_, pfn);
    // relaxed (both): under hugetlb_lock, see dissolve.
    if (!(m_.frame(head).flags.load(std::memory_order_relaxed) & pg::hugetlb_freed)) return -ENOENT;
    order = m_.frame(head).order.load(std::memory_order_relaxed);
    if (order == 0) return -EINVAL;
    unlink_free_locked(head);
  }
  // Frozen and off the free list: only we touch it. Speculative walkers read
  // either the old head or a new one, both at refcount 0, and fail.
  const unsigned lower = order - 1;
  prep_hugetlb_folio(head, lower);
  prep_hugetlb_folio(head + (1u << lower), lower);
  m_.probe(Probe::HugetlbDemoted);
  SpinGuard g(hugetlb_lock_);
  enqueue_locked(head);
  enqueue_locked(head + (1u << lower));
  return 0;
}

Pfn Hugetlb::free_folio_at(uint32_t i) {
  SpinGuard g(hugetlb_lock_);
  return free_.empty() ? kNoPfn : free_[i % free_.size()];
}

void Hugetlb::dissolve_all_free() {
  for (Pfn h = free_folio_at(0); h != kNoPfn; h = free_folio_at(0))
    if (dissolve_free_hugetlb_folio(h) != 0) break;
}

void Hugetlb::audit_claims(const Model&, HolderLedger& ledger) const {
  SpinGuard g(hugetlb_lock_);
  for (Pfn h : free_) ledger.add_frozen(h, "hugetlb pool");
}

void Hugetlb::audit_check(Model& m, const HolderLedger&, std::vector<Violation>& out) const {
  auto bad = [&](Pfn p, std::string what) {
    out.push_back(m.frames().violation(ViolationKind::FreeCallback, p, "audit:hugetlb", std::move(what)));
  };
  std::vector<uint8_t> on_list(m.frames().size(), 0);
  {
    SpinGuard g(hugetlb_lock_);
    for (Pfn h : free_) on_list[h] = 1;
  }
  for (Pfn p = 0; p < m.frames().size(); ++p) {
    const Frame& f = m.frame(p);
    const bool freed = (f.flags.peek() & pg::hugetlb_freed) != 0;
    if (static_cast<PageType>(f.page_type.peek()) != PageType::Hugetlb) {
      if (freed || on_list[p]) bad(p, "hugetlb_freed or on the pool's free list, but not a hugetlb folio");
      continue;
    }
    if (static_cast<OwnerId>(f.owner.peek()) != OwnerId::Hugetlb) bad(p, "hugetlb folio not owned by hugetlb");
    if (on_list[p] != freed) bad(p, "hugetlb_freed disagrees with the pool's free list");
    if (on_list[p] && f.refcount.peek() != 0) bad(p, "pool-free hugetlb folio has a refcount");
    if (!on_list[p] && f.refcount.peek() == 0) bad(p, "hugetlb folio at refcount 0 is neither in use nor on the free list");
    for (Pfn q = p + 1; q < p + (1u << f.order.peek()) && q < m.frames().size(); ++q)
      if (m.frame(q).refcount.peek() != 0) bad(q, "hugetlb tail page has a refcount");
  }
}

}  // namespace core
