// tests for harness/trace.hpp — the parser's error messages. Every malformed
// trace gets exactly one message, "FILE:LINE: what", naming the line a
// person has to fix (line 0 for what is missing from the whole file).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/bugs.hpp"
#include "core/faults.hpp"
#include "harness/trace.hpp"

namespace {

using namespace refhammer::harness;

// Line numbers of the base trace:
//   1 refhammer-trace 1
//   2 model ...
//   3 bugs none
//   4 actors 2
//   5 t0 alloc zone=normal order=0
//   6 t1 put slot=0
const std::string kHeader = "refhammer-trace 1\n";
const std::string kModel = "model normal=64 movable=64 device=0 block=32 max_order=3\n";
const std::string kBase = kHeader + kModel + "bugs none\nactors 2\nt0 alloc zone=normal order=0\nt1 put slot=0\n";

struct Case {
  const char* name;
  std::string text;
  std::string error;  // after "bad.trace:"
};

std::vector<Case> cases() {
  return {
      // The header.
      {"empty", "", "0: empty trace: no 'refhammer-trace 1' line"},
      {"only_comments", "# a comment\n\n# another\n", "0: empty trace: no 'refhammer-trace 1' line"},
      {"missing_header", kModel + "actors 1\n", "1: expected 'refhammer-trace 1' first, found 'model'"},
      {"header_after_comments", "# c\n\nactors 1\n", "3: expected 'refhammer-trace 1' first, found 'actors'"},
      {"wrong_version", "refhammer-trace 2\n" + kModel, "1: trace format version 2 is not supported (this build reads 1)"},
      {"version_not_a_number", "refhammer-trace one\n", "1: 'refhammer-trace' needs one version number"},
      {"version_missing", "refhammer-trace\n", "1: 'refhammer-trace' needs one version number"},
      {"header_twice", kHeader + kHeader, "2: unknown line 'refhammer-trace'"},
      // Keys.
      {"unknown_key", kHeader + kModel + "colour blue\n", "3: unknown line 'colour'"},
      {"unknown_key_t", kHeader + kModel + "t put slot=0\n", "3: unknown line 't'"},
      {"duplicate_key", kBase + "seed 1\nseed 2\n", "8: 'seed' given twice"},
      {"memory_weak_on_free_threads", kBase + "scheduler free\nmemory weak\n",
       "8: 'memory weak' needs 'scheduler deterministic': free and perturbed threads run the hardware's memory model"},
      {"memory_weak_on_perturbed_threads", kBase + "memory weak\nscheduler perturb\n",
       "7: 'memory weak' needs 'scheduler deterministic': free and perturbed threads run the hardware's memory model"},
      {"duplicate_model", kBase + kModel, "7: 'model' given twice"},
      {"missing_model", kHeader + "actors 1\n", "0: no 'model' line"},
      {"missing_actors", kHeader + kModel, "0: no 'actors' line"},
      // The model line.
      {"model_field_not_a_number", kHeader + "model normal=abc\n", "2: model field normal is not a number"},
      {"model_field_negative", kHeader + "model normal=-64\n", "2: model field normal is not a number"},
      {"model_field_unknown", kHeader + "model frames=64\n", "2: unknown model field 'frames'"},
      {"model_field_not_name_value", kHeader + "model normal\n", "2: model field 'normal' is not name=value"},
      {"model_field_above_max", kHeader + "model max_order=11\n", "2: model field max_order=11 is above 10"},
      {"model_fails_validate",
       kHeader + "model normal=64 movable=64 device=0 block=32 max_order=3 gmem_huge_order=4\n",
       "2: model: gmem_huge_order is above max_page_order"},
      {"model_fails_validate_block", kHeader + "model normal=60 movable=64 device=0 block=32 max_order=3\n",
       "2: model: normal_frames 60 is not a multiple of block_frames 32"},
      {"model_fails_validate_refcount_limit", kHeader + kModel.substr(0, kModel.size() - 1) + " refcount_limit=100\n",
       "2: model: refcount_limit 100 is below 2 * GUP_PIN_COUNTING_BIAS"},
      // design, bugs, faults.
      {"unknown_design", kBase + "design free_dispatch=magic\n", "7: unknown design variant 'free_dispatch=magic' (free_dispatch=owner-hook|per-type-checks, gmem_pin_policy=refuse-longterm|split-small-folios, zone_device=0-based|1-based, offline=frozen|legacy)"},
      {"unknown_bug", kHeader + kModel + "bugs no-such-bug\n", "3: unknown bug 'no-such-bug' (see `refhammer bugs`)"},
      {"unknown_bug_in_list", kHeader + kModel + "bugs truncate-skips-grace-period,nope\n",
       "3: unknown bug 'nope' (see `refhammer bugs`)"},
      {"unknown_fault_site", kBase + "faults alloc-fail,bit-flip seed=1 rate=4\n",
       "7: unknown fault site 'bit-flip' (alloc-fail, spurious-cas, delayed-grace-period, late-pin-drop)"},
      {"fault_rate_zero", kBase + "faults alloc-fail rate=0\n", "7: fault rate must be 1..1000000"},
      {"fault_seed_not_a_number", kBase + "faults alloc-fail seed=x\n", "7: fault option 'seed=x' is not a number"},
      // Other keys.
      {"seed_not_a_number", kBase + "seed -1\n", "7: 'seed' needs one number"},
      {"seed_two_numbers", kBase + "seed 1 2\n", "7: 'seed' needs one number"},
      {"unknown_scheduler", kBase + "scheduler chaotic\n", "7: unknown scheduler 'chaotic'"},
      {"scheduler_missing", kBase + "scheduler\n", "7: 'scheduler' needs deterministic, free or perturb"},
      {"audit_every_too_big", kBase + "audit_every 1000001\n", "7: 'audit_every' needs a number up to 1000000"},
      {"bad_expect", kBase + "expect maybe\n", "7: 'expect' needs 'clean' or 'violation SIGNATURE'"},
      {"expect_violation_without_signature", kBase + "expect violation\n",
       "7: 'expect' needs 'clean' or 'violation SIGNATURE'"},
      {"actors_zero", kHeader + kModel + "actors 0\n", "3: 'actors' needs a number from 1 to 8"},
      {"actors_nine", kHeader + kModel + "actors 9\n", "3: 'actors' needs a number from 1 to 8"},
      // Op lines.
      {"unknown_op", kBase + "t0 frobnicate slot=0\n", "7: unknown op 'frobnicate'"},
      {"op_arg_out_of_range", kBase + "t1 alloc zone=normal order=4\n",
       "7: argument order=4 is out of range (order must be below 4)"},
      {"op_pfn_out_of_range", kBase + "t1 pfn_walk pfn=128\n",
       "7: argument pfn=128 is out of range (pfn must be below 128)"},
      {"op_count_out_of_range", kBase + "t1 gmem_convert index=0 count=5 private=0\n",
       "7: argument count=5 is out of range (count must be below 5)"},
      {"op_count_zero", kBase + "t1 gmem_convert index=0 count=0 private=0\n", "7: argument count must be at least 1"},
      {"op_zone_unknown", kBase + "t1 alloc zone=device order=0\n", "7: argument zone='device' is not a number"},
      {"op_missing_arg", kBase + "t0 alloc zone=normal\n", "7: alloc needs argument 'order'"},
      {"op_arg_twice", kBase + "t0 put slot=0 slot=1\n", "7: argument 'slot' given twice"},
      {"op_unknown_arg", kBase + "t0 put index=0\n", "7: put has no argument 'index'"},
      {"op_arg_not_name_value", kBase + "t0 put 0\n", "7: argument '0' is not name=value"},
      {"op_arg_not_a_number", kBase + "t0 put slot=x\n", "7: argument slot='x' is not a number"},
      {"op_without_op", kBase + "t1\n", "7: op line without an op"},
      {"op_bad_actor_prefix", kBase + "t0x put slot=0\n", "7: bad actor prefix in 't0x put slot=0'"},
      {"actor_beyond_actors", kBase + "t2 put slot=0\n", "7: actor t2 but the trace has 2 actor(s)"},
      // An op line's error is found once the model is known, and still names its line.
      {"op_before_model", kHeader + "t0 alloc zone=normal order=4\n" + kModel + "actors 1\n",
       "2: argument order=4 is out of range (order must be below 4)"},
      // Schedules.
      {"bad_schedule_entry", kBase + "schedule 0x3 1y2\n", "7: schedule entry '1y2' is not ACTORxSTEPS"},
      {"schedule_zero_steps", kBase + "schedule 0x3 1x0\n",
       "7: schedule entry '1x0' is not ACTORxSTEPS (actor < 256, steps >= 1)"},
      {"schedule_actor_beyond_actors", kBase + "schedule 0x3 2x1\n",
       "7: schedule names actor 2, beyond the trace's actors"},
      // Bytes that are not text.
      {"nul_byte", kBase + std::string("t0 put slot=0\0\n", 15), "7: NUL byte in a text trace"},
      {"nul_byte_in_header", std::string("refhammer-\0trace 1\n", 19), "1: NUL byte in a text trace"},
      // Line numbers count comments, blank lines and CRLF line ends.
      {"line_numbers_count_blank_and_comment_lines", "# c\r\n\r\nrefhammer-trace 1\r\n\r\n# x\r\nbogus\r\n",
       "6: unknown line 'bogus'"},
  };
}

TEST(TraceErrors, EveryMalformedTraceGetsItsExactFileLineMessage) {
  for (const Case& c : cases()) {
    Trace t;
    const std::string got = parse_trace(c.text, "bad.trace", t);
    EXPECT_EQ(got, "bad.trace:" + c.error) << "case " << c.name;
  }
}

// The op-before-model case above: the default ModelConfig has max_order 4,
// so order=4 is legal there; only the model line (max_order=3) makes it
// illegal. The positive case checks that the model line is read.
TEST(TraceErrors, TheBaseTraceParsesAndEveryFieldIsRead) {
  Trace t;
  ASSERT_EQ(parse_trace(kBase, "ok.trace", t), "");
  EXPECT_EQ(t.model.normal_frames, 64u);
  EXPECT_EQ(t.model.movable_frames, 64u);
  EXPECT_EQ(t.model.device_frames, 0u);
  EXPECT_EQ(t.model.block_frames, 32u);
  EXPECT_EQ(t.model.max_page_order, 3u);
  EXPECT_EQ(t.model.bugs, 0u);
  ASSERT_EQ(t.program.actors.size(), 2u);
  EXPECT_EQ(t.program.actors[0].size(), 1u);
  EXPECT_EQ(t.program.actors[1].size(), 1u);
  EXPECT_TRUE(t.expect_clean);
  EXPECT_FALSE(t.has_schedule);

  const std::string full = "# first comment\n#second\n" + kBase +
                           "design free_dispatch=per-type-checks gmem_pin_policy=split-small-folios\n"
                           "faults alloc-fail,late-pin-drop seed=7 rate=3\n"
                           "seed 42\n"
                           "scheduler perturb source=pct d=2 k=200 seed=95\n"
                           "audit_every 5\n"
                           "expect violation leak/audit/audit\n"
                           "schedule 0x3 1x4\n";
  ASSERT_EQ(parse_trace(full, "ok.trace", t), "");
  EXPECT_EQ(t.comments, (std::vector<std::string>{"first comment", "second"}));
  EXPECT_EQ(t.model.design.free_dispatch, core::FreeDispatch::PerTypeChecks);
  EXPECT_EQ(t.model.design.gmem_pin_policy, core::GmemPinPolicy::SplitSmallFolios);
  EXPECT_EQ(t.model.faults.sites,
            core::fault_bit(core::FaultSite::AllocFail) | core::fault_bit(core::FaultSite::LatePinDrop));
  EXPECT_EQ(t.model.faults.seed, 7u);
  EXPECT_EQ(t.model.faults.rate, 3u);
  EXPECT_EQ(t.seed, 42u);
  EXPECT_EQ(t.scheduler, SchedulerKind::Perturb);
  EXPECT_EQ(t.source, "pct d=2 k=200 seed=95");
  EXPECT_EQ(t.audit_every, 5u);
  EXPECT_FALSE(t.expect_clean);
  EXPECT_EQ(t.expect_signature, "leak/audit/audit");
  EXPECT_TRUE(t.has_schedule);
  EXPECT_EQ(t.schedule, (Schedule{{0, 3}, {1, 4}}));
  // The writer puts the comments back, and what it writes parses to itself.
  const std::string again = write_trace(t);
  Trace u;
  ASSERT_EQ(parse_trace(again, "again.trace", u), "") << again;
  EXPECT_EQ(write_trace(u), again);

  // Lists of bugs: commas, spaces, none.
  ASSERT_EQ(parse_trace(kHeader + kModel + "bugs none truncate-skips-grace-period\nactors 1\n", "ok.trace", t), "");
  EXPECT_EQ(t.model.bugs, core::bug_bit(core::Bug::TruncateSkipsGracePeriod));
  EXPECT_EQ(format_bugs(t.model.bugs), "truncate-skips-grace-period");
  EXPECT_EQ(format_bugs(0), "none");
}

// The parser states the error of the first bad line of each kind; a file
// with several errors still gets one "FILE:LINE:" message.
TEST(TraceErrors, AFileWithManyErrorsGetsOneMessage) {
  Trace t;
  const std::string e = parse_trace(kBase + "colour blue\nt0 frob\nschedule 9x9\n", "many.trace", t);
  EXPECT_EQ(e, "many.trace:7: unknown line 'colour'");
}

}  // namespace
