// tests for core/guest_memfd.hpp — populate, host faults, shared <-> private
// conversion (unmap, wait for transient references, scrub), PUNCH_HOLE
// through the owner hook, and both long-term pin policies:
//   (a) RefuseLongterm:   one folio per huge unit, FOLL_LONGTERM refused;
//   (b) SplitSmallFolios: 4 KiB folios, FOLL_LONGTERM allowed per page.
// Tests that apply to both run table-driven over the two policies.
//
// The model's huge unit is 4 pages (gmem_huge_order 2) and the file has 16.
// Timelines in comments give the refcount of the folio backing the page
// under test: under (a) the unit's folio starts at 4 (the cache's), under
// (b) each page's folio starts at 1.
#include "core/guest_memfd.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/filemap.hpp"
#include "core/folio.hpp"
#include "core/gup.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/support.hpp"

namespace {

using core::GmemPinPolicy;
using core::GmemState;
using core::kGmemScrubbed;
using core::OwnerId;
using namespace refhammer_test;
namespace foll = core::foll;

constexpr int32_t kBias = core::GUP_PIN_COUNTING_BIAS;
constexpr GmemPinPolicy kPolicies[] = {GmemPinPolicy::RefuseLongterm, GmemPinPolicy::SplitSmallFolios};

core::ModelConfig config(GmemPinPolicy p) {
  core::ModelConfig c = small_config();
  c.design.gmem_pin_policy = p;
  return c;
}

bool split(GmemPinPolicy p) { return p == GmemPinPolicy::SplitSmallFolios; }

// The folio backing gmem page `i`, and the page itself.
Pfn head_of(Model& m, uint32_t i) { return m.gmem().cache().entry(i).peek(); }
Pfn page_of(Model& m, uint32_t i) {
  const Pfn h = head_of(m, i);
  return h == kNoPfn ? kNoPfn : h + (i - m.frame(h).index.peek());
}
// What the page cache holds on the folio backing page i.
int32_t cache_refs(Model& m, uint32_t i) { return 1 << m.frame(head_of(m, i)).order.peek(); }
// What one pin adds to the folio backing page i.
int32_t pin_refs(Model& m, uint32_t i) { return m.frame(head_of(m, i)).order.peek() > 0 ? 1 : kBias; }

GmemState state(Model& m, uint32_t i) { return m.gmem().state_quiescent(i); }

// --- populate -------------------------------------------------------------------

// populate backs a whole huge unit from ZONE_NORMAL, owned by guest_memfd,
// every page shared, held by the page cache only.
TEST(GmemPopulate, BacksAHugeUnitAllShared) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().size(), 16u);
    ASSERT_EQ(m.gmem().huge_pages(), 4u);
    EXPECT_EQ(m.gmem().populate(6), 0);  // unit 1: pages 4..7

    const Pfn base = head_of(m, 4);
    ASSERT_NE(base, kNoPfn);
    EXPECT_EQ(base % 4, 0u);
    EXPECT_EQ(m.frames().zone_of(base), ZoneType::Normal);
    for (uint32_t i = 4; i < 8; ++i) {
      SCOPED_TRACE(i);
      const Pfn h = head_of(m, i);
      EXPECT_EQ(page_of(m, i), base + (i - 4));
      EXPECT_EQ(h, split(pol) ? base + (i - 4) : base);
      EXPECT_EQ(m.frame(h).order.peek(), split(pol) ? 0 : 2);
      EXPECT_EQ(refcount(m, h), split(pol) ? 1 : 4);
      EXPECT_EQ(static_cast<OwnerId>(m.frame(h).owner.peek()), OwnerId::Guestmem);
      EXPECT_EQ(m.frame(h).mapping.peek(), core::kGmemMapping);
      EXPECT_EQ(m.frame(h).index.peek(), split(pol) ? i : 4u);
      EXPECT_EQ(state(m, i), GmemState::Shared);
      EXPECT_EQ(m.gmem().state(i), GmemState::Shared);
      EXPECT_EQ(m.gmem().page_state(base + (i - 4)), GmemState::Shared);
    }
    for (uint32_t i : {0u, 3u, 8u, 15u}) EXPECT_EQ(state(m, i), GmemState::Absent) << i;
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 4);
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Movable), kZoneFrames);

    EXPECT_EQ(m.gmem().populate(4), -EEXIST);
    EXPECT_EQ(m.gmem().populate(7), -EEXIST);
    EXPECT_EQ(m.gmem().populate(16), -EINVAL);
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 4);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// --- host faults ----------------------------------------------------------------

// A shared page faults in: the mapping takes its reference and mapcount, the
// lookup's reference is dropped again; the host reads and writes it.
//   (a) 4 --lookup--> 5 --map--> 6 mc1 --put lookup--> 5     (b) 1 -> 2 mc1
TEST(GmemFault, MapsSharedPages) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    const Pfn h1 = head_of(m, 1);
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 2, 1), 0);
    EXPECT_EQ(m.gmem().fault_map(m.mm(1), 2, 1), 0);
    EXPECT_EQ(pte(m, 0, 2), core::pte::mk(page_of(m, 1)));
    EXPECT_EQ(pte(m, 1, 2), core::pte::mk(page_of(m, 1)));
    EXPECT_EQ(refcount(m, h1), cache_refs(m, 1) + 2);
    EXPECT_EQ(mapcount(m, h1), 2);
    EXPECT_EQ(core::mm_write(m, m.mm(0), 2, 0xbeef), 0);
    uint64_t v = 0;
    EXPECT_EQ(core::mm_read(m, m.mm(1), 2, v), 0);
    EXPECT_EQ(v, 0xbeefu);

    // refusals: nothing held afterwards
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 2, 3), -EBUSY);   // the slot is taken
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 3, 8), -ENOENT);  // no backing
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 3, 16), -EINVAL);
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 16, 0), -EINVAL);  // map_page: bad slot
    EXPECT_EQ(refcount(m, h1), cache_refs(m, 1) + 2);
    EXPECT_EQ(refcount(m, head_of(m, 3)), split(pol) ? 1 : 6);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// Private pages are not the host's: fault_map and map_page refuse them.
TEST(GmemFault, PrivatePagesAreRefused) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().convert(2, 1, true), 0);
    const int32_t before = refcount(m, head_of(m, 2));
    EXPECT_EQ(m.gmem().fault_map(m.mm(0), 0, 2), -EPERM);
    EXPECT_FALSE(core::gmem_host_may_map(m, page_of(m, 2)));
    EXPECT_TRUE(core::gmem_host_may_map(m, page_of(m, 1)));
    // map_page with a reference in hand, as a buggy host path would try
    const Pfn h = core::filemap_get_folio(m, m.gmem().cache(), 2);
    ASSERT_EQ(h, head_of(m, 2));
    EXPECT_EQ(core::map_page(m, m.mm(0), 0, page_of(m, 2)), -EPERM);
    EXPECT_EQ(flags(m, h) & core::pg::locked, 0u);
    core::folio_put(m, h);
    EXPECT_EQ(pte(m, 0, 0), 0u);
    EXPECT_EQ(refcount(m, head_of(m, 2)), before);
    EXPECT_EQ(mapcount(m, head_of(m, 2)), 0);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// --- conversion -----------------------------------------------------------------

// shared -> private: every host mapping of the page goes, the page turns
// private and its data is scrubbed; the neighbours are untouched.
//   (a) 4 --map x2--> 6 mc2 --convert(1): unmap 4 mc0, refs == 4--> private
TEST(GmemConvert, SharedToPrivateUnmapsAndScrubs) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 5, 1), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(1), 9, 1), 0);
    ASSERT_EQ(core::mm_write(m, m.mm(0), 5, 0x5ec7e7), 0);
    m.frame(page_of(m, 0)).payload.store(10, std::memory_order_relaxed);
    m.frame(page_of(m, 2)).payload.store(12, std::memory_order_relaxed);

    EXPECT_EQ(m.gmem().convert(1, 1, true), 0);

    EXPECT_EQ(state(m, 1), GmemState::Private);
    EXPECT_EQ(state(m, 0), GmemState::Shared);
    EXPECT_EQ(state(m, 2), GmemState::Shared);
    EXPECT_EQ(pte(m, 0, 5), 0u);
    EXPECT_EQ(pte(m, 1, 9), 0u);
    EXPECT_EQ(mapcount(m, head_of(m, 1)), 0);
    EXPECT_EQ(refcount(m, head_of(m, 1)), cache_refs(m, 1));
    EXPECT_EQ(m.frame(page_of(m, 1)).payload.peek(), kGmemScrubbed);
    EXPECT_EQ(m.frame(page_of(m, 0)).payload.peek(), 10u);
    EXPECT_EQ(m.frame(page_of(m, 2)).payload.peek(), 12u);
    EXPECT_EQ(m.probes().count(Probe::GmemConvertWaited), 0u);
    EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), 0u);
    EXPECT_EQ(head_of(m, 1), split(pol) ? page_of(m, 1) : page_of(m, 0)) << "the backing did not move";
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// A host mapping of page 2 is a reference on page 1's folio under (a) — one
// folio per huge unit — so converting page 1 stays busy; under (b) page 2
// has its own folio and page 1 converts. Page 1's own mapping is gone either
// way (step 2 runs before the wait), and a busy page stays shared.
//   (a) 4 --map p1, p2--> 6 --convert(1): unmap p1 5 != 4 ... -EAGAIN
TEST(GmemConvert, MappingOfAnotherPageOfTheUnit) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 1, 1), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 2, 2), 0);
    ASSERT_EQ(core::mm_write(m, m.mm(0), 1, 77), 0);

    const int err = m.gmem().convert(1, 1, true);

    EXPECT_EQ(err, split(pol) ? 0 : -EAGAIN);
    EXPECT_EQ(state(m, 1), split(pol) ? GmemState::Private : GmemState::Shared);
    EXPECT_EQ(m.frame(page_of(m, 1)).payload.peek(), split(pol) ? kGmemScrubbed : 77u);
    EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), split(pol) ? 0u : 1u);
    EXPECT_EQ(pte(m, 0, 1), 0u);
    EXPECT_EQ(pte(m, 0, 2), core::pte::mk(page_of(m, 2)));
    EXPECT_EQ(state(m, 2), GmemState::Shared);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// A short-term pin is a transient reference: conversion waits
// gmem_convert_spins sync points for it, gives up with -EAGAIN (the page
// stays shared, its data intact, its host mapping gone), and succeeds once
// the pin is released. Both GUP paths.
//   (b) 1 --map--> 2 --pin--> 1026 --convert: unmap 1025, wait, busy-->
//   --unpin--> 1 --convert--> private
TEST(GmemConvert, BusyWhileAShortTermPinIsHeld) {
  for (GmemPinPolicy pol : kPolicies) {
    for (bool fast : {false, true}) {
      SCOPED_TRACE(testing::Message() << core::design_value_name(pol) << (fast ? " fast" : " slow"));
      Model m(config(pol));
      ASSERT_EQ(m.gmem().populate(0), 0);
      ASSERT_EQ(m.gmem().fault_map(m.mm(0), 0, 3), 0);
      ASSERT_EQ(core::mm_write(m, m.mm(0), 0, 33), 0);
      const core::GupResult r = fast ? core::get_user_page_fast(m, m.mm(0), 0, foll::pin)
                                     : core::get_user_page(m, m.mm(0), 0, foll::pin);
      ASSERT_EQ(r.err, 0);
      ASSERT_EQ(r.page, page_of(m, 3));
      const Pfn h = head_of(m, 3);
      EXPECT_EQ(refcount(m, h), cache_refs(m, 3) + 1 + pin_refs(m, 3));

      EXPECT_EQ(m.gmem().convert(3, 1, true), -EAGAIN);
      EXPECT_EQ(m.probes().count(Probe::GmemConvertWaited), 1u);
      EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), 1u);
      EXPECT_EQ(state(m, 3), GmemState::Shared);
      EXPECT_EQ(pte(m, 0, 0), 0u);
      EXPECT_EQ(m.frame(page_of(m, 3)).payload.peek(), 33u);
      EXPECT_EQ(refcount(m, h), cache_refs(m, 3) + pin_refs(m, 3));
      EXPECT_EQ(pincount(m, h), split(pol) ? 0 : 1);
      EXPECT_TRUE(audit_clean(m, ledger_of(m, {}, {{h, 1}})));

      core::unpin_user_page(m, r.page);
      EXPECT_EQ(m.gmem().convert(3, 1, true), 0);
      EXPECT_EQ(state(m, 3), GmemState::Private);
      EXPECT_EQ(m.frame(page_of(m, 3)).payload.peek(), kGmemScrubbed);
      EXPECT_EQ(refcount(m, h), cache_refs(m, 3));
      EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), 1u);
      EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
    }
  }
}

// private -> shared needs no wait; the host can fault the page in again and
// sees the scrubbed data, never the guest's.
TEST(GmemConvert, PrivateToShared) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(8), 0);
    ASSERT_EQ(m.gmem().convert(8, 4, true), 0);
    for (uint32_t i = 8; i < 12; ++i) EXPECT_EQ(state(m, i), GmemState::Private);
    m.frame(page_of(m, 9)).payload.store(0x9e57, std::memory_order_relaxed);  // the guest's data
    ASSERT_EQ(m.gmem().convert(9, 1, true), 0);  // private -> private: scrubbed again
    EXPECT_EQ(m.frame(page_of(m, 9)).payload.peek(), kGmemScrubbed);

    EXPECT_EQ(m.gmem().convert(9, 2, false), 0);
    EXPECT_EQ(state(m, 8), GmemState::Private);
    EXPECT_EQ(state(m, 9), GmemState::Shared);
    EXPECT_EQ(state(m, 10), GmemState::Shared);
    EXPECT_EQ(state(m, 11), GmemState::Private);
    EXPECT_EQ(m.probes().count(Probe::GmemConvertWaited), 0u);
    EXPECT_EQ(m.gmem().fault_map(m.mm(1), 4, 9), 0);
    EXPECT_EQ(m.gmem().fault_map(m.mm(1), 5, 8), -EPERM);
    uint64_t v = 0;
    EXPECT_EQ(core::mm_read(m, m.mm(1), 4, v), 0);
    EXPECT_EQ(v, kGmemScrubbed);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

TEST(GmemConvert, BadRanges) {
  Model m(config(GmemPinPolicy::RefuseLongterm));
  ASSERT_EQ(m.gmem().populate(0), 0);
  EXPECT_EQ(m.gmem().convert(16, 1, true), -EINVAL);
  EXPECT_EQ(m.gmem().convert(0, 0, true), -EINVAL);
  EXPECT_EQ(m.gmem().convert(14, 3, false), -EINVAL);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(state(m, i), GmemState::Shared);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- policy (a): RefuseLongterm ----------------------------------------------------

// A long-term pin on a shared guest_memfd page is refused outright (-EPERM
// from the slow path; GUP-fast declines with -EAGAIN and sends the caller
// there); nothing is held afterwards. Short-term pins are still allowed.
TEST(GmemPolicyRefuseLongterm, LongtermPinIsRefused) {
  Model m(config(GmemPinPolicy::RefuseLongterm));
  ASSERT_EQ(m.gmem().populate(0), 0);
  ASSERT_EQ(m.gmem().fault_map(m.mm(0), 0, 0), 0);
  const Pfn h = head_of(m, 0);
  ASSERT_EQ(refcount(m, h), 5);
  EXPECT_FALSE(core::gmem_may_longterm_pin(m, page_of(m, 0)));

  EXPECT_EQ(core::get_user_page(m, m.mm(0), 0, foll::pin | foll::longterm).err, -EPERM);
  EXPECT_EQ(m.probes().count(Probe::GmemLongtermRefused), 1u);
  EXPECT_EQ(core::get_user_page_fast(m, m.mm(0), 0, foll::pin | foll::longterm).err, -EAGAIN);
  EXPECT_EQ(refcount(m, h), 5);
  EXPECT_EQ(pincount(m, h), 0);
  EXPECT_EQ(m.probes().count(Probe::LongtermMigrated) + m.probes().count(Probe::MigrateSucceeded), 0u);
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {})));

  const core::GupResult r = core::get_user_page(m, m.mm(0), 0, foll::pin);
  ASSERT_EQ(r.err, 0);
  EXPECT_EQ(refcount(m, h), 6);
  EXPECT_EQ(pincount(m, h), 1);
  core::unpin_user_page(m, r.page);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// One folio per huge unit: a short-term pin on page 0 holds up conversion of
// page 1 (same folio), but not of page 4 (the next unit's folio).
//   unit 0: 4 --map p0--> 5 --pin--> 6 pc1 --convert(1): 5 != 4 ... -EAGAIN
TEST(GmemPolicyRefuseLongterm, PinOnPage0BlocksConversionOfPage1) {
  Model m(config(GmemPinPolicy::RefuseLongterm));
  ASSERT_EQ(m.gmem().populate(0), 0);
  ASSERT_EQ(m.gmem().populate(4), 0);
  ASSERT_EQ(m.gmem().fault_map(m.mm(0), 0, 0), 0);
  const core::GupResult r = core::get_user_page(m, m.mm(0), 0, foll::pin);
  ASSERT_EQ(r.err, 0);
  const Pfn h = head_of(m, 0);
  EXPECT_EQ(head_of(m, 1), h);
  EXPECT_EQ(refcount(m, h), 6);

  EXPECT_EQ(m.gmem().convert(1, 1, true), -EAGAIN);
  EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), 1u);
  EXPECT_EQ(state(m, 1), GmemState::Shared);
  EXPECT_EQ(pte(m, 0, 0), core::pte::mk(page_of(m, 0))) << "page 0 was not in the range";
  EXPECT_EQ(m.gmem().convert(4, 1, true), 0);
  EXPECT_EQ(state(m, 4), GmemState::Private);
  EXPECT_TRUE(audit_clean(m, ledger_of(m, {}, {{h, 1}})));

  core::unpin_user_page(m, r.page);
  EXPECT_TRUE(core::unmap_slot(m, m.mm(0), 0));
  EXPECT_EQ(m.gmem().convert(1, 1, true), 0);
  EXPECT_EQ(state(m, 1), GmemState::Private);
  EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
}

// --- policy (b): SplitSmallFolios --------------------------------------------------

// 4 KiB folios: a long-term pin on page 0 is allowed (ZONE_NORMAL, no
// migration) and blocks conversion of page 0 only; page 1 converts.
//   page 0: 1 --map--> 2 --LONGTERM pin--> 1026 --unmap (convert)--> 1025: busy
//   page 1: 1 --convert--> private
TEST(GmemPolicySplitSmallFolios, LongtermPinBlocksOnlyItsPage) {
  for (bool fast : {false, true}) {
    SCOPED_TRACE(fast ? "fast" : "slow");
    Model m(config(GmemPinPolicy::SplitSmallFolios));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 0, 0), 0);
    EXPECT_TRUE(core::gmem_may_longterm_pin(m, page_of(m, 0)));
    const core::GupResult r = fast ? core::get_user_page_fast(m, m.mm(0), 0, foll::pin | foll::longterm)
                                   : core::get_user_page(m, m.mm(0), 0, foll::pin | foll::longterm);
    ASSERT_EQ(r.err, 0);
    const Pfn p0 = head_of(m, 0);
    EXPECT_EQ(r.head, p0);
    EXPECT_EQ(refcount(m, p0), 2 + kBias);
    EXPECT_EQ(m.probes().count(Probe::GmemLongtermRefused), 0u);
    EXPECT_EQ(m.probes().count(Probe::LongtermMigrated), 0u);

    EXPECT_EQ(m.gmem().convert(0, 1, true), -EAGAIN);
    EXPECT_EQ(state(m, 0), GmemState::Shared);
    EXPECT_EQ(refcount(m, p0), 1 + kBias);
    EXPECT_EQ(m.gmem().convert(1, 1, true), 0);
    EXPECT_EQ(state(m, 1), GmemState::Private);
    EXPECT_EQ(m.gmem().convert(0, 2, true), -EAGAIN) << "a range with the pinned page is busy";
    EXPECT_EQ(m.probes().count(Probe::GmemConvertBusy), 2u);
    EXPECT_TRUE(audit_clean(m, ledger_of(m, {}, {{p0, 1}})));

    core::unpin_user_page(m, r.page);
    EXPECT_EQ(m.gmem().convert(0, 1, true), 0);
    EXPECT_EQ(state(m, 0), GmemState::Private);
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// --- PUNCH_HOLE -----------------------------------------------------------------

// punch_hole truncates the whole unit: host mappings go, every page becomes
// absent, and each folio's last put runs guest_memfd's free_folio through the
// owner hook (scrub, then the buddy).
TEST(GmemPunchHole, FreesEverythingThroughTheOwnerHook) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().populate(12), 0);
    ASSERT_EQ(m.gmem().convert(2, 1, true), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 0, 0), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(1), 0, 3), 0);
    const Pfn base = page_of(m, 0);
    for (uint32_t i = 0; i < 4; ++i)
      if (i != 2) m.frame(base + i).payload.store(500 + i, std::memory_order_relaxed);

    EXPECT_EQ(m.gmem().punch_hole(1), 0);

    for (uint32_t i = 0; i < 4; ++i) {
      EXPECT_EQ(state(m, i), GmemState::Absent) << i;
      EXPECT_EQ(head_of(m, i), kNoPfn) << i;
      EXPECT_EQ(m.frame(base + i).payload.peek(), kGmemScrubbed) << i;
      EXPECT_EQ(refcount(m, base + i), 0) << i;
    }
    EXPECT_EQ(pte(m, 0, 0), 0u);
    EXPECT_EQ(pte(m, 1, 0), 0u);
    EXPECT_EQ(m.probes().count(Probe::PutLastByOwnerHook), split(pol) ? 4u : 1u);
    EXPECT_EQ(state(m, 12), GmemState::Shared) << "the other unit is untouched";
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 4);
    EXPECT_EQ(m.gmem().punch_hole(2), -ENOENT);
    EXPECT_EQ(m.gmem().punch_hole(16), -EINVAL);
    EXPECT_TRUE(audit_clean(m, ledger_of(m, {})));

    EXPECT_EQ(m.gmem().punch_hole(15), 0);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// A pinned folio outlives the hole: it leaves the cache at once, and its
// unpin is the last put that runs the owner hook and scrubs it.
//   (a) 4 --map--> 5 --pin--> 6 pc1 --punch: unmap, cache refs--> 1 pc1 --unpin--> 0 => owner hook
TEST(GmemPunchHole, PinnedFolioIsFreedByTheUnpin) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(4), 0);
    ASSERT_EQ(m.gmem().fault_map(m.mm(0), 7, 5), 0);
    ASSERT_EQ(core::mm_write(m, m.mm(0), 7, 55), 0);
    const core::GupResult r = core::get_user_page(m, m.mm(0), 7, foll::pin);
    ASSERT_EQ(r.err, 0);
    const Pfn h = r.head;

    EXPECT_EQ(m.gmem().punch_hole(5), 0);
    EXPECT_EQ(refcount(m, h), split(pol) ? kBias : 1);  // the pin's
    EXPECT_EQ(pincount(m, h), split(pol) ? 0 : 1);
    EXPECT_EQ(m.frame(h).mapping.peek(), 0);
    EXPECT_EQ(pte(m, 0, 7), 0u);
    EXPECT_EQ(state(m, 5), GmemState::Absent);
    EXPECT_EQ(m.frame(r.page).payload.peek(), 55u) << "the pinned page is still the DMA target";
    EXPECT_EQ(m.probes().count(Probe::PutLastByOwnerHook), split(pol) ? 3u : 0u);
    EXPECT_TRUE(audit_clean(m, ledger_of(m, {}, {{h, 1}})));

    core::unpin_user_page(m, r.page);
    EXPECT_EQ(m.probes().count(Probe::PutLastByOwnerHook), split(pol) ? 4u : 1u);
    EXPECT_EQ(m.frame(r.page).payload.peek(), kGmemScrubbed);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_TRUE(all_clean(m, ledger_of(m, {})));
  }
}

// --- host access to private memory -----------------------------------------------

// The hook host-access paths call: touching a private page is a Security
// violation; shared and non-guest_memfd pages are fine.
TEST(GmemHostAccess, PrivatePageIsASecurityViolation) {
  for (GmemPinPolicy pol : kPolicies) {
    SCOPED_TRACE(core::design_value_name(pol));
    Model m(config(pol));
    ASSERT_EQ(m.gmem().populate(0), 0);
    ASSERT_EQ(m.gmem().convert(1, 1, true), 0);
    const Pfn anon = core::alloc_pages(m, ZoneType::Movable, 0);
    core::gmem_check_host_access(m, page_of(m, 0), "test:shared");
    core::gmem_check_host_access(m, anon, "test:anon");
    EXPECT_TRUE(no_violations(m));
    EXPECT_TRUE(core::gmem_may_longterm_pin(m, anon));
    EXPECT_TRUE(core::gmem_host_may_map(m, anon));

    core::gmem_check_host_access(m, page_of(m, 1), "test:private");
    EXPECT_TRUE(only_violation(m, ViolationKind::Security, page_of(m, 1), "test:private", "private"));
    core::folio_put(m, anon);
  }
}

// The audit's own guest_memfd check: a private page the host still maps is
// reported. The state is planted (no host path can reach it: map_page
// refuses private pages, conversion unmaps), with the PTE's reference and
// mapcount, so that only the security check fires.
TEST(GmemHostAccess, AuditReportsAPrivatePageStillMapped) {
  Model m(config(GmemPinPolicy::SplitSmallFolios));
  ASSERT_EQ(m.gmem().populate(0), 0);
  ASSERT_EQ(m.gmem().convert(1, 1, true), 0);
  const Pfn p = page_of(m, 1);
  core::folio_get(m, p);
  m.frame(p).mapcount.init(1);
  m.mm(0).pte(4).init(core::pte::mk(p));
  const core::AuditReport r = core::audit(m, ledger_of(m, {}), false);
  EXPECT_TRUE(only_violation(r.violations, ViolationKind::Security, p, "audit:guest_memfd", "mapped"));
}

// --- host access racing PUNCH_HOLE (bounded exploration) ---------------------------

// The model of the minimized trace: one huge unit, one mm of two slots, short
// conversion spins, so that bound 2 is exhausted in well under a second.
core::ModelConfig gmem_race_config(GmemPinPolicy p) {
  core::ModelConfig c = model_of(
      "normal=16 movable=16 device=0 block=16 max_order=3 mms=1 mm_slots=2 file_pages=4 gmem_pages=4 "
      "gmem_huge_order=2 gmem_convert_spins=8 rcu_readers=2 migrate_passes=2 hugetlb_order=2 "
      "hugetlb_dissolve_retries=8 pgmap_teardown_spins=8 offline_passes=2");
  c.design.gmem_pin_policy = p;
  return c;
}

refhammer::harness::Program race_program(const core::ModelConfig& cfg, const char* host_op) {
  return program_of(cfg, {{"gmem_populate index=0", "gmem_map index=0 mm=0 pte=0", "gmem_punch index=0",
                           "gmem_convert index=0 count=1 private=1"},
                          {std::string(host_op) + " mm=0 pte=0"}});
}

// Minimized from stress --profile gmem --seed 21 (security/get_user_page/get_user):
//   t0: gmem_populate index=0; gmem_map index=0 mm=0 pte=0; gmem_punch index=0;
//       gmem_convert index=0 count=1 private=1
//   t1: get_user mm=0 pte=0
//   schedule 0x104 1x15 0x48 1x1 (2 preemptions)
// t1 takes its reference under the PTL while page 0 is shared and in the
// file, and gmem_check_host_access() reads the folio's mapping (still the
// guest_memfd's). t0's PUNCH_HOLE then unmaps and truncates the folio (it
// stays alive on t1's reference, no longer guest memory), and the conversion
// turns the hole at index 0 private. t1 read the state of index 0, not of its
// folio: Private, a false Security violation. The kernel is fine here (the
// private attribute is the index's; the orphaned folio is invalidated by
// free_folio when t1's reference goes). page_state() now counts the state
// only if the folio is still the file's at that index after reading it.
// The same for the slow-path pin and for GUP-fast, in both pin policies.
TEST(GmemHostAccess, GupRacingPunchHoleAndConversionOfTheHoleIsClean) {
  for (GmemPinPolicy pol : kPolicies)
    for (const char* host_op : {"get_user", "pin", "gup_fast"}) {
      const std::string what = std::string(core::design_value_name(pol)) + " " + host_op;
      const core::ModelConfig cfg = gmem_race_config(pol);
      refhammer::harness::BoundedOptions bo;
      bo.bound = 2;
      bo.run.audit_every = 0;  // teardown audit only: quiescent audits would serialise the ops
      const refhammer::harness::BoundedResult b = refhammer::harness::explore_bounded(cfg, race_program(cfg, host_op), bo);
      expect_exhausted_and_clean(b, 100, what);
    }
}

}  // namespace
