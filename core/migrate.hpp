// core::migrate — page migration (mm/migrate.c) and pfn walkers.
//
// migrate_folio(src, target zone), the caller holding one reference (the
// isolation reference, which migration consumes):
//   1. folio_trylock(src) (else -EAGAIN); only our reference left -> it was
//      freed under us: put it, done
//   2. unmap: every PTE of src becomes a migration entry (GUP-fast and
//      faults back off); the mappings' references are dropped
//   3. allocate dst in the target zone
//   4. folio_migrate_mapping: freeze src to folio_expected_refs (1 + the
//      page cache's references); a pin or any other reference makes the
//      freeze fail -> undo everything, -EAGAIN. Move the cache entry to dst,
//      unfreeze src to 1
//   5. copy the payload; 6. migration entries -> dst mappings; 7. unlock,
//      drop dst's allocation reference and the isolation reference (which
//      frees src)
// On failure the payload stays in src and every mapping comes back:
// migration never loses data.
//
// Left out: LRU isolation (the folio lock and the isolation reference stand
// in for it), PG_private/buffers, swap cache, hugetlb's own migrate path,
// batched migration lists, migration of device or offline pages.
#pragma once

#include <cstdint>

#include "core/types.hpp"

namespace core {

class Model;

// folio_expected_refs(): references migration expects on src while it holds
// the isolation reference and src is unmapped.
int32_t folio_expected_refs(Model& m, Pfn head);

// 0, -EAGAIN (locked, extra references, pins), -ENOMEM (no target memory),
// -EBUSY (not migratable: not a buddy-owned folio). Consumes the caller's
// reference in every case.
// *migrated (optional) is set when the folio was actually moved to a new
// folio, not when it was freed under us.
int migrate_folio(Model& m, Pfn head, ZoneType target, bool* migrated = nullptr);

// A pfn walker's speculative get (compaction, offlining, page_owner): the
// head of the folio `pfn` belongs to, with a reference, or kNoPfn. It takes
// the reference with add-unless-zero, then re-checks that `pfn` still belongs
// to that head (the folio may have been freed, split or merged in between);
// on mismatch it puts the reference back — possibly the last one.
Pfn pfn_walk_get(Model& m, Pfn pfn);

// The migrate scanner over one pageblock, as alloc_contig_range() runs it
// (start_isolate_page_range(), then isolate_migratepages_block() and
// migrate_pages(), then the isolation is undone; compaction's scanner without
// the free scanner): walks the pageblock of `pfn` frame by frame, skips
// free blocks by their order (PageBuddy and buddy_order_unsafe(), read
// racily as the kernel does: only a hint), takes a speculative reference on
// everything else with pfn_walk_get() and migrates it within its zone, then
// goes on after the folio. Pinned, locked or otherwise busy folios stay
// where they are. Returns how many folios moved; 0 when the block was
// already isolated. A walker that meets every frame of a block, as
// offlining and memory-failure do too.
uint32_t compact_pageblock(Model& m, Pfn pfn);

}  // namespace core
