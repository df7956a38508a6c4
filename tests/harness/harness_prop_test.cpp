// properties of harness/ — the op language's text and binary encodings, the
// trace writer and parser, and deterministic replay:
//  - every op of the table, with random in-range arguments, prints and
//    parses back to itself;
//  - random programs survive encode/decode, random traces (design variants,
//    bugs, faults, audit_every, expect, schedule) survive write/parse;
//  - every byte string decodes to an in-range program whose encoding
//    decodes to it again;
//  - parse_trace of arbitrary text, and of valid traces with lines deleted,
//    duplicated, swapped or garbled, never crashes and either succeeds or
//    says "FILE:LINE: what";
//  - a run on the deterministic scheduler replays exactly from its recorded
//    schedule (with and without the catalog bug, with random fault sites);
//  - a clean core stays clean under random programs, schedules and faults.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/bugs.hpp"
#include "core/config.hpp"
#include "core/faults.hpp"
#include "harness/bounded.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"
#include "harness/sched.hpp"
#include "harness/trace.hpp"
#include "tests/support/harness_support.hpp"

namespace refhammer::harness {
// Readable counterexamples.
inline void showValue(const Op& op, std::ostream& os) { os << format_op(op); }
inline void showValue(const Program& p, std::ostream& os) {
  for (size_t a = 0; a < p.actors.size(); ++a) {
    os << "\n  t" << a << ":";
    for (const Op& op : p.actors[a]) os << " [" << format_op(op) << "]";
  }
}
}  // namespace refhammer::harness

namespace core {
inline void showValue(const ModelConfig& c, std::ostream& os) {
  os << "normal=" << c.normal_frames << " movable=" << c.movable_frames << " device=" << c.device_frames
     << " block=" << c.block_frames << " max_order=" << unsigned(c.max_page_order) << " mms=" << c.nr_mms
     << " mm_slots=" << c.mm_slots << " file_pages=" << c.file_pages << " gmem_pages=" << c.gmem_pages
     << " gmem_huge_order=" << unsigned(c.gmem_huge_order) << " bugs=" << c.bugs << " faults=" << c.faults.sites
     << "/" << c.faults.seed << "/" << c.faults.rate;
}
}  // namespace core

namespace {

using namespace refhammer::harness;

// --- generators ------------------------------------------------------------------

// Design variants added after the first two (ZONE_DEVICE and PageOffline
// refcounting, ...), drawn when this build's DesignConfig has them: each is
// an enum with at least two values.
template <typename D>
void draw_more_design_variants(D& d) {
  if constexpr (requires { d.zone_device; })
    d.zone_device = static_cast<decltype(d.zone_device)>(*rc::gen::inRange(0, 2));
  if constexpr (requires { d.offline; }) d.offline = static_cast<decltype(d.offline)>(*rc::gen::inRange(0, 2));
}

template <typename D>
void expect_same_more_design_variants(const D& a, const D& b) {
  if constexpr (requires { a.zone_device; }) RC_ASSERT(a.zone_device == b.zone_device);
  if constexpr (requires { a.offline; }) RC_ASSERT(a.offline == b.offline);
}

// A configuration that passes validate(), small enough for runs (and with at
// most 65536 frames, the reach of a two-byte pfn in the binary encoding).
// max_page_order starts at 3 so that the defaults of the fields not drawn
// here (orders of hugetlb, device and reporting folios) stay valid.
rc::Gen<core::ModelConfig> gen_config() {
  return rc::gen::exec([] {
    core::ModelConfig c;
    c.max_page_order = static_cast<uint8_t>(*rc::gen::inRange(3, 7));
    const uint32_t pb = 1u << c.max_page_order;
    c.block_frames = pb * *rc::gen::inRange(1u, 5u);
    c.normal_frames = c.block_frames * *rc::gen::inRange(1u, 5u);
    c.movable_frames = c.block_frames * *rc::gen::inRange(0u, 4u);
    c.device_frames = c.block_frames * *rc::gen::inRange(0u, 3u);
    c.refcount_limit = *rc::gen::element<int32_t>(2 * 1024, 4096, std::numeric_limits<int32_t>::max());
    c.nr_mms = *rc::gen::inRange(1u, 5u);
    c.mm_slots = *rc::gen::inRange(1u, 300u);
    c.file_pages = *rc::gen::inRange(0u, 300u);
    c.gmem_huge_order = static_cast<uint8_t>(*rc::gen::inRange(0, std::min(3, int(c.max_page_order)) + 1));
    c.gmem_pages = (1u << c.gmem_huge_order) * *rc::gen::inRange(0u, 5u);
    c.gmem_convert_spins = *rc::gen::inRange(0u, 2000u);
    c.rcu_readers = *rc::gen::inRange(1u, 33u);
    c.migrate_passes = *rc::gen::inRange(1u, 6u);
    c.design.free_dispatch = *rc::gen::element(core::FreeDispatch::OwnerHook, core::FreeDispatch::PerTypeChecks);
    c.design.gmem_pin_policy =
        *rc::gen::element(core::GmemPinPolicy::RefuseLongterm, core::GmemPinPolicy::SplitSmallFolios);
    draw_more_design_variants(c.design);
    c.bugs = *rc::gen::element<uint64_t>(0, core::bug_bit(core::Bug::TruncateSkipsGracePeriod));
    c.faults.sites = *rc::gen::inRange(0u, 1u << core::kNrFaultSites);
    c.faults.seed = *rc::gen::arbitrary<uint64_t>();
    c.faults.rate = *rc::gen::inRange(1u, 1'000'001u);
    RC_ASSERT(c.validate() == "");
    return c;
  });
}

// One op with code `code` and random in-range arguments (unused ones 0).
rc::Gen<Op> gen_op_with_code(uint8_t code, const core::ModelConfig& cfg) {
  return rc::gen::exec([code, cfg] {
    Op op;
    op.code = code;
    const OpSpec& s = op_spec(code);
    for (unsigned i = 0; i < s.nargs; ++i) op.a[i] = *rc::gen::inRange(0u, arg_range(s.args[i].kind, cfg));
    return op;
  });
}

rc::Gen<Op> gen_op(const core::ModelConfig& cfg) {
  return rc::gen::exec([cfg] {
    const auto code = static_cast<uint8_t>(*rc::gen::inRange<size_t>(0, op_table().size()));
    return *gen_op_with_code(code, cfg);
  });
}

rc::Gen<Program> gen_program(const core::ModelConfig& cfg, unsigned min_actors, unsigned max_actors,
                             unsigned max_ops) {
  return rc::gen::exec([=] {
    Program p;
    p.actors.resize(*rc::gen::inRange(min_actors, max_actors + 1));
    for (auto& a : p.actors) a = *rc::gen::container<std::vector<Op>>(*rc::gen::inRange(0u, max_ops + 1), gen_op(cfg));
    return p;
  });
}

// Text without line breaks or NULs: printable ASCII.
rc::Gen<std::string> gen_line_text() {
  return rc::gen::container<std::string>(rc::gen::inRange<char>(0x20, 0x7f));
}

rc::Gen<std::string> gen_word() {
  return rc::gen::nonEmpty(rc::gen::container<std::string>(
      rc::gen::element('a', 'z', '0', '9', '/', '-', '_', ':', '.', 'Q')));
}

rc::Gen<Trace> gen_trace() {
  return rc::gen::exec([] {
    Trace t;
    t.comments = *rc::gen::container<std::vector<std::string>>(*rc::gen::inRange(0u, 3u), gen_line_text());
    t.model = *gen_config();
    t.seed = *rc::gen::arbitrary<uint64_t>();
    t.scheduler = *rc::gen::element(SchedulerKind::Deterministic, SchedulerKind::Free, SchedulerKind::Perturb);
    t.source = *rc::gen::oneOf(rc::gen::just(std::string()), gen_line_text());
    t.audit_every = *rc::gen::inRange(0u, 1'000'001u);
    t.expect_clean = *rc::gen::arbitrary<bool>();
    if (!t.expect_clean) t.expect_signature = *gen_word();
    t.program = *gen_program(t.model, 1, 4, 6);
    t.has_schedule = *rc::gen::arbitrary<bool>();
    if (t.has_schedule) {
      const auto n = static_cast<uint8_t>(t.program.actors.size());
      t.schedule = *rc::gen::container<Schedule>(rc::gen::construct<Slice>(
          rc::gen::inRange<uint8_t>(0, n), rc::gen::inRange<uint32_t>(1, 100'000)));
    }
    return t;
  });
}

// --- comparisons ---------------------------------------------------------------------

// FaultConfig's seed and rate mean nothing with no site on; the trace writes
// "faults none" then.
core::FaultConfig effective(core::FaultConfig f) {
  if (f.sites == 0) f = core::FaultConfig{};
  return f;
}

void expect_same_config(const core::ModelConfig& a, const core::ModelConfig& b) {
  RC_ASSERT(a.normal_frames == b.normal_frames);
  RC_ASSERT(a.movable_frames == b.movable_frames);
  RC_ASSERT(a.device_frames == b.device_frames);
  RC_ASSERT(a.max_page_order == b.max_page_order);
  RC_ASSERT(a.block_frames == b.block_frames);
  RC_ASSERT(a.refcount_limit == b.refcount_limit);
  RC_ASSERT(a.nr_mms == b.nr_mms);
  RC_ASSERT(a.mm_slots == b.mm_slots);
  RC_ASSERT(a.file_pages == b.file_pages);
  RC_ASSERT(a.gmem_pages == b.gmem_pages);
  RC_ASSERT(a.gmem_huge_order == b.gmem_huge_order);
  RC_ASSERT(a.gmem_convert_spins == b.gmem_convert_spins);
  RC_ASSERT(a.rcu_readers == b.rcu_readers);
  RC_ASSERT(a.migrate_passes == b.migrate_passes);
  RC_ASSERT(a.design.free_dispatch == b.design.free_dispatch);
  RC_ASSERT(a.design.gmem_pin_policy == b.design.gmem_pin_policy);
  expect_same_more_design_variants(a.design, b.design);
  RC_ASSERT(a.bugs == b.bugs);
  const core::FaultConfig fa = effective(a.faults), fb = effective(b.faults);
  RC_ASSERT(fa.sites == fb.sites);
  RC_ASSERT(fa.seed == fb.seed);
  RC_ASSERT(fa.rate == fb.rate);
}

void expect_same_trace(const Trace& a, const Trace& b) {
  RC_ASSERT(a.comments == b.comments);
  expect_same_config(a.model, b.model);
  RC_ASSERT(a.seed == b.seed);
  RC_ASSERT(a.scheduler == b.scheduler);
  RC_ASSERT(a.source == b.source);
  RC_ASSERT(a.audit_every == b.audit_every);
  RC_ASSERT(a.expect_clean == b.expect_clean);
  RC_ASSERT(a.expect_signature == b.expect_signature);
  RC_ASSERT(a.program == b.program);
  RC_ASSERT(a.has_schedule == b.has_schedule);
  RC_ASSERT(a.schedule == b.schedule);
}

// "FILE:LINE: what", LINE a decimal number.
bool is_file_line_error(const std::string& e, const std::string& file) {
  if (e.rfind(file + ":", 0) != 0) return false;
  size_t i = file.size() + 1, digits = 0;
  while (i < e.size() && std::isdigit(static_cast<unsigned char>(e[i]))) ++i, ++digits;
  return digits > 0 && e.compare(i, 2, ": ") == 0 && e.size() > i + 2;
}

// --- the op language ------------------------------------------------------------------

RC_GTEST_PROP(OpText, EveryOpWithInRangeArgumentsFormatsAndParsesBackExactly, ()) {
  const core::ModelConfig cfg = *gen_config();
  for (size_t code = 0; code < op_table().size(); ++code) {
    const Op op = *gen_op_with_code(static_cast<uint8_t>(code), cfg);
    const std::string text = format_op(op);
    Op back;
    const std::string e = parse_op(text, cfg, back);
    RC_ASSERT(e == "");
    RC_ASSERT(back == op);
    RC_ASSERT(format_op(back) == text);
    RC_ASSERT(clamp_op(op, cfg) == op);
    // Extra blanks between words change nothing.
    std::string spaced = "  ";
    for (char ch : text) spaced += ch == ' ' ? std::string(" \t ") : std::string(1, ch);
    RC_ASSERT(parse_op(spaced + "\t", cfg, back) == "");
    RC_ASSERT(back == op);
  }
}

// Each argument of `op` its op has is in range for `cfg`, the others are 0,
// and the op's text parses back to it.
void rc_assert_in_range_and_parses_back(const Op& op, const core::ModelConfig& cfg) {
  const OpSpec& s = op_spec(op.code);
  for (unsigned i = 0; i < kMaxArgs; ++i) {
    if (i < s.nargs) RC_ASSERT(op.a[i] < arg_range(s.args[i].kind, cfg));
    else RC_ASSERT(op.a[i] == 0u);
  }
  Op back;
  RC_ASSERT(parse_op(format_op(op), cfg, back) == "");
  RC_ASSERT(back == op);
}

RC_GTEST_PROP(OpText, ClampBringsAnyArgumentsIntoRange, ()) {
  const core::ModelConfig cfg = *gen_config();
  Op op;
  op.code = static_cast<uint8_t>(*rc::gen::inRange<size_t>(0, op_table().size()));
  for (auto& v : op.a) v = *rc::gen::arbitrary<uint32_t>();
  rc_assert_in_range_and_parses_back(clamp_op(op, cfg), cfg);
}

RC_GTEST_PROP(OpBinary, RandomProgramsSurviveEncodeDecode, ()) {
  const core::ModelConfig cfg = *gen_config();
  const Program p = *gen_program(cfg, 1, 4, 12);
  const std::vector<uint8_t> bytes = encode_program(p, cfg);
  const Program back = decode_program(bytes.data(), bytes.size(), static_cast<unsigned>(p.actors.size()), cfg);
  RC_ASSERT(back == p);
  RC_ASSERT(encode_program(back, cfg) == bytes);
}

RC_GTEST_PROP(OpBinary, EveryByteStringDecodesToAnInRangeProgramThatReencodesToItself,
              (const std::vector<uint8_t>& bytes)) {
  const core::ModelConfig cfg = *gen_config();
  const auto nactors = *rc::gen::inRange(0u, kMaxActors + 1);
  const Program p = decode_program(bytes.data(), bytes.size(), nactors, cfg);
  RC_ASSERT(p.actors.size() == std::max(1u, nactors));
  // Each op takes at least one byte (two with an actor byte).
  RC_ASSERT(p.total_ops() <= bytes.size());
  for (const auto& a : p.actors)
    for (const Op& op : a) {
      RC_ASSERT(op.code < op_table().size());
      rc_assert_in_range_and_parses_back(op, cfg);
    }
  const std::vector<uint8_t> again = encode_program(p, cfg);
  RC_ASSERT(again.size() <= bytes.size());
  const Program p2 = decode_program(again.data(), again.size(), nactors, cfg);
  RC_ASSERT(p2 == p);
}

// --- traces ----------------------------------------------------------------------------

RC_GTEST_PROP(TraceText, RandomTracesSurviveWriteParse, ()) {
  const Trace t = *gen_trace();
  const std::string text = write_trace(t);
  Trace back;
  const std::string e = parse_trace(text, "rt.trace", back);
  RC_LOG() << text;
  RC_ASSERT(e == "");
  expect_same_trace(t, back);
  RC_ASSERT(write_trace(back) == text);
  // CRLF line ends read the same.
  std::string crlf;
  for (char ch : text) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  Trace back2;
  RC_ASSERT(parse_trace(crlf, "rt.trace", back2) == "");
  expect_same_trace(t, back2);
}

RC_GTEST_PROP(TraceText, ArbitraryTextNeverCrashesTheParser, (const std::string& text)) {
  Trace t;
  const std::string e = parse_trace(text, "arb.trace", t);
  RC_ASSERT(e.empty() || is_file_line_error(e, "arb.trace"));
}

// Text made of the trace's own words, so that the parser gets past the header.
RC_GTEST_PROP(TraceText, TraceLikeTextNeverCrashesTheParser, ()) {
  static const std::vector<std::string> kWords = {
      "refhammer-trace", "1",      "2",        "model",   "normal=64", "movable=0", "device=64", "block=32",
      "max_order=3",     "mms=0",  "bugs",     "none",    "faults",    "alloc-fail", "rate=0",   "seed=1",
      "seed",            "actors", "3",        "t0",      "t1",        "t7",        "t99",       "alloc",
      "zone=normal",     "order=9", "put",     "slot=1",  "schedule",  "0x1",       "1x0",       "2x3",
      "x",               "=",      "expect",   "clean",   "violation", "design",    "#",         "scheduler",
      "free",            "audit_every", "source=", "\t", "\r", "gmem_convert", "count=0", "pfn=999999999999"};
  const auto lines = *rc::gen::container<std::vector<std::vector<std::string>>>(
      rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kWords)));
  std::string text = *rc::gen::element(std::string("refhammer-trace 1\n"), std::string());
  for (const auto& l : lines) {
    for (size_t i = 0; i < l.size(); ++i) text += (i ? " " : "") + l[i];
    text += '\n';
  }
  Trace t;
  const std::string e = parse_trace(text, "words.trace", t);
  RC_LOG() << text;
  RC_ASSERT(e.empty() || is_file_line_error(e, "words.trace"));
}

// Valid traces with lines deleted, duplicated, swapped or garbled: each
// either parses (and then writes a trace that parses to the same thing) or
// gets a "FILE:LINE: what" naming a line of the file.
RC_GTEST_PROP(TraceText, MutatedValidTracesParseOrSayWhichLineIsWrong, ()) {
  const Trace t = *gen_trace();
  std::vector<std::string> lines;
  {
    const std::string text = write_trace(t);
    size_t pos = 0;
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) lines.push_back(text.substr(pos, nl - pos));
  }
  const unsigned nmut = *rc::gen::inRange(1u, 4u);
  for (unsigned m = 0; m < nmut && !lines.empty(); ++m) {
    const size_t i = *rc::gen::inRange<size_t>(0, lines.size());
    switch (*rc::gen::inRange(0, 6)) {
      case 0: lines.erase(lines.begin() + static_cast<long>(i)); break;
      case 1: lines.insert(lines.begin() + static_cast<long>(i), lines[i]); break;
      case 2: std::swap(lines[i], lines[*rc::gen::inRange<size_t>(0, lines.size())]); break;
      case 3: {  // overwrite one byte with anything (NUL, CR, a digit, ...)
        std::string& l = lines[i];
        if (l.empty()) break;
        l[*rc::gen::inRange<size_t>(0, l.size())] = *rc::gen::arbitrary<char>();
        break;
      }
      case 4: {  // cut the line short
        std::string& l = lines[i];
        l.resize(*rc::gen::inRange<size_t>(0, l.size() + 1));
        break;
      }
      default: {  // insert a digit or a separator (numbers grow, words split)
        std::string& l = lines[i];
        l.insert(*rc::gen::inRange<size_t>(0, l.size() + 1), 1, *rc::gen::element('9', '0', ' ', '=', 'x', ','));
        break;
      }
    }
  }
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  RC_LOG() << text;
  Trace back;
  const std::string e = parse_trace(text, "mut.trace", back);
  RC_CLASSIFY(e.empty(), "accepted");
  if (!e.empty()) {
    RC_ASSERT(is_file_line_error(e, "mut.trace"));
    // The line named is a line of the file (0: the whole file).
    const size_t colon = e.find(':', std::string("mut.trace").size() + 1);
    const unsigned long line = std::stoul(e.substr(10, colon - 10));
    RC_ASSERT(line <= lines.size());
    return;
  }
  // Accepted: it writes a trace that parses back to itself.
  const std::string again = write_trace(back);
  Trace back2;
  RC_ASSERT(parse_trace(again, "again.trace", back2) == "");
  RC_ASSERT(write_trace(back2) == again);
  for (const Slice& s : back.schedule) RC_ASSERT(s.actor < back.program.actors.size());
  for (const auto& a : back.program.actors)
    for (const Op& op : a) {
      const OpSpec& s = op_spec(op.code);
      for (unsigned i = 0; i < s.nargs; ++i) RC_ASSERT(op.a[i] < arg_range(s.args[i].kind, back.model));
    }
}

// --- replay ------------------------------------------------------------------------------

// The racy trace's model with fewer slots and pages, so that small programs
// collide.
core::ModelConfig run_config() {
  core::ModelConfig c = refhammer_test::racy_trace_config();
  c.mm_slots = 4;
  c.file_pages = 4;
  c.gmem_pages = 8;
  return c;
}

// Ops over few slots, ptes and indices, so that actors share what they
// touch; half of the programs start with the racy trace's two actors (the
// catalog bug's race), followed by random ops.
rc::Gen<Program> gen_run_program(const core::ModelConfig& cfg) {
  return rc::gen::exec([cfg] {
    Program p;
    p.actors.resize(*rc::gen::inRange(2u, 4u));
    if (*rc::gen::arbitrary<bool>()) {
      const Program racy = refhammer_test::racy_trace().program;
      for (size_t a = 0; a < racy.actors.size(); ++a) p.actors[a] = racy.actors[a];
    }
    for (auto& a : p.actors) {
      const unsigned n = *rc::gen::inRange(a.empty() ? 1u : 0u, 5u);
      for (unsigned i = 0; i < n; ++i) {
        Op op = *gen_op(cfg);
        const OpSpec& s = op_spec(op.code);
        for (unsigned k = 0; k < s.nargs; ++k) {
          if (s.args[k].kind == ArgKind::Slot) op.a[k] %= 3;
          if (s.args[k].kind == ArgKind::Pfn) op.a[k] = *rc::gen::element(0u, 1u, 8u, 64u, 65u, 72u);
        }
        a.push_back(op);
      }
    }
    return p;
  });
}

// Each case runs the program 101 times or more (a run costs ~0.2 ms under
// ASan and ~0.4 ms under TSan, mostly fiber stacks and the model), so this
// property runs at most 40 cases (RC_PARAMS max_success can only lower it).
// RC_PARAMS reproduce= does not apply to it; the seed does.
template <typename Prop>
void check_at_most(int max_success, Prop prop) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata md;
  md.id = std::string(info->test_suite_name()) + "/" + info->name();
  md.description = info->name();
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, max_success);
  const auto result = rc::detail::checkTestable(prop, md, params);
  if (result.template is<rc::detail::SuccessResult>()) {
    if (!result.template get<rc::detail::SuccessResult>().distribution.empty()) {
      rc::detail::printResultMessage(result, std::cout);
      std::cout << std::endl;
    }
  } else {
    std::ostringstream ss;
    rc::detail::printResultMessage(result, ss);
    FAIL() << ss.str();
  }
}

void replay_property();
TEST(Replay, ARecordedScheduleReplays100TimesWithTheSameVerdict) { check_at_most(40, replay_property); }

void replay_property() {
  core::ModelConfig cfg = run_config();
  cfg.bugs = *rc::gen::element<uint64_t>(0, core::bug_bit(core::Bug::TruncateSkipsGracePeriod));
  cfg.faults.sites = *rc::gen::inRange(0u, 1u << core::kNrFaultSites);
  cfg.faults.seed = *rc::gen::arbitrary<uint64_t>();
  cfg.faults.rate = *rc::gen::inRange(1u, 9u);
  const Program p = *gen_run_program(cfg);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  RunOptions o;
  o.audit_every = *rc::gen::inRange(0u, 3u);
  o.livelock_steps = 5'000;  // a (false or real) deadlock replays quickly
  // The first run: a random schedule, PCT d=2, or the first failing schedule
  // bounded exploration (c=1) finds, so that failing runs are replayed too.
  const auto n = static_cast<unsigned>(p.actors.size());
  RunResult r;
  std::string how;
  switch (*rc::gen::inRange(0, 3)) {
    case 0: {
      auto src = make_random_source(seed);
      r = run_deterministic(cfg, p, *src, o);
      how = src->describe();
      break;
    }
    case 1: {
      auto src = make_pct_source(seed, n, 2, 40);
      r = run_deterministic(cfg, p, *src, o);
      how = src->describe();
      break;
    }
    default: {
      BoundedOptions bo;
      bo.bound = 1;
      bo.max_runs = 120;
      bo.stop_at_first = true;
      bo.run = o;
      BoundedResult b = explore_bounded(cfg, p, bo);
      if (!b.has_failure) return;  // nothing failed: the other cases replay clean runs
      r = std::move(b.first_failure);
      how = "bounded c=1";
      break;
    }
  }
  RC_LOG() << how << ": " << refhammer_test::describe(r) << "\nschedule " << format_schedule(r.schedule);
  RC_ASSERT(schedule_steps(r.schedule) == r.k);
  RC_CLASSIFY(!r.clean(), "violation");
  RC_CLASSIFY(cfg.bugs != 0, "bug on");
  for (int i = 0; i < 100; ++i) {
    auto rec = make_recorded_source(r.schedule);
    const RunResult rr = run_deterministic(cfg, p, *rec, o);
    RC_ASSERT(!rr.diverged);
    RC_ASSERT(rr.verdict == r.verdict);
    RC_ASSERT(rr.report.signature == r.report.signature);
    RC_ASSERT(rr.k == r.k);
    RC_ASSERT(rr.schedule == r.schedule);
    RC_ASSERT(rr.results == r.results);
    RC_ASSERT(rr.audits == r.audits);
  }
}

RC_GTEST_PROP(Replay, ACleanCoreIsCleanUnderRandomProgramsSchedulesAndFaults, ()) {
  core::ModelConfig cfg = run_config();
  cfg.faults.sites = *rc::gen::inRange(0u, 1u << core::kNrFaultSites);
  cfg.faults.seed = *rc::gen::arbitrary<uint64_t>();
  cfg.faults.rate = *rc::gen::inRange(2u, 9u);
  cfg.design.gmem_pin_policy =
      *rc::gen::element(core::GmemPinPolicy::RefuseLongterm, core::GmemPinPolicy::SplitSmallFolios);
  const Program p = *gen_run_program(cfg);
  RunOptions o;
  o.audit_every = *rc::gen::inRange(0u, 3u);
  o.livelock_steps = 5'000;  // ops here finish in far fewer steps
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  auto src = *rc::gen::element(0, 1) == 0 ? make_random_source(seed) : make_pct_source(seed, static_cast<unsigned>(p.actors.size()), 3, 200);
  const RunResult r = run_deterministic(cfg, p, *src, o);
  RC_LOG() << src->describe() << ": " << refhammer_test::describe(r) << "\nschedule " << format_schedule(r.schedule);
  RC_CLASSIFY(r.ops > 0 && r.k > 50, "k > 50");
  RC_ASSERT(r.clean());
}

}  // namespace
