// tests for core/page_ref.hpp — every refcount primitive, and every violation
// a primitive can raise (with the primitive backing out).
//
// Timelines in comments read left to right: the refcount of the folio under
// test after each step; "!" marks a reported violation.
#include "core/page_ref.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/buddy.hpp"
#include "core/model.hpp"
#include "tests/support/support.hpp"

namespace {

using core::RefEvent;
using namespace refhammer_test;

// A small folio whose refcount is n, reached through the primitives:
// n == 0 is a frozen folio (alloc, freeze(1)); n < 0 has no legal way there
// and is planted with init().
Pfn folio_with_count(Model& m, int32_t n) {
  const Pfn p = alloc(m);
  if (n == 0) {
    EXPECT_TRUE(core::folio_ref_freeze(m, p, 1));
  } else if (n > 1) {
    core::folio_ref_add(m, p, n - 1);
  } else if (n < 0) {
    m.frame(p).refcount.init(n);
  }
  EXPECT_EQ(refcount(m, p), n);
  return p;
}

std::vector<RefEvent> events(Model& m, Pfn p) {
  std::vector<RefEvent> out;
  for (const auto& r : m.frame(p).history.snapshot()) out.push_back(r.event);
  return out;
}

// --- legal use ----------------------------------------------------------------

// alloc_pages: FREE -> ALLOCATED
//   0 --set_page_refcounted--> 1
TEST(PageRef, AllocSetsRefcountToOne) {
  Model m(small_config());
  const Pfn p = alloc(m);
  EXPECT_EQ(core::folio_ref_count(m, p), 1);
  EXPECT_EQ(m.frame(p).generation.peek(), 1u);
  EXPECT_EQ(events(m, p), (std::vector<RefEvent>{RefEvent::Alloc, RefEvent::SetRefcounted}));
  EXPECT_TRUE(no_violations(m));
}

//   1 --get--> 2 --get--> 3 --ref_add(5)--> 8
TEST(PageRef, FolioGetAndRefAddIncrement) {
  Model m(small_config());
  const Pfn p = alloc(m);
  core::folio_get(m, p);
  EXPECT_EQ(refcount(m, p), 2);
  core::folio_get(m, p);
  EXPECT_EQ(refcount(m, p), 3);
  core::folio_ref_add(m, p, 5);
  EXPECT_EQ(refcount(m, p), 8);
  const auto h = m.frame(p).history.snapshot();
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[2].event, RefEvent::Get);
  EXPECT_EQ(h[2].count, 2);
  EXPECT_EQ(h[4].event, RefEvent::Add);
  EXPECT_EQ(h[4].count, 8);
  EXPECT_TRUE(no_violations(m));
}

// The limit is inclusive: reaching it is legal, passing it is not (below).
//   1 --ref_add(4095)--> 4096 == limit
TEST(PageRef, RefAddUpToTheLimitIsLegal) {
  Model m(small_config());
  const Pfn p = alloc(m);
  core::folio_ref_add(m, p, kLimit - 1);
  EXPECT_EQ(refcount(m, p), kLimit);
  EXPECT_TRUE(no_violations(m));
}

struct TryCase {
  const char* name;
  int32_t start;
  bool ok;
  int32_t after;
  Probe probe;  // the probe a refusal hits (ignored when ok)
};

// folio_try_get = add 1 unless 0; also refuses to pass the limit.
//   0 (frozen) --try_get--> 0 refused        n --try_get--> n+1
TEST(PageRef, FolioTryGet) {
  const TryCase cases[] = {
      {"frozen", 0, false, 0, Probe::TryGetSawZero},
      {"one", 1, true, 2, {}},
      {"several", 7, true, 8, {}},
      {"below_limit", kLimit - 1, true, kLimit, {}},
      {"at_limit", kLimit, false, kLimit, Probe::TryGetRefusedAtLimit},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = folio_with_count(m, c.start);
    EXPECT_EQ(core::folio_try_get(m, p), c.ok);
    EXPECT_EQ(refcount(m, p), c.after);
    EXPECT_EQ(m.frame(p).history.snapshot().back().event, c.ok ? RefEvent::TryGet : RefEvent::TryGetFail);
    if (!c.ok) {
      EXPECT_EQ(m.probes().count(c.probe), 1u);
    }
    EXPECT_TRUE(no_violations(m));
  }
}

struct AddUnlessCase {
  const char* name;
  int32_t start, nr, u;
  bool ok;
  int32_t after;
};

TEST(PageRef, FolioRefAddUnless) {
  const AddUnlessCase cases[] = {
      {"count_is_u", 3, 2, 3, false, 3},
      {"count_is_not_u", 3, 2, 4, true, 5},
      {"zero_is_u", 0, 1, 0, false, 0},
      {"would_pass_limit", kLimit - 1, 2, 0, false, kLimit - 1},
      {"reaches_limit", kLimit - 2, 2, 0, true, kLimit},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = folio_with_count(m, c.start);
    EXPECT_EQ(core::folio_ref_add_unless(m, p, c.nr, c.u), c.ok);
    EXPECT_EQ(refcount(m, p), c.after);
    EXPECT_TRUE(no_violations(m));
  }
}

// GUP-fast's speculative add of a pin's worth of references.
TEST(PageRef, FolioRefTryAdd) {
  const AddUnlessCase cases[] = {
      {"frozen", 0, core::GUP_PIN_COUNTING_BIAS, 0, false, 0},
      {"live", 1, core::GUP_PIN_COUNTING_BIAS, 0, true, 1 + core::GUP_PIN_COUNTING_BIAS},
      {"would_pass_limit", kLimit - 10, core::GUP_PIN_COUNTING_BIAS, 0, false, kLimit - 10},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = folio_with_count(m, c.start);
    EXPECT_EQ(core::folio_ref_try_add(m, p, c.nr), c.ok);
    EXPECT_EQ(refcount(m, p), c.after);
    EXPECT_TRUE(no_violations(m));
  }
}

// try_get_page (CVE-2019-11487): refuses counts <= 0 and counts at the limit,
// without reporting (the refusal is the fix).
TEST(PageRef, TryGetPage) {
  const TryCase cases[] = {
      {"frozen", 0, false, 0, Probe::TryGetRefusedAtLimit},
      {"negative", -1, false, -1, Probe::TryGetRefusedAtLimit},
      {"one", 1, true, 2, {}},
      {"below_limit", kLimit - 1, true, kLimit, {}},
      {"at_limit", kLimit, false, kLimit, Probe::TryGetRefusedAtLimit},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = folio_with_count(m, c.start);
    EXPECT_EQ(core::try_get_page(m, p), c.ok);
    EXPECT_EQ(refcount(m, p), c.after);
    if (!c.ok) {
      EXPECT_EQ(m.probes().count(c.probe), 1u);
    }
    EXPECT_TRUE(no_violations(m));
  }
}

// folio_put_testzero only reports the zero; freeing is the caller's job.
//   2 --put_testzero--> 1 (false) --put_testzero--> 0 (true, FREEING) --free_frozen_pages--> buddy
TEST(PageRef, PutTestzeroReportsZeroButDoesNotFree) {
  Model m(small_config());
  const Pfn p = folio_with_count(m, 2);
  EXPECT_FALSE(core::folio_put_testzero(m, p));
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_TRUE(core::folio_put_testzero(m, p));
  EXPECT_EQ(refcount(m, p), 0);
  EXPECT_EQ(nr_free(m), 2 * kZoneFrames - 1);
  EXPECT_NE(page_type(m, p), core::PageType::Buddy);
  core::free_frozen_pages(m, p, 0);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

// The last put runs __folio_put: the folio goes back to the buddy.
//   1 --get--> 2 --put--> 1 --put--> 0 => __folio_put => free_frozen_pages
TEST(PageRef, LastFolioPutFreesToBuddy) {
  for (unsigned order = 0; order <= kMaxOrder; ++order) {
    SCOPED_TRACE("order " + std::to_string(order));
    Model m(small_config());
    const Pfn p = alloc(m, order);
    core::folio_get(m, p);
    core::folio_put(m, p);
    EXPECT_EQ(nr_free(m), 2 * kZoneFrames - (1u << order));
    EXPECT_EQ(m.probes().count(Probe::PutWasLast), 0u);
    core::folio_put(m, p);
    EXPECT_EQ(refcount(m, p), 0);
    EXPECT_EQ(m.probes().count(Probe::PutWasLast), 1u);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_EQ(events(m, p), (std::vector<RefEvent>{RefEvent::Alloc, RefEvent::SetRefcounted, RefEvent::Get,
                                                   RefEvent::Put, RefEvent::PutLast, RefEvent::Free}));
    EXPECT_TRUE(no_violations(m));
  }
}

//   5 --put_refs(3)--> 2 --put_refs(2)--> 0 => buddy
TEST(PageRef, FolioPutRefs) {
  Model m(small_config());
  const Pfn p = alloc(m, 2);
  core::folio_ref_add(m, p, 4);
  core::folio_put_refs(m, p, 3);
  EXPECT_EQ(refcount(m, p), 2);
  EXPECT_EQ(nr_free(m), 2 * kZoneFrames - 4);
  core::folio_put_refs(m, p, 2);
  EXPECT_EQ(refcount(m, p), 0);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

struct FreezeCase {
  const char* name;
  int32_t expected;
  bool ok;
};

// folio_ref_freeze(expected) succeeds only at exactly `expected`.
//   3 --freeze(2)--> 3 refused   3 --freeze(4)--> 3 refused   3 --freeze(3)--> 0
TEST(PageRef, FreezeSucceedsOnlyAtTheExactCount) {
  const FreezeCase cases[] = {{"below", 2, false}, {"above", 4, false}, {"exact", 3, true}, {"one", 1, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = folio_with_count(m, 3);
    EXPECT_EQ(core::folio_ref_freeze(m, p, c.expected), c.ok);
    EXPECT_EQ(refcount(m, p), c.ok ? 0 : 3);
    EXPECT_EQ(m.probes().count(Probe::FreezeSucceeded), c.ok ? 1u : 0u);
    EXPECT_EQ(m.probes().count(Probe::FreezeFailed), c.ok ? 0u : 1u);
    EXPECT_EQ(m.frame(p).history.snapshot().back().event, c.ok ? RefEvent::Freeze : RefEvent::FreezeFail);
    EXPECT_TRUE(no_violations(m));
  }
}

// While frozen every speculative get fails; unfreeze publishes a new count.
//   3 --freeze(3)--> 0 --try_get x3--> 0 --freeze(1)--> 0 refused --unfreeze(3)--> 3 --try_get--> 4
TEST(PageRef, FrozenFolioRefusesGetsUntilUnfrozen) {
  Model m(small_config());
  const Pfn p = folio_with_count(m, 3);
  ASSERT_TRUE(core::folio_ref_freeze(m, p, 3));
  EXPECT_FALSE(core::folio_try_get(m, p));
  EXPECT_FALSE(core::folio_ref_try_add(m, p, 2));
  EXPECT_FALSE(core::try_get_page(m, p));
  EXPECT_FALSE(core::folio_ref_freeze(m, p, 1));
  EXPECT_EQ(refcount(m, p), 0);
  EXPECT_EQ(m.probes().count(Probe::TryGetSawZero), 2u);
  core::folio_ref_unfreeze(m, p, 3);
  EXPECT_EQ(refcount(m, p), 3);
  EXPECT_TRUE(core::folio_try_get(m, p));
  EXPECT_EQ(refcount(m, p), 4);
  EXPECT_TRUE(no_violations(m));
}

// Unfreeze may set a different count (migration moves references away).
//   3 --freeze(3)--> 0 --unfreeze(1)--> 1 --put--> 0 => buddy
TEST(PageRef, UnfreezeToAnotherCount) {
  Model m(small_config());
  const Pfn p = folio_with_count(m, 3);
  ASSERT_TRUE(core::folio_ref_freeze(m, p, 3));
  core::folio_ref_unfreeze(m, p, 1);
  EXPECT_EQ(refcount(m, p), 1);
  core::folio_put(m, p);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

// Frozen allocation: FREE -> FROZEN, no set_page_refcounted.
//   (alloc_frozen) 0 --try_get--> 0 refused --unfreeze(1)--> 1 --put--> 0 => buddy
TEST(PageRef, AllocFrozenThenUnfreeze) {
  Model m(small_config());
  const Pfn p = alloc_frozen(m, 2);
  EXPECT_EQ(refcount(m, p), 0);
  EXPECT_EQ(events(m, p), std::vector<RefEvent>{RefEvent::AllocFrozen});
  EXPECT_FALSE(core::folio_try_get(m, p));
  core::folio_ref_unfreeze(m, p, 1);
  EXPECT_EQ(refcount(m, p), 1);
  core::folio_put(m, p);
  EXPECT_TRUE(fully_merged(m));
  EXPECT_TRUE(no_violations(m));
}

//   (alloc_frozen) 0 --free_frozen_pages--> buddy
TEST(PageRef, AllocFrozenThenFreeFrozen) {
  for (unsigned order = 0; order <= kMaxOrder; ++order) {
    SCOPED_TRACE("order " + std::to_string(order));
    Model m(small_config());
    const Pfn p = alloc_frozen(m, order);
    EXPECT_EQ(nr_free(m), 2 * kZoneFrames - (1u << order));
    core::free_frozen_pages(m, p, order);
    EXPECT_TRUE(fully_merged(m));
    EXPECT_TRUE(no_violations(m));
  }
}

//   (alloc_frozen) 0 --set_page_refcounted--> 1
TEST(PageRef, SetPageRefcountedOnFrozenAllocation) {
  Model m(small_config());
  const Pfn p = alloc_frozen(m);
  core::set_page_refcounted(m, p);
  EXPECT_EQ(refcount(m, p), 1);
  EXPECT_EQ(m.frame(p).history.snapshot().back().event, RefEvent::SetRefcounted);
  EXPECT_TRUE(no_violations(m));
}

TEST(PageRef, ZeroOrCloseToOverflow) {
  const struct {
    int32_t count;
    bool want;
  } cases[] = {{-1, true}, {0, true}, {1, false}, {kLimit - 128, false}, {kLimit - 127, true}, {kLimit, true}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.count);
    Model m(small_config());
    const Pfn p = folio_with_count(m, c.count);
    EXPECT_EQ(core::folio_ref_zero_or_close_to_overflow(m, p), c.want);
  }
}

// --- violations ---------------------------------------------------------------
//
// Each row: setup() reaches a state and returns the pfn that act() misuses;
// the report must name that pfn, the kind and the site; the primitive backs
// out (count_after), nothing is freed or allocated by act(), and the frame's
// history shows the Violation event.

struct BadCase {
  const char* name;
  Pfn (*setup)(Model&);
  void (*act)(Model&, Pfn);
  ViolationKind kind;
  const char* site;
  const char* detail;
  int32_t count_after;
};

const BadCase kBadCases[] = {
    // 0 (frozen) --put--> -1 ! undone --> 0
    {"put_past_zero", [](Model& m) { return alloc_frozen(m); }, [](Model& m, Pfn p) { core::folio_put(m, p); },
     ViolationKind::RefcountUnderflow, "folio_put", "refcount was 0, putting 1", 0},
    {"put_testzero_past_zero", [](Model& m) { return alloc_frozen(m); },
     [](Model& m, Pfn p) { EXPECT_FALSE(core::folio_put_testzero(m, p)); }, ViolationKind::RefcountUnderflow,
     "folio_put", "refcount was 0, putting 1", 0},
    // free block head: 0 --put--> -1 ! undone --> 0
    {"put_on_free_block", [](Model&) { return kNormalStart; }, [](Model& m, Pfn p) { core::folio_put(m, p); },
     ViolationKind::RefcountUnderflow, "folio_put", "refcount was 0, putting 1", 0},
    // 1 --put--> 0 => buddy --put--> -1 ! undone --> 0
    {"double_put",
     [](Model& m) {
       const Pfn p = alloc(m, kMaxOrder);  // a max-order folio stays a PageBuddy head once freed
       core::folio_put(m, p);
       return p;
     },
     [](Model& m, Pfn p) { core::folio_put(m, p); }, ViolationKind::RefcountUnderflow, "folio_put",
     "refcount was 0, putting 1", 0},
    // 2 --put_refs(3)--> -1 ! undone --> 2
    {"put_refs_past_zero", [](Model& m) { return folio_with_count(m, 2); },
     [](Model& m, Pfn p) { core::folio_put_refs(m, p, 3); }, ViolationKind::RefcountUnderflow, "folio_put_refs",
     "refcount was 2, putting 3", 2},
    // -2 (planted) --try_get--> -1 ! (a previous underflow was not undone)
    {"try_get_on_negative", [](Model& m) { return folio_with_count(m, -2); },
     [](Model& m, Pfn p) { EXPECT_TRUE(core::folio_try_get(m, p)); }, ViolationKind::RefcountUnderflow,
     "folio_ref_add_unless", "refcount was -2, adding 1", -1},
    // 4096 --get--> 4097 ! (not undone: the caller does hold the reference)
    {"get_past_limit", [](Model& m) { return folio_with_count(m, kLimit); },
     [](Model& m, Pfn p) { core::folio_get(m, p); }, ViolationKind::RefcountOverflow, "folio_get",
     "refcount was 4096, limit 4096, adding 1", kLimit + 1},
    // 1 --ref_add(4096)--> 4097 !
    {"ref_add_past_limit", [](Model& m) { return alloc(m); },
     [](Model& m, Pfn p) { core::folio_ref_add(m, p, kLimit); }, ViolationKind::RefcountOverflow, "folio_ref_add",
     "refcount was 1, limit 4096, adding 4096", kLimit + 1},
    // free block head: 0 --get--> 1 ! undone --> 0
    {"get_on_free", [](Model&) { return kNormalStart; }, [](Model& m, Pfn p) { core::folio_get(m, p); },
     ViolationKind::GetOnFree, "folio_get", "refcount was 0, adding 1", 0},
    {"ref_add_on_free", [](Model&) { return kMovableStart; }, [](Model& m, Pfn p) { core::folio_ref_add(m, p, 3); },
     ViolationKind::GetOnFree, "folio_ref_add", "refcount was 0, adding 3", 0},
    // (alloc_frozen) 0 --get--> 1 ! undone --> 0
    {"get_on_frozen_alloc", [](Model& m) { return alloc_frozen(m); }, [](Model& m, Pfn p) { core::folio_get(m, p); },
     ViolationKind::GetOnFrozen, "folio_get", "refcount was 0, adding 1", 0},
    // 1 --freeze(1)--> 0 --get--> 1 ! undone --> 0
    {"get_on_freeze", [](Model& m) { return folio_with_count(m, 0); },
     [](Model& m, Pfn p) { core::folio_get(m, p); }, ViolationKind::GetOnFrozen, "folio_get",
     "refcount was 0, adding 1", 0},
    // tail of an order-2 folio: 0 --get--> 1 ! undone --> 0
    {"get_on_tail", [](Model& m) { return alloc(m, 2) + 1; }, [](Model& m, Pfn p) { core::folio_get(m, p); },
     ViolationKind::GetOnTail, "folio_get", "refcount was 0, adding 1", 0},
    {"ref_add_on_tail", [](Model& m) { return alloc(m, 2) + 3; }, [](Model& m, Pfn p) { core::folio_ref_add(m, p, 2); },
     ViolationKind::GetOnTail, "folio_ref_add", "refcount was 0, adding 2", 0},
    {"put_on_tail", [](Model& m) { return alloc(m, 2) + 2; }, [](Model& m, Pfn p) { core::folio_put(m, p); },
     ViolationKind::GetOnTail, "folio_put", "refcount was 0, putting 1", 0},
    // 1 --unfreeze(2)--> 1 ! (not frozen)
    {"unfreeze_live", [](Model& m) { return alloc(m); }, [](Model& m, Pfn p) { core::folio_ref_unfreeze(m, p, 2); },
     ViolationKind::BadUnfreeze, "folio_ref_unfreeze", "refcount is 1, unfreezing to 2", 1},
    // 0 (frozen) --unfreeze(0)--> 0 !
    {"unfreeze_to_zero", [](Model& m) { return alloc_frozen(m); },
     [](Model& m, Pfn p) { core::folio_ref_unfreeze(m, p, 0); }, ViolationKind::BadUnfreeze, "folio_ref_unfreeze",
     "refcount is 0, unfreezing to 0", 0},
    {"unfreeze_to_negative", [](Model& m) { return alloc_frozen(m); },
     [](Model& m, Pfn p) { core::folio_ref_unfreeze(m, p, -3); }, ViolationKind::BadUnfreeze, "folio_ref_unfreeze",
     "refcount is 0, unfreezing to -3", 0},
    // 1 --set_page_refcounted--> 1 !
    {"set_refcounted_live", [](Model& m) { return alloc(m); },
     [](Model& m, Pfn p) { core::set_page_refcounted(m, p); }, ViolationKind::BadSetRefcounted,
     "set_page_refcounted", "refcount is 1", 1},
    {"set_refcounted_tail", [](Model& m) { return alloc_frozen(m, 2) + 1; },
     [](Model& m, Pfn p) { core::set_page_refcounted(m, p); }, ViolationKind::BadSetRefcounted,
     "set_page_refcounted", "refcount is 0", 0},
    // 1 --free_frozen_pages--> refused
    {"free_refcounted", [](Model& m) { return alloc(m); },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 0); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "nonzero _refcount", 1},
    {"free_wrong_order", [](Model& m) { return alloc_frozen(m, 2); },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 1); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "order does not match the folio", 0},
    {"free_misaligned", [](Model& m) { return alloc_frozen(m, 2) + 1; },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 1); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "bad pfn/order", 0},
    {"free_order_above_max", [](Model& m) { return alloc_frozen(m, kMaxOrder); },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, kMaxOrder + 1); }, ViolationKind::BadPageFree,
     "free_frozen_pages", "bad pfn/order", 0},
    {"free_tail", [](Model& m) { return alloc_frozen(m, 2) + 1; },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 0); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "freeing a tail page", 0},
    {"free_zone_device", [](Model&) { return kDeviceStart; },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 0); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "ZONE_DEVICE frame freed to the buddy", 0},
    {"free_mapped",
     [](Model& m) {
       const Pfn p = alloc_frozen(m);
       m.frame(p).mapcount.store(1, std::memory_order_relaxed);
       return p;
     },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 0); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "nonzero mapcount", 0},
    {"free_pinned",
     [](Model& m) {
       const Pfn p = alloc_frozen(m, 2);
       m.frame(p).pincount.store(1, std::memory_order_relaxed);
       return p;
     },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 2); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "nonzero pincount", 0},
    {"free_with_tail_refcount",
     [](Model& m) {
       const Pfn p = alloc_frozen(m, 2);
       m.frame(p + 2).refcount.init(1);  // planted: no primitive writes a tail's count
       return p;
     },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, 2); }, ViolationKind::BadPageFree, "free_frozen_pages",
     "nonzero tail _refcount", 0},
    // (alloc_frozen) 0 --free--> buddy --free--> refused
    {"double_free",
     [](Model& m) {
       const Pfn p = alloc_frozen(m, kMaxOrder);
       core::free_frozen_pages(m, p, kMaxOrder);
       return p;
     },
     [](Model& m, Pfn p) { core::free_frozen_pages(m, p, kMaxOrder); }, ViolationKind::DoubleFree,
     "free_frozen_pages", "frame is already PageBuddy", 0},
};

TEST(PageRefViolation, EachMisuseIsReportedAndBackedOut) {
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE(c.name);
    Model m(small_config());
    const Pfn p = c.setup(m);
    ASSERT_TRUE(no_violations(m));
    const uint32_t free_before = nr_free(m);
    const uint32_t gen_before = m.frame(p).generation.peek();

    c.act(m, p);

    EXPECT_TRUE(only_violation(m, c.kind, p, c.site, c.detail));
    EXPECT_EQ(m.violation_count(), 1u);
    EXPECT_EQ(refcount(m, p), c.count_after);
    EXPECT_EQ(nr_free(m), free_before) << "a misuse must not free or allocate";
    EXPECT_EQ(m.frame(p).generation.peek(), gen_before);
    const auto h = m.frame(p).history.snapshot();
    EXPECT_TRUE(std::any_of(h.begin(), h.end(), [](const core::PageRefRecord& r) {
      return r.event == RefEvent::Violation;
    }));
    const auto vs = m.violations();
    ASSERT_EQ(vs.size(), 1u);
    EXPECT_EQ(vs[0].frame.pfn, p);
    EXPECT_EQ(vs[0].actor, core::kNoActor);
  }
}

// Every kind a primitive can raise is provoked by some row above.
TEST(PageRefViolation, TableCoversEveryPrimitiveKind) {
  const ViolationKind primitive_kinds[] = {
      ViolationKind::RefcountUnderflow, ViolationKind::RefcountOverflow, ViolationKind::GetOnFree,
      ViolationKind::GetOnFrozen,       ViolationKind::GetOnTail,        ViolationKind::BadUnfreeze,
      ViolationKind::BadSetRefcounted,  ViolationKind::BadPageFree,      ViolationKind::DoubleFree,
  };
  expect_each_kind_has_a_row(primitive_kinds, kBadCases);
}

// After an overflow report the count is left past the limit (the caller does
// hold that reference); further plain gets keep reporting, and try-style gets
// keep refusing.
//   4096 --get--> 4097 ! --try_get--> refused --try_get_page--> refused --put--> 4096
TEST(PageRefViolation, OverflowedFolioRefusesTryGets) {
  Model m(small_config());
  const Pfn p = folio_with_count(m, kLimit);
  core::folio_get(m, p);
  EXPECT_FALSE(core::folio_try_get(m, p));
  EXPECT_FALSE(core::try_get_page(m, p));
  EXPECT_TRUE(core::folio_ref_zero_or_close_to_overflow(m, p));
  EXPECT_EQ(refcount(m, p), kLimit + 1);
  core::folio_put(m, p);
  EXPECT_EQ(refcount(m, p), kLimit);
  EXPECT_TRUE(only_violation(m, ViolationKind::RefcountOverflow, p, "folio_get"));
}

// A speculative get never reports: on a free frame or a tail it just fails.
TEST(PageRefViolation, TryGetsOnFreeFramesAndTailsFailSilently) {
  Model m(small_config());
  const Pfn h = alloc(m, 2);
  for (Pfn p : {kNormalStart, kMovableStart, h + 1, h + 3}) {
    SCOPED_TRACE(p);
    EXPECT_FALSE(core::folio_try_get(m, p));
    EXPECT_FALSE(core::folio_ref_try_add(m, p, 4));
    EXPECT_FALSE(core::try_get_page(m, p));
    EXPECT_EQ(refcount(m, p), 0);
  }
  EXPECT_TRUE(no_violations(m));
}

// A use-after-free get on a frame whose block merged into a larger free
// block is a get on a free frame, as it is on the block's head.
//   alloc a, b (buddies, order 0) --put a, put b--> merged order-3 block
//   0 (b, inside the block) --get--> 1 ! GetOnFree
// DISABLED: core reports GetOnFrozen here (bad_get_kind only looks at the
// frame's own page_type, and PageBuddy is set on the block's head only).
// Enable once core/page_ref.cpp's bad_get_kind looks for a covering head.
TEST(PageRefViolation, GetOnFrameInsideMergedFreeBlockIsGetOnFree) {
  Model m(small_config());
  const Pfn a = alloc(m);
  const Pfn b = alloc(m);
  ASSERT_EQ(a ^ 1u, b);  // buddies: the second allocation is the first's buddy
  core::folio_put(m, a);
  core::folio_put(m, b);
  ASSERT_TRUE(fully_merged(m));
  core::folio_get(m, b);
  EXPECT_TRUE(only_violation(m, ViolationKind::GetOnFree, b, "folio_get"));
  EXPECT_EQ(refcount(m, b), 0);
}

}  // namespace
