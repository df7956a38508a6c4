// harness::minimize — ddmin on synthetic predicates (rapidcheck) and the
// whole minimizer on a real race of a legacy design variant (gtest).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "harness/bounded.hpp"
#include "harness/minimize.hpp"
#include "harness/trace.hpp"

namespace {

using namespace refhammer::harness;

bool contains_all(const std::vector<size_t>& s, const std::set<size_t>& need) {
  for (size_t x : need)
    if (!std::binary_search(s.begin(), s.end(), x)) return false;
  return true;
}

std::vector<size_t> iota_items(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// A monotone failure (the failure needs a fixed set of items): ddmin finds
// exactly that set.
RC_GTEST_PROP(Ddmin, MonotoneFailureShrinksToItsCause, ()) {
  const size_t n = *rc::gen::inRange<size_t>(1, 80);
  const auto cause_v = *rc::gen::container<std::vector<size_t>>(*rc::gen::inRange<size_t>(1, 5), rc::gen::inRange<size_t>(0, n));
  const std::set<size_t> cause(cause_v.begin(), cause_v.end());
  uint64_t calls = 0;
  const auto out = ddmin(iota_items(n), [&](const std::vector<size_t>& s) {
    ++calls;
    return contains_all(s, cause);
  });
  RC_ASSERT(std::set<size_t>(out.begin(), out.end()) == cause);
  RC_ASSERT(std::is_sorted(out.begin(), out.end()));
}

// Any predicate: the result still fails, never grows, is a subset of the
// input, and is 1-minimal (removing any single item makes it pass).
RC_GTEST_PROP(Ddmin, ResultFailsNeverGrowsAndIsOneMinimal, ()) {
  const size_t n = *rc::gen::inRange<size_t>(1, 48);
  // Fails when at least `k` items of the set A are present, or (a second,
  // unrelated cause) every item of B is: not monotone in one cause.
  const auto a = *rc::gen::container<std::vector<size_t>>(*rc::gen::inRange<size_t>(1, 8), rc::gen::inRange<size_t>(0, n));
  const auto b = *rc::gen::container<std::vector<size_t>>(*rc::gen::inRange<size_t>(1, 4), rc::gen::inRange<size_t>(0, n));
  const std::set<size_t> A(a.begin(), a.end()), B(b.begin(), b.end());
  const size_t k = *rc::gen::inRange<size_t>(1, A.size() + 1);
  auto fails = [&](const std::vector<size_t>& s) {
    size_t in_a = 0;
    for (size_t x : s) in_a += A.count(x);
    return in_a >= k || contains_all(s, B);
  };
  const auto input = iota_items(n);
  RC_PRE(fails(input));
  const auto out = ddmin(input, fails);
  RC_ASSERT(fails(out));
  RC_ASSERT(out.size() <= input.size());
  RC_ASSERT(std::includes(input.begin(), input.end(), out.begin(), out.end()));
  for (size_t i = 0; i < out.size(); ++i) {
    auto smaller = out;
    smaller.erase(smaller.begin() + static_cast<long>(i));
    RC_ASSERT(!fails(smaller));
  }
}

// A stop request ends the search with a set that still fails.
TEST(Ddmin, StopKeepsTheLastFailingSet) {
  int calls = 0;
  const auto out = ddmin(
      iota_items(64), [](const std::vector<size_t>& s) { return std::find(s.begin(), s.end(), 7) != s.end(); },
      [&] { return ++calls > 3; });
  EXPECT_NE(std::find(out.begin(), out.end(), 7), out.end());
  EXPECT_GT(out.size(), 1u);
}

// The seed-000 race on the legacy PageOffline design with mainline's
// per-type free checks, buried in irrelevant ops of both actors: the
// minimizer keeps the four ops of the race, the result replays every time,
// and the same ops are clean on the frozen design.
constexpr const char* kLegacyRace = R"(refhammer-trace 1
model normal=64 movable=64 device=32 block=32 max_order=3 refcount_limit=2147483647 mms=2 mm_slots=8 file_pages=8 gmem_pages=8 gmem_huge_order=2 gmem_convert_spins=512 rcu_readers=16 migrate_passes=3 hugetlb_order=3 hugetlb_dissolve_retries=256 device_folio_order=1 pgmap_teardown_spins=512 offline_passes=8 reporting_order=2 reporting_capacity=4 reporting_budget=2
design free_dispatch=per-type-checks gmem_pin_policy=refuse-longterm zone_device=0-based offline=legacy
bugs none
faults none
seed 1
scheduler deterministic
audit_every 1
expect violation data-loss/audit:offline/audit
actors 2
t0 alloc zone=movable order=0
t0 put slot=0
t0 offline_alloc zone=movable
t0 block_offline pfn=127
t1 try_get pfn=120
t1 put slot=0
t1 try_get pfn=100
t1 put slot=0
t1 try_get pfn=127
t1 put slot=0
t1 try_get pfn=64
t1 put slot=0
)";

TEST(Minimize, LegacyOfflineRaceShrinksToItsFourOpsAndReplays) {
  Trace t;
  ASSERT_EQ(parse_trace(kLegacyRace, "race.trace", t), "");
  // A failing schedule first (the trace has none).
  BoundedOptions bo;
  bo.bound = 2;
  bo.max_runs = 200'000;
  bo.stop_at_first = true;
  bo.want_signature = t.expect_signature;
  bo.run.audit_every = 1;
  const BoundedResult b = explore_bounded(t.model, t.program, bo);
  ASSERT_TRUE(b.has_failure);
  t.has_schedule = true;
  t.schedule = b.first_failure.schedule;
  ASSERT_TRUE(verdict_matches(t, run_trace(t)));

  MinimizeOptions o;
  o.seconds = 240;  // release: ~1 s; sanitizer and coverage builds are 10-30x slower
  o.explore_runs = 800;
  const MinimizeResult m = minimize_trace(t, o);
  ASSERT_TRUE(m.ok) << m.error;
  EXPECT_EQ(m.signature, t.expect_signature);
  EXPECT_EQ(m.ops_before, 12u);
  EXPECT_LE(m.ops_after, 4u);
  EXPECT_LE(m.preemptions_after, 3u);
  EXPECT_LE(m.ops_after, m.ops_before);
  EXPECT_TRUE(m.fixed_point);
  // The race itself: an offlining actor and a speculative reference.
  const std::string text = write_trace(m.trace);
  EXPECT_NE(text.find("offline_alloc"), std::string::npos) << text;
  EXPECT_NE(text.find("block_offline"), std::string::npos) << text;
  EXPECT_NE(text.find("try_get"), std::string::npos) << text;
  // Replays step for step, every time, through the text form.
  Trace again;
  ASSERT_EQ(parse_trace(text, "min.trace", again), "");
  EXPECT_EQ(reproduction_count(again, 5), 5u);
  // The same ops on the frozen design: no schedule within the bound fails.
  Trace frozen = again;
  frozen.model.design.offline = core::OfflineRefcount::Frozen;
  BoundedOptions fo;
  fo.bound = static_cast<uint32_t>(m.preemptions_after);
  fo.run.audit_every = 1;
  const BoundedResult fb = explore_bounded(frozen.model, frozen.program, fo);
  EXPECT_TRUE(fb.exhausted);
  EXPECT_EQ(fb.failing, 0u);
}

TEST(Minimize, ACleanTraceIsRefused) {
  Trace t;
  ASSERT_EQ(parse_trace(kLegacyRace, "race.trace", t), "");
  t.model.design.offline = core::OfflineRefcount::Frozen;
  t.expect_clean = true;
  const MinimizeResult m = minimize_trace(t);
  EXPECT_FALSE(m.ok);
  EXPECT_NE(m.error.find("clean"), std::string::npos) << m.error;
}

}  // namespace
