// Stateful property of core::Hugetlb (issue 4) — random legal command
// sequences against a sequential model of the pool.
//
// The model names pool folios by handle (the n-th folio the pool grew by, or
// the upper half a demote made); the Sut maps handles to head pfns. Model:
//  - the pool's free list, in the pool's order (alloc_hugetlb_folio dequeues
//    the most recently enqueued folio; demote enqueues the lower half, then
//    the upper one), and for every folio its order and the references the
//    test holds (alloc's, gets, speculative pfn-walk gets);
//  - the NORMAL zone gives every pool folio its frames, so its free count is
//    128 minus the pool's frames (at most kMaxFolios folios of order <= 3
//    occupy at most that many of the 16 order-3 halves of the zone: a fresh
//    folio always finds a block and the model can predict every allocation).
// After every command:
//  - each folio's head: refcount (0 when pool-free, else the references held),
//    hugetlb_freed iff pool-free, page_type and owner Hugetlb, order and head
//    flag; each tail: refcount 0, PG_tail, head link, owner Hugetlb;
//  - nr_free() and free_folio_at(i) equal the model's free list;
//  - the buddy's free counts (NORMAL: 128 - pool frames, MOVABLE: untouched);
//  - core::audit against a ledger of the held references is clean;
//  - the ViolationSink has received nothing.
// At the end every reference is dropped, the pool dissolved, and the buddy
// must be whole. Runs with both free dispatch designs (owner hook and the
// mainline per-type checks: both reach free_huge_folio).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

constexpr uint32_t kNormal = 128;
constexpr uint32_t kMovable = 128;
constexpr unsigned kHugeOrder = 3;
constexpr uint32_t kMaxFolios = 12;

core::ModelConfig state_config(core::FreeDispatch d) {
  core::ModelConfig c = special_config();
  c.normal_frames = kNormal;
  c.movable_frames = kMovable;
  c.hugetlb_order = kHugeOrder;
  c.design.free_dispatch = d;
  c.bugs |= bugs_from_env();  // bench/bugbench: a catalog mutant, if named
  return c;
}


// --- the sequential model ---------------------------------------------------------

struct FolioM {
  unsigned order = kHugeOrder;
  int32_t held = 0;  // references the test holds (0: pool-free)
  uint32_t nr() const { return 1u << order; }
};

struct State {
  core::FreeDispatch dispatch = core::FreeDispatch::OwnerHook;
  std::map<uint32_t, FolioM> folios;  // every pool folio, free or in use
  std::vector<uint32_t> free_list;    // pool order: back() is dequeued first
  uint32_t next_handle = 0;

  bool is_free(uint32_t h) const { return std::find(free_list.begin(), free_list.end(), h) != free_list.end(); }
  uint32_t pool_frames() const {
    uint32_t n = 0;
    for (const auto& [h, f] : folios) n += f.nr();
    return n;
  }
  void unlink(uint32_t h) { free_list.erase(std::find(free_list.begin(), free_list.end(), h)); }
};

// --- the system under test ----------------------------------------------------------

struct Sut {
  CollectingSink sink;
  core::Model m;
  std::map<uint32_t, Pfn> pfn;  // handle -> head
  State last;
  uint32_t commands = 0;

  explicit Sut(core::FreeDispatch d) : m(state_config(d)) { m.set_violation_sink(&sink); }
  ~Sut() { m.set_violation_sink(nullptr); }

  void check(const State& s) {
    last = s;
    ++commands;
    if (!sink.got.empty()) RC_FAIL("violations:" + describe(sink.got));
    for (auto it = pfn.begin(); it != pfn.end();) it = s.folios.count(it->first) ? std::next(it) : pfn.erase(it);
    core::HolderLedger ledger(m.frames().size());
    for (const auto& [h, f] : s.folios) {
      const Pfn p = pfn.at(h);
      const core::Frame& fr = m.frame(p);
      const bool free = s.is_free(h);
      RC_ASSERT(m.frames().zone_of(p) == core::ZoneType::Normal);
      RC_ASSERT((p & (f.nr() - 1)) == 0u);
      RC_ASSERT(fr.refcount.peek() == (free ? 0 : f.held));
      RC_ASSERT(((fr.flags.peek() & core::pg::hugetlb_freed) != 0) == free);
      RC_ASSERT(((fr.flags.peek() & core::pg::head) != 0) == (f.order > 0));
      RC_ASSERT((fr.flags.peek() & core::pg::tail) == 0u);
      RC_ASSERT(static_cast<core::PageType>(fr.page_type.peek()) == core::PageType::Hugetlb);
      RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) == core::OwnerId::Hugetlb);
      RC_ASSERT(fr.order.peek() == f.order);
      RC_ASSERT(fr.head.peek() == p);
      RC_ASSERT(fr.mapcount.peek() == 0 && fr.pincount.peek() == 0);
      rc_assert_tails(m, p, f.nr(), core::OwnerId::Hugetlb);
      if (!free) ledger.add_ref(p, f.held);
    }
    RC_ASSERT(m.hugetlb().nr_free() == s.free_list.size());
    for (uint32_t i = 0; i < s.free_list.size(); ++i) RC_ASSERT(m.hugetlb().free_folio_at(i) == pfn.at(s.free_list[i]));
    RC_ASSERT(m.buddy().nr_free_pages(core::ZoneType::Normal) == kNormal - s.pool_frames());
    RC_ASSERT(m.buddy().nr_free_pages(core::ZoneType::Movable) == kMovable);
    rc_audit_clean(m, ledger);
  }

  void drain() {
    for (const auto& [h, f] : last.folios)
      for (int32_t i = 0; i < f.held; ++i) core::folio_put(m, pfn.at(h));
    m.hugetlb().dissolve_all_free();
  }
};

using Cmd = rc::state::Command<State, Sut>;
using FolioOp = FolioOpCmd<State, Sut>;

// --- commands -------------------------------------------------------------------------

// alloc_fresh_hugetlb_folio(): the pool grows by a frozen order-3 folio.
struct Grow : Cmd {
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.size() < kMaxFolios); }
  void apply(State& s) const override {
    s.folios[s.next_handle] = FolioM{};
    s.free_list.push_back(s.next_handle++);
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.hugetlb().alloc_fresh_hugetlb_folio() == 0);
    sut.pfn[s.next_handle] = sut.m.hugetlb().free_folio_at(static_cast<uint32_t>(s.free_list.size()));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "alloc_fresh_hugetlb_folio()"; }
};

// alloc_hugetlb_folio(): dequeue (grow first when the pool is empty).
struct Alloc : Cmd {
  void checkPreconditions(const State& s) const override {
    RC_PRE(!s.free_list.empty() || s.folios.size() < kMaxFolios);
  }
  void apply(State& s) const override {
    if (s.free_list.empty()) {
      s.folios[s.next_handle] = FolioM{};
      s.free_list.push_back(s.next_handle++);
    }
    const uint32_t h = s.free_list.back();
    s.free_list.pop_back();
    s.folios.at(h).held = 1;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn got = sut.m.hugetlb().alloc_hugetlb_folio();
    RC_ASSERT(got != kNoPfn);
    if (s.free_list.empty()) sut.pfn[s.next_handle] = got;
    else RC_ASSERT(got == sut.pfn.at(s.free_list.back()));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "alloc_hugetlb_folio()"; }
};

// folio_get on an in-use folio the test holds (a stable reference).
struct Get : FolioOp {
  explicit Get(const State& s)
      : FolioOp("folio_get", core::folio_get, pick(s.folios, [](uint32_t, const FolioM& f) { return f.held > 0; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.count(h) && s.folios.at(h).held > 0); }
  void apply(State& s) const override { s.folios.at(h).held++; }
};

// folio_put: the last one goes through the owner hook (free_huge_folio) and
// enqueues the folio.
struct Put : FolioOp {
  explicit Put(const State& s)
      : FolioOp("folio_put", core::folio_put, pick(s.folios, [](uint32_t, const FolioM& f) { return f.held > 0; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.count(h) && s.folios.at(h).held > 0); }
  void apply(State& s) const override {
    if (--s.folios.at(h).held == 0) s.free_list.push_back(h);
  }
};

// A command on one frame of a pool folio, head or tail: `h` any folio, `off`
// the frame within it (any, or with `ends_and_middle` the head, the last
// tail or the middle one).
struct FrameCmd : Cmd {
  uint32_t h, off;
  explicit FrameCmd(const State& s, bool ends_and_middle = false)
      : h(pick(s.folios, [](uint32_t, const FolioM&) { return true; })) {
    const uint32_t nr = s.folios.at(h).nr();
    off = ends_and_middle ? *rc::gen::element(0u, nr - 1, nr / 2) : *rc::gen::inRange<uint32_t>(0, nr);
  }
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.count(h) && off < s.folios.at(h).nr()); }
  Pfn frame(const Sut& sut) const { return sut.pfn.at(h) + off; }
  void show_call(std::ostream& os, const char* name) const { os << name << "(#" << h << "+" << off << ")"; }
};

// A pfn walker (compaction, offlining) on any frame of a pool folio, head or
// tail: succeeds (resolving to the head) iff the folio is in use. The walker
// keeps the reference (a later Put drops it, maybe the last one).
struct PfnWalk : FrameCmd {
  using FrameCmd::FrameCmd;
  void apply(State& s) const override {
    if (!s.is_free(h)) s.folios.at(h).held++;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn got = core::pfn_walk_get(sut.m, frame(sut));
    RC_ASSERT(got == (s.is_free(h) ? kNoPfn : sut.pfn.at(h)));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { show_call(os, "pfn_walk_get"); }
};

// folio_try_get straight on a frame (a walker that did not resolve the
// head): on a tail it must fail and leave the tail at 0 (HVO: tails are
// never written); on the head it behaves as add-unless-zero.
struct TryGetRaw : FrameCmd {
  explicit TryGetRaw(const State& s) : FrameCmd(s, /*ends_and_middle=*/true) {}
  bool succeeds(const State& s) const { return off == 0 && !s.is_free(h); }
  void apply(State& s) const override {
    if (succeeds(s)) s.folios.at(h).held++;
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::folio_try_get(sut.m, frame(sut)) == succeeds(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { show_call(os, "folio_try_get"); }
};

// dissolve_free_hugetlb_folio on any frame of a pool folio: a free one goes
// back to the buddy, an in-use one is -EBUSY.
struct Dissolve : FrameCmd {
  using FrameCmd::FrameCmd;
  void apply(State& s) const override {
    if (!s.is_free(h)) return;
    s.unlink(h);
    s.folios.erase(h);
  }
  void run(const State& s, Sut& sut) const override {
    const int rc = sut.m.hugetlb().dissolve_free_hugetlb_folio(frame(sut));
    RC_ASSERT(rc == (s.is_free(h) ? 0 : -EBUSY));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { show_call(os, "dissolve_free_hugetlb_folio"); }
};

// dissolve on memory that is not hugetlb: a frame of the (untouched) MOVABLE
// zone, a free NORMAL frame or a device frame: -ENOENT, nothing changes.
struct DissolveNotHuge : Cmd {
  uint32_t pick_pfn = *rc::gen::inRange<uint32_t>(kNormal, kNormal + kMovable + 64);
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.hugetlb().dissolve_free_hugetlb_folio(pick_pfn) == -ENOENT);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "dissolve_free_hugetlb_folio(pfn " << pick_pfn << ")"; }
};

// demote_free_hugetlb_folio: a free folio of order o > 0 becomes two free
// folios of order o - 1 (lower half enqueued first); in use: -ENOENT; order
// 0: -EINVAL.
struct Demote : FrameCmd {
  using FrameCmd::FrameCmd;
  int expect(const State& s) const {
    if (!s.is_free(h)) return -ENOENT;
    return s.folios.at(h).order == 0 ? -EINVAL : 0;
  }
  void checkPreconditions(const State& s) const override {
    FrameCmd::checkPreconditions(s);
    RC_PRE(expect(s) != 0 || s.folios.size() < kMaxFolios);
  }
  void apply(State& s) const override {
    if (expect(s) != 0) return;
    FolioM& f = s.folios.at(h);
    f.order--;
    s.unlink(h);
    s.free_list.push_back(h);
    s.folios[s.next_handle] = FolioM{f.order, 0};
    s.free_list.push_back(s.next_handle++);
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.hugetlb().demote_free_hugetlb_folio(frame(sut)) == expect(s));
    if (expect(s) == 0) sut.pfn[s.next_handle] = sut.pfn.at(h) + (s.folios.at(h).nr() / 2);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { show_call(os, "demote_free_hugetlb_folio"); }
};

void run_property(core::FreeDispatch d) {
  State initial;
  initial.dispatch = d;
  Sut sut(d);
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<Grow, Alloc, Alloc, Get, Put, Put, Put, PfnWalk, PfnWalk,
                                                     TryGetRaw, Dissolve, Dissolve, DissolveNotHuge, Demote,
                                                     Demote>());
  rc_classify_probes(sut.m.probes(), {{Probe::HugetlbDemoted, "demoted"},
                                      {Probe::HugetlbDissolved, "dissolved"},
                                      {Probe::TryGetSawZero, "speculative get saw 0"}});
  RC_CLASSIFY(sut.commands >= 20, ">=20 commands");
  const core::AuditReport r = rc_drain_audit_clean(sut);
  RC_ASSERT(sut.m.hugetlb().nr_free() == 0u);
  RC_ASSERT(r.free_frames == kNormal + kMovable);
  // Whole again: only maximal blocks on the lists.
  RC_ASSERT(sut.m.buddy().zone(core::ZoneType::Normal).free_area[4][0].nr_free == kNormal / 16);
}

RC_GTEST_PROP(HugetlbState, PoolMatchesTheSequentialModelWithTheOwnerHook, ()) {
  run_property(core::FreeDispatch::OwnerHook);
}

RC_GTEST_PROP(HugetlbState, PoolMatchesTheSequentialModelWithPerTypeChecks, ()) {
  run_property(core::FreeDispatch::PerTypeChecks);
}

}  // namespace
