// core::owner — the zero-transition dispatcher (seed 000's folio_owner_ops).
#include "core/owner.hpp"

#include "core/audit.hpp"
#include "core/model.hpp"

namespace core {

void FolioOwnerOps::audit_claims(const Model&, HolderLedger&) const {}
void FolioOwnerOps::audit_check(Model&, const HolderLedger&, std::vector<Violation>&) const {}

void folio_check_rcu_free(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  // relaxed: set before the folio left its page cache; the acq_rel put that
  // reached zero orders that write before this read.
  const uint64_t after = f.rcu_free_after.load(std::memory_order_relaxed);
  if (after == 0) return;
  // Freed while a lookup that may have read its page-cache slot before the
  // removal is still inside its RCU read section: that lookup may yet do
  // folio_try_get() on a freed (or reused) folio.
  if (m.rcu().completed() < after && m.rcu().reader_before(after))
    m.report(ViolationKind::UseAfterFree, head, "__folio_put",
             "freed before RCU grace period " + std::to_string(after) +
                 " while a page-cache lookup that started before the removal is still running");
  f.rcu_free_after.store(0, std::memory_order_relaxed);  // relaxed: FREEING, only we touch it
}

void free_folio_to_buddy(Model& m, Pfn head) {
  folio_check_rcu_free(m, head);
  // relaxed: the put that reached zero (acq_rel) ordered every holder's
  // writes; in FREEING nobody else writes the order.
  const unsigned order = m.frame(head).order.load(std::memory_order_relaxed);
  // page_cache_release, memcg uncharge and deferred-split unqueue would run
  // here; the model has none of them yet.
  free_frozen_pages(m, head, order);
}

void __folio_put(Model& m, Pfn head) {
  Frame& f = m.frame(head);
  m.probe(Probe::PutWasLast);
  if (m.config().design.free_dispatch == FreeDispatch::OwnerHook) [[likely]] {
    // relaxed: owner is written only while the folio is frozen or free, and
    // the acq_rel decrement that reached zero ordered that write before us.
    const auto owner = static_cast<OwnerId>(f.owner.load(std::memory_order_relaxed));
    if (owner == OwnerId::Buddy) [[likely]] {
      free_folio_to_buddy(m, head);
      return;
    }
    if (owner == OwnerId::Offline && m.bug_on(Bug::OfflinePutFreesToBuddy)) {
      free_folio_to_buddy(m, head);  // no PageOffline case: mainline's __folio_put
      return;
    }
    m.probe(Probe::PutLastByOwnerHook);
    f.record(RefEvent::OwnerFree, 0);
    FolioOwnerOps* ops = m.owner_ops(owner);
    MODEL_BUG_ON_PAGE(ops == nullptr, m.frames(), head);
    if (ops != nullptr) ops->free_folio(m, head);
    return;
  }
  // FreeDispatch::PerTypeChecks — mainline's __folio_put (mm/swap.c):
  //   if (folio_is_zone_device(folio)) { free_zone_device_folio(folio); return; }
  //   if (folio_test_hugetlb(folio))   { free_huge_folio(folio); return; }
  //   ... free_frozen_pages(...)
  // Owners other than these two (PageOffline, guest_memfd) get no say: their
  // folios go to the buddy. That is the design's weakness the seeds discuss.
  if (m.frames().zone_of(head) == ZoneType::Device) {
    FolioOwnerOps* ops = m.owner_ops(OwnerId::DevicePgmap);
    if (ops != nullptr) {
      f.record(RefEvent::OwnerFree, 0);
      ops->free_folio(m, head);
      return;
    }
  }
  // relaxed: as above, the zero transition ordered the type's last write.
  if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) == PageType::Hugetlb) {
    FolioOwnerOps* ops = m.owner_ops(OwnerId::Hugetlb);
    if (ops != nullptr) {
      f.record(RefEvent::OwnerFree, 0);
      ops->free_folio(m, head);
      return;
    }
  }
  free_folio_to_buddy(m, head);
}

}  // namespace core
