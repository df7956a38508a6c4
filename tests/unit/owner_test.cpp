// tests for core/owner.hpp — the zero-transition dispatch (seed 000's
// folio_owner_ops) against mainline's per-type checks, and owner claims in
// the audit.
#include "core/owner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/guest_memfd.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/support.hpp"

namespace {

using core::FreeDispatch;
using core::OwnerId;
using core::PageType;
using core::RefEvent;
using namespace refhammer_test;

// An owner that keeps what reaches zero in a pool (frozen, off the buddy),
// and claims its pool in the audit, as hugetlb does with its free lists.
class PoolOwner final : public core::FolioOwnerOps {
 public:
  const char* name() const noexcept override { return "test-pool"; }
  void free_folio(Model& m, Pfn head) override {
    freed.push_back(head);
    refcount_seen.push_back(m.frame(head).refcount.peek());
    pool.push_back(head);
  }
  void audit_claims(const Model&, HolderLedger& ledger) const override {
    ++claims_asked;
    for (Pfn p : pool) ledger.add_frozen(p, "test-pool");
  }
  std::vector<Pfn> freed;
  std::vector<int32_t> refcount_seen;
  std::vector<Pfn> pool;
  mutable int claims_asked = 0;
};

core::ModelConfig config_with(FreeDispatch d) {
  core::ModelConfig c = small_config();
  c.design.free_dispatch = d;
  return c;
}

bool has_event(Model& m, Pfn p, RefEvent e) {
  const auto h = m.frame(p).history.snapshot();
  return std::any_of(h.begin(), h.end(), [e](const core::PageRefRecord& r) { return r.event == e; });
}

// Owner hook: the last put calls the folio's owner exactly once, and the folio
// does not go to the buddy.
//   1 --get--> 2 --put--> 1 --put--> 0 => owner->free_folio(h) (pool, frozen)
TEST(OwnerHook, LastPutCallsTheRegisteredOwnerOnce) {
  for (OwnerId id : {OwnerId::Hugetlb, OwnerId::Offline, OwnerId::Guestmem, OwnerId::DevicePgmap}) {
    SCOPED_TRACE(core::owner_name(id));
    Model m(small_config());
    PoolOwner owner;
    m.register_owner(id, &owner);
    EXPECT_EQ(m.owner_ops(id), &owner);
    const Pfn h = alloc(m, 2, ZoneType::Normal);
    m.frame(h).owner.store(static_cast<uint8_t>(id), std::memory_order_relaxed);

    core::folio_get(m, h);
    core::folio_put(m, h);
    EXPECT_TRUE(owner.freed.empty());
    core::folio_put(m, h);
    EXPECT_EQ(owner.freed, std::vector<Pfn>{h});
    EXPECT_EQ(owner.refcount_seen, std::vector<int32_t>{0});
    EXPECT_EQ(refcount(m, h), 0);
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), kZoneFrames - 4);
    EXPECT_NE(page_type(m, h), PageType::Buddy);
    EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
    EXPECT_EQ(m.probes().count(Probe::PutLastByOwnerHook), 1u);
    EXPECT_EQ(m.frame(h).history.snapshot().back().event, RefEvent::OwnerFree);

    // the owner claims its pool, so the frozen folio is accounted for
    const auto r = core::audit(m, HolderLedger(m.frames().size()), false);
    EXPECT_TRUE(r.clean()) << describe(r.violations);
    EXPECT_EQ(r.frozen_folios, 1u);
    EXPECT_EQ(owner.claims_asked, 1);

    // the owner hands it back to the buddy later
    owner.pool.clear();
    core::free_frozen_pages(m, h, 2);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_EQ(owner.freed.size(), 1u);
    EXPECT_TRUE(no_violations(m));
  }
}

TEST(OwnerHook, BuddyOwnedFoliosNeverReachOtherOwners) {
  Model m(small_config());
  PoolOwner owner;
  m.register_owner(OwnerId::Hugetlb, &owner);
  const Pfn h = alloc(m, 1, ZoneType::Movable);
  core::folio_put(m, h);
  EXPECT_TRUE(owner.freed.empty());
  EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
  EXPECT_EQ(m.probes().count(Probe::PutLastByOwnerHook), 0u);
  EXPECT_FALSE(has_event(m, h, RefEvent::OwnerFree));
  EXPECT_TRUE(fully_merged(m));
}

TEST(OwnerHook, EveryOwnerIsRegisteredAtConstruction) {
  Model m(small_config());
  ASSERT_NE(m.owner_ops(OwnerId::Buddy), nullptr);
  EXPECT_STREQ(m.owner_ops(OwnerId::Buddy)->name(), "buddy");
  // hugetlb, the device pgmap and the PageOffline driver are part of every
  // Model too (issue 4) and take their zero transitions through the hook.
  for (OwnerId id : {OwnerId::Hugetlb, OwnerId::DevicePgmap, OwnerId::Offline})
    EXPECT_NE(m.owner_ops(id), nullptr) << core::owner_name(id);
  // guest_memfd is part of every Model and registers itself
  EXPECT_EQ(m.owner_ops(OwnerId::Guestmem), static_cast<core::FolioOwnerOps*>(&m.gmem()));
  // its free_folio is the buddy's free path
  const Pfn h = alloc_frozen(m, 3, ZoneType::Normal);
  m.owner_ops(OwnerId::Buddy)->free_folio(m, h);
  EXPECT_TRUE(fully_merged(m));
}

TEST(OwnerHook, FreeFolioToBuddyFreesAtTheFoliosOrder) {
  Model m(small_config());
  const Pfn h = alloc_frozen(m, 2, ZoneType::Normal);
  core::free_folio_to_buddy(m, h);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

struct DispatchCase {
  const char* name;
  FreeDispatch dispatch;
  OwnerId owner;       // the folio's owner field
  PageType type;       // the folio's page_type
  bool register_ops;   // a PoolOwner is registered for `registered`
  OwnerId registered;
  bool to_owner;       // else: back to the buddy
};

// The design variants disagree on who frees what:
//   OwnerHook dispatches on the owner field only;
//   PerTypeChecks (mainline) knows hugetlb by page_type, and sends every
//   other owner (PageOffline, guest_memfd) to the buddy.
TEST(FreeDispatch, OwnerHookAgainstPerTypeChecks) {
  const DispatchCase cases[] = {
      {"hook/offline_owner", FreeDispatch::OwnerHook, OwnerId::Offline, PageType::Offline, true, OwnerId::Offline,
       true},
      {"per_type/offline_owner_goes_to_buddy", FreeDispatch::PerTypeChecks, OwnerId::Offline, PageType::Offline,
       true, OwnerId::Offline, false},
      {"per_type/guestmem_owner_goes_to_buddy", FreeDispatch::PerTypeChecks, OwnerId::Guestmem, PageType::Guestmem,
       true, OwnerId::Guestmem, false},
      {"per_type/hugetlb_type", FreeDispatch::PerTypeChecks, OwnerId::Buddy, PageType::Hugetlb, true,
       OwnerId::Hugetlb, true},
      {"per_type/hugetlb_type_and_owner", FreeDispatch::PerTypeChecks, OwnerId::Hugetlb, PageType::Hugetlb, true,
       OwnerId::Hugetlb, true},
      {"per_type/hugetlb_type_without_ops", FreeDispatch::PerTypeChecks, OwnerId::Buddy, PageType::Hugetlb, false,
       OwnerId::Hugetlb, false},
      {"hook/hugetlb_type_but_buddy_owner", FreeDispatch::OwnerHook, OwnerId::Buddy, PageType::Hugetlb, true,
       OwnerId::Hugetlb, false},
      {"hook/hugetlb_owner", FreeDispatch::OwnerHook, OwnerId::Hugetlb, PageType::Hugetlb, true, OwnerId::Hugetlb,
       true},
  };
  for (const DispatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(config_with(c.dispatch));
    PoolOwner owner;
    // Every owner is registered at construction; "without ops" unregisters.
    m.register_owner(c.registered, c.register_ops ? &owner : nullptr);
    const Pfn h = alloc(m, 1, ZoneType::Normal);
    m.frame(h).owner.store(static_cast<uint8_t>(c.owner), std::memory_order_relaxed);
    m.frame(h).page_type.store(static_cast<uint8_t>(c.type), std::memory_order_relaxed);

    core::folio_put(m, h);

    EXPECT_EQ(owner.freed.size(), c.to_owner ? 1u : 0u);
    EXPECT_EQ(has_event(m, h, RefEvent::OwnerFree), c.to_owner);
    EXPECT_EQ(m.buddy().nr_free_pages(ZoneType::Normal), c.to_owner ? kZoneFrames - 2 : kZoneFrames);
    if (!c.to_owner) {
      EXPECT_TRUE(fully_merged(m));
      EXPECT_EQ(static_cast<OwnerId>(m.frame(h).owner.peek()), OwnerId::Buddy) << "the free resets the owner";
    }
    EXPECT_TRUE(no_violations(m));
  }
}

// ZONE_DEVICE frames never go to the buddy: the pgmap owner frees them.
// (The frame is handed out by planting refcount 1: core has no pgmap yet.)
TEST(FreeDispatch, DeviceFrames) {
  const struct {
    const char* name;
    FreeDispatch dispatch;
    bool set_owner;  // owner field = DevicePgmap
    bool register_ops;
    bool to_owner;
  } cases[] = {
      {"hook/pgmap_owner", FreeDispatch::OwnerHook, true, true, true},
      {"per_type/device_zone", FreeDispatch::PerTypeChecks, false, true, true},
      {"per_type/device_zone_without_ops", FreeDispatch::PerTypeChecks, false, false, false},
      {"hook/device_frame_owned_by_buddy", FreeDispatch::OwnerHook, false, true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(config_with(c.dispatch));
    PoolOwner owner;
    m.register_owner(OwnerId::DevicePgmap, c.register_ops ? &owner : nullptr);
    const Pfn p = kDeviceStart + 5;
    m.frame(p).refcount.init(1);
    if (c.set_owner) m.frame(p).owner.init(static_cast<uint8_t>(OwnerId::DevicePgmap));

    core::folio_put(m, p);  // 1 --put--> 0 => pgmap (or a refused buddy free)

    EXPECT_EQ(refcount(m, p), 0);
    if (c.to_owner) {
      EXPECT_EQ(owner.freed, std::vector<Pfn>{p});
      EXPECT_TRUE(no_violations(m));
    } else {
      EXPECT_TRUE(owner.freed.empty());
      EXPECT_TRUE(only_violation(m, core::ViolationKind::BadPageFree, p, "free_frozen_pages",
                                 "ZONE_DEVICE frame freed to the buddy"));
    }
    EXPECT_TRUE(fully_merged(m));
  }
}

// The RCU rule on every free path: a folio that left a page cache must not be
// freed before the grace period it waits for, while a lookup that started
// before the removal may still be running.
//   reader in --start gp--> 1 --put--> 0 => __folio_put ! UseAfterFree (the free goes on)
TEST(FreePath, FreeBeforeTheGracePeriodIsAUseAfterFree) {
  Model m(small_config());
  const Pfn p = alloc(m, 1, ZoneType::Normal);
  const uint32_t reader = m.rcu().rcu_read_lock();
  const uint64_t gp = m.rcu().start_grace_period();
  m.frame(p).rcu_free_after.store(gp, std::memory_order_relaxed);
  core::folio_put(m, p);
  m.rcu().rcu_read_unlock(reader);
  EXPECT_TRUE(only_violation(m, core::ViolationKind::UseAfterFree, p, "__folio_put"));
  EXPECT_TRUE(fully_merged(m));
  EXPECT_EQ(m.frame(p).rcu_free_after.peek(), 0u);
}

//   reader in, out --start gp, synchronize_rcu--> 1 --put--> 0 => __folio_put: fine
TEST(FreePath, FreeAfterTheGracePeriodIsFine) {
  Model m(small_config());
  const Pfn p = alloc(m, 1, ZoneType::Normal);
  m.rcu().rcu_read_unlock(m.rcu().rcu_read_lock());
  const uint64_t gp = m.rcu().start_grace_period();
  m.frame(p).rcu_free_after.store(gp, std::memory_order_relaxed);
  m.rcu().synchronize_rcu(gp);  // no reader left: completes at once
  EXPECT_GE(m.rcu().completed(), gp);
  core::folio_put(m, p);
  EXPECT_TRUE(no_violations(m));
  EXPECT_TRUE(fully_merged(m));
}

// audit_claims of registered owners extends the ledger.
TEST(OwnerClaims, AuditConsultsRegisteredOwners) {
  Model m(small_config());
  const Pfn h = alloc_frozen(m, 1, ZoneType::Normal);
  const HolderLedger empty(m.frames().size());
  const auto before = core::audit(m, empty, false);
  EXPECT_TRUE(only_violation(before.violations, core::ViolationKind::LostFrame, h, "audit:structure"));

  PoolOwner pool;
  pool.pool.push_back(h);
  m.register_owner(OwnerId::Hugetlb, &pool);
  const auto after = core::audit(m, empty, false);
  EXPECT_TRUE(after.clean()) << describe(after.violations);
  EXPECT_EQ(after.frozen_folios, 1u);
  EXPECT_EQ(pool.claims_asked, 1);

  // a claim on a free frame is a frame in two places
  pool.pool.push_back(kMovableStart);
  const auto bad = core::audit(m, empty, false);
  EXPECT_TRUE(only_violation(bad.violations, core::ViolationKind::HeldButFree, kMovableStart, "audit:accounting",
                             "free frame is held frozen by test-pool"));
}

}  // namespace
