// tests for core/gup.hpp — FOLL_GET and FOLL_PIN accounting, GUP-fast and
// its PTE re-check, FOLL_LONGTERM migration out of ZONE_MOVABLE, the
// refcount-overflow guard (CVE-2019-11487) and flag validation.
//
// Timelines in comments read left to right: the refcount ("pc" pincount) of
// the folio under test after each step. The folio is always mapped once and
// the test keeps its allocation reference unless a comment says otherwise,
// so a fresh scene starts at 2.
#include "core/gup.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/folio.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/sync.hpp"
#include "tests/support/support.hpp"

namespace {

using core::GupResult;
using namespace refhammer_test;
namespace foll = core::foll;

constexpr int32_t kBias = core::GUP_PIN_COUNTING_BIAS;

GupResult gup(Model& m, bool fast, uint32_t mm, uint32_t slot, unsigned flags) {
  return fast ? core::get_user_page_fast(m, m.mm(mm), slot, flags) : core::get_user_page(m, m.mm(mm), slot, flags);
}

// A folio of `order` in `zone`, page `off` of it mapped at mm0 slot 3; the
// test keeps its allocation reference.
struct Scene {
  Model m;
  Pfn h;
  Pfn page;
  explicit Scene(unsigned order = 0, uint32_t off = 0, ZoneType zone = ZoneType::Normal,
                 core::ModelConfig cfg = small_config())
      : m(cfg) {
    h = alloc(m, order, zone);
    page = h + off;
    EXPECT_EQ(core::map_page(m, m.mm(0), 3, page), 0);
  }
};

// --- accounting ---------------------------------------------------------------

struct GrabCase {
  const char* name;
  unsigned order;
  uint32_t off;
  unsigned flags;
  bool fast;
  int32_t d_ref;  // refcount added by the grab
  int32_t d_pin;  // pincount added
};

// FOLL_GET adds one reference; FOLL_PIN adds GUP_PIN_COUNTING_BIAS on a small
// folio and one reference plus one pincount on a large one. Both paths agree,
// the result names the page and its folio, and the release restores exactly.
//   small pin: 2 --pin--> 1026 --unpin--> 2      large pin: 2 pc0 --pin--> 3 pc1 --unpin--> 2 pc0
TEST(Gup, GrabAccounting) {
  const GrabCase cases[] = {
      {"get/small/slow", 0, 0, foll::get, false, 1, 0},
      {"get/small/fast", 0, 0, foll::get, true, 1, 0},
      {"get/large_tail/slow", 2, 3, foll::get, false, 1, 0},
      {"get/large_tail/fast", 2, 3, foll::get, true, 1, 0},
      {"pin/small/slow", 0, 0, foll::pin, false, kBias, 0},
      {"pin/small/fast", 0, 0, foll::pin, true, kBias, 0},
      {"pin/large_head/slow", 2, 0, foll::pin, false, 1, 1},
      {"pin/large_tail/fast", 2, 1, foll::pin, true, 1, 1},
      {"pin_longterm/small/slow", 0, 0, foll::pin | foll::longterm, false, kBias, 0},
      {"pin_longterm/large/fast", 1, 1, foll::pin | foll::longterm, true, 1, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Scene s(c.order, c.off);
    const bool pin = (c.flags & foll::pin) != 0;
    EXPECT_FALSE(core::folio_maybe_dma_pinned(s.m, s.h));

    const GupResult r = gup(s.m, c.fast, 0, 3, c.flags);
    ASSERT_EQ(r.err, 0);
    EXPECT_EQ(r.page, s.page);
    EXPECT_EQ(r.head, s.h);
    EXPECT_EQ(refcount(s.m, s.h), 2 + c.d_ref);
    EXPECT_EQ(pincount(s.m, s.h), c.d_pin);
    EXPECT_EQ(mapcount(s.m, s.h), 1);
    EXPECT_EQ(core::folio_maybe_dma_pinned(s.m, s.h), pin);
    EXPECT_FALSE(s.m.mm(0).ptl.is_locked_quiescent());
    EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, pin ? 1 : 2, pin ? 1 : 0)));

    if (pin) core::unpin_user_page(s.m, r.page);
    else core::put_user_page(s.m, r.page);
    EXPECT_EQ(refcount(s.m, s.h), 2);
    EXPECT_EQ(pincount(s.m, s.h), 0);
    EXPECT_FALSE(core::folio_maybe_dma_pinned(s.m, s.h));
    EXPECT_EQ(s.m.probes().count(Probe::GupFastBackedOut), 0u);
    EXPECT_EQ(s.m.probes().count(Probe::LongtermMigrated), 0u);
    EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
  }
}

// Pins stack; a pin outlives the mapping it was taken through, and its unpin
// can be the last put.
//   1 --map--> 2 --pin x2--> 2050 --put (ours)--> 2049 --unmap--> 2048 mc0
//   --unpin--> 1024 --unpin--> 0 => buddy
TEST(Gup, PinsOutliveTheMapping) {
  Scene s;
  ASSERT_EQ(gup(s.m, false, 0, 3, foll::pin).err, 0);
  ASSERT_EQ(gup(s.m, true, 0, 3, foll::pin).err, 0);
  EXPECT_EQ(refcount(s.m, s.h), 2 + 2 * kBias);
  core::folio_put(s.m, s.h);
  ASSERT_TRUE(core::unmap_slot(s.m, s.m.mm(0), 3));
  EXPECT_EQ(refcount(s.m, s.h), 2 * kBias);
  EXPECT_EQ(mapcount(s.m, s.h), 0);
  EXPECT_TRUE(core::folio_maybe_dma_pinned(s.m, s.h));
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, 0, 2)));
  core::unpin_user_page(s.m, s.page);
  EXPECT_EQ(refcount(s.m, s.h), kBias);
  core::unpin_user_page(s.m, s.page);
  EXPECT_TRUE(fully_merged(s.m));
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, kNoPfn, 0)));
}

// --- GUP-fast -------------------------------------------------------------------

// Nothing mapped: GUP-fast says so (-EFAULT) and the slow path agrees.
TEST(GupFast, EmptySlot) {
  Scene s;
  for (unsigned flags : {foll::get, foll::pin, foll::pin | foll::longterm}) {
    SCOPED_TRACE(flags);
    const uint64_t before = s.m.probes().count(Probe::GupFastNotPresent);
    const GupResult f = gup(s.m, true, 0, 4, flags);
    EXPECT_EQ(f.err, -EFAULT);
    EXPECT_EQ(f.page, kNoPfn);
    EXPECT_EQ(s.m.probes().count(Probe::GupFastNotPresent), before + 1);
    EXPECT_EQ(gup(s.m, false, 0, 4, flags).err, -EFAULT);
    EXPECT_EQ(gup(s.m, true, 1, 3, flags).err, -EFAULT);  // the other mm maps nothing
  }
  EXPECT_EQ(refcount(s.m, s.h), 2);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
}

struct BackOutCase {
  const char* name;
  unsigned order;
  unsigned flags;
  bool remap;  // the PTE changes to another folio instead of being cleared
};

// GUP-fast grabs, then re-checks the PTE. Here the slot is zapped (or
// remapped) exactly between the grab and the re-check — at the sync point of
// the second load of the PTE — so the re-check fails and the grab is undone.
//   small pin: 2 --try_add(1024)--> 1026 --[zap: 1025 mc0]--> re-check fails --undo 1024--> 1
TEST(GupFast, BacksOutWhenThePteChangesAfterTheGrab) {
  const BackOutCase cases[] = {
      {"get/small/zapped", 0, foll::get, false},
      {"pin/small/zapped", 0, foll::pin, false},
      {"pin/large/zapped", 2, foll::pin, false},
      {"pin/small/remapped", 0, foll::pin, true},
      {"pin_longterm/large/remapped", 1, foll::pin | foll::longterm, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Scene s(c.order);
    const Pfn other = alloc(s.m);
    int32_t rc_at_recheck = 0, pc_at_recheck = 0;
    SyncScript hook(SyncOp::Load, &s.m.mm(0).pte(3), 2, [&] {
      rc_at_recheck = refcount(s.m, s.h);
      pc_at_recheck = pincount(s.m, s.h);
      EXPECT_TRUE(core::unmap_slot(s.m, s.m.mm(0), 3));
      if (c.remap) { EXPECT_EQ(core::map_page(s.m, s.m.mm(0), 3, other), 0); }
    });
    GupResult r;
    {
      core::ScopedSyncHook g(&hook);
      r = core::get_user_page_fast(s.m, s.m.mm(0), 3, c.flags);
    }
    ASSERT_TRUE(hook.fired());
    const bool pin = (c.flags & foll::pin) != 0;
    const int32_t grab = pin && c.order == 0 ? kBias : 1;
    // the grab (one add-unless-zero of all its references) and the pin
  // accounting were complete when the PTE changed
    EXPECT_EQ(rc_at_recheck, 2 + grab);
    EXPECT_EQ(pc_at_recheck, pin && c.order > 0 ? 1 : 0);
    EXPECT_EQ(r.err, -EAGAIN);
    EXPECT_EQ(s.m.probes().count(Probe::GupFastBackedOut), 1u);
    EXPECT_EQ(refcount(s.m, s.h), 1);  // ours; the mapping's went with the zap
    EXPECT_EQ(pincount(s.m, s.h), 0);
    EXPECT_EQ(mapcount(s.m, s.h), 0);
    EXPECT_EQ(refcount(s.m, other), c.remap ? 2 : 1);
    HolderLedger l = ledger_of(s.m, s.h, 1);
    l.add_ref(other, 1);
    EXPECT_TRUE(all_clean(s.m, l));
  }
}

// Every interleaving of one zap with one GUP-fast pin, enumerated: the zap
// runs at each sync point k of the call in turn. Whatever the point, the
// result is consistent — either a pin the caller holds (and must unpin) or
// nothing held — and the audit is clean. With the test's own reference
// dropped, the zap or the back-out may be the last put.
TEST(GupFast, ZapAtEverySyncPointIsConsistent) {
  for (bool keep_own_ref : {true, false}) {
    for (unsigned order : {0u, 2u}) {
      uint64_t n = 0;
      {
        Scene s(order);
        SyncScript count;
        core::ScopedSyncHook g(&count);
        ASSERT_EQ(core::get_user_page_fast(s.m, s.m.mm(0), 3, foll::pin).err, 0);
        n = count.seen;
      }
      ASSERT_GE(n, 8u);
      uint32_t pinned = 0, backed_out = 0, not_present = 0, saw_zero = 0;
      for (uint64_t k = 1; k <= n; ++k) {
        SCOPED_TRACE(testing::Message() << "own ref " << keep_own_ref << ", order " << order << ", zap at sync point "
                                        << k << " of " << n);
        Scene s(order);
        if (!keep_own_ref) core::folio_put(s.m, s.h);
        SyncScript hook(kAnyOp, nullptr, k, [&] { EXPECT_TRUE(core::unmap_slot(s.m, s.m.mm(0), 3)); });
        GupResult r;
        {
          core::ScopedSyncHook g(&hook);
          r = core::get_user_page_fast(s.m, s.m.mm(0), 3, foll::pin);
        }
        ASSERT_TRUE(hook.fired());
        EXPECT_EQ(s.m.mm(0).pte(3).peek(), 0u);
        const int64_t own = keep_own_ref ? 1 : 0;
        if (r.err == 0) {
          ++pinned;
          EXPECT_EQ(r.head, s.h);
          EXPECT_EQ(refcount(s.m, s.h), own + (order == 0 ? kBias : 1));
          EXPECT_EQ(pincount(s.m, s.h), order == 0 ? 0 : 1);
          EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, own, 1)));
          core::unpin_user_page(s.m, r.page);
        } else {
          EXPECT_TRUE(r.err == -EAGAIN || r.err == -EFAULT) << r.err;
        }
        EXPECT_EQ(refcount(s.m, s.h), own);
        EXPECT_EQ(pincount(s.m, s.h), 0);
        EXPECT_EQ(mapcount(s.m, s.h), 0);
        EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, keep_own_ref ? s.h : kNoPfn, own)));
        if (!keep_own_ref) { EXPECT_TRUE(fully_merged(s.m)); }
        EXPECT_TRUE(no_violations(s.m));
        backed_out += s.m.probes().count(Probe::GupFastBackedOut);
        not_present += s.m.probes().count(Probe::GupFastNotPresent);
        saw_zero += s.m.probes().count(Probe::TryGetSawZero);
      }
      // the enumeration reached each outcome
      EXPECT_GE(pinned, 1u);
      EXPECT_GE(backed_out, 1u);
      EXPECT_EQ(not_present, 1u);  // only a zap before the first PTE read
      if (!keep_own_ref) { EXPECT_GE(saw_zero, 1u); }
      if (keep_own_ref) { EXPECT_EQ(saw_zero, 0u); }
    }
  }
}

// GUP-fast's second re-check (c24d37322548): between reading page_folio()
// and the grab, the order-1 folio was unmapped, freed, and its head frame
// reused as an order-0 folio. The grab succeeds on the new folio, but the
// mapped page no longer belongs to it: put it back, -EAGAIN.
//   h: 1 (map; ours dropped) --[zap 0 => buddy; realloc h order 0: 1]--> try_add 2
//   --page_folio(h+1) != h--> put 1, -EAGAIN
TEST(GupFast, BacksOutWhenThePageLeftTheFolio) {
  Scene s(1, 1);
  core::folio_put(s.m, s.h);
  Pfn q = kNoPfn;
  SyncScript hook(SyncOp::Load, &s.m.frame(s.h).refcount, 1, [&] {
    EXPECT_TRUE(core::unmap_slot(s.m, s.m.mm(0), 3));
    q = core::alloc_pages(s.m, ZoneType::Normal, 0);
  });
  GupResult r;
  {
    core::ScopedSyncHook g(&hook);
    r = core::get_user_page_fast(s.m, s.m.mm(0), 3, foll::pin);
  }
  ASSERT_TRUE(hook.fired());
  ASSERT_EQ(q, s.h) << "allocation order assumption";
  EXPECT_EQ(r.err, -EAGAIN);
  EXPECT_EQ(s.m.probes().count(Probe::GupFastHeadChanged), 1u);
  EXPECT_EQ(s.m.probes().count(Probe::GupFastBackedOut), 0u);
  EXPECT_EQ(refcount(s.m, q), 1);
  EXPECT_EQ(pincount(s.m, q), 0);
  EXPECT_EQ(refcount(s.m, s.page), 0);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, q, 1)));
}

// --- FOLL_LONGTERM ------------------------------------------------------------

struct LongtermCase {
  const char* name;
  unsigned order;
  ZoneType zone;
  bool isolate;  // the folio's pageblock is MIGRATE_ISOLATE
};

// A folio in ZONE_MOVABLE (or an isolated pageblock) is not long-term
// pinnable: GUP-fast declines (-EAGAIN, nothing held); the slow path pins,
// sees that, unpins, migrates the folio to ZONE_NORMAL and pins the copy.
// The test drops its own reference first, so that only the mappings hold the
// folio (an extra reference would make the migration fail).
//   src: 1 --map x2--> 3 --put--> 2 --fast LONGTERM: 3, not pinnable, 2--> -EAGAIN
//   --slow: pin, unpin, isolate 3, migrate: src -> 0 (buddy), dst: 2 mc2 --pin--> dst 2+grab
TEST(GupLongterm, MigratesOutOfMovableFirst) {
  const LongtermCase cases[] = {
      {"small/movable", 0, ZoneType::Movable, false},
      {"large/movable", 2, ZoneType::Movable, false},
      {"small/normal_isolated_pageblock", 0, ZoneType::Normal, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn src = alloc(m, c.order, c.zone);
    ASSERT_EQ(m.frames().zone_of(src), c.zone);
    const uint32_t nr = 1u << c.order;
    const uint32_t off = nr - 1;
    ASSERT_EQ(core::map_page(m, m.mm(0), 3, src + off), 0);
    ASSERT_EQ(core::map_page(m, m.mm(1), 8, src), 0);
    for (uint32_t i = 0; i < nr; ++i) m.frame(src + i).payload.store(0xabc0 + i, std::memory_order_relaxed);
    core::folio_put(m, src);
    const Pfn pb = src & ~(m.frames().pageblock_frames() - 1);
    if (c.isolate) {
      ASSERT_TRUE(m.buddy().start_isolate_page_range(pb, pb + m.frames().pageblock_frames()));
    }
    EXPECT_FALSE(core::folio_is_longterm_pinnable(m, src));

    const GupResult f = core::get_user_page_fast(m, m.mm(0), 3, foll::pin | foll::longterm);
    EXPECT_EQ(f.err, -EAGAIN);
    EXPECT_EQ(refcount(m, src), 2);
    EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 0u);

    const GupResult r = core::get_user_page(m, m.mm(0), 3, foll::pin | foll::longterm);
    ASSERT_EQ(r.err, 0);
    EXPECT_EQ(m.probes().count(Probe::LongtermMigrated), 1u);
    EXPECT_EQ(m.probes().count(Probe::MigrateSucceeded), 1u);
    const Pfn dst = r.head;
    EXPECT_NE(dst, src);
    EXPECT_EQ(m.frames().zone_of(dst), ZoneType::Normal);
    EXPECT_TRUE(core::folio_is_longterm_pinnable(m, dst));
    EXPECT_EQ(r.page, dst + off);
    EXPECT_EQ(m.mm(0).pte(3).peek(), core::pte::mk(dst + off));
    EXPECT_EQ(m.mm(1).pte(8).peek(), core::pte::mk(dst));
    for (uint32_t i = 0; i < nr; ++i) EXPECT_EQ(m.frame(dst + i).payload.peek(), 0xabc0 + i) << "page " << i;
    uint64_t v = 0;
    EXPECT_EQ(core::mm_read(m, m.mm(0), 3, v), 0);
    EXPECT_EQ(v, 0xabc0 + off);
    EXPECT_EQ(refcount(m, src), 0);
    EXPECT_EQ(refcount(m, dst), 2 + (c.order == 0 ? kBias : 1));
    EXPECT_EQ(pincount(m, dst), c.order == 0 ? 0 : 1);
    EXPECT_EQ(mapcount(m, dst), 2);
    EXPECT_TRUE(audit_clean(m, ledger_of(m, dst, 0, 1)));

    core::unpin_user_page(m, r.page);
    EXPECT_TRUE(core::unmap_slot(m, m.mm(0), 3));
    EXPECT_TRUE(core::unmap_slot(m, m.mm(1), 8));
    if (c.isolate) m.buddy().undo_isolate_page_range(pb, pb + m.frames().pageblock_frames());
    EXPECT_TRUE(fully_merged(m));
    EXPECT_TRUE(no_violations(m));
  }
}

// An extra reference makes every migration attempt fail: after
// migrate_passes passes the long-term pin gives up with -EAGAIN and
// everything is as before (the folio is still in ZONE_MOVABLE, mapped, with
// its data).
//   2 (ours + map) --pass 0: pin, unpin, +iso 3, migrate fails--> 2 --pass 1: same-->
//   --pass 2: pin, unpin, +iso, give up, put--> 2, -EAGAIN
TEST(GupLongterm, GivesUpWhenMigrationKeepsFailing) {
  Scene s(0, 0, ZoneType::Movable);
  s.m.frame(s.h).payload.store(5, std::memory_order_relaxed);
  const GupResult r = core::get_user_page(s.m, s.m.mm(0), 3, foll::pin | foll::longterm);
  EXPECT_EQ(r.err, -EAGAIN);
  const uint32_t passes = s.m.config().migrate_passes;
  EXPECT_EQ(s.m.probes().count(Probe::MigrateExtraRefs), passes - 1);
  EXPECT_EQ(s.m.probes().count(Probe::LongtermMigrated), 0u);
  EXPECT_EQ(s.m.probes().count(Probe::MigrateSucceeded), 0u);
  EXPECT_EQ(refcount(s.m, s.h), 2);
  EXPECT_EQ(mapcount(s.m, s.h), 1);
  EXPECT_EQ(s.m.mm(0).pte(3).peek(), core::pte::mk(s.h));
  EXPECT_EQ(s.m.frame(s.h).payload.peek(), 5u);
  EXPECT_EQ(s.m.frames().zone_of(s.h), ZoneType::Movable);
  EXPECT_EQ(flags(s.m, s.h) & core::pg::locked, 0u);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
}

// The mapping goes away between the long-term path's unpin and its
// migration: migrate_folio finds only the isolation reference ("freed under
// us"), drops it and returns 0 without migrating anything; the next pass
// finds nothing mapped. Probe::LongtermMigrated ("FOLL_LONGTERM migrated a
// folio out of ZONE_MOVABLE first") must not count this.
// FAILS against core/ as of this writing: get_user_page() hits the probe on
// any 0 from migrate_folio(), and migrate_folio() returns 0 for "freed under
// us" too (see the report's proposed patch).
//   src: 1 (map; ours dropped) --pin 1025, unpin, +iso 2--> [zap: 1]
//   --migrate: count == 1, put 0 => buddy--> next pass: -EFAULT
TEST(GupLongterm, FreedUnderUsIsNotCountedAsMigrated) {
  Scene s(0, 0, ZoneType::Movable);
  core::folio_put(s.m, s.h);
  int32_t rc_at_zap = 0;
  // migrate_folio's first access is the load of src's owner; the one before
  // it is gmem_may_longterm_pin()'s in the pinning pass.
  SyncScript hook(SyncOp::Load, &s.m.frame(s.h).owner, 2, [&] {
    rc_at_zap = refcount(s.m, s.h);
    EXPECT_TRUE(core::unmap_slot(s.m, s.m.mm(0), 3));
  });
  GupResult r;
  {
    core::ScopedSyncHook g(&hook);
    r = core::get_user_page(s.m, s.m.mm(0), 3, foll::pin | foll::longterm);
  }
  ASSERT_TRUE(hook.fired());
  EXPECT_EQ(rc_at_zap, 2);  // the mapping's + the isolation reference
  EXPECT_EQ(r.err, -EFAULT);
  EXPECT_EQ(s.m.probes().count(Probe::MigrateFreedUnderUs), 1u);
  EXPECT_EQ(s.m.probes().count(Probe::MigrateSucceeded), 0u);
  EXPECT_TRUE(fully_merged(s.m));
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, kNoPfn, 0)));
  EXPECT_EQ(s.m.probes().count(Probe::LongtermMigrated), 0u)
      << "LongtermMigrated was hit although the folio was freed, not migrated";
}

TEST(GupLongterm, PinnableZones) {
  Model m(small_config());
  EXPECT_TRUE(core::folio_is_longterm_pinnable(m, alloc(m, 0, ZoneType::Normal)));
  EXPECT_FALSE(core::folio_is_longterm_pinnable(m, alloc(m, 1, ZoneType::Movable)));
  EXPECT_FALSE(core::folio_is_longterm_pinnable(m, kDeviceStart));
}

// --- overflow guard -------------------------------------------------------------

// CVE-2019-11487: with refcount_limit 4096, pins on a small folio (+1024
// each) are refused once the next would pass the limit; FOLL_GET stops at the
// limit itself. Both paths refuse with -ENOMEM (GUP-fast's add-unless-zero
// of the whole grab refuses at the limit, and is classified as an overflow
// refusal, not a fall-back). Refusals leave the count as it was and never
// report a RefcountOverflow.
//   2 --pin x3--> 3074 --slow pin: 4098 > 4096--> -ENOMEM, 3074
//   --fast pin: try_add(1024) refused--> -ENOMEM, 3074
//   --get x1022--> 4096 --slow get--> -ENOMEM --fast get: try_add(1) refused--> -ENOMEM
TEST(GupOverflow, SmallFolioPinsAndGetsAreRefusedAtTheLimit) {
  Scene s;
  ASSERT_EQ(s.m.refcount_limit(), 4096);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(gup(s.m, i == 1, 0, 3, foll::pin).err, 0);
  EXPECT_EQ(refcount(s.m, s.h), 2 + 3 * kBias);

  EXPECT_EQ(gup(s.m, false, 0, 3, foll::pin).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 1u);
  EXPECT_EQ(refcount(s.m, s.h), 2 + 3 * kBias);
  EXPECT_EQ(gup(s.m, true, 0, 3, foll::pin).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 2u);
  EXPECT_EQ(refcount(s.m, s.h), 2 + 3 * kBias);
  EXPECT_EQ(gup(s.m, false, 0, 3, foll::pin | foll::longterm).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 3u);
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, 1, 3)));

  int gets = 0;
  while (refcount(s.m, s.h) < kLimit) {
    ASSERT_EQ(gup(s.m, gets % 2 == 0, 0, 3, foll::get).err, 0);
    ++gets;
  }
  EXPECT_EQ(gets, kLimit - 2 - 3 * kBias);
  EXPECT_EQ(refcount(s.m, s.h), kLimit);
  EXPECT_EQ(gup(s.m, false, 0, 3, foll::get).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 4u);
  const uint64_t at_limit = s.m.probes().count(Probe::TryGetRefusedAtLimit);
  EXPECT_EQ(gup(s.m, true, 0, 3, foll::get).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 5u);
  EXPECT_EQ(s.m.probes().count(Probe::TryGetRefusedAtLimit), at_limit + 1);
  EXPECT_EQ(refcount(s.m, s.h), kLimit);
  EXPECT_TRUE(no_violations(s.m)) << "a refused grab must not report RefcountOverflow";
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, 1 + gets, 3)));

  for (int i = 0; i < gets; ++i) core::put_user_page(s.m, s.page);
  for (int i = 0; i < 3; ++i) core::unpin_user_page(s.m, s.page);
  EXPECT_EQ(refcount(s.m, s.h), 2);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
}

// A large folio pins one reference at a time: pins are refused exactly at
// the limit, and the pincount stays in step with the references.
//   2 pc0 --pin x4094--> 4096 pc4094 --pin--> -ENOMEM (slow and fast)
TEST(GupOverflow, LargeFolioPinsStopAtTheLimit) {
  Scene s(1, 1);
  int pins = 0;
  while (refcount(s.m, s.h) < kLimit) {
    ASSERT_EQ(gup(s.m, pins % 3 == 0, 0, 3, foll::pin).err, 0);
    ++pins;
  }
  EXPECT_EQ(pins, kLimit - 2);
  EXPECT_EQ(pincount(s.m, s.h), pins);
  EXPECT_EQ(gup(s.m, false, 0, 3, foll::pin).err, -ENOMEM);
  EXPECT_EQ(gup(s.m, true, 0, 3, foll::pin).err, -ENOMEM);
  EXPECT_EQ(s.m.probes().count(Probe::GupRefusedOverflow), 2u);
  EXPECT_EQ(refcount(s.m, s.h), kLimit);
  EXPECT_EQ(pincount(s.m, s.h), pins);
  EXPECT_TRUE(audit_clean(s.m, ledger_of(s.m, s.h, 1, pins)));
  for (int i = 0; i < pins; ++i) core::unpin_user_page(s.m, s.page);
  EXPECT_EQ(refcount(s.m, s.h), 2);
  EXPECT_EQ(pincount(s.m, s.h), 0);
  EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
}

// --- flag validation ------------------------------------------------------------

struct FlagCase {
  const char* name;
  unsigned flags;
  uint32_t slot;
};

const FlagCase kInvalid[] = {
    {"no_get_no_pin", 0, 3},
    {"longterm_alone", foll::longterm, 3},
    {"get_and_pin", foll::get | foll::pin, 3},
    {"get_longterm", foll::get | foll::longterm, 3},
    {"get_pin_longterm", foll::get | foll::pin | foll::longterm, 3},
    {"slot_past_the_table", foll::get, 16},
};

// FOLL_GET and FOLL_PIN are mutually exclusive, FOLL_LONGTERM requires
// FOLL_PIN (kernel-semantics §2, is_valid_gup_args()): -EINVAL, nothing taken.
TEST(GupFlags, SlowPathRejectsInvalidCombinations) {
  for (const auto& c : kInvalid) {
    SCOPED_TRACE(c.name);
    Scene s;
    const GupResult r = core::get_user_page(s.m, s.m.mm(0), c.slot, c.flags);
    EXPECT_EQ(r.err, -EINVAL);
    EXPECT_EQ(refcount(s.m, s.h), 2);
    EXPECT_EQ(pincount(s.m, s.h), 0);
    EXPECT_TRUE(all_clean(s.m, ledger_of(s.m, s.h, 1)));
  }
}

// The same validation on GUP-fast: in the kernel pin_user_pages_fast() and
// get_user_pages_fast() go through is_valid_gup_args() too.
// FAILS against core/ as of this writing for get_and_pin, get_longterm and
// get_pin_longterm: get_user_page_fast only checks that one of FOLL_GET /
// FOLL_PIN is set, then takes a pin (get|pin) or a long-term plain
// reference (get|longterm) — the caller cannot tell which release to use.
TEST(GupFlags, FastPathRejectsInvalidCombinations) {
  for (const auto& c : kInvalid) {
    SCOPED_TRACE(c.name);
    Scene s;
    const GupResult r = core::get_user_page_fast(s.m, s.m.mm(0), c.slot, c.flags);
    EXPECT_EQ(r.err, -EINVAL) << "GUP-fast accepted flags " << c.flags;
    EXPECT_EQ(refcount(s.m, s.h), 2);
    EXPECT_EQ(pincount(s.m, s.h), 0);
    EXPECT_TRUE(no_violations(s.m));
  }
}

}  // namespace
