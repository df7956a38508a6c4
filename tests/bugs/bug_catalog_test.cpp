// The bug catalog (core/bugs.hpp): every mutant is found by the harness with
// a short program, and the same exploration is clean with the mutant off.
//
// Each case is a program of at most 10 ops on 1-3 actors. Bounded
// exploration (harness/bounded.hpp: every schedule up to a small preemption
// bound; bound 0 is the one non-preemptive run of a sequential program) must
// find a failing schedule whose violation is of an expected kind, and that
// schedule must replay to the same signature. With the bug off, the whole
// bounded space of the same program must be clean. The catalog tests check
// names, kinds and that every mutant has its regression trace in
// corpora/regressions/ (replayed by ctest as regression.NAME and, with the
// bug off, regression.NAME.fixed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/bugs.hpp"
#include "core/buddy.hpp"
#include "core/hugetlb.hpp"
#include "core/model.hpp"
#include "core/offline.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/trace.hpp"

namespace {

using namespace refhammer::harness;
using core::Bug;
using core::ViolationKind;

// Small enough that every bounded space below is explored in seconds.
core::ModelConfig base_config() {
  core::ModelConfig c;
  c.normal_frames = 16;
  c.movable_frames = 16;
  c.device_frames = 0;
  c.max_page_order = 3;
  c.block_frames = 16;
  c.nr_mms = 1;
  c.mm_slots = 2;
  c.file_pages = 4;
  c.gmem_pages = 4;
  c.gmem_huge_order = 2;
  c.gmem_convert_spins = 8;
  c.rcu_readers = 2;
  c.migrate_passes = 2;
  c.hugetlb_order = 2;
  c.hugetlb_dissolve_retries = 8;
  c.device_folio_order = 1;
  c.pgmap_teardown_spins = 8;
  c.offline_passes = 2;
  c.reporting_order = 2;
  c.reporting_capacity = 4;
  c.reporting_budget = 2;
  return c;
}

struct Case {
  Bug bug;
  std::vector<std::string> ops;     // "tN op args"; {FROZEN} {MOVABLE} {HUGE} {OFFLINE} name pfns
  uint32_t bound;                   // preemption bound of the exploration
  uint32_t audit_every;             // quiescent audit after every N ops of an actor (0: teardown only)
  std::vector<ViolationKind> kinds; // what the mutant may be reported as (first listed: the usual one)
  void (*tweak)(core::ModelConfig&) = nullptr;
};

void with_device(core::ModelConfig& c) { c.device_frames = 16; }
void with_legacy_device(core::ModelConfig& c) {
  c.device_frames = 16;
  c.design.zone_device = core::ZoneDeviceRefcount::LegacyOneBased;
}
void with_pin_limit(core::ModelConfig& c) { c.refcount_limit = 3000; }
void with_split_gmem(core::ModelConfig& c) { c.design.gmem_pin_policy = core::GmemPinPolicy::SplitSmallFolios; }
void with_legacy_offline(core::ModelConfig& c) { c.design.offline = core::OfflineRefcount::Legacy; }

const std::vector<Case>& cases() {
  static const std::vector<Case> k = {
      {Bug::TruncateSkipsGracePeriod,
       {"t0 cache_lookup index=0", "t0 put slot=0", "t1 alloc zone=normal order=0", "t1 cache_insert slot=0 index=0",
        "t1 put slot=0", "t1 cache_truncate index=0"},
       1, 0, {ViolationKind::UseAfterFree}},
      {Bug::PfnWalkerPlainGet, {"t0 alloc_frozen zone=normal order=0", "t0 try_get pfn={FROZEN}"}, 0, 0,
       {ViolationKind::GetOnFrozen}},
      {Bug::GupFastSkipsFolioRecheck,
       {"t0 alloc zone=normal order=1", "t0 map slot=0 mm=0 pte=0 page=1", "t0 unmap mm=0 pte=0", "t0 split slot=0",
        "t0 map slot=1 mm=0 pte=0 page=0", "t1 gup_fast mm=0 pte=0", "t1 unpin slot=0"},
       2, 0, {ViolationKind::RefcountDeficit, ViolationKind::RefcountUnderflow, ViolationKind::PincountMismatch}},
      {Bug::GupFastSkipsPteRecheck,
       {"t0 gmem_populate index=0", "t0 gmem_map index=0 mm=0 pte=0", "t0 gmem_convert index=0 count=1 private=1",
        "t1 gup_fast mm=0 pte=0"},
       2, 0, {ViolationKind::Security}},
      {Bug::GupPinOverflowUnchecked,
       {"t0 alloc zone=normal order=0", "t0 map slot=0 mm=0 pte=0 page=0", "t0 pin mm=0 pte=0", "t0 pin mm=0 pte=0",
        "t0 pin mm=0 pte=0"},
       0, 0, {ViolationKind::RefcountOverflow}, with_pin_limit},
      {Bug::GupLongtermLeaksIsolationRef,
       {"t0 alloc zone=movable order=0", "t0 map slot=0 mm=0 pte=0 page=0", "t0 pin_longterm mm=0 pte=0"}, 0, 1,
       {ViolationKind::Leak}},
      {Bug::MigrateFreezeIgnoresPins,
       {"t0 alloc zone=movable order=0", "t0 map slot=0 mm=0 pte=0 page=0", "t0 pin mm=0 pte=0", "t0 put slot=0",
        "t0 migrate pfn={MOVABLE} zone=normal"},
       0, 1, {ViolationKind::HeldButFree, ViolationKind::RefcountUnderflow}},
      {Bug::GmemConvertIgnoresPins,
       {"t0 gmem_populate index=0", "t0 gmem_map index=0 mm=0 pte=0", "t0 pin_longterm mm=0 pte=0",
        "t0 gmem_convert index=0 count=1 private=1"},
       0, 1, {ViolationKind::Security}, with_split_gmem},
      {Bug::HugetlbDissolveSkipsFreedCheck, {"t0 huge_alloc", "t0 put slot=0", "t1 huge_dissolve_pfn pfn={HUGE}"}, 2, 1,
       {ViolationKind::FreeCallback, ViolationKind::HeldButFree, ViolationKind::DoubleOwner}},
      {Bug::HugetlbFreshSkipsFreeze, {"t0 huge_alloc", "t1 try_get pfn={HUGE}", "t1 put slot=0"}, 2, 1,
       {ViolationKind::RefcountDeficit, ViolationKind::RefcountUnderflow}},
      {Bug::DevmapPutSkipsManagedPage, {"t0 pgmap_map", "t0 dev_alloc", "t0 put slot=0"}, 0, 1,
       {ViolationKind::FreeCallback}, with_legacy_device},
      {Bug::PgmapTeardownSkipsWait, {"t0 pgmap_map", "t0 dev_alloc", "t0 pgmap_teardown", "t0 put slot=0"}, 0, 1,
       {ViolationKind::BadPageFree}, with_device},
      {Bug::OfflinePutFreesToBuddy,
       {"t0 offline_alloc zone=movable", "t0 block_offline pfn={OFFLINE}", "t1 try_get pfn={OFFLINE}", "t1 put slot=0"},
       2, 1, {ViolationKind::DataLoss}, with_legacy_offline},
      {Bug::ReportingPutbackBeforeReport, {"t0 report_cycle", "t1 alloc zone=normal order=3"}, 1, 0,
       {ViolationKind::DataLoss}},
      {Bug::ReportingMarksMergedBlock, {"t0 alloc zone=normal order=2", "t0 put slot=0", "t1 report_cycle"}, 2, 1,
       {ViolationKind::DataLoss}},
      {Bug::GupFastLongtermSkipsPinnableCheck,
       {"t0 alloc zone=movable order=0", "t0 map slot=0 mm=0 pte=0 page=0", "t0 put slot=0",
        "t0 pin_fast_longterm mm=0 pte=0"},
       0, 1, {ViolationKind::LongtermPinMovable}},
      {Bug::MigrateCopiesBeforeUnmap,
       {"t0 migrate pfn={MOVABLE} zone=normal", "t1 alloc zone=movable order=0", "t1 map slot=0 mm=0 pte=0 page=0",
        "t1 put slot=0", "t1 write mm=0 pte=0", "t1 write mm=0 pte=0", "t1 read mm=0 pte=0"},
       2, 0, {ViolationKind::DataLoss}},
  };
  return k;
}

core::ModelConfig config_of(const Case& c) {
  core::ModelConfig cfg = base_config();
  if (c.tweak != nullptr) c.tweak(cfg);
  return cfg;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
  return s;
}

// The pfns the program names: what the same allocation returns on a fresh
// model of the same configuration (allocation is deterministic).
std::string resolve(const std::string& line, const core::ModelConfig& cfg) {
  std::string s = line;
  if (s.find("{FROZEN}") != std::string::npos) {
    core::Model m(cfg);
    s = replace_all(s, "{FROZEN}", std::to_string(core::alloc_frozen_pages(m, core::ZoneType::Normal, 0)));
  }
  if (s.find("{MOVABLE}") != std::string::npos) {
    core::Model m(cfg);
    s = replace_all(s, "{MOVABLE}", std::to_string(core::alloc_pages(m, core::ZoneType::Movable, 0)));
  }
  if (s.find("{HUGE}") != std::string::npos) {
    core::Model m(cfg);
    s = replace_all(s, "{HUGE}", std::to_string(m.hugetlb().alloc_hugetlb_folio()));
  }
  if (s.find("{OFFLINE}") != std::string::npos) {
    core::Model m(cfg);
    s = replace_all(s, "{OFFLINE}", std::to_string(m.offline_driver().offline_alloc(core::ZoneType::Movable)));
  }
  return s;
}

Program program_of(const Case& c, const core::ModelConfig& cfg) {
  Program p;
  for (const std::string& raw : c.ops) {
    const std::string line = resolve(raw, cfg);
    const unsigned actor = static_cast<unsigned>(line[1] - '0');
    if (p.actors.size() <= actor) p.actors.resize(actor + 1);
    Op op;
    const std::string err = parse_op(line.substr(3), cfg, op);
    EXPECT_EQ(err, "") << line;
    p.actors[actor].push_back(op);
  }
  return p;
}

BoundedResult explore(const Case& c, bool bug_on) {
  core::ModelConfig cfg = config_of(c);
  if (bug_on) cfg.bugs = core::bug_bit(c.bug);
  BoundedOptions bo;
  bo.bound = c.bound;
  bo.run.audit_every = c.audit_every;
  return explore_bounded(cfg, program_of(c, cfg), bo);
}

std::string signatures(const BoundedResult& b) {
  std::string s;
  for (const auto& [sig, n] : b.signatures) s += "  " + sig + " x" + std::to_string(n) + "\n";
  return s;
}

class BugCase : public ::testing::TestWithParam<Case> {};

TEST_P(BugCase, FoundWithTheMutantOn) {
  const Case& c = GetParam();
  ASSERT_LE(c.ops.size(), 10u);
  const BoundedResult b = explore(c, true);
  ASSERT_TRUE(b.has_failure) << core::bug_info(c.bug).name << ": " << b.runs << " schedule(s), none failing";
  const core::Violation& v = b.first_failure.report.violation;
  EXPECT_NE(std::find(c.kinds.begin(), c.kinds.end(), v.kind), c.kinds.end())
      << "found " << b.first_failure.report.signature << "\nall:\n" << signatures(b);
  EXPECT_LE(b.first_failure.preemptions, c.bound);
  // The failing schedule replays to the same finding.
  core::ModelConfig cfg = config_of(c);
  cfg.bugs = core::bug_bit(c.bug);
  auto rec = make_recorded_source(b.first_failure.schedule);
  RunOptions ro;
  ro.audit_every = c.audit_every;
  const RunResult r = run_deterministic(cfg, program_of(c, cfg), *rec, ro);
  EXPECT_FALSE(r.clean());
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.report.signature, b.first_failure.report.signature);
  RecordProperty("signatures", signatures(b));
}

TEST_P(BugCase, CleanWithTheMutantOff) {
  const Case& c = GetParam();
  const BoundedResult b = explore(c, false);
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

// --- the catalog itself ----------------------------------------------------------

TEST(BugCatalog, EveryMutantHasACase) {
  std::set<unsigned> covered;
  for (const Case& c : cases()) EXPECT_TRUE(covered.insert(static_cast<unsigned>(c.bug)).second) << core::bug_info(c.bug).name;
  EXPECT_EQ(covered.size(), core::kNrBugs);
  EXPECT_GE(core::kNrBugs, 15u);
  EXPECT_LE(core::kNrBugs, 64u);
}

TEST(BugCatalog, NamesKindsAndCitesAreWellFormed) {
  const std::set<std::string> kinds = {"race",           "leak",      "underflow", "overflow",
                                       "use-after-free", "lost data", "security",  "unmovable pin"};
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

// Every mutant has a regression trace named after it that switches exactly
// that bug on and expects a violation of one of the case's kinds.
TEST(BugCatalog, EveryMutantHasItsRegressionTrace) {
  for (const Case& c : cases()) {
    const std::string name = core::bug_info(c.bug).name;
    const std::string path = std::string(REFHAMMER_SOURCE_DIR) + "/corpora/regressions/" + name + ".trace";
    Trace t;
    const std::string err = load_trace(path, t);
    ASSERT_EQ(err, "") << path;
    EXPECT_EQ(t.model.bugs, core::bug_bit(c.bug)) << path;
    EXPECT_FALSE(t.expect_clean) << path;
    EXPECT_LE(t.program.total_ops(), 10u) << path;
    EXPECT_LE(t.program.actors.size(), 3u) << path;
    bool kind_ok = false;
    for (ViolationKind k : c.kinds) kind_ok |= t.expect_signature.rfind(core::violation_kind_name(k) + std::string("/"), 0) == 0;
    EXPECT_TRUE(kind_ok) << path << ": " << t.expect_signature;
  }
}

// Not a test: with REFHAMMER_BUG_TRACE_DIR set, writes each case's program as
// a trace skeleton (no schedule) for `refhammer explore ... -o`.
TEST(BugCatalog, DISABLED_WriteTraceSkeletons) {
  const char* dir = std::getenv("REFHAMMER_BUG_TRACE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "REFHAMMER_BUG_TRACE_DIR not set";
  for (const Case& c : cases()) {
    Trace t;
    t.model = config_of(c);
    t.model.bugs = core::bug_bit(c.bug);
    t.seed = 1;
    t.audit_every = c.audit_every;
    t.program = program_of(c, t.model);
    const std::string path = std::string(dir) + "/" + core::bug_info(c.bug).name + ".trace";
    EXPECT_EQ(write_file_atomic(path, write_trace(t), true), "") << path;
  }
}

}  // namespace
