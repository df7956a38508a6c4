// core::PageCache — one file's page cache (address_space->i_pages), with the
// RCU-protected speculative lookup of mm/filemap.c.
//
// Each index holds the head of a folio (a large folio covers folio_nr_pages
// consecutive indices, each naming the head) and the cache holds
// folio_nr_pages references on it; folio->mapping / ->index record where.
//
// Lookup (filemap_get_entry), the lookup side of page_ref.hpp's protocol:
//   1. rcu_read_lock(); read the slot            (no reference yet)
//   2. folio_try_get()    — fails on 0: retry
//   3. re-read the slot   — changed: folio_put() (maybe the last) and retry
// Removal (truncate), the remove side:
//   A. folio_lock; unmap it everywhere; under xa_lock clear the slot and
//      folio->mapping; start a grace period
//   B. synchronize_rcu(): lookups that read the slot before A are done
//   C. drop the cache's references (the last put frees the folio)
// The grace-period rule: a folio removed in A must not be freed before B
// completes, since a lookup between its steps 1 and 2 may still touch it.
// The free path checks it (Frame::rcu_free_after): a removal that skips B
// is caught as a use-after-free.
#pragma once

#include <cstdint>
#include <memory>

#include "core/atomic.hpp"
#include "core/types.hpp"

namespace core {

class Model;

class PageCache {
 public:
  PageCache(uint16_t id, uint32_t nr_indices);
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

  uint16_t id() const noexcept { return id_; }
  uint32_t size() const noexcept { return slots_.size(); }
  // The entry at an index: a folio head or kNoPfn. Written under xa_lock;
  // read under RCU by lookups.
  Atomic<Pfn>& entry(uint32_t index) noexcept { return slots_[index]; }
  const Atomic<Pfn>& entry(uint32_t index) const noexcept { return slots_[index]; }

  SpinLock xa_lock;

 private:
  uint16_t id_;
  AtomicSlots<Pfn> slots_;
};

// Inserts the folio at `head` (the caller holds a reference) at `index`
// (aligned to the folio's size); the cache takes folio_nr_pages references.
// The folio is locked while it goes in (__filemap_add_folio requires it), so
// mapping/index change under the folio lock, as migration and truncate
// assume. 0, -EINVAL, -EEXIST (an index is occupied), -EBUSY (the folio is
// already in a page cache, or somebody else holds its lock: a migration's
// new folio, a folio being truncated).
int filemap_add_folio(Model& m, PageCache& pc, Pfn head, uint32_t index);
// The speculative lookup: the folio at `index` with a reference, or kNoPfn.
Pfn filemap_get_folio(Model& m, PageCache& pc, uint32_t index);
// Truncates the folio at `index` (A, B, C above). 0 or -ENOENT.
int truncate_folio(Model& m, PageCache& pc, uint32_t index);

}  // namespace core
