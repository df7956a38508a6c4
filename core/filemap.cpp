// core::PageCache — see filemap.hpp.
#include "core/filemap.hpp"

#include "core/folio.hpp"
#include "core/mm.hpp"
#include "core/page_ref.hpp"

namespace core {

PageCache::PageCache(uint16_t id, uint32_t nr_indices)
    : id_(id), slots_(nr_indices, kNoPfn) {}

int filemap_add_folio(Model& m, PageCache& pc, Pfn head, uint32_t index) {
  const uint32_t nr = folio_nr_pages(m, head);
  if (index >= pc.size() || index % nr != 0 || index + nr > pc.size()) return -EINVAL;
  // The kernel's caller owns the folio and locks it (__folio_set_locked on a
  // new folio) before __filemap_add_folio. A holder whose reference came from
  // a speculative get may meet a folio somebody else has locked — the new
  // folio of a migration, which installs it in the cache itself: not ours to
  // add. (Without the lock such a holder inserted migration's dst at another
  // index while migration was moving the entries to it.)
  if (!folio_trylock(m, head)) return -EBUSY;
  Frame& f = m.frame(head);
  int err = 0;
  {
    SpinGuard g(pc.xa_lock);
    // relaxed: mapping is written only under an xa_lock and the folio lock.
    if (f.mapping.load(std::memory_order_relaxed) != 0) err = -EBUSY;
    for (uint32_t i = index; err == 0 && i < index + nr; ++i)
      // relaxed: under xa_lock, which serialises writers.
      if (pc.entry(i).load(std::memory_order_relaxed) != kNoPfn) err = -EEXIST;
    if (err == 0) {
      folio_ref_add(m, head, static_cast<int32_t>(nr));  // the cache's references
      // relaxed (both): published by the release stores of the entries below.
      f.mapping.store(pc.id(), std::memory_order_relaxed);
      f.index.store(index, std::memory_order_relaxed);
      // release: pairs with the acquire read in filemap_get_folio() step 1.
      for (uint32_t i = index; i < index + nr; ++i) pc.entry(i).store(head, std::memory_order_release);
    }
  }
  folio_unlock(m, head);
  return err;
}

Pfn filemap_get_folio(Model& m, PageCache& pc, uint32_t index) {
  if (index >= pc.size()) return kNoPfn;
  Rcu& rcu = m.rcu();
  for (;;) {
    const uint32_t reader = rcu.rcu_read_lock();
    // 1. acquire: pairs with the release store in filemap_add_folio() and
    //    migration's entry switch.
    const Pfn head = pc.entry(index).load(std::memory_order_acquire);
    if (head == kNoPfn) {
      rcu.rcu_read_unlock(reader);
      return kNoPfn;
    }
    // 2. add unless zero: the folio may be frozen (migration) or freeing.
    if (!folio_try_get(m, head)) {
      rcu.rcu_read_unlock(reader);
      m.probe(Probe::CacheLookupRetry);
      continue;
    }
    // 3. acquire: as in 1. Still the folio we looked up?
    if (pc.entry(index).load(std::memory_order_acquire) != head) {
      m.probe(Probe::CacheLookupRetry);
      if (folio_put_testzero(m, head)) {
        m.probe(Probe::CacheLookupPutLast);
        __folio_put(m, head);
      }
      rcu.rcu_read_unlock(reader);
      continue;
    }
    rcu.rcu_read_unlock(reader);
    return head;
  }
}

int truncate_folio(Model& m, PageCache& pc, uint32_t index) {
  if (index >= pc.size()) return -ENOENT;
  for (;;) {
    Pfn head;
    {
      SpinGuard g(pc.xa_lock);
      // relaxed: under xa_lock.
      head = pc.entry(index).load(std::memory_order_relaxed);
      if (head == kNoPfn) return -ENOENT;
      folio_get(m, head);  // legal: the cache holds references and we hold xa_lock
    }
    folio_lock(m, head);
    Frame& f = m.frame(head);
    // relaxed (both): the folio lock and xa_lock order the writers; a
    // migration that moved the entry changed both under them.
    if (f.mapping.load(std::memory_order_relaxed) != pc.id() || pc.entry(index).load(std::memory_order_relaxed) != head) {
      folio_unlock(m, head);
      folio_put(m, head);
      m.probe(Probe::TruncateRetry);
      continue;
    }
    const uint32_t nr = folio_nr_pages(m, head);
    // relaxed: the folio lock keeps the index stable.
    const uint32_t first = f.index.load(std::memory_order_relaxed);
    // A. unmap, then remove from the cache.
    try_to_unmap(m, head);
    uint64_t gp;
    {
      SpinGuard g(pc.xa_lock);
      // relaxed: under xa_lock; lookups re-check the entry after try_get.
      for (uint32_t i = first; i < first + nr; ++i) pc.entry(i).store(kNoPfn, std::memory_order_relaxed);
      f.mapping.store(0, std::memory_order_relaxed);  // relaxed: under xa_lock and the folio lock
      gp = m.rcu().start_grace_period();
      // relaxed: read by this folio's freer, after the acq_rel put that
      // reaches zero, which orders it.
      f.rcu_free_after.store(gp, std::memory_order_relaxed);
    }
    folio_unlock(m, head);
    // B. wait for lookups that may have read the entry before A.
    if (!m.bug_on(Bug::TruncateSkipsGracePeriod)) m.rcu().synchronize_rcu(gp);
    // C. the cache's references, then ours.
    folio_put_refs(m, head, static_cast<int32_t>(nr));
    folio_put(m, head);
    return 0;
  }
}

}  // namespace core
