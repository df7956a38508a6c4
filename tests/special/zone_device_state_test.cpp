// Stateful property of core::DevicePgmap (ZONE_DEVICE, issue 4) — random
// legal command sequences against a sequential model of the pgmap and its
// driver's pool, in both refcount designs:
//  - ZeroBased (6.2+): a free device folio sits at refcount 0; the put that
//    reaches 0 runs page_free through the owner hook;
//  - LegacyOneBased (<= 5.18): free/idle is refcount 1; the put_page() that
//    reaches 1 runs page_free (through put_devmap_managed_page).
// Sequentially both must be correct. The legacy command set leaves out what
// is not sequentially sound in that design: a speculative get on an idle
// (free) legacy folio succeeds at refcount 1, and its put_page() then runs
// page_free for a folio that was never allocated — the reason the 1-based
// scheme was abandoned, not a bug of the model (see the report).
//
// Model: populated / live, per device folio Free or Allocated, the references
// the test holds, page_free calls so far, and the driver's free list in pool
// order (dev_alloc takes the most recently freed folio). Folio order 0, 1 or
// 2 (compound device folios) is drawn per case.
// After every command:
//  - per folio: head refcount = held (+1 legacy idle reference), head/tail
//    flags, head links, order, owner DevicePgmap, tails at refcount 0;
//    unpopulated frames: refcount 0, no flags, owner Buddy;
//  - page_free ran exactly once per zero (legacy: idle) transition;
//  - live() and the buddy's free counts (untouched);
//  - core::audit against a ledger of the held references is clean;
//  - the ViolationSink has received nothing.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/zone_device.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;
using core::ZoneDeviceRefcount;

constexpr uint32_t kDeviceFrames = 64;

core::ModelConfig state_config(ZoneDeviceRefcount design, unsigned order) {
  core::ModelConfig c = special_config();
  c.device_frames = kDeviceFrames;
  c.device_folio_order = static_cast<uint8_t>(order);
  c.pgmap_teardown_spins = 4;
  c.design.zone_device = design;
  c.bugs |= bugs_from_env();  // bench/bugbench: a catalog mutant, if named
  return c;
}


// --- the sequential model ---------------------------------------------------------

struct DevM {
  bool allocated = false;
  int32_t held = 0;
  uint32_t page_free_calls = 0;
};

struct State {
  bool legacy = false;
  unsigned order = 1;
  bool populated = false;
  bool live = false;
  std::vector<DevM> folios;
  std::vector<uint32_t> free_list;  // back() is handed out first

  uint32_t nr() const { return static_cast<uint32_t>(folios.size()); }
  uint32_t frames() const { return 1u << order; }
  bool any_allocated() const {
    for (const DevM& f : folios)
      if (f.allocated) return true;
    return false;
  }
};

// --- the system under test ----------------------------------------------------------

struct Sut {
  CollectingSink sink;
  core::Model m;
  Pfn start;
  State last;

  Sut(ZoneDeviceRefcount design, unsigned order)
      : m(state_config(design, order)), start(m.frames().zone(core::ZoneType::Device).start) {
    m.set_violation_sink(&sink);
  }
  ~Sut() { m.set_violation_sink(nullptr); }
  Pfn head(const State& s, uint32_t i) const { return start + (i << s.order); }

  void check(const State& s) {
    last = s;
    if (!sink.got.empty()) RC_FAIL("violations:" + describe(sink.got));
    RC_ASSERT(m.pgmap().live() == s.live);
    RC_ASSERT(m.pgmap().nr_folios() == s.nr());
    core::HolderLedger ledger(m.frames().size());
    for (uint32_t i = 0; i < s.nr(); ++i) {
      const DevM& f = s.folios[i];
      const Pfn h = head(s, i);
      RC_ASSERT(m.pgmap().page_free_calls(h) == f.page_free_calls);
      if (!s.populated) {
        for (Pfn p = h; p < h + s.frames(); ++p) {
          const core::Frame& fr = m.frame(p);
          RC_ASSERT(fr.refcount.peek() == 0);
          RC_ASSERT(fr.flags.peek() == 0u);
          RC_ASSERT(fr.head.peek() == p);
          RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) == core::OwnerId::Buddy);
        }
        continue;
      }
      const core::Frame& fr = m.frame(h);
      RC_ASSERT(fr.refcount.peek() == f.held + (s.legacy ? 1 : 0));
      RC_ASSERT(f.allocated == (f.held > 0));
      RC_ASSERT((fr.flags.peek() & (core::pg::head | core::pg::tail)) == (s.order > 0 ? core::pg::head : 0u));
      RC_ASSERT(fr.head.peek() == h);
      RC_ASSERT(fr.order.peek() == s.order);
      RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) == core::OwnerId::DevicePgmap);
      rc_assert_tails(m, h, s.frames(), core::OwnerId::DevicePgmap);
      ledger.add_ref(h, f.held);
    }
    RC_ASSERT(nr_free(m) == m.config().normal_frames + m.config().movable_frames);
    const core::AuditReport r = rc_audit_clean(m, ledger);
    RC_ASSERT(r.unpopulated_frames == (s.populated ? 0u : kDeviceFrames));
  }

  void drain() {
    for (uint32_t i = 0; i < last.nr(); ++i)
      for (int32_t k = 0; k < last.folios[i].held; ++k) core::put_page(m, head(last, i));
    if (last.live) RC_ASSERT(m.pgmap().memunmap_pages() == 0);
  }
};

using Cmd = rc::state::Command<State, Sut>;

uint32_t pick_held(const State& s) {
  std::vector<uint32_t> is;
  for (uint32_t i = 0; i < s.nr(); ++i)
    if (s.folios[i].held > 0) is.push_back(i);
  RC_PRE(!is.empty());
  return *rc::gen::elementOf(is);
}

// Drops one held reference of folio i in the model: the last one frees it.
void model_put(State& s, uint32_t i) {
  DevM& f = s.folios[i];
  if (--f.held > 0) return;
  f.allocated = false;
  f.page_free_calls++;
  s.free_list.push_back(i);
}

// --- commands -------------------------------------------------------------------------

// memremap_pages(): 0, or -EEXIST when populated.
struct Memremap : Cmd {
  void apply(State& s) const override {
    if (s.populated) return;
    s.populated = s.live = true;
    s.free_list.clear();
    for (uint32_t i = 0; i < s.nr(); ++i) {
      s.folios[i].allocated = false;
      s.folios[i].held = 0;
      s.free_list.push_back(i);
    }
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.pgmap().memremap_pages() == (s.populated ? -EEXIST : 0));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "memremap_pages()"; }
};

// memunmap_pages(): scan and wait. -ENODEV when not live; -EBUSY (and the
// pgmap is revived) while any folio is allocated; else unpopulated.
struct Memunmap : Cmd {
  int expect(const State& s) const {
    if (!s.live) return -ENODEV;
    return s.any_allocated() ? -EBUSY : 0;
  }
  void apply(State& s) const override {
    if (expect(s) != 0) return;
    s.populated = s.live = false;
    s.free_list.clear();
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.pgmap().memunmap_pages() == expect(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "memunmap_pages()"; }
};

// dev_alloc: the driver hands out the most recently freed folio.
struct DevAlloc : Cmd {
  bool succeeds(const State& s) const { return s.live && !s.free_list.empty(); }
  void apply(State& s) const override {
    if (!succeeds(s)) return;
    const uint32_t i = s.free_list.back();
    s.free_list.pop_back();
    s.folios[i].allocated = true;
    s.folios[i].held = 1;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn got = sut.m.pgmap().dev_alloc();
    RC_ASSERT(got == (succeeds(s) ? sut.head(s, s.free_list.back()) : kNoPfn));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "dev_alloc()"; }
};

struct Get : Cmd {
  uint32_t i;
  explicit Get(const State& s) : i(pick_held(s)) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios[i].held > 0); }
  void apply(State& s) const override { s.folios[i].held++; }
  void run(const State& s, Sut& sut) const override {
    core::folio_get(sut.m, sut.head(s, i));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "folio_get(dev " << i << ")"; }
};

// put_page (any design) or folio_put (0-based only: the generic put path
// must reach page_free through the owner hook too).
struct Put : Cmd {
  uint32_t i;
  bool generic;
  explicit Put(const State& s) : i(pick_held(s)), generic(!s.legacy && *rc::gen::arbitrary<bool>()) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios[i].held > 0 && !(generic && s.legacy)); }
  void apply(State& s) const override { model_put(s, i); }
  void run(const State& s, Sut& sut) const override {
    if (generic) core::folio_put(sut.m, sut.head(s, i));
    else core::put_page(sut.m, sut.head(s, i));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << (generic ? "folio_put" : "put_page") << "(dev " << i << ")"; }
};

// A speculative get (GUP-fast style folio_try_get on the head, or a pfn
// walker resolving any frame to its head). 0-based: fails on free folios and
// on unpopulated frames; legacy: only on allocated folios (see the header).
// A try_get straight on a tail frame always fails and leaves it at 0.
struct Speculative : Cmd {
  uint32_t i, off;
  bool walk;
  explicit Speculative(const State& s)
      : i(*rc::gen::inRange<uint32_t>(0, s.nr())), off(*rc::gen::inRange<uint32_t>(0, s.frames())),
        walk(*rc::gen::arbitrary<bool>()) {}
  bool succeeds(const State& s) const { return s.populated && s.folios[i].allocated && (walk || off == 0); }
  void checkPreconditions(const State& s) const override {
    RC_PRE(!s.legacy || !s.populated || s.folios[i].allocated || (!walk && off > 0));
  }
  void apply(State& s) const override {
    if (succeeds(s)) s.folios[i].held++;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = sut.head(s, i) + off;
    if (walk) RC_ASSERT(core::pfn_walk_get(sut.m, p) == (succeeds(s) ? sut.head(s, i) : kNoPfn));
    else RC_ASSERT(core::folio_try_get(sut.m, p) == succeeds(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << (walk ? "pfn_walk_get" : "folio_try_get") << "(dev " << i << "+" << off << ")";
  }
};

void run_property(ZoneDeviceRefcount design) {
  const unsigned order = *rc::gen::inRange(0u, 3u);
  State initial;
  initial.legacy = design == ZoneDeviceRefcount::LegacyOneBased;
  initial.order = order;
  initial.folios.resize(kDeviceFrames >> order);
  Sut sut(design, order);
  // Start populated most of the time; Memremap covers the rest.
  if (*rc::gen::inRange(0, 4) != 0) {
    RC_ASSERT(sut.m.pgmap().memremap_pages() == 0);
    Memremap().apply(initial);
  }
  sut.check(initial);
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<Memremap, Memunmap, DevAlloc, DevAlloc, DevAlloc, Get, Put, Put,
                                                     Put, Speculative, Speculative>());
  rc_classify_probes(sut.m.probes(),
                     {{Probe::PgmapTeardownBusy, "teardown busy"}, {Probe::DevicePageFree, "page_free"}});
  RC_CLASSIFY(sut.last.populated != true, "ends torn down");
  const core::AuditReport r = rc_drain_audit_clean(sut);
  RC_ASSERT(r.unpopulated_frames == kDeviceFrames);
}

RC_GTEST_PROP(ZoneDeviceState, ZeroBasedPgmapMatchesTheSequentialModel, ()) {
  run_property(ZoneDeviceRefcount::ZeroBased);
}

RC_GTEST_PROP(ZoneDeviceState, LegacyOneBasedPgmapMatchesTheSequentialModel, ()) {
  run_property(ZoneDeviceRefcount::LegacyOneBased);
}

}  // namespace
