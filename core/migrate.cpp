// core::migrate — see migrate.hpp.
#include "core/migrate.hpp"

#include <vector>

#include "core/filemap.hpp"
#include "core/folio.hpp"
#include "core/zone_device.hpp"
#include "core/mm.hpp"
#include "core/page_ref.hpp"

namespace core {

int32_t folio_expected_refs(Model& m, Pfn head) {
  // relaxed: the caller holds the folio lock, which mapping changes require.
  const bool cached = m.frame(head).mapping.load(std::memory_order_relaxed) != 0;
  return 1 + (cached ? static_cast<int32_t>(folio_nr_pages(m, head)) : 0);
}

namespace {

struct MigrationPte {
  Mm* mm;
  uint32_t slot;
  uint32_t offset;  // page offset within the folio
};

struct UnmapCtx {
  Model& m;
  Pfn head;
  std::vector<MigrationPte> ptes;
};

// try_to_migrate_one(): a present PTE becomes a migration entry (PTL held).
bool to_migration_entry(void* c, Mm& mm, uint32_t slot, uint64_t v) {
  auto& ctx = *static_cast<UnmapCtx*>(c);
  if (!pte::is_present(v)) return true;
  // seq_cst: pairs with GUP-fast's seq_cst PTE re-check.
  mm.pte(slot).store(pte::mk_migration(pte::pfn(v)), std::memory_order_seq_cst);
  // relaxed: mapcount, see map_page().
  ctx.m.frame(ctx.head).mapcount.fetch_sub(1, std::memory_order_relaxed);
  ctx.ptes.push_back(MigrationPte{&mm, slot, pte::pfn(v) - ctx.head});
  return true;
}

// remove_migration_ptes(): each migration entry maps `to` (src on failure,
// dst on success) again, with a reference and a mapcount.
void remove_migration_ptes(Model& m, const std::vector<MigrationPte>& ptes, Pfn to) {
  for (const MigrationPte& p : ptes) {
    SpinGuard g(p.mm->ptl);
    folio_get(m, to);
    m.frame(to).mapcount.fetch_add(1, std::memory_order_relaxed);  // relaxed: see map_page()
    // release: pairs with GUP-fast's acquire PTE read.
    p.mm->pte(p.slot).store(pte::mk(to + p.offset), std::memory_order_release);
  }
}

}  // namespace

int migrate_folio(Model& m, Pfn src, ZoneType target, bool* migrated) {
  Frame& s = m.frame(src);
  if (migrated != nullptr) *migrated = false;
  // relaxed: we hold a reference; the owner of a live folio does not change.
  if (static_cast<OwnerId>(s.owner.load(std::memory_order_relaxed)) != OwnerId::Buddy) {
    folio_put(m, src);
    return -EBUSY;
  }
  // 1.
  if (!folio_trylock(m, src)) {
    m.probe(Probe::MigrateLocked);
    folio_put(m, src);
    return -EAGAIN;
  }
  if (folio_ref_count(m, src) == 1) {
    m.probe(Probe::MigrateFreedUnderUs);
    folio_unlock(m, src);
    folio_put(m, src);
    return 0;
  }
  const uint32_t nr = folio_nr_pages(m, src);
  const unsigned order = static_cast<unsigned>(__builtin_ctz(nr));
  // Bug::MigrateCopiesBeforeUnmap: steps 3 and 5 before step 2 — the copy is
  // taken while the PTEs are still present, so a user write that lands
  // between the copy and the migration entries stays behind in src.
  Pfn early_dst = kNoPfn;
  if (m.bug_on(Bug::MigrateCopiesBeforeUnmap)) {
    early_dst = alloc_pages(m, target, order);
    if (early_dst == kNoPfn) {
      folio_unlock(m, src);
      folio_put(m, src);
      return -ENOMEM;
    }
    if (!folio_trylock(m, early_dst)) {  // see step 3
      folio_put(m, early_dst);
      folio_unlock(m, src);
      folio_put(m, src);
      return -EAGAIN;
    }
    for (uint32_t i = 0; i < nr; ++i)
      // relaxed (both): user data, see step 5 (here, wrongly, still mapped).
      m.frame(early_dst + i).payload.store(m.frame(src + i).payload.load(std::memory_order_relaxed),
                                           std::memory_order_relaxed);
  }
  // 2.
  UnmapCtx ctx{m, src, {}};
  rmap_walk(m, src, nr, to_migration_entry, &ctx);
  if (!ctx.ptes.empty()) folio_put_refs(m, src, static_cast<int32_t>(ctx.ptes.size()));
  auto fail = [&](int err, Pfn dst) {
    if (dst != kNoPfn) {
      folio_unlock(m, dst);
      folio_put(m, dst);
    }
    remove_migration_ptes(m, ctx.ptes, src);
    folio_unlock(m, src);
    folio_put(m, src);
    return err;
  };
  // 3.
  const Pfn dst = early_dst != kNoPfn ? early_dst : alloc_pages(m, target, order);
  if (dst == kNoPfn) return fail(-ENOMEM, kNoPfn);
  // Nobody may use dst (truncate, faults) until it is mapped where src was:
  // locked from before the entry switch to after the remap, as the kernel's
  // folio_trylock(dst) in migrate_folio_unmap(). Usually nobody else knows
  // dst yet, but a pfn walker's speculative reference may have reached it
  // and a walker that migrates (migrate, compact) locks it: the kernel
  // dropped its BUG here for that race ("a race with the previous use of
  // dst") and backs out, so does the model.
  if (early_dst == kNoPfn && !folio_trylock(m, dst)) {
    folio_put(m, dst);
    return fail(-EAGAIN, kNoPfn);
  }
  // 4. folio_migrate_mapping().
  const int32_t expected = folio_expected_refs(m, src);
  // relaxed: the folio lock orders mapping changes.
  const uint16_t mapping = s.mapping.load(std::memory_order_relaxed);
  if (mapping != 0) {
    PageCache& pc = m.page_cache(mapping);
    bool frozen;
    {
      SpinGuard g(pc.xa_lock);
      frozen = folio_ref_freeze(m, src, expected);
      if (frozen) {
        // relaxed: the folio lock is held.
        const uint32_t index = s.index.load(std::memory_order_relaxed);
        folio_ref_add(m, dst, static_cast<int32_t>(nr));  // the cache's references move to dst
        // relaxed (three): published by the release entry stores below.
        m.frame(dst).mapping.store(mapping, std::memory_order_relaxed);
        m.frame(dst).index.store(index, std::memory_order_relaxed);
        s.mapping.store(0, std::memory_order_relaxed);
        // release: pairs with the acquire reads in filemap_get_folio().
        for (uint32_t i = index; i < index + nr; ++i) pc.entry(i).store(dst, std::memory_order_release);
        folio_ref_unfreeze(m, src, expected - static_cast<int32_t>(nr));
      }
    }
    if (!frozen) {
      m.probe(Probe::MigrateExtraRefs);
      return fail(-EAGAIN, dst);
    }
  } else {
    // Bug::MigrateFreezeIgnoresPins freezes at the count it finds, so pins
    // (extra references) no longer make the freeze fail.
    if (!folio_ref_freeze(m, src, m.bug_on(Bug::MigrateFreezeIgnoresPins) ? folio_ref_count(m, src) : expected)) {
      m.probe(Probe::MigrateExtraRefs);
      return fail(-EAGAIN, dst);
    }
    folio_ref_unfreeze(m, src, expected);
  }
  // 5. folio_migrate_copy(): payload of every page (the mutant copied early).
  for (uint32_t i = 0; i < nr && early_dst == kNoPfn; ++i)
    // relaxed (both): src is unmapped and only we hold it; dst is not yet
    // visible except through the cache, whose readers take a reference
    // (acquire) after the entry store (release) above — and the payload is
    // user data that the model only compares at quiescence.
    m.frame(dst + i).payload.store(m.frame(src + i).payload.load(std::memory_order_relaxed), std::memory_order_relaxed);
  // 6.
  remove_migration_ptes(m, ctx.ptes, dst);
  // 7.
  folio_unlock(m, dst);
  folio_unlock(m, src);
  folio_put(m, dst);
  folio_put(m, src);  // the isolation reference: the last one, src is freed
  m.probe(Probe::MigrateSucceeded);
  if (migrated != nullptr) *migrated = true;
  return 0;
}

Pfn pfn_walk_get(Model& m, Pfn pfn) {
  if (!m.frames().pfn_valid(pfn)) return kNoPfn;
  const Pfn head = page_folio(m, pfn);
  if (m.bug_on(Bug::PfnWalkerPlainGet)) folio_get(m, head);  // f8be156be163: get_page() on a maybe-zero count
  else if (!folio_try_get(m, head)) return kNoPfn;
  // Re-check: pfn still belongs to the folio we took a reference on, and
  // that is a folio head (not a tail of something merged since).
  // relaxed (all three): we hold a reference on `head`, so its layout is stable.
  const bool ok = page_folio(m, pfn) == head && !(m.frame(head).flags.load(std::memory_order_relaxed) & pg::tail) &&
                  pfn < head + (1u << m.frame(head).order.load(std::memory_order_relaxed));
  if (!ok) {
    put_page(m, head);  // maybe the last reference: the walker frees what it never owned
    return kNoPfn;
  }
  return head;
}

uint32_t compact_pageblock(Model& m, Pfn pfn) {
  if (!m.frames().pfn_valid(pfn)) return 0;
  const uint32_t pb = m.frames().pageblock_frames();
  const Pfn start = pfn & ~(pb - 1);
  const ZoneType zone = m.frames().zone_of(start);
  if (zone == ZoneType::Device) return 0;
  // As alloc_contig_range(): isolate the block first, so that its free pages
  // are not handed out as migration targets and a folio is not moved twice.
  // Somebody else holds it isolated (offlining, another scan): leave it.
  if (!m.buddy().start_isolate_page_range(start, start + pb)) return 0;
  uint32_t moved = 0;
  for (Pfn p = start; p < start + pb;) {
    const Frame& f = m.frame(p);
    // relaxed (both): PageBuddy() and buddy_order_unsafe(), a hint for the
    // skip; what we then touch is taken with add-unless-zero and re-checked.
    if (static_cast<PageType>(f.page_type.load(std::memory_order_relaxed)) == PageType::Buddy) {
      const unsigned o = f.order.load(std::memory_order_relaxed);
      const Pfn step = o <= m.buddy().max_page_order() ? (Pfn{1} << o) : 1;
      p = (p & ~(step - 1)) + step;  // a stale order still moves forward
      continue;
    }
    const Pfn head = pfn_walk_get(m, p);
    if (head == kNoPfn) {
      ++p;
      continue;
    }
    const Pfn next = head + folio_nr_pages(m, head);  // stable: we hold a reference
    bool migrated = false;
    migrate_folio(m, head, zone, &migrated);  // consumes the reference
    moved += migrated ? 1 : 0;
    p = next > p ? next : p + 1;
  }
  m.buddy().undo_isolate_page_range(start, start + pb);
  return moved;
}

}  // namespace core
