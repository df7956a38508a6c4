// Stateful property of core::PageReporting (free page reporting, issue 4) —
// random legal command sequences against a sequential reference model of the
// buddy allocator and the reporting worker.
//
// The model is a small buddy of its own: per zone and order a free list in
// list order (head first; frees and split halves go to the head, allocation
// takes the head), merge on free, MOVABLE falling back to NORMAL; the set of
// PageReported free heads; every frame's payload. A reporting cycle, per zone
// (NORMAL, MOVABLE), per order from MAX_PAGE_ORDER down to reporting_order,
// while the budget (reports per cycle) lasts: takes up to reporting_capacity
// unreported blocks from the list head on, the host discards them (payload
// becomes kReportedPoison), then each goes back (free, may merge) and is
// marked reported if it is still a free block of that order. The order, the
// capacity and the budget are drawn per case.
// While blocks are under report, a hook checks that they are off every free
// list, refcount 0, not PageBuddy, not PageReported, that speculative gets
// (pfn walkers, folio_try_get) fail on every frame, and that the host's
// discard reached every frame: the allocator cannot hand them out.
// After every command:
//  - every free list equals the model's, block by block and in order; the
//    zones' free counts; PageReported exactly on the model's reported heads;
//  - allocated folios: refcount 1, order; every frame's payload equals the
//    model's (so a reported block handed out later reads the poison: its
//    memory was discarded — checked explicitly on allocation too);
//  - the number of blocks each cycle reports, and the running total;
//  - core::audit against a ledger of the allocations is clean;
//  - the ViolationSink has received nothing.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;
using core::kReportedPoison;

constexpr uint32_t kZone = 128;
constexpr unsigned kMaxOrder = 4;
constexpr uint32_t kFrames = 2 * kZone;

struct Params {
  unsigned order = 2;
  uint32_t capacity = 4;
  uint32_t budget = 2;
};

core::ModelConfig state_config(const Params& p) {
  core::ModelConfig c = special_config();
  c.normal_frames = kZone;
  c.movable_frames = kZone;
  c.max_page_order = kMaxOrder;
  c.reporting_order = static_cast<uint8_t>(p.order);
  c.reporting_capacity = p.capacity;
  c.reporting_budget = p.budget;
  c.bugs |= bugs_from_env();  // bench/bugbench: a catalog mutant, if named
  return c;
}


unsigned zi(ZoneType z) { return z == ZoneType::Normal ? 0u : 1u; }

// --- the sequential model: a reference buddy plus reporting ----------------------

struct ZoneM {
  std::array<std::vector<Pfn>, kMaxOrder + 1> list;  // [0] is the list head
};

struct State {
  Params params;
  std::array<ZoneM, 2> zones;
  std::set<Pfn> reported;           // PageReported free heads
  std::map<Pfn, unsigned> allocated;  // head -> order
  std::vector<uint64_t> payload = std::vector<uint64_t>(kFrames, 0);
  uint64_t next_value = 1;
  uint64_t reported_total = 0;

  State() {
    // init_free_all(): maximal blocks freed in pfn order, each to the head.
    for (unsigned z = 0; z < 2; ++z)
      for (Pfn p = z * kZone; p < (z + 1) * kZone; p += 1u << kMaxOrder) zones[z].list[kMaxOrder].insert(zones[z].list[kMaxOrder].begin(), p);
  }
  static unsigned zone_index(Pfn p) { return p < kZone ? 0u : 1u; }
  bool on_list(Pfn p, unsigned o) const {
    const auto& l = zones[zone_index(p)].list[o];
    return std::find(l.begin(), l.end(), p) != l.end();
  }
  void del(Pfn p, unsigned o) {
    auto& l = zones[zone_index(p)].list[o];
    l.erase(std::find(l.begin(), l.end(), p));
    reported.erase(p);
  }
  void add(Pfn p, unsigned o) {
    auto& l = zones[zone_index(p)].list[o];
    l.insert(l.begin(), p);
  }
  void free(Pfn p, unsigned o) {
    while (o < kMaxOrder) {
      const Pfn b = p ^ (1u << o);
      if (!on_list(b, o)) break;
      del(b, o);
      p &= ~(1u << o);
      ++o;
    }
    add(p, o);
  }
  Pfn alloc_in(unsigned z, unsigned order) {
    for (unsigned o = order; o <= kMaxOrder; ++o) {
      auto& l = zones[z].list[o];
      if (l.empty()) continue;
      const Pfn p = l.front();
      del(p, o);
      while (o > order) {
        --o;
        add(p + (1u << o), o);
      }
      return p;
    }
    return kNoPfn;
  }
  Pfn alloc(ZoneType zone, unsigned order) {
    Pfn p = alloc_in(zi(zone), order);
    if (p == kNoPfn && zone == ZoneType::Movable) p = alloc_in(0, order);
    return p;
  }
  uint32_t nr_free(unsigned z) const {
    uint32_t n = 0;
    for (unsigned o = 0; o <= kMaxOrder; ++o) n += static_cast<uint32_t>(zones[z].list[o].size()) << o;
    return n;
  }
  // The free block that covers p, as (head, order), or (kNoPfn, 0).
  std::pair<Pfn, unsigned> free_block_of(Pfn p) const {
    for (unsigned o = 0; o <= kMaxOrder; ++o) {
      const Pfn h = p & ~((1u << o) - 1);
      if (on_list(h, o)) return {h, o};
    }
    return {kNoPfn, 0};
  }
  // page_reporting_process_zone() for both zones; returns blocks reported.
  int report_cycle() {
    uint32_t budget = params.budget;
    int n = 0;
    const unsigned min_order = std::min(params.order, kMaxOrder);
    for (unsigned z = 0; z < 2; ++z) {
      for (int o = kMaxOrder; o >= static_cast<int>(min_order) && budget > 0; --o) {
        while (budget > 0) {
          std::vector<Pfn> batch;
          for (Pfn p : zones[z].list[o])
            if (batch.size() < params.capacity && !reported.count(p)) batch.push_back(p);
          if (batch.empty()) break;
          --budget;
          for (Pfn p : batch) del(p, static_cast<unsigned>(o));
          for (Pfn p : batch)
            for (Pfn q = p; q < p + (1u << o); ++q) payload[q] = kReportedPoison;
          for (Pfn p : batch) {
            free(p, static_cast<unsigned>(o));
            if (on_list(p, static_cast<unsigned>(o))) reported.insert(p);
          }
          n += static_cast<int>(batch.size());
        }
      }
    }
    reported_total += static_cast<uint64_t>(n);
    return n;
  }
};

// --- the system under test ----------------------------------------------------------

struct Sut {
  CollectingSink sink;
  core::Model m;
  State last;
  std::string hook_failures;
  uint32_t hook_calls = 0;

  explicit Sut(const Params& p) : m(state_config(p)) {
    m.set_violation_sink(&sink);
    m.reporting().set_report_hook(&Sut::on_report, this);
  }
  ~Sut() {
    m.reporting().set_report_hook(nullptr, nullptr);
    m.set_violation_sink(nullptr);
  }

  // Step 2 of a report, for each block in flight.
  static void on_report(core::Model& m, Pfn head, unsigned order, void* ctx) {
    auto& self = *static_cast<Sut*>(ctx);
    self.hook_calls++;
    auto fail = [&](const std::string& what) {
      self.hook_failures += "block " + std::to_string(head) + "/" + std::to_string(order) + ": " + what + "\n";
    };
    const Pfn end = head + (1u << order);
    for (Pfn q = head; q < end; ++q) {
      const core::Frame& f = m.frame(q);
      if (f.refcount.peek() != 0) fail("refcount " + std::to_string(f.refcount.peek()) + " at " + std::to_string(q));
      if (static_cast<core::PageType>(f.page_type.peek()) == core::PageType::Buddy) fail("PageBuddy in flight");
      if (f.flags.peek() & core::pg::reported) fail("PageReported in flight");
      if (f.payload.peek() != kReportedPoison) fail("not discarded at " + std::to_string(q));
      if (core::pfn_walk_get(m, q) != kNoPfn) fail("pfn walker got " + std::to_string(q));
      if (core::folio_try_get(m, q)) fail("folio_try_get succeeded on " + std::to_string(q));
    }
    for (ZoneType zt : {ZoneType::Normal, ZoneType::Movable}) {
      const core::Zone& z = m.buddy().zone(zt);
      for (unsigned o = 0; o <= kMaxOrder; ++o)
        for (unsigned mt = 0; mt < core::kNrMigrateTypes; ++mt)
          for (Pfn p = z.free_area[o][mt].head; p != kNoPfn; p = m.frame(p).lru_next)
            if (p < end && p + (1u << o) > head) fail("free block " + std::to_string(p) + " overlaps it");
    }
  }

  void check(const State& s) {
    last = s;
    if (!sink.got.empty()) RC_FAIL("violations:" + describe(sink.got));
    if (!hook_failures.empty()) RC_FAIL("while under report:\n" + hook_failures);
    for (ZoneType zt : {ZoneType::Normal, ZoneType::Movable}) {
      const core::Zone& z = m.buddy().zone(zt);
      const unsigned zn = zi(zt);
      RC_ASSERT(z.nr_free_pages == s.nr_free(zn));
      for (unsigned o = 0; o <= kMaxOrder; ++o) {
        std::vector<Pfn> got;
        for (Pfn p = z.free_area[o][static_cast<unsigned>(z.default_mt)].head; p != kNoPfn; p = m.frame(p).lru_next)
          got.push_back(p);
        RC_ASSERT(got == s.zones[zn].list[o]);
      }
    }
    for (Pfn p = 0; p < kFrames; ++p) {
      RC_ASSERT(((m.frame(p).flags.peek() & core::pg::reported) != 0) == (s.reported.count(p) != 0));
      RC_ASSERT(m.frame(p).payload.peek() == s.payload[p]);
    }
    core::HolderLedger ledger(m.frames().size());
    for (const auto& [h, o] : s.allocated) {
      RC_ASSERT(m.frame(h).refcount.peek() == 1);
      RC_ASSERT(m.frame(h).order.peek() == o);
      ledger.add_ref(h, 1);
    }
    RC_ASSERT(m.reporting().reported_total() == s.reported_total);
    rc_audit_clean(m, ledger);
  }

  void drain() {
    for (const auto& [h, o] : last.allocated) core::folio_put(m, h);
  }
};

using Cmd = rc::state::Command<State, Sut>;

uint64_t fresh(uint64_t v, uint32_t i) { return (v << 8) | i; }

// --- commands -------------------------------------------------------------------------

// alloc_pages(zone, order): exactly the block the reference buddy predicts.
// Its frames read what the model says: the poison where the block (or the
// block it was split from) had been reported. The test then writes its data.
struct Alloc : Cmd {
  ZoneType zone = *rc::gen::element(ZoneType::Normal, ZoneType::Movable);
  unsigned order = *rc::gen::inRange(0u, kMaxOrder + 1);
  void apply(State& s) const override {
    const Pfn p = s.alloc(zone, order);
    if (p == kNoPfn) return;
    s.allocated[p] = order;
    for (uint32_t i = 0; i < (1u << order); ++i) s.payload[p + i] = fresh(s.next_value, i);
    s.next_value++;
  }
  void run(const State& s, Sut& sut) const override {
    State pre = s;
    const Pfn want = pre.alloc(zone, order);
    const Pfn got = core::alloc_pages(sut.m, zone, order);
    RC_ASSERT(got == want);
    if (got != kNoPfn) {
      for (uint32_t i = 0; i < (1u << order); ++i) {
        const Pfn q = got + i;
        RC_ASSERT(sut.m.frame(q).payload.peek() == s.payload[q]);
        if (s.reported.count(s.free_block_of(q).first)) RC_ASSERT(sut.m.frame(q).payload.peek() == kReportedPoison);
        sut.m.frame(q).payload.store(fresh(s.next_value, i), std::memory_order_relaxed);
      }
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "alloc_pages(" << core::zone_name(zone) << ", " << order << ")"; }
};

struct Free : Cmd {
  Pfn head;
  explicit Free(const State& s) {
    RC_PRE(!s.allocated.empty());
    std::vector<Pfn> hs;
    for (const auto& [h, o] : s.allocated) hs.push_back(h);
    head = *rc::gen::elementOf(hs);
  }
  void checkPreconditions(const State& s) const override { RC_PRE(s.allocated.count(head) != 0); }
  void apply(State& s) const override {
    const unsigned o = s.allocated.at(head);
    s.allocated.erase(head);
    s.free(head, o);
  }
  void run(const State& s, Sut& sut) const override {
    core::folio_put(sut.m, head);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "folio_put(" << head << ")"; }
};

struct Report : Cmd {
  void apply(State& s) const override { s.report_cycle(); }
  void run(const State& s, Sut& sut) const override {
    State pre = s;
    RC_ASSERT(sut.m.reporting().report_cycle() == pre.report_cycle());
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "report_cycle()"; }
};

// A pfn walker on any frame: gets (and drops) a reference iff the frame
// belongs to an allocated folio; free and reported blocks refuse it.
struct PfnWalk : Cmd {
  Pfn pfn = *rc::gen::inRange<Pfn>(0, kFrames);
  Pfn owner(const State& s) const {
    for (const auto& [h, o] : s.allocated)
      if (pfn >= h && pfn < h + (1u << o)) return h;
    return kNoPfn;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn got = core::pfn_walk_get(sut.m, pfn);
    RC_ASSERT(got == owner(s));
    if (got != kNoPfn) core::folio_put(sut.m, got);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "pfn_walk_get(" << pfn << ") + put"; }
};

void run_property() {
  Params params;
  params.order = *rc::gen::inRange(0u, kMaxOrder + 1);
  params.capacity = *rc::gen::inRange(1u, 5u);
  params.budget = *rc::gen::inRange(1u, 4u);
  State initial;
  initial.params = params;
  Sut sut(params);
  sut.check(initial);
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<Alloc, Alloc, Alloc, Free, Free, Report, Report, PfnWalk>());
  rc_classify_probes(sut.m.probes(),
                     {{Probe::ReportMarked, "marked reported"}, {Probe::ReportPutbackMerged, "put back merged"}});
  RC_CLASSIFY(sut.hook_calls > 0, "checked in flight");
  const core::AuditReport r = rc_drain_audit_clean(sut);
  RC_ASSERT(r.free_frames == kFrames);
}

RC_GTEST_PROP(ReportingState, ReportingMatchesTheReferenceBuddy, ()) { run_property(); }

}  // namespace
