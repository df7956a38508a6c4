// The bug catalog (core/bugs.hpp): every mutant is found by the harness with
// a short program, and the same exploration is clean with the mutant off.
//
// A mutant's case is its regression trace corpora/regressions/NAME.trace (at
// most 10 ops on 1-3 actors; ctest also replays it as regression.NAME and,
// with the bug off, regression.NAME.fixed). Bounded exploration of its
// program (harness/bounded.hpp: every schedule up to the trace's preemptions;
// bound 0 is the one non-preemptive run) must find the trace's signature,
// and that schedule must replay to it. With the bug off, the whole bounded
// space of the same program must be clean. No per-mutant code here: a new
// mutant is covered once its row and its trace exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/bugs.hpp"
#include "core/model.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/trace.hpp"

namespace {

using namespace refhammer::harness;
using core::Bug;
using core::ViolationKind;

// A mutant's detection case is its regression trace: its model, design,
// audit setting and program; the bound is the preemptions of its schedule.
struct Case {
  Bug bug;
  Trace trace;
  std::string error;     // loading or replaying it failed
  uint32_t bound = 0;    // preemptions of the trace's failing schedule
};

// gtest prints a parameter with this: the mutant's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << core::bug_info(c.bug).name; }

std::string trace_path(Bug b) {
  return std::string(REFHAMMER_SOURCE_DIR) + "/corpora/regressions/" + core::bug_info(b).name + ".trace";
}

std::vector<Case> load_cases() {
  std::vector<Case> v;
  for (unsigned i = 0; i < core::kNrBugs; ++i) {
    Case c;
    c.bug = static_cast<Bug>(i);
    c.error = load_trace(trace_path(c.bug), c.trace);
    if (c.error.empty()) {
      const RunResult r = run_trace(c.trace);
      if (!verdict_matches(c.trace, r)) c.error = "the trace does not replay to its expected verdict";
      c.bound = static_cast<uint32_t>(r.preemptions);
    }
    v.push_back(std::move(c));
  }
  return v;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> k = load_cases();
  return k;
}

BoundedResult explore(const Case& c, bool bug_on, uint32_t bound) {
  core::ModelConfig cfg = c.trace.model;
  cfg.bugs = bug_on ? core::bug_bit(c.bug) : 0;
  BoundedOptions bo;
  bo.bound = bound;
  bo.run.audit_every = c.trace.audit_every;
  // A `memory weak` trace (an ordering mutant): every schedule, and on each
  // every single stale read.
  bo.run.weak_memory = c.trace.weak_memory;
  bo.stale_bound = c.trace.weak_memory ? 1 : 0;
  if (bug_on) {
    bo.stop_at_first = true;
    bo.want_signature = c.trace.expect_signature;
  }
  return explore_bounded(cfg, c.trace.program, bo);
}

std::string signatures(const BoundedResult& b) {
  std::string s;
  for (const auto& [sig, n] : b.signatures) s += "  " + sig + " x" + std::to_string(n) + "\n";
  return s;
}

class BugCase : public ::testing::TestWithParam<Case> {};

// The mutant's regression trace switches exactly that bug on, expects a
// violation, and is small.
TEST_P(BugCase, HasItsRegressionTrace) {
  const Case& c = GetParam();
  ASSERT_EQ(c.error, "") << trace_path(c.bug);
  EXPECT_EQ(c.trace.model.bugs, core::bug_bit(c.bug));
  EXPECT_FALSE(c.trace.expect_clean);
  EXPECT_LE(c.trace.program.total_ops(), 10u);
  EXPECT_LE(c.trace.program.actors.size(), 3u);
  EXPECT_LE(c.bound, 3u);
}

// Bounded exploration of the trace's program, up to its preemptions, finds
// the trace's signature (not only the recorded schedule does), and the
// failing schedule it found replays to it.
TEST_P(BugCase, FoundWithTheMutantOn) {
  const Case& c = GetParam();
  ASSERT_EQ(c.error, "") << trace_path(c.bug);
  const BoundedResult b = explore(c, true, c.bound);
  ASSERT_TRUE(b.has_failure) << core::bug_info(c.bug).name << ": " << b.runs << " schedule(s), none failing with "
                             << c.trace.expect_signature << "\nall:\n" << signatures(b);
  EXPECT_EQ(b.first_failure.report.signature, c.trace.expect_signature);
  EXPECT_LE(b.first_failure.preemptions, c.bound);
  core::ModelConfig cfg = c.trace.model;
  cfg.bugs = core::bug_bit(c.bug);
  auto rec = make_recorded_source(b.first_failure.schedule);
  RunOptions ro = trace_options(c.trace);
  ro.stale = b.first_failure.stale;  // the stale reads of the failing run found, not the trace's
  const RunResult r = run_deterministic(cfg, c.trace.program, *rec, ro);
  EXPECT_FALSE(r.clean());
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.report.signature, b.first_failure.report.signature);
}

// With the mutant off the same program is clean in every schedule up to the
// trace's preemptions, and at least up to 2. A weak-memory trace: up to its
// preemptions, each schedule with every single stale read (bound 2 with
// stale reads is over 100k runs for some; AnOrderingMutant checks SC at 2).
TEST_P(BugCase, CleanWithTheMutantOff) {
  const Case& c = GetParam();
  ASSERT_EQ(c.error, "") << trace_path(c.bug);
  const BoundedResult b = explore(c, false, c.trace.weak_memory ? c.bound : std::max<uint32_t>(c.bound, 2));
  EXPECT_TRUE(b.exhausted) << b.runs << " schedule(s)";
  EXPECT_GT(b.runs, 0u);
  EXPECT_EQ(b.failing, 0u) << b.first_failure.report.signature << "\n" << signatures(b);
}

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  std::string s = core::bug_info(i.param.bug).name;
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Catalog, BugCase, ::testing::ValuesIn(cases()), case_name);

bool is_ordering(Bug b) { return std::string(core::bug_info(b).kind) == "ordering"; }

std::vector<Case> ordering_cases() {
  std::vector<Case> v;
  for (const Case& c : cases())
    if (is_ordering(c.bug)) v.push_back(c);
  return v;
}

// An ordering mutant (kind "ordering") is found only because a load read an
// older store: with the mutant on, the same program under sequential
// consistency is clean in every schedule up to the trace's preemptions, and
// at least up to 2.
class OrderingCase : public ::testing::TestWithParam<Case> {};

TEST_P(OrderingCase, NotFoundUnderSequentialConsistency) {
  const Case& c = GetParam();
  ASSERT_EQ(c.error, "") << trace_path(c.bug);
  Case sc = c;
  sc.trace.weak_memory = false;
  const BoundedResult b = explore(sc, true, std::max<uint32_t>(c.bound, 2));
  EXPECT_TRUE(b.exhausted) << b.runs << " schedule(s)";
  EXPECT_GT(b.runs, 0u);
  EXPECT_EQ(b.failing, 0u) << b.first_failure.report.signature << "\n" << signatures(b);
}

INSTANTIATE_TEST_SUITE_P(Catalog, OrderingCase, ::testing::ValuesIn(ordering_cases()), case_name);

// The kind says how a mutant is found: "ordering" exactly when its trace runs
// under weak memory; and the catalog has at least four.
TEST(BugCatalog, OrderingMutantsAreTheWeakMemoryTraces) {
  unsigned n = 0;
  for (const Case& c : cases()) {
    ASSERT_EQ(c.error, "") << trace_path(c.bug);
    EXPECT_EQ(is_ordering(c.bug), c.trace.weak_memory) << core::bug_info(c.bug).name;
    n += is_ordering(c.bug) ? 1 : 0;
  }
  EXPECT_GE(n, 4u);
}

// --- the catalog itself ----------------------------------------------------------

TEST(BugCatalog, NamesKindsAndCitesAreWellFormed) {
  EXPECT_GE(core::kNrBugs, 15u);
  const std::set<std::string> kinds = {"race",           "leak",      "underflow", "overflow",
                                       "use-after-free", "lost data", "security",  "unmovable pin",
                                       "ordering"};
  std::set<std::string> names;
  for (unsigned i = 0; i < core::kNrBugs; ++i) {
    const core::BugInfo& info = core::bug_info(static_cast<Bug>(i));
    EXPECT_EQ(static_cast<unsigned>(info.bug), i);
    const std::string name = info.name;
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'; }))
        << name;
    EXPECT_NE(name.front(), '-');
    EXPECT_NE(name.back(), '-');
    EXPECT_TRUE(kinds.count(info.kind)) << name << ": " << info.kind;
    EXPECT_GT(std::string(info.cite).size(), 8u) << name;
    EXPECT_GT(std::string(info.subsystem).size(), 2u) << name;
    EXPECT_NE(std::string(info.where).find("()"), std::string::npos) << name << ": names no function";
    EXPECT_GT(std::string(info.description).size(), 80u) << name;
    Bug back;
    ASSERT_TRUE(core::bug_by_name(name, back)) << name;
    EXPECT_EQ(back, info.bug);
  }
  Bug none;
  EXPECT_FALSE(core::bug_by_name("no-such-bug", none));
}

TEST(BugCatalog, AllBugsFitTheTraceHeader) {
  uint64_t all = 0;
  for (unsigned i = 0; i < core::kNrBugs; ++i) all |= core::bug_bit(static_cast<Bug>(i));
  uint64_t back = 0;
  EXPECT_EQ(parse_bugs(format_bugs(all), back), "");
  EXPECT_EQ(back, all);
}

}  // namespace
