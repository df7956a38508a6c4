// tests for core/mm.hpp — map_page / unmap_slot, the reverse map
// (rmap_walk, try_to_unmap, unmap_page_everywhere) and user accesses.
//
// Timelines in comments read left to right: the refcount (and "mc" the
// mapcount) of the folio under test after each step. Every scenario ends
// with the audit against an exact ledger of what the test itself holds (the
// audit counts the PTEs and page-cache references on its own).
#include "core/mm.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/filemap.hpp"
#include "core/folio.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/sync.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

// --- map_page -----------------------------------------------------------------

// The mapping takes its own reference and one mapcount; the PTE maps the page.
//   alloc 1 --map mm0/3--> 2 mc1 --map mm1/3--> 3 mc2
TEST(MapPage, TakesAReferenceAndAMapcount) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, p), 0);
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(mapcount(m, p), 1);
  EXPECT_EQ(pte(m, 0, 3), core::pte::mk(p));
  EXPECT_TRUE(core::pte::is_present(pte(m, 0, 3)));
  EXPECT_FALSE(core::pte::is_migration(pte(m, 0, 3)));
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {{p, 1}})));

  ASSERT_EQ(core::map_page(m, m.mm(1), 3, p), 0);
  EXPECT_EQ(refcount(m, p), 3);
  EXPECT_EQ(mapcount(m, p), 2);
  EXPECT_EQ(m.frame(p).pincount.peek(), 0);
  EXPECT_FALSE(m.mm(0).ptl.is_locked_quiescent());
  EXPECT_FALSE(m.mm(1).ptl.is_locked_quiescent());
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
}

// A tail page is mapped as itself; the reference and mapcount go to the head.
//   head: 1 --map tail h+2--> 2 mc1 (tail: 0, mc 0)
TEST(MapPage, TailPageChargesTheHead) {
  Model m(small_config());
  const Pfn h = alloc(m, 2);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, h + 2), 0);
  EXPECT_EQ(pte(m, 0, 0), core::pte::mk(h + 2));
  EXPECT_EQ(refcount(m, h), 2);
  EXPECT_EQ(mapcount(m, h), 1);
  EXPECT_EQ(refcount(m, h + 2), 0);
  EXPECT_EQ(mapcount(m, h + 2), 0);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{h, 1}})));
}

struct MapErrorCase {
  const char* name;
  uint32_t slot;
  bool bad_pfn;
  bool slot_used;  // slot 5 already maps another folio
  int err;
};

// Refusals change nothing: no reference, no mapcount, the PTE as it was.
TEST(MapPage, ErrorsLeaveEverythingUnchanged) {
  const MapErrorCase cases[] = {
      {"slot_past_the_table", 16, false, false, -EINVAL},
      {"slot_far_past_the_table", 1000, false, false, -EINVAL},
      {"pfn_past_the_memmap", 5, true, false, -EINVAL},
      {"slot_in_use", 5, false, true, -EBUSY},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    ASSERT_EQ(m.mm(0).nr_slots(), 16u);
    const Pfn p = alloc(m);
    const Pfn other = alloc(m);
    if (c.slot_used) { ASSERT_EQ(core::map_page(m, m.mm(0), 5, other), 0); }
    const uint64_t before = pte(m, 0, 5);
    const Pfn target = c.bad_pfn ? m.frames().size() : p;

    EXPECT_EQ(core::map_page(m, m.mm(0), c.slot, target), c.err);

    EXPECT_EQ(refcount(m, p), 1);
    EXPECT_EQ(mapcount(m, p), 0);
    EXPECT_EQ(pte(m, 0, 5), before);
    EXPECT_EQ(refcount(m, other), c.slot_used ? 2 : 1);
    EXPECT_EQ(mapcount(m, other), c.slot_used ? 1 : 0);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}, {other, 1}})));
  }
}

// A file folio is mapped with the folio lock held around the check; the
// lock is released again.
//   1 --add_folio--> 2 --map--> 3 mc1 (PG_locked clear afterwards)
TEST(MapPage, FileFolioIsMappedUnderTheFolioLock) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 7), 0);
  ASSERT_EQ(core::map_page(m, m.mm(0), 1, p), 0);
  EXPECT_EQ(refcount(m, p), 3);
  EXPECT_EQ(mapcount(m, p), 1);
  EXPECT_EQ(flags(m, p) & core::pg::locked, 0u);
  EXPECT_EQ(m.probes().count(Probe::MapRaceTruncate), 0u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
}

// map_page reads folio->mapping as a hint, takes the folio lock and checks
// again. Truncation that completes in between (forced here at the sync
// point of the folio lock's fetch_or) leaves a folio that is in no page
// cache any more: map_page refuses it.
//   held 1 --add--> 2 --[truncate: get 3, unmap, remove, gp, put_refs 2, put 1]--> 1
//          --map_page: mapping == 0 under the lock--> -ENOENT, still 1, mc 0
TEST(MapPage, FileFolioTruncatedUnderTheFolioLockIsRefused) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::filemap_add_folio(m, m.file(), p, 4), 0);
  ASSERT_EQ(refcount(m, p), 2);

  int truncated = 1;
  SyncScript hook(core::SyncOp::Rmw, &m.frame(p).flags, 1,
                   [&] { truncated = core::truncate_folio(m, m.file(), 4); });
  int err;
  {
    core::ScopedSyncHook g(&hook);
    err = core::map_page(m, m.mm(0), 2, p);
  }
  ASSERT_TRUE(hook.fired());
  EXPECT_EQ(truncated, 0);
  EXPECT_EQ(err, -ENOENT);
  EXPECT_EQ(m.probes().count(Probe::MapRaceTruncate), 1u);
  EXPECT_EQ(pte(m, 0, 2), 0u);
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_EQ(mapcount(m, p), 0);
  EXPECT_EQ(m.frame(p).mapping.peek(), 0);
  EXPECT_EQ(m.file().entry(4).peek(), core::kNoPfn);
  EXPECT_EQ(flags(m, p) & core::pg::locked, 0u) << "map_page must drop the folio lock on -ENOENT";
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {{p, 1}})));

  // The grace period truncate waited for is over: the last put is legal.
  core::folio_put(m, p);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- unmap_slot ---------------------------------------------------------------

// The mapping's reference is the last one: unmapping frees the folio.
//   alloc 1 --map--> 2 mc1 --put (ours)--> 1 --unmap_slot--> 0 => buddy
TEST(UnmapSlot, LastPutFreesToTheBuddy) {
  Model m(small_config());
  const Pfn h = alloc(m, 1);
  ASSERT_EQ(core::map_page(m, m.mm(1), 9, h + 1), 0);
  core::folio_put(m, h);
  EXPECT_EQ(refcount(m, h), 1);
  EXPECT_EQ(nr_free(m), 2 * kZoneFrames - 2);
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {})));

  EXPECT_TRUE(core::unmap_slot(m, m.mm(1), 9));
  EXPECT_EQ(pte(m, 1, 9), 0u);
  EXPECT_EQ(refcount(m, h), 0);
  EXPECT_EQ(mapcount(m, h), 0);
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// Not the last reference: the folio survives with one reference less.
//   alloc 1 --map x2--> 3 mc2 --unmap mm0/4--> 2 mc1
TEST(UnmapSlot, DropsOneReferenceAndOneMapcount) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::map_page(m, m.mm(0), 4, p), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 4, p), 0);
  EXPECT_TRUE(core::unmap_slot(m, m.mm(0), 4));
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(mapcount(m, p), 1);
  EXPECT_EQ(pte(m, 0, 4), 0u);
  EXPECT_EQ(pte(m, 1, 4), core::pte::mk(p));
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 0u);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
}

TEST(UnmapSlot, NothingToUnmap) {
  Model m(small_config());
  const Pfn p = alloc(m);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, p), 0);
  EXPECT_FALSE(core::unmap_slot(m, m.mm(0), 1));    // empty slot
  EXPECT_FALSE(core::unmap_slot(m, m.mm(1), 0));    // same slot, other mm
  EXPECT_FALSE(core::unmap_slot(m, m.mm(0), 16));   // past the table
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(mapcount(m, p), 1);
  EXPECT_TRUE(core::unmap_slot(m, m.mm(0), 0));
  EXPECT_FALSE(core::unmap_slot(m, m.mm(0), 0));    // twice
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
}

// --- reverse map --------------------------------------------------------------

// An order-2 folio h mapped five times across both mms (pages 0, 1, 3, 3, 2),
// and an unrelated folio q next to it in the memmap.
struct RmapScene {
  Model m{small_config()};
  Pfn h, q;
  using Mapping = std::tuple<uint32_t, uint32_t, Pfn>;  // mm, slot, page
  std::vector<Mapping> of_h{{0, 1, 0}, {0, 5, 1}, {0, 15, 3}, {1, 0, 3}, {1, 7, 2}};

  RmapScene() {
    h = alloc(m, 2);
    q = alloc(m, 0);
    for (auto& [mm, slot, page] : of_h) {
      page += h;
      EXPECT_EQ(core::map_page(m, m.mm(mm), slot, page), 0);
    }
    EXPECT_EQ(core::map_page(m, m.mm(0), 2, q), 0);
    EXPECT_EQ(core::map_page(m, m.mm(1), 1, q), 0);
    //   h: 1 --5 maps--> 6 mc5      q: 1 --2 maps--> 3 mc2
    EXPECT_EQ(refcount(m, h), 6);
    EXPECT_EQ(mapcount(m, h), 5);
    EXPECT_EQ(refcount(m, q), 3);
  }
};

struct Visit {
  uint32_t mm, slot;
  uint64_t pte;
  bool ptl_held;
  bool operator==(const Visit&) const = default;
};

struct Collect {
  std::vector<Visit> visits;
  size_t stop_after = SIZE_MAX;
  static bool fn(void* c, core::Mm& mm, uint32_t slot, uint64_t v) {
    auto& self = *static_cast<Collect*>(c);
    self.visits.push_back(Visit{mm.id(), slot, v, mm.ptl.is_locked_quiescent()});
    return self.visits.size() < self.stop_after;
  }
};

// rmap_walk visits every PTE of the folio, in every mm, with that mm's PTL
// held, in mm then slot order, and nothing else.
TEST(RmapWalk, FindsEveryMappingOfALargeFolioAcrossMms) {
  RmapScene s;
  Collect c;
  core::rmap_walk(s.m, s.h, 4, Collect::fn, &c);
  std::vector<Visit> want;
  for (const auto& [mm, slot, page] : s.of_h) want.push_back(Visit{mm, slot, core::pte::mk(page), true});
  EXPECT_EQ(c.visits, want);
  EXPECT_FALSE(s.m.mm(0).ptl.is_locked_quiescent());
  EXPECT_FALSE(s.m.mm(1).ptl.is_locked_quiescent());

  // A one-page walk of page 3 only.
  Collect one;
  core::rmap_walk(s.m, s.h + 3, 1, Collect::fn, &one);
  EXPECT_EQ(one.visits,
            (std::vector<Visit>{{0, 15, core::pte::mk(s.h + 3), true}, {1, 0, core::pte::mk(s.h + 3), true}}));

  // The walk changes nothing.
  EXPECT_EQ(refcount(s.m, s.h), 6);
  EXPECT_EQ(mapcount(s.m, s.h), 5);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, {{s.h, 1}, {s.q, 1}})));
}

// fn returning false stops the walk, and every PTL is released.
TEST(RmapWalk, StopsWhenTheCallbackSaysSo) {
  for (size_t stop : {size_t{1}, size_t{3}, size_t{4}}) {
    SCOPED_TRACE(stop);
    RmapScene s;
    Collect c;
    c.stop_after = stop;
    core::rmap_walk(s.m, s.h, 4, Collect::fn, &c);
    EXPECT_EQ(c.visits.size(), stop);
    EXPECT_FALSE(s.m.mm(0).ptl.is_locked_quiescent());
    EXPECT_FALSE(s.m.mm(1).ptl.is_locked_quiescent());
  }
}

// try_to_unmap zaps every PTE of the folio and drops their references in one
// batch; the caller's reference keeps it; q is untouched.
//   h: 6 mc5 --try_to_unmap--> 1 mc0
TEST(RmapWalk, TryToUnmapZapsEveryMapping) {
  RmapScene s;
  EXPECT_EQ(core::try_to_unmap(s.m, s.h), 5u);
  EXPECT_EQ(refcount(s.m, s.h), 1);
  EXPECT_EQ(mapcount(s.m, s.h), 0);
  for (const auto& [mm, slot, page] : s.of_h) EXPECT_EQ(pte(s.m, mm, slot), 0u) << mm << "/" << slot;
  EXPECT_EQ(pte(s.m, 0, 2), core::pte::mk(s.q));
  EXPECT_EQ(pte(s.m, 1, 1), core::pte::mk(s.q));
  EXPECT_EQ(refcount(s.m, s.q), 3);
  EXPECT_EQ(core::try_to_unmap(s.m, s.h), 0u);  // nothing left
  EXPECT_EQ(refcount(s.m, s.h), 1);
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, {{s.h, 1}, {s.q, 1}})));

  core::folio_put(s.m, s.h);
  EXPECT_EQ(s.m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 1);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, {{s.q, 1}})));
}

// unmap_page_everywhere zaps only the PTEs that map exactly that page.
//   h: 6 mc5 --unmap page 3 (2 PTEs)--> 4 mc3 --unmap page 2--> 3 mc2
TEST(RmapWalk, UnmapPageEverywhereZapsOnlyThatPage) {
  RmapScene s;
  EXPECT_EQ(core::unmap_page_everywhere(s.m, s.h + 3), 2u);
  EXPECT_EQ(refcount(s.m, s.h), 4);
  EXPECT_EQ(mapcount(s.m, s.h), 3);
  EXPECT_EQ(pte(s.m, 0, 15), 0u);
  EXPECT_EQ(pte(s.m, 1, 0), 0u);
  EXPECT_EQ(pte(s.m, 0, 1), core::pte::mk(s.h));
  EXPECT_EQ(pte(s.m, 0, 5), core::pte::mk(s.h + 1));
  EXPECT_EQ(pte(s.m, 1, 7), core::pte::mk(s.h + 2));
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, {{s.h, 1}, {s.q, 1}})));

  EXPECT_EQ(core::unmap_page_everywhere(s.m, s.h + 2), 1u);
  EXPECT_EQ(core::unmap_page_everywhere(s.m, s.h + 3), 0u);
  EXPECT_EQ(refcount(s.m, s.h), 3);
  EXPECT_EQ(mapcount(s.m, s.h), 2);
  EXPECT_EQ(refcount(s.m, s.q), 3);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, {{s.h, 1}, {s.q, 1}})));
}

// The last mapping's reference dropped by the batch put frees the folio.
//   h: 1 --map x2--> 3 --put (ours)--> 2 --try_to_unmap--> 0 => buddy
TEST(RmapWalk, TryToUnmapCanDropTheLastReference) {
  Model m(small_config());
  const Pfn h = alloc(m, 1);
  ASSERT_EQ(core::map_page(m, m.mm(0), 0, h), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 0, h + 1), 0);
  core::folio_put(m, h);
  EXPECT_EQ(core::try_to_unmap(m, h), 2u);
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- user accesses ------------------------------------------------------------

// Two mms share a page: a write through one is read through the other; the
// payload lives in the page's frame (not the head's).
TEST(MmAccess, WriteThenReadRoundTrips) {
  Model m(small_config());
  const Pfn h = alloc(m, 1);
  ASSERT_EQ(core::map_page(m, m.mm(0), 3, h + 1), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 12, h + 1), 0);
  ASSERT_EQ(core::map_page(m, m.mm(1), 13, h), 0);
  EXPECT_EQ(core::mm_write(m, m.mm(0), 3, 0xfeedface12345678ull), 0);
  EXPECT_EQ(core::mm_write(m, m.mm(1), 13, 42), 0);
  uint64_t v = 0;
  EXPECT_EQ(core::mm_read(m, m.mm(1), 12, v), 0);
  EXPECT_EQ(v, 0xfeedface12345678ull);
  EXPECT_EQ(m.frame(h + 1).payload.peek(), 0xfeedface12345678ull);
  EXPECT_EQ(core::mm_read(m, m.mm(0), 3, v), 0);
  EXPECT_EQ(v, 0xfeedface12345678ull);
  EXPECT_EQ(core::mm_read(m, m.mm(1), 13, v), 0);
  EXPECT_EQ(v, 42u);
  // accesses take no references
  EXPECT_EQ(refcount(m, h), 4);
  EXPECT_EQ(mapcount(m, h), 3);
  EXPECT_FALSE(m.mm(0).ptl.is_locked_quiescent());
  EXPECT_TRUE(all_clean(m, ledger_of(m, {{h, 1}})));
}

struct AccessErrorCase {
  const char* name;
  uint32_t mm, slot;
  int err;
};

// Nothing mapped: -EFAULT (the value is not written); past the table: -EINVAL.
TEST(MmAccess, EmptyOrBadSlot) {
  const AccessErrorCase cases[] = {
      {"empty_slot", 0, 4, -EFAULT},
      {"mapped_in_the_other_mm_only", 1, 3, -EFAULT},
      {"unmapped_again", 0, 5, -EFAULT},
      {"past_the_table", 0, 16, -EINVAL},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = alloc(m);
    ASSERT_EQ(core::map_page(m, m.mm(0), 3, p), 0);
    ASSERT_EQ(core::map_page(m, m.mm(0), 5, p), 0);
    ASSERT_TRUE(core::unmap_slot(m, m.mm(0), 5));
    ASSERT_EQ(core::mm_write(m, m.mm(0), 3, 7), 0);
    EXPECT_EQ(core::mm_write(m, m.mm(c.mm), c.slot, 99), c.err);
    uint64_t v = 1234;
    EXPECT_EQ(core::mm_read(m, m.mm(c.mm), c.slot, v), c.err);
    EXPECT_EQ(v, 1234u) << "a failed read leaves the value alone";
    EXPECT_EQ(m.frame(p).payload.peek(), 7u);
    EXPECT_EQ(refcount(m, p), 2);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {{p, 1}})));
  }
}

}  // namespace
