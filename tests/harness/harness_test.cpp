// tests for harness/ — schedulers and decision sources, the racy trace of the
// bug catalog (PCT, replay, traces, bounded exploration; see
// tests/support/harness_support.hpp), deadlock reports, quiescent audits,
// fault sites, and the interleaving columns.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/bugs.hpp"
#include "core/mm.hpp"
#include "core/faults.hpp"
#include "core/model.hpp"
#include "core/violation.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/fuzz_input.hpp"
#include "harness/op.hpp"
#include "harness/rng.hpp"
#include "harness/sched.hpp"
#include "harness/trace.hpp"
#include "harness/world.hpp"
#include "tests/support/harness_support.hpp"

namespace refhammer::harness {
// Programs in gtest messages: one line per actor.
void PrintTo(const Program& p, std::ostream* os) {
  for (size_t a = 0; a < p.actors.size(); ++a) {
    *os << "\n  t" << a << ":";
    for (const Op& op : p.actors[a]) *os << " [" << format_op(op) << "]";
  }
}
}  // namespace refhammer::harness

namespace {

using namespace refhammer::harness;
using namespace refhammer_test;
using refhammer::Rng;

// Three actors sharing one folio through mappings, GUP, the page cache,
// migration and pfn walkers; every op legal on a clean core.
Program mixed_program(const core::ModelConfig& cfg) {
  return program_of(cfg, {
                             {"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "write mm=0 pte=0",
                              "gup_fast mm=0 pte=0", "cache_insert slot=0 index=0", "unpin slot=1", "put slot=0",
                              "read mm=0 pte=0"},
                             {"cache_lookup index=0", "read mm=0 pte=0", "pin mm=0 pte=0", "pfn_walk pfn=64",
                              "unpin slot=1", "put slot=0", "alloc zone=normal order=1", "split slot=0"},
                             {"migrate pfn=64 zone=movable", "get_user mm=0 pte=0", "put slot=0",
                              "cache_truncate index=0", "unmap mm=0 pte=0", "try_get pfn=64", "put slot=0",
                              "pfn_walk pfn=0"},
                         });
}

uint64_t estimate_k(const core::ModelConfig& cfg, const Program& p) {
  auto src = make_random_source(1);
  return std::max<uint64_t>(1, run_deterministic(cfg, p, *src).k);
}

// Checks what every deterministic run must satisfy.
void expect_deterministic_shape(const RunResult& r, unsigned n) {
  EXPECT_EQ(r.n, n);
  EXPECT_GT(r.k, 0u);
  EXPECT_EQ(schedule_steps(r.schedule), r.k);
  for (const Slice& s : r.schedule) {
    EXPECT_LT(s.actor, n);
    EXPECT_GT(s.steps, 0u);
  }
  for (size_t i = 1; i < r.schedule.size(); ++i) EXPECT_NE(r.schedule[i].actor, r.schedule[i - 1].actor) << "runs not merged";
  EXPECT_FALSE(r.diverged);
}

// --- every scheduler, one program ---------------------------------------------

TEST(Schedulers, EveryDecisionSourceRunsTheMixedProgramClean) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = mixed_program(cfg);
  const unsigned n = 3;
  const uint64_t k_est = estimate_k(cfg, p);
  const std::vector<uint8_t> bytes = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8};

  for (uint64_t seed = 1; seed <= 16; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto rnd = make_random_source(seed);
    const RunResult r = run_deterministic(cfg, p, *rnd);
    EXPECT_TRUE(r.clean()) << "random: " << describe(r);
    expect_deterministic_shape(r, n);
    EXPECT_EQ(r.d, 0u);
    EXPECT_EQ(r.ops, p.total_ops());

    // The schedule that ran replays exactly.
    auto rec = make_recorded_source(r.schedule);
    const RunResult rr = run_deterministic(cfg, p, *rec);
    EXPECT_TRUE(rr.clean()) << "recorded: " << describe(rr);
    expect_deterministic_shape(rr, n);
    EXPECT_EQ(rr.k, r.k);
    EXPECT_EQ(rr.schedule, r.schedule);
    EXPECT_EQ(rr.results, r.results);

    for (uint32_t d : {1u, 2u, 3u}) {
      auto pct = make_pct_source(seed, n, d, k_est);
      EXPECT_EQ(pct->depth(), d);
      const RunResult rp = run_deterministic(cfg, p, *pct);
      EXPECT_TRUE(rp.clean()) << pct->describe() << ": " << describe(rp);
      expect_deterministic_shape(rp, n);
      EXPECT_EQ(rp.d, d);
    }
  }

  {
    auto src = make_bytes_source(bytes.data(), bytes.size());
    const RunResult r = run_deterministic(cfg, p, *src);
    EXPECT_TRUE(r.clean()) << "bytes: " << describe(r);
    expect_deterministic_shape(r, n);
    EXPECT_EQ(r.d, 0u);
  }
  {
    // Byte 0 = 3: depth 1 + 3 % 4 = 4.
    auto src = make_pct_bytes_source(bytes.data(), bytes.size(), n, k_est);
    const RunResult r = run_deterministic(cfg, p, *src);
    EXPECT_TRUE(r.clean()) << "pct-bytes: " << describe(r);
    expect_deterministic_shape(r, n);
    EXPECT_EQ(r.d, 4u);
  }
  {
    // No bytes at all: the bytes source never preempts, PCT-from-bytes has depth 1.
    auto src = make_bytes_source(nullptr, 0);
    const RunResult r = run_deterministic(cfg, p, *src);
    EXPECT_TRUE(r.clean()) << describe(r);
    expect_deterministic_shape(r, n);
    EXPECT_EQ(r.preemptions, 0u);
    auto pb = make_pct_bytes_source(nullptr, 0, n, k_est);
    const RunResult r2 = run_deterministic(cfg, p, *pb);
    EXPECT_TRUE(r2.clean()) << describe(r2);
    EXPECT_EQ(r2.d, 1u);
  }
  for (bool perturb : {false, true}) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      RunOptions o;
      o.seed = seed;
      o.perturb_gap = 4;
      const RunResult r = run_threads(cfg, p, perturb, o);
      EXPECT_TRUE(r.clean()) << (perturb ? "perturb: " : "free: ") << describe(r);
      EXPECT_EQ(r.n, n);
      EXPECT_EQ(r.d, 0u);
      EXPECT_EQ(r.ops, p.total_ops());
      EXPECT_EQ(r.results.size(), n);
    }
  }
}

TEST(Schedulers, BytesSourcePicksCandidatesByByteModuloAndStopsPreemptingWhenBytesRunOut) {
  const std::vector<uint8_t> bytes = {1, 2, 5};
  auto src = make_bytes_source(bytes.data(), bytes.size());
  const std::vector<unsigned> c = {0, 2, 3};
  EXPECT_EQ(src->pick(c, -1, 0), 2u);  // 1 % 3
  EXPECT_EQ(src->pick(c, 2, 1), 3u);   // 2 % 3
  EXPECT_EQ(src->pick(c, 3, 2), 3u);   // 5 % 3
  EXPECT_EQ(src->pick(c, 2, 3), 2u);   // out of bytes: keep the current actor
  EXPECT_EQ(src->pick({0, 3}, 2, 4), 0u);  // current not runnable: the lowest
}

TEST(Schedulers, AnchorBytesSourceSwitchesOnceAtItsAnchorAndOtherwiseKeepsTheCurrentActor) {
  // Two switches: (actor 0, op 1, sync point 2) -> the other candidate, and
  // (actor 1, op 5 % 2 = 1, sync point 64 + 3 = 3 after the modulo) -> the
  // other; a third with the first's anchor comes later in the bytes and is
  // dropped.
  const std::vector<uint8_t> bytes = {0, 1, 2, 7, 1, 5, 64 + 3, 0, 2, 1, 2, 9};
  auto src = make_anchor_bytes_source(bytes.data(), bytes.size(), {3, 2});
  EXPECT_TRUE(src->wants_op_steps());
  EXPECT_EQ(src->describe(), "anchor-bytes c=2");
  SchedView v;
  v.in_op = {1, 1};
  v.op = {1, 0};
  v.op_step = {0, 0};
  src->attach(&v);
  const std::vector<unsigned> both = {0, 1};
  EXPECT_EQ(src->pick(both, -1, 0), 0u);  // no current actor: the lowest
  v.op_step[0] = 1;
  EXPECT_EQ(src->pick(both, 0, 1), 0u);  // not the anchor: keep running
  v.op_step[0] = 2;
  EXPECT_EQ(src->pick(both, 0, 2), 1u);  // the anchor: switch to the other
  v.op_step[1] = 3;
  EXPECT_EQ(src->pick(both, 1, 3), 1u);  // actor 1's op 0, not its op 1
  v.op = {1, 1};
  EXPECT_EQ(src->pick(both, 1, 4), 0u);  // actor 1, op 1, sync point 3
  EXPECT_EQ(src->pick({0}, 0, 5), 0u);   // one candidate: nothing to switch to
  v.op = {-1, 1};
  EXPECT_EQ(src->pick(both, 0, 6), 0u);  // outside an op: no anchor
  // Three candidates: the target byte picks among the two others.
  v.op = {1, 0, 0};
  v.op_step = {2, 0, 0};
  v.in_op = {1, 1, 1};
  const std::vector<uint8_t> three = {0, 1, 2, 1};
  auto s3 = make_anchor_bytes_source(three.data(), three.size(), {2, 1, 1});
  s3->attach(&v);
  EXPECT_EQ(s3->pick({0, 1, 2}, 0, 0), 2u);  // others {1, 2}, 1 % 2 = 1 -> 2
  EXPECT_EQ(s3->pick({0, 1, 2}, 0, 1), 0u);  // fired once
  // No program shape, or no bytes: never a switch.
  auto none = make_anchor_bytes_source(bytes.data(), bytes.size(), {});
  none->attach(&v);
  EXPECT_EQ(none->pick({0, 1, 2}, 0, 0), 0u);
}

TEST(Schedulers, RecordedSourceFollowsTheScheduleAndReportsDivergence) {
  Schedule s;
  ASSERT_EQ(parse_schedule("1x2 0x1", s), "");
  auto src = make_recorded_source(s);
  EXPECT_EQ(src->pick({0, 1}, -1, 0), 1u);
  EXPECT_EQ(src->pick({0, 1}, 1, 1), 1u);
  EXPECT_EQ(src->pick({0, 1}, 1, 2), 0u);
  EXPECT_FALSE(src->diverged());
  EXPECT_EQ(src->pick({0, 1}, 0, 3), 0u);  // past the end: keep running
  EXPECT_FALSE(src->diverged());

  auto bad = make_recorded_source(s);
  EXPECT_EQ(bad->pick({0}, -1, 0), 0u);  // actor 1 is not a candidate
  EXPECT_TRUE(bad->diverged());
}

TEST(Schedulers, PctRunsTheHighestPriorityActorWithoutChangePointsAtDepthOne) {
  // d = 1: no change points, so one actor runs to completion before any other.
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = mixed_program(cfg);
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto src = make_pct_source(seed, 3, 1, 100);
    const RunResult r = run_deterministic(cfg, p, *src);
    ASSERT_TRUE(r.clean()) << describe(r);
    EXPECT_EQ(r.preemptions, 0u) << format_schedule(r.schedule);
  }
}

TEST(Schedulers, ScheduleTextRoundTripsAndRejectsBadEntries) {
  Schedule s;
  ASSERT_EQ(parse_schedule("0x12 1x3 0x5", s), "");
  EXPECT_EQ(s, (Schedule{{0, 12}, {1, 3}, {0, 5}}));
  EXPECT_EQ(format_schedule(s), "0x12 1x3 0x5");
  EXPECT_EQ(schedule_steps(s), 20u);
  EXPECT_EQ(parse_schedule("0x0", s), "schedule entry '0x0' is not ACTORxSTEPS (actor < 256, steps >= 1)");
  EXPECT_EQ(parse_schedule("256x1", s), "schedule entry '256x1' is not ACTORxSTEPS (actor < 256, steps >= 1)");
  EXPECT_EQ(parse_schedule("3", s), "schedule entry '3' is not ACTORxSTEPS");
}

// --- the racy trace -------------------------------------------------------------

TEST(RacyTrace, IsCleanWithoutTheBugAndFailsOnlyWithTheRaceWithIt) {
  Trace t = racy_trace();
  ASSERT_EQ(t.program.actors.size(), 2u);
  ASSERT_EQ(t.model.bugs, core::bug_bit(core::Bug::TruncateSkipsGracePeriod));
  core::ModelConfig clean = t.model;
  clean.bugs = 0;
  const uint64_t k_est = estimate_k(clean, t.program);
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto src = make_pct_source(seed, 2, 2, k_est);
    const RunResult r = run_deterministic(clean, t.program, *src);
    ASSERT_TRUE(r.clean()) << src->describe() << ": " << describe(r);
  }
  // With the bug, a random schedule rarely hits the race (PCT is the tool
  // for it), but whatever fails fails with the race's signature.
  uint64_t failed = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    auto src = make_random_source(seed);
    const RunResult r = run_deterministic(t.model, t.program, *src);
    if (!r.clean()) {
      ++failed;
      EXPECT_EQ(r.report.signature, kRacySignature) << describe(r);
    }
  }
  RecordProperty("random_failing_of_300", std::to_string(failed));
}

TEST(RacyTrace, PctFindsItWithin2000SeedsAndTheScheduleReplays100Times) {
  const Trace t = racy_trace();
  const uint64_t k_est = estimate_k(t.model, t.program);
  RunResult fail;
  std::string how;
  uint64_t found_at = 0;
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    auto src = make_pct_source(seed, 2, 2, k_est);
    RunResult r = run_deterministic(t.model, t.program, *src);
    EXPECT_EQ(r.d, 2u);
    if (!r.clean()) {
      found_at = seed;
      fail = std::move(r);
      how = src->describe();
      break;
    }
  }
  ASSERT_NE(found_at, 0u) << "PCT d=2 did not find the race in 2000 seeds (k estimate " << k_est << ")";
  RecordProperty("pct_seed", std::to_string(found_at));
  EXPECT_EQ(fail.report.signature, kRacySignature) << describe(fail);
  EXPECT_EQ(fail.report.violation.kind, core::ViolationKind::UseAfterFree);
  EXPECT_EQ(fail.report.actor, 1);
  EXPECT_EQ(fail.report.op_index, 3);
  EXPECT_EQ(fail.report.op_text, "t1 cache_truncate index=0");
  EXPECT_EQ(schedule_steps(fail.schedule), fail.k);

  // 100 replays: same verdict, signature, k and schedule; never diverged.
  for (int i = 0; i < 100; ++i) {
    auto rec = make_recorded_source(fail.schedule);
    const RunResult r = run_deterministic(t.model, t.program, *rec);
    ASSERT_FALSE(r.clean()) << "replay " << i;
    ASSERT_EQ(r.report.signature, fail.report.signature) << "replay " << i;
    ASSERT_EQ(r.k, fail.k) << "replay " << i;
    ASSERT_EQ(r.schedule, fail.schedule) << "replay " << i;
    ASSERT_FALSE(r.diverged) << "replay " << i;
  }

  // Through the text trace: write, parse back, replay 100 times.
  Trace out = t;
  out.comments = {"found by " + how};
  out.source = how;
  out.expect_clean = false;
  out.expect_signature = fail.report.signature;
  out.has_schedule = true;
  out.schedule = fail.schedule;
  const std::string text = write_trace(out);
  Trace back;
  ASSERT_EQ(parse_trace(text, "found.trace", back), "") << text;
  EXPECT_EQ(write_trace(back), text);
  EXPECT_EQ(back.program, t.program);
  EXPECT_EQ(back.schedule, fail.schedule);
  EXPECT_EQ(back.source, how);
  ASSERT_EQ(back.comments.size(), 1u);
  EXPECT_EQ(back.comments[0], "found by " + how);
  for (unsigned i = 0; i < 100; ++i) {
    const RunResult r = run_trace(back, i);
    ASSERT_TRUE(verdict_matches(back, r)) << "trace replay " << i << ": " << describe(r);
    ASSERT_EQ(r.k, fail.k);
    ASSERT_FALSE(r.diverged);
  }

  // The same schedule on a clean core: clean, and it still fits (the clean
  // core may take other steps, so only the verdict is checked).
  Trace fixed = back;
  fixed.model.bugs = 0;
  const RunResult rc = run_trace(fixed);
  EXPECT_TRUE(rc.clean()) << describe(rc);
  EXPECT_FALSE(verdict_matches(fixed, rc));
}

TEST(RacyTrace, TwoAnchoredSwitchesReachTheRaceAndItsScheduleReplays) {
  // Every pair of anchors (actor, op, sync point < 12) on the racy program:
  // some pair reaches the race, every failure has its signature, the clean
  // core is clean on all of them, and a failing run's schedule replays.
  const Trace t = racy_trace();
  const core::ModelConfig clean = racy_trace_config();
  std::vector<size_t> ops;
  for (const auto& a : t.program.actors) ops.push_back(a.size());
  std::vector<std::vector<uint8_t>> anchors;
  for (uint8_t a = 0; a < 2; ++a)
    for (uint8_t op = 0; op < ops[a]; ++op)
      for (uint8_t j = 0; j < 12; ++j) anchors.push_back({a, op, j, 0});
  unsigned failing = 0, runs = 0;
  RunResult fail;
  for (const auto& x : anchors)
    for (const auto& y : anchors) {
      std::vector<uint8_t> bytes = x;
      bytes.insert(bytes.end(), y.begin(), y.end());
      auto src = make_anchor_bytes_source(bytes.data(), bytes.size(), ops);
      RunResult r = run_deterministic(t.model, t.program, *src);
      ++runs;
      if (!r.clean()) {
        ASSERT_EQ(r.report.signature, kRacySignature) << describe(r);
        if (failing++ == 0) fail = std::move(r);
      }
      auto again = make_anchor_bytes_source(bytes.data(), bytes.size(), ops);
      const RunResult rc = run_deterministic(clean, t.program, *again);
      ASSERT_TRUE(rc.clean()) << describe(rc);
    }
  ASSERT_GT(failing, 0u) << "no pair of anchored switches of " << runs << " reached the race";
  RecordProperty("anchor_pairs_failing", std::to_string(failing) + " of " + std::to_string(runs));
  for (int i = 0; i < 10; ++i) {
    auto rec = make_recorded_source(fail.schedule);
    const RunResult r = run_deterministic(t.model, t.program, *rec);
    ASSERT_EQ(r.report.signature, fail.report.signature) << "replay " << i;
    ASSERT_EQ(r.schedule, fail.schedule) << "replay " << i;
    ASSERT_FALSE(r.diverged) << "replay " << i;
  }
}

TEST(RacyTrace, BoundedExplorationWithBoundOneFindsItAndIsExhausted) {
  const Trace t = racy_trace();
  BoundedOptions o;
  o.bound = 1;
  const BoundedResult b = explore_bounded(t.model, t.program, o);
  RecordProperty("runs", std::to_string(b.runs));
  RecordProperty("failing", std::to_string(b.failing));
  EXPECT_TRUE(b.exhausted) << b.runs << " runs";
  EXPECT_EQ(b.bound, 1u);
  ASSERT_TRUE(b.has_failure);
  EXPECT_GT(b.failing, 0u);
  EXPECT_LT(b.failing, b.runs);
  ASSERT_EQ(b.signatures.size(), 1u);
  EXPECT_EQ(b.signatures.begin()->first, kRacySignature);
  EXPECT_EQ(b.signatures.begin()->second, b.failing);
  EXPECT_EQ(b.first_failure.report.signature, kRacySignature);
  EXPECT_LE(b.first_failure.preemptions, 1u);

  // The first failing schedule replays.
  auto rec = make_recorded_source(b.first_failure.schedule);
  const RunResult r = run_deterministic(t.model, t.program, *rec);
  EXPECT_EQ(r.report.signature, kRacySignature) << describe(r);
  EXPECT_FALSE(r.diverged);

  // stop_at_first stops there.
  BoundedOptions first = o;
  first.stop_at_first = true;
  const BoundedResult bf = explore_bounded(t.model, t.program, first);
  EXPECT_TRUE(bf.has_failure);
  EXPECT_EQ(bf.failing, 1u);
  EXPECT_FALSE(bf.exhausted);
  EXPECT_LE(bf.runs, b.runs);

  // Bound 0: no preemption at all, and the race needs one.
  BoundedOptions zero = o;
  zero.bound = 0;
  const BoundedResult b0 = explore_bounded(t.model, t.program, zero);
  EXPECT_TRUE(b0.exhausted);
  EXPECT_EQ(b0.failing, 0u);
  EXPECT_LT(b0.runs, b.runs);
}

TEST(RacyTrace, WithoutTheBugBoundTwoIsExhaustedWithNoFailure) {
  Trace t = racy_trace();
  t.model.bugs = 0;
  BoundedOptions o;
  o.bound = 2;
  const BoundedResult b = explore_bounded(t.model, t.program, o);
  RecordProperty("runs", std::to_string(b.runs));
  EXPECT_TRUE(b.exhausted) << b.runs << " runs";
  EXPECT_EQ(b.failing, 0u);
  EXPECT_FALSE(b.has_failure);
  if (b.has_failure) ADD_FAILURE() << describe(b.first_failure);
  EXPECT_GT(b.runs, 166u);  // bound 2 explores more than bound 1 did
}

TEST(RacyTrace, BoundedExplorationStopsAtMaxRunsWithoutClaimingExhaustion) {
  Trace t = racy_trace();
  t.model.bugs = 0;
  BoundedOptions o;
  o.bound = 2;
  o.max_runs = 10;
  const BoundedResult b = explore_bounded(t.model, t.program, o);
  EXPECT_EQ(b.runs, 10u);
  EXPECT_FALSE(b.exhausted);
}

TEST(RacyTrace, FormatInterleavingHasOneColumnPerActorAndNamesTheOps) {
  const Trace t = racy_trace();
  BoundedOptions o;
  o.bound = 1;
  o.stop_at_first = true;
  const BoundedResult b = explore_bounded(t.model, t.program, o);
  ASSERT_TRUE(b.has_failure);
  RunOptions ro;
  ro.timeline = true;
  auto rec = make_recorded_source(b.first_failure.schedule);
  const RunResult r = run_deterministic(t.model, t.program, *rec, ro);
  ASSERT_EQ(r.report.signature, kRacySignature);
  ASSERT_FALSE(r.timeline.empty());
  for (const Segment& s : r.timeline) {
    EXPECT_LE(s.first_step, s.last_step);
    EXPECT_LE(s.last_step, r.k);
  }

  const std::string cols = format_interleaving(t.program, r);
  std::istringstream in(cols);
  std::string header;
  ASSERT_TRUE(std::getline(in, header));
  EXPECT_NE(header.find("| t0"), std::string::npos) << cols;
  EXPECT_NE(header.find("| t1"), std::string::npos) << cols;
  EXPECT_EQ(header.find("| t2"), std::string::npos) << cols;
  size_t rows = 0;
  bool t0_col = false, t1_col = false;
  for (std::string line; std::getline(in, line);) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), '|'), 2) << "row '" << line << "'";
    // The op sits in its actor's column: t0's ops left of the second bar.
    const size_t bar2 = line.find('|', line.find('|') + 1);
    if (line.find("cache_lookup") != std::string::npos) {
      t0_col = true;
      EXPECT_LT(line.find("cache_lookup"), bar2) << line;
    }
    if (line.find("cache_truncate") != std::string::npos) {
      t1_col = true;
      EXPECT_GT(line.find("cache_truncate"), bar2) << line;
    }
  }
  EXPECT_GT(rows, 1u);
  EXPECT_TRUE(t0_col) << cols;
  EXPECT_TRUE(t1_col) << cols;
  for (const char* op : {"cache_lookup index=0", "cache_insert slot=0 index=0", "cache_truncate index=0", "alloc zone=normal"})
    EXPECT_NE(cols.find(op), std::string::npos) << op << " missing from\n" << cols;

  // Three actors: three columns.
  const core::ModelConfig cfg = racy_trace_config();
  const Program p3 = mixed_program(cfg);
  auto src = make_random_source(7);
  const RunResult r3 = run_deterministic(cfg, p3, *src, ro);
  const std::string c3 = format_interleaving(p3, r3);
  const std::string h3 = c3.substr(0, c3.find('\n'));
  EXPECT_EQ(std::count(h3.begin(), h3.end(), '|'), 3) << c3;
  EXPECT_NE(c3.find("gup_fast mm=0 pte=0"), std::string::npos) << c3;
  EXPECT_NE(c3.find("migrate pfn=64 zone=movable"), std::string::npos) << c3;
}

// --- deadlock and livelock ------------------------------------------------------

// A real livelock: t0 maps a guest_memfd page and keeps a FOLL_GET reference
// on it; t1 converts the page to private, which waits (spinning on sync
// points) for the transient references to drop. t0's never does, and with a
// huge gmem_convert_spins t1 spins far longer than livelock_steps: only a
// spinner is left, nothing completes, and the scheduler must say so instead
// of spinning on.
TEST(Deadlock, ASpinnerWaitingForAReferenceNobodyDropsIsReportedWithEveryActorsState) {
  core::ModelConfig cfg = racy_trace_config();
  cfg.gmem_convert_spins = 1u << 24;
  const Program p = program_of(cfg, {
                                        {"gmem_populate index=0", "gmem_map index=0 mm=0 pte=0", "get_user mm=0 pte=0"},
                                        {"gmem_convert index=0 count=2 private=1"},
                                    });
  // Bytes all zero: the lowest candidate runs, so t0 finishes first.
  const std::vector<uint8_t> zeros(64, 0);
  auto src = make_bytes_source(zeros.data(), zeros.size());
  RunOptions o;
  o.livelock_steps = 20'000;
  const RunResult r = run_deterministic(cfg, p, *src, o);
  ASSERT_FALSE(r.clean());
  EXPECT_EQ(r.report.violation.kind, core::ViolationKind::Deadlock);
  EXPECT_EQ(r.report.signature, "deadlock/scheduler:no-progress/schedule");
  EXPECT_LT(r.k, 100'000u) << "the livelock was not cut at livelock_steps";
  EXPECT_GT(r.k, 20'000u);
  const std::string& x = r.report.extra;
  EXPECT_NE(x.find("t0: finished"), std::string::npos) << x;
  EXPECT_NE(x.find("t1: in op 0 'gmem_convert index=0 count=2 private=1', spinning"), std::string::npos) << x;
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0], (std::vector<int>{0, 0, 0}));
  EXPECT_TRUE(r.results[1].empty());

  // With a short convert budget the same schedule is clean: convert gives up
  // with -EAGAIN.
  core::ModelConfig bounded = cfg;
  bounded.gmem_convert_spins = 64;
  auto src2 = make_bytes_source(zeros.data(), zeros.size());
  const RunResult r2 = run_deterministic(bounded, p, *src2, o);
  EXPECT_TRUE(r2.clean()) << describe(r2);
  ASSERT_EQ(r2.results.size(), 2u);
  EXPECT_EQ(r2.results[1], (std::vector<int>{-EAGAIN}));
}

// No deadlock needed: a tiny livelock budget makes any op that takes more
// than one step look stuck; the report names every actor's state.
TEST(Deadlock, ATinyLivelockBudgetReportsEveryActorsStateInsteadOfRunningOn) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = mixed_program(cfg);
  auto src = make_random_source(3);
  RunOptions o;
  o.livelock_steps = 1;
  const RunResult r = run_deterministic(cfg, p, *src, o);
  ASSERT_FALSE(r.clean());
  EXPECT_EQ(r.report.violation.kind, core::ViolationKind::Deadlock);
  EXPECT_EQ(r.report.signature, "deadlock/scheduler:no-progress/schedule");
  EXPECT_EQ(r.report.actor, -1);
  const std::string& x = r.report.extra;
  for (const char* a : {"  t0: ", "  t1: ", "  t2: "}) EXPECT_NE(x.find(a), std::string::npos) << x;
  EXPECT_EQ(std::count(x.begin(), x.end(), '\n'), 3) << x;

  RunOptions budget;
  budget.max_steps = 5;
  auto src2 = make_random_source(3);
  const RunResult r2 = run_deterministic(cfg, p, *src2, budget);
  ASSERT_FALSE(r2.clean());
  EXPECT_EQ(r2.report.signature, "deadlock/scheduler:step-budget/schedule");
  EXPECT_EQ(r2.k, 5u);
  EXPECT_FALSE(r2.report.extra.empty());
}

// Only spinners left is not a deadlock when a spinner can go on: here t0,
// done with its op, waits at the audit gate for t1 to leave it, and t1 waits
// in truncate's grace period (or spins through a bounded delay). A source
// that always prefers one of them (PCT's priorities, the bounded explorer's
// "keep running the current actor") must not starve the other: the
// scheduler lets spinners take turns, and a clean core stays clean.
TEST(Deadlock, SpinnersThatCanGoOnAreNotReportedAsDeadlocked) {
  Trace t = racy_trace();
  t.model.bugs = 0;
  BoundedOptions o;
  o.bound = 1;
  o.run.audit_every = 1;
  o.run.livelock_steps = 5'000;
  const BoundedResult b = explore_bounded(t.model, t.program, o);
  EXPECT_TRUE(b.exhausted) << b.runs << " runs";
  EXPECT_EQ(b.failing, 0u) << b.failing << " of " << b.runs << " schedules failed, first: "
                           << (b.has_failure ? describe(b.first_failure) : "");

  // The same with PCT and a delayed grace period (a rapidcheck counterexample).
  core::ModelConfig cfg = t.model;
  cfg.faults.sites = core::fault_bit(core::FaultSite::DelayedGracePeriod);
  cfg.faults.seed = 0;
  cfg.faults.rate = 2;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto src = make_pct_source(seed, 2, 3, 200);
    RunOptions ro;
    ro.audit_every = 1;
    ro.livelock_steps = 5'000;
    const RunResult r = run_deterministic(cfg, t.program, *src, ro);
    EXPECT_TRUE(r.clean()) << src->describe() << ": " << describe(r);
  }
}

// --- quiescent audits -------------------------------------------------------------

TEST(Audits, AuditEveryOpRunsAuditsAndStaysCleanOnEveryScheduler) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = mixed_program(cfg);
  RunOptions o;
  o.audit_every = 1;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto src = make_random_source(seed);
    const RunResult r = run_deterministic(cfg, p, *src, o);
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_GT(r.audits, 0u);
    EXPECT_LE(r.audits, p.total_ops());
    auto rec = make_recorded_source(r.schedule);
    const RunResult rr = run_deterministic(cfg, p, *rec, o);
    EXPECT_EQ(rr.audits, r.audits);
    EXPECT_FALSE(rr.diverged);
  }
  for (bool perturb : {false, true}) {
    RunOptions to = o;
    to.seed = 5;
    const RunResult r = run_threads(cfg, p, perturb, to);
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_GT(r.audits, 0u);
  }
  // Without audit_every only the teardown oracle runs.
  auto src = make_random_source(1);
  EXPECT_EQ(run_deterministic(cfg, p, *src).audits, 0u);
}

// The teardown oracle releases what the actors still hold (references,
// mappings, isolated pageblocks): every frame must be back in the buddy.
TEST(Audits, TeardownReleasesHeldReferencesMappingsAndIsolations) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = program_of(cfg, {{"alloc zone=normal order=2", "get slot=0", "isolate pfn=64"},
                                     {"alloc zone=movable order=0", "map slot=0 mm=1 pte=3 page=0",
                                      "cache_insert slot=0 index=4"}});
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    auto src = make_random_source(seed);
    RunOptions o;
    o.audit_every = 1;
    const RunResult r = run_deterministic(cfg, p, *src, o);
    EXPECT_TRUE(r.clean()) << describe(r);
    ASSERT_EQ(r.results.size(), 2u);
    EXPECT_EQ(r.results[0], (std::vector<int>{0, 0, 0}));
    EXPECT_EQ(r.results[1], (std::vector<int>{0, 0, 0}));
  }
}

// --- fault sites --------------------------------------------------------------------

constexpr core::FaultSite kSites[] = {core::FaultSite::AllocFail, core::FaultSite::SpuriousCas,
                                      core::FaultSite::DelayedGracePeriod, core::FaultSite::LatePinDrop};

// A random program over the ops the fault sites sit in.
Program random_fault_program(Rng& rng, const core::ModelConfig& cfg, unsigned actors, unsigned ops) {
  static const char* const kOps[] = {"alloc zone=normal order=0", "alloc zone=movable order=1",
                                     "map slot=0 mm=0 pte=0 page=0", "map slot=1 mm=0 pte=1 page=1",
                                     "pin mm=0 pte=0", "gup_fast mm=0 pte=1", "pin_longterm mm=0 pte=0",
                                     "get_user mm=0 pte=1", "unpin slot=1", "unpin slot=2",
                                     "cache_insert slot=0 index=0", "cache_insert slot=1 index=2",
                                     "cache_lookup index=0", "cache_lookup index=2", "cache_truncate index=0",
                                     "cache_truncate index=2", "put slot=0", "put slot=1", "put slot=2",
                                     "freeze slot=0", "unfreeze slot=0", "pfn_walk pfn=64", "try_get pfn=0",
                                     "migrate pfn=64 zone=normal", "migrate pfn=0 zone=movable",
                                     "unmap mm=0 pte=0", "write mm=0 pte=1", "gmem_populate index=0"};
  std::vector<std::vector<std::string>> text(actors);
  for (auto& a : text)
    for (unsigned i = 0; i < ops; ++i) a.push_back(kOps[rng.below(std::size(kOps))]);
  return program_of(cfg, text);
}

TEST(Faults, ACleanCoreSurvivesEveryFaultSiteAndEverySiteFires) {
  Rng rng(2024);
  uint64_t fired[core::kNrFaultSites] = {};
  uint64_t det_fired_runs = 0;
  constexpr unsigned kPrograms = 150;
  for (unsigned i = 0; i < kPrograms; ++i) {
    core::ModelConfig cfg = racy_trace_config();
    cfg.faults.sites = (1u << core::kNrFaultSites) - 1;
    cfg.faults.rate = 2 + rng.below(7);  // 2..8
    cfg.faults.seed = rng.next();
    const unsigned actors = 2 + rng.below(2);
    const Program p = random_fault_program(rng, cfg, actors, 10);
    SCOPED_TRACE("program " + std::to_string(i) + " rate " + std::to_string(cfg.faults.rate));

    // On the deterministic scheduler, with the oracle.
    auto src = make_random_source(rng.next());
    RunOptions o;
    o.audit_every = 1 + rng.below(3);
    const RunResult r = run_deterministic(cfg, p, *src, o);
    ASSERT_TRUE(r.clean()) << describe(r) << "\nschedule " << format_schedule(r.schedule);
    det_fired_runs += r.ops > 0;

    // The same program stepped directly on a World (round-robin in random
    // order, then teardown), where the fault counters are reachable.
    World w(cfg, p);
    for (bool more = true; more;) {
      more = false;
      for (Actor& a : w.actors())
        if (!a.done() && rng.chance(2, 3)) w.step(a);
      for (Actor& a : w.actors()) more |= !a.done();
    }
    for (Actor& a : w.actors()) w.release_all(a);
    w.teardown_structures();
    ASSERT_EQ(w.model().violation_count(), 0u) << core::format_violation(w.model().violations().front());
    for (unsigned s = 0; s < core::kNrFaultSites; ++s) fired[s] += w.model().faults().fired(kSites[s]);
  }
  EXPECT_EQ(det_fired_runs, kPrograms);
  for (unsigned s = 0; s < core::kNrFaultSites; ++s) {
    RecordProperty(std::string("fired_") + core::fault_site_name(kSites[s]), std::to_string(fired[s]));
    EXPECT_GT(fired[s], 0u) << "fault site " << core::fault_site_name(kSites[s]) << " never fired in " << kPrograms
                            << " programs with every site on";
  }
}

// Faults are part of the deterministic replay: the same schedule, the same
// faults, the same results.
TEST(Faults, FaultsReplayExactlyWithTheirSchedule) {
  Rng rng(99);
  for (unsigned i = 0; i < 20; ++i) {
    core::ModelConfig cfg = racy_trace_config();
    cfg.faults.sites = (1u << core::kNrFaultSites) - 1;
    cfg.faults.rate = 2;
    cfg.faults.seed = i;
    const Program p = random_fault_program(rng, cfg, 2, 10);
    auto src = make_random_source(i);
    const RunResult r = run_deterministic(cfg, p, *src);
    ASSERT_TRUE(r.clean()) << describe(r);
    auto rec = make_recorded_source(r.schedule);
    const RunResult rr = run_deterministic(cfg, p, *rec);
    EXPECT_EQ(rr.results, r.results);
    EXPECT_EQ(rr.schedule, r.schedule);
    EXPECT_FALSE(rr.diverged);
  }
  // An alloc-fail rate of 1 fails every allocation.
  core::ModelConfig cfg = racy_trace_config();
  cfg.faults.sites = core::fault_bit(core::FaultSite::AllocFail);
  cfg.faults.rate = 1;
  const Program p = program_of(cfg, {{"alloc zone=normal order=0", "alloc zone=movable order=3"}});
  auto src = make_random_source(1);
  const RunResult r = run_deterministic(cfg, p, *src);
  ASSERT_TRUE(r.clean()) << describe(r);
  EXPECT_EQ(r.results[0], (std::vector<int>{-ENOMEM, -ENOMEM}));
}

// --- op semantics ------------------------------------------------------------------------

// Count arguments are 1-based in text and semantics (op.cpp: "stored 0..3,
// shown 1..4"): `gmem_convert index=0 count=1` converts one page, count=2 two.
TEST(OpSemantics, GmemConvertCountIsOneBased) {
  const core::ModelConfig cfg = racy_trace_config();  // gmem huge folios of 4 pages
  const Program p = program_of(cfg, {{"gmem_populate index=0", "gmem_convert index=0 count=1 private=1",
                                      "gmem_convert index=2 count=2 private=1", "gmem_map index=0 mm=0 pte=0",
                                      "gmem_map index=1 mm=0 pte=1", "gmem_map index=2 mm=0 pte=2",
                                      "gmem_map index=3 mm=0 pte=3"}});
  auto src = make_random_source(1);
  const RunResult r = run_deterministic(cfg, p, *src);
  ASSERT_TRUE(r.clean()) << describe(r);
  ASSERT_EQ(r.results.size(), 1u);
  // Pages 0, 2 and 3 private (the host may not map them), page 1 shared.
  EXPECT_EQ(r.results[0], (std::vector<int>{0, 0, 0, -EPERM, 0, -EPERM, -EPERM}))
      << "convert count=1 must convert exactly one page and count=2 two";
}

// --- traces ----------------------------------------------------------------------------

TEST(Traces, RunTraceUsesItsSchedulerAndVerdictMatchesChecksTheSignature) {
  Trace t = racy_trace();
  t.model.bugs = 0;
  t.expect_clean = true;
  for (SchedulerKind k : {SchedulerKind::Deterministic, SchedulerKind::Free, SchedulerKind::Perturb}) {
    t.scheduler = k;
    const RunResult r = run_trace(t);
    EXPECT_TRUE(r.clean()) << scheduler_name(k) << ": " << describe(r);
    EXPECT_TRUE(verdict_matches(t, r));
    EXPECT_EQ(r.n, 2u);
    if (k == SchedulerKind::Deterministic) {
      EXPECT_GT(r.k, 0u);
    }
  }
  t.expect_clean = false;
  t.expect_signature = kRacySignature;
  t.scheduler = SchedulerKind::Deterministic;
  EXPECT_FALSE(verdict_matches(t, run_trace(t)));
}

TEST(Traces, WriteFileAtomicRefusesToOverwriteAndLoadTraceReadsBack) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/harness_test_" + std::to_string(::getpid()) + ".trace";
  std::remove(path.c_str());
  ASSERT_EQ(write_file_atomic(path, kRacyTrace, false), "");
  EXPECT_EQ(write_file_atomic(path, "x", false), path + ": exists; not overwriting it");
  Trace t;
  EXPECT_EQ(load_trace(path, t), "");
  EXPECT_EQ(t.program, racy_trace().program);
  ASSERT_EQ(write_file_atomic(path, "refhammer-trace 2\n", true), "");
  EXPECT_EQ(load_trace(path, t), path + ":1: trace format version 2 is not supported (this build reads 1)");
  std::remove(path.c_str());
  const std::string missing = dir + "/harness_test_missing_" + std::to_string(::getpid()) + ".trace";
  EXPECT_EQ(load_trace(missing, t).rfind(missing + ":0: cannot open: ", 0), 0u);
}

// --- binary encoding ---------------------------------------------------------------------

// Pfn arguments are encoded in two bytes. A model may have more than 65536
// frames (the trace format allows up to 3 * 2^20), and a program naming a
// pfn at or above 65536 must still survive encode/decode with the same
// configuration, as every other program does.
TEST(Encoding, APfnArgumentAbove65535SurvivesEncodeDecode) {
  core::ModelConfig cfg = racy_trace_config();
  cfg.block_frames = 1024;
  cfg.normal_frames = 1u << 16;
  cfg.movable_frames = 1u << 16;
  ASSERT_EQ(cfg.validate(), "");
  Program p;
  p.actors.resize(1);
  Op op;
  ASSERT_EQ(parse_op("pfn_walk pfn=70000", cfg, op), "");
  p.actors[0].push_back(op);
  ASSERT_EQ(parse_op("alloc zone=movable order=2", cfg, op), "");
  p.actors[0].push_back(op);
  const std::vector<uint8_t> bytes = encode_program(p, cfg);
  const Program back = decode_program(bytes.data(), bytes.size(), 1, cfg);
  ASSERT_EQ(back.actors.size(), 1u);
  ASSERT_EQ(back.actors[0].size(), 2u);
  EXPECT_EQ(format_op(back.actors[0][0]), "pfn_walk pfn=70000");
  EXPECT_EQ(back, p);
}

TEST(Encoding, DecodeDropsATruncatedOpAndTakesBytesModuloTheirRange) {
  const core::ModelConfig cfg = racy_trace_config();
  const int alloc = op_code("alloc");
  ASSERT_GE(alloc, 0);
  // Two actors: [actor][op][zone][order]. Actor byte 5 % 2 = 1; zone 3 % 2 = 1
  // (movable); order 9 % 4 = 1. Then a truncated op.
  const std::vector<uint8_t> bytes = {5, static_cast<uint8_t>(alloc + op_table().size()), 3, 9, 0,
                                      static_cast<uint8_t>(alloc), 1};
  const Program p = decode_program(bytes.data(), bytes.size(), 2, cfg);
  ASSERT_EQ(p.actors.size(), 2u);
  EXPECT_TRUE(p.actors[0].empty());
  ASSERT_EQ(p.actors[1].size(), 1u);
  EXPECT_EQ(format_op(p.actors[1][0]), "alloc zone=movable order=1");
  // nactors 0 is taken as 1.
  EXPECT_EQ(decode_program(bytes.data(), bytes.size(), 0, cfg).actors.size(), 1u);
  EXPECT_EQ(decode_program(nullptr, 0, 3, cfg).total_ops(), 0u);
}

TEST(Encoding, EveryOpHasAUniqueNameHelpAndNamedArguments) {
  std::set<std::string> names;
  for (size_t c = 0; c < op_table().size(); ++c) {
    const OpSpec& s = op_table()[c];
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_EQ(op_code(s.name), static_cast<int>(c));
    EXPECT_LE(s.nargs, kMaxArgs);
    EXPECT_NE(s.exec, nullptr) << s.name;
    EXPECT_NE(std::string(s.help), "") << s.name;
    std::set<std::string> args;
    for (unsigned i = 0; i < s.nargs; ++i) {
      ASSERT_NE(s.args[i].name, nullptr) << s.name;
      EXPECT_TRUE(args.insert(s.args[i].name).second) << s.name << " repeats " << s.args[i].name;
    }
  }
  EXPECT_EQ(op_code("no_such_op"), -1);
  EXPECT_LE(op_table().size(), 256u);
}

// A run of `p` on the random source of `seed` with interleaving coverage
// into 4096 counters, which it returns; the coverage's pair count in `pairs`.
std::vector<uint8_t> run_counting_pairs(const core::ModelConfig& cfg, const Program& p, uint64_t seed,
                                        RunResult* out, uint64_t* pairs) {
  std::vector<uint8_t> counters(1 << 12, 0);
  InterleavingCoverage icov;
  icov.counters = counters.data();
  icov.size = counters.size();
  RunOptions o;
  o.interleaving = &icov;
  auto src = make_random_source(seed);
  *out = run_deterministic(cfg, p, *src, o);
  *pairs = icov.pairs;
  return counters;
}

// Interleaving coverage (the fuzz targets' race gradient): cross-actor
// (writer site, accessor site) pairs, the same for the same schedule, other
// pairs for other schedules, none with one actor, and the run is unchanged.
TEST(InterleavingCoverage, CountsCrossActorPairsDeterministically) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = mixed_program(cfg);
  auto counted = [&](uint64_t seed, RunResult* out) {
    uint64_t pairs = 0;
    const std::vector<uint8_t> counters = run_counting_pairs(cfg, p, seed, out, &pairs);
    EXPECT_GT(pairs, 0u) << "seed " << seed;
    return counters;
  };
  RunResult with, again, without;
  const auto c1 = counted(1, &with);
  EXPECT_EQ(counted(1, &again), c1);
  EXPECT_GT(std::count_if(c1.begin(), c1.end(), [](uint8_t c) { return c != 0; }), 0);
  auto src = make_random_source(1);
  without = run_deterministic(cfg, p, *src);
  EXPECT_EQ(with.schedule, without.schedule);
  EXPECT_EQ(with.results, without.results);
  EXPECT_EQ(with.clean(), without.clean());
  bool other = false;
  for (uint64_t seed = 2; seed < 12 && !other; ++seed) {
    RunResult r;
    other = counted(seed, &r) != c1;
  }
  EXPECT_TRUE(other) << "ten other schedules made exactly the same pairs";
  // One actor: nothing interleaves.
  Program solo;
  solo.actors = {p.actors[0]};
  RunResult r;
  uint64_t pairs = 0;
  run_counting_pairs(cfg, solo, 1, &r, &pairs);
  EXPECT_EQ(pairs, 0u);
}

// --- args that meet: the *_recent ops and compaction -----------------------

// The *_recent ops name the folio touched n-th most recently, by any actor:
// t1 meets the folio t0 allocated without knowing its pfn.
TEST(StructuredMutation, EveryMutantStaysEncodableWithinTheTargetsShapeAndActorsComeToMeet) {
  const core::ModelConfig cfg = fuzz_model();
  for (const char* name : {"fuzz_gup", "fuzz_filemap", "fuzz_offline", "fuzz_schedule", "fuzz_schedule_switch"}) {
    SCOPED_TRACE(name);
    const FuzzTargetSpec* t = fuzz_target(name);
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(structured_mutation_applies(*t));
    FuzzCase c;
    c.program = program_of(cfg, {{"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "put slot=0"},
                                 {"try_get pfn=40", "put slot=0"}});
    if (std::string(name) == "fuzz_filemap")
      c.program = program_of(cfg, {{"alloc zone=normal order=0", "cache_insert slot=0 index=1", "put slot=0"},
                                   {"cache_lookup index=3", "put slot=0"}});
    if (std::string(name) == "fuzz_offline")
      c.program = program_of(cfg, {{"offline_alloc zone=movable", "block_offline pfn=32"}, {"try_get pfn=50"}});
    unsigned changed = 0, met = 0, anchors_added = 0;
    for (uint64_t seed = 1; seed <= 3000; ++seed) {
      FuzzCase m = c;
      if (!mutate_fuzz_case(*t, cfg, m, seed)) continue;
      ++changed;
      // Deterministic in the seed.
      FuzzCase again = c;
      ASSERT_TRUE(mutate_fuzz_case(*t, cfg, again, seed));
      ASSERT_EQ(again.program, m.program);
      ASSERT_EQ(again.sched, m.sched);
      // Within the target's shape, and the bytes decode to the same case.
      ASSERT_GE(m.program.actors.size(), t->min_actors);
      ASSERT_LE(m.program.actors.size(), t->max_actors);
      for (const auto& a : m.program.actors) ASSERT_LE(a.size(), t->max_ops_per_actor);
      std::vector<uint8_t> bytes;
      ASSERT_EQ(encode_fuzz_input(*t, m.program, m.sched, cfg, bytes), "") << "seed " << seed;
      const FuzzCase back = decode_fuzz_input(*t, bytes.data(), bytes.size(), cfg);
      ASSERT_EQ(back.program, m.program) << "seed " << seed;
      ASSERT_EQ(back.sched, m.sched) << "seed " << seed;
      if (m.sched.size() > c.sched.size()) ++anchors_added;
      // The two actors name one pfn / file index: the meeting mutation.
      for (const Op& x : m.program.actors[1])
        for (const Op& y : m.program.actors[0]) {
          const OpSpec& sx = op_spec(x.code);
          const OpSpec& sy = op_spec(y.code);
          for (unsigned i = 0; i < sx.nargs; ++i)
            for (unsigned j = 0; j < sy.nargs; ++j)
              if ((sx.args[i].kind == ArgKind::Pfn || sx.args[i].kind == ArgKind::FileIndex) &&
                  sx.args[i].kind == sy.args[j].kind && x.a[i] == y.a[j])
                ++met;
        }
    }
    EXPECT_GT(changed, 2500u);
    EXPECT_GT(met, 0u) << "no mutation made the actors name one object";
    if (t->sched == FuzzSched::Anchor) EXPECT_GT(anchors_added, 100u);
    else EXPECT_EQ(anchors_added, 0u);
  }
  // Not for the sequential and the weak-memory targets.
  EXPECT_FALSE(structured_mutation_applies(*fuzz_target("fuzz_program")));
  EXPECT_FALSE(structured_mutation_applies(*fuzz_target("fuzz_weak")));
}

TEST(StructuredMutation, CrossoverTakesActorsFromBothParents) {
  const core::ModelConfig cfg = fuzz_model();
  const FuzzTargetSpec* t = fuzz_target("fuzz_gup");
  FuzzCase a, b;
  a.program = program_of(cfg, {{"alloc zone=movable order=0", "put slot=0"}, {"try_get pfn=40"}});
  b.program = program_of(cfg, {{"gup_fast mm=0 pte=1"}, {"migrate pfn=33 zone=movable", "unpin slot=0"}});
  b.sched = {0, 0, 1, 0};
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    FuzzCase c;
    ASSERT_TRUE(cross_fuzz_cases(*t, a, b, c, seed));
    ASSERT_EQ(c.program.actors.size(), 2u);
    const bool a0 = c.program.actors[0] == a.program.actors[0], a1 = c.program.actors[1] == a.program.actors[1];
    const bool b0 = c.program.actors[0] == b.program.actors[0], b1 = c.program.actors[1] == b.program.actors[1];
    ASSERT_TRUE((a0 && b1) || (b0 && a1)) << "seed " << seed;
    ASSERT_TRUE(c.sched == a.sched || c.sched == b.sched);
  }
}

TEST(RecentOps, ASecondActorMeetsTheFolioTheFirstTouched) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = program_of(cfg, {{"alloc zone=normal order=1", "alloc zone=movable order=0"},
                                     {"try_get_recent recent=1", "pfn_walk_recent recent=7"}});
  World w(cfg, p);
  Actor& t0 = w.actors()[0];
  Actor& t1 = w.actors()[1];
  EXPECT_EQ(w.step(t1), kSkipped);  // nothing touched yet: recent=1 names nothing
  EXPECT_EQ(w.step(t0), 0);
  EXPECT_EQ(w.step(t0), 0);
  const core::Pfn first = t0.slots[0].head;
  EXPECT_EQ(w.recent(0), t0.slots[1].head);
  EXPECT_EQ(w.recent(1), first);
  t1.pc = 0;  // run try_get_recent again, now that there is something to meet
  EXPECT_EQ(w.step(t1), 0);
  EXPECT_EQ(t1.slots[0].kind, HoldKind::Ref);
  EXPECT_EQ(t1.slots[0].head, first);  // the same folio as t0's first
  EXPECT_FALSE(t1.slots[0].owned);     // somebody else's folio
  EXPECT_EQ(w.model().frame(first).refcount.peek(), 2);
  EXPECT_EQ(w.step(t1), kSkipped);  // recent=7: only three folios were touched
  EXPECT_TRUE(w.model().violations().empty());
}

// compact: the pageblock scan migrates what is movable (the folio only its
// mapping holds), leaves a folio somebody holds (the actor's order-1) and a
// pinned one where they are, and stays clean.
TEST(RecentOps, CompactionMigratesTheBlockButNotAPinnedFolio) {
  const core::ModelConfig cfg = racy_trace_config();
  World w(cfg, program_of(cfg, {{"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "put slot=0",
                                 "alloc zone=movable order=1", "alloc zone=movable order=0",
                                 "map slot=1 mm=0 pte=1 page=0", "pin mm=0 pte=1", "compact_recent recent=0"}}));
  Actor& a = w.actors()[0];
  for (int i = 0; i < 7; ++i) ASSERT_EQ(w.step(a), 0) << "op " << i;
  const core::Pfn mapped = core::pte::pfn(w.model().mm(0).pte(0).peek());
  const core::Pfn pinned = a.slots[1].head;
  const uint64_t before = w.model().probes().count(core::Probe::MigrateSucceeded);
  ASSERT_EQ(mapped & ~(w.model().frames().pageblock_frames() - 1), pinned & ~(w.model().frames().pageblock_frames() - 1))
      << "the test wants the folios in one pageblock";
  EXPECT_EQ(w.step(a), 0);
  EXPECT_EQ(w.model().probes().count(core::Probe::MigrateSucceeded), before + 1);  // only the mapped folio
  EXPECT_EQ(a.slots[0].kind, HoldKind::Ref);                                       // the held order-1 folio
  EXPECT_EQ(w.model().frame(a.slots[0].head).refcount.peek(), 1);
  EXPECT_NE(core::pte::pfn(w.model().mm(0).pte(0).peek()), mapped);              // moved, still mapped
  EXPECT_EQ(core::pte::pfn(w.model().mm(0).pte(1).peek()), pinned);              // pinned: stays
  EXPECT_TRUE(w.model().violations().empty());
  EXPECT_TRUE(core::audit(w.model(), w.ledger(), false).clean());
}

// Recent-op programs are explored like any other: the bounded space of two
// actors that meet through them is clean on the correct core.
TEST(RecentOps, BoundedSpaceOfMeetingActorsIsClean) {
  const core::ModelConfig cfg = racy_trace_config();
  const Program p = program_of(
      cfg, {{"alloc zone=movable order=0", "map slot=0 mm=0 pte=0 page=0", "put slot=0", "write mm=0 pte=0"},
            {"migrate_recent recent=0 zone=normal", "compact_recent recent=0", "try_get_recent recent=0"}});
  BoundedOptions o;
  o.bound = 2;
  expect_exhausted_and_clean(explore_bounded(cfg, p, o), 100);
}

}  // namespace
