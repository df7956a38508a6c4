// stateful property of core/page_ref.hpp — random legal sequences of
// alloc / get / try_get / put / freeze / unfreeze / free_frozen against a
// sequential model of every held folio's refcount.
//
// The reference model names folios by handle (the n-th allocation), since
// which pfn the buddy picks is the allocator's business; the Sut maps handles
// to pfns. Preconditions keep every sequence legal, so:
//  - every refcount equals the model's after every command,
//  - the audit, with a ledger built from the model, is clean after every
//    command (no leak, no lost frame, no frame in two places),
//  - no violation is ever reported.
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
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;

// NORMAL has 16 max-order blocks. A held folio lies in one block, so with at
// most 15 held folios NORMAL always has a whole free block: every allocation
// (NORMAL, or MOVABLE falling back to NORMAL) succeeds, and the model can
// predict it.
constexpr uint32_t kNormalFrames = 128;
constexpr uint32_t kMaxHeld = kNormalFrames / kPageblock - 1;

core::ModelConfig state_config() {
  core::ModelConfig c = small_config();
  c.normal_frames = kNormalFrames;
  return c;
}

struct FolioState {
  ZoneType zone;  // asked for
  unsigned order;
  int32_t refcount;  // 0 when frozen
  bool frozen;
};

struct RefModel {
  std::map<uint32_t, FolioState> folios;  // by handle
  uint32_t next_handle = 0;
};

struct Sut {
  core::Model m{state_config()};
  std::map<uint32_t, Pfn> pfn;  // handle -> head pfn
  RefModel last;                // the state after the last command

  // Compares every folio with the model, then audits against a ledger built
  // from the model.
  void check(const RefModel& s) {
    last = s;
    if (m.violation_count() != 0) RC_FAIL("violations:" + describe(m.violations()));
    core::HolderLedger ledger(m.frames().size());
    uint32_t held_frames = 0;
    for (const auto& [handle, f] : s.folios) {
      const Pfn p = pfn.at(handle);
      RC_ASSERT(refcount(m, p) == f.refcount);
      RC_ASSERT(m.frame(p).order.peek() == f.order);
      RC_ASSERT(flags(m, p) == (f.order > 0 ? core::pg::head : 0u));
      if (f.frozen)
        ledger.add_frozen(p, "model");
      else
        ledger.add_ref(p, f.refcount);
      held_frames += 1u << f.order;
    }
    const core::AuditReport r = rc_audit_clean(m, ledger);
    RC_ASSERT(r.free_frames + held_frames == m.frames().size() - kZoneFrames);  // all but DEVICE
  }

  // Gives back everything the last checked state holds.
  void drain() {
    for (const auto& [handle, f] : last.folios) {
      const Pfn p = pfn.at(handle);
      if (f.frozen)
        core::free_frozen_pages(m, p, f.order);
      else
        core::folio_put_refs(m, p, f.refcount);
    }
    last.folios.clear();
  }

  uint32_t nr_free() { return refhammer_test::nr_free(m); }
};

using Cmd = rc::state::Command<RefModel, Sut>;
using FolioOp = FolioOpCmd<RefModel, Sut>;
using FolioCount = FolioCountCmd<RefModel, Sut>;

// Preconditions test a bool computed from this, never the pointer itself:
// RC_PRE shows the operands of a failed condition, and would dereference it.
const FolioState* find(const RefModel& s, uint32_t h) {
  const auto it = s.folios.find(h);
  return it == s.folios.end() ? nullptr : &it->second;
}

// FREE -> ALLOCATED (refcount 1) or FROZEN (refcount 0)
struct Alloc : Cmd {
  ZoneType zone = *rc::gen::element(ZoneType::Normal, ZoneType::Movable);
  unsigned order = *rc::gen::element(0u, 1u, 2u, 3u);
  bool frozen = *rc::gen::arbitrary<bool>();

  void checkPreconditions(const RefModel& s) const override { RC_PRE(s.folios.size() < kMaxHeld); }
  void apply(RefModel& s) const override {
    s.folios[s.next_handle++] = FolioState{zone, order, frozen ? 0 : 1, frozen};
  }
  void run(const RefModel& s, Sut& sut) const override {
    const Pfn p = frozen ? core::alloc_frozen_pages(sut.m, zone, order) : core::alloc_pages(sut.m, zone, order);
    RC_ASSERT(p != core::kNoPfn);
    RC_ASSERT(p % (1u << order) == 0u);
    const ZoneType got = sut.m.frames().zone_of(p);
    RC_ASSERT(got == zone || (zone == ZoneType::Movable && got == ZoneType::Normal));
    sut.pfn[s.next_handle] = p;
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << (frozen ? "alloc_frozen_pages(" : "alloc_pages(") << core::zone_name(zone) << ", " << order << ")";
  }
};

// n --folio_get--> n+1 (n >= 1)
struct Get : FolioOp {
  explicit Get(const RefModel& s)
      : FolioOp("folio_get", core::folio_get, pick(s.folios, [](const FolioState& f) { return !f.frozen; })) {}
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && !f->frozen;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override { s.folios[h].refcount++; }
};

// n --folio_ref_add(k)--> n+k (n >= 1)
struct RefAdd : FolioCount {
  explicit RefAdd(const RefModel& s)
      : FolioCount("folio_ref_add", core::folio_ref_add, pick(s.folios, [](const FolioState& f) { return !f.frozen; })) {
    k = *rc::gen::inRange(1, 5);
  }
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && !f->frozen;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override { s.folios[h].refcount += k; }
};

// n --folio_try_get--> n+1, or 0 (frozen) --folio_try_get--> 0, refused
struct TryGet : Cmd {
  uint32_t h;
  bool page = *rc::gen::arbitrary<bool>();  // try_get_page instead of folio_try_get
  explicit TryGet(const RefModel& s) : h(pick(s.folios, [](const FolioState&) { return true; })) {}
  void checkPreconditions(const RefModel& s) const override { RC_PRE(s.folios.count(h) == 1u); }
  void apply(RefModel& s) const override {
    if (!s.folios[h].frozen) s.folios[h].refcount++;
  }
  void run(const RefModel& s, Sut& sut) const override {
    const bool want = !s.folios.at(h).frozen;
    const Pfn p = sut.pfn.at(h);
    RC_ASSERT((page ? core::try_get_page(sut.m, p) : core::folio_try_get(sut.m, p)) == want);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << (page ? "try_get_page(#" : "folio_try_get(#") << h << ")"; }
};

// n --folio_put--> n-1; the put that reaches 0 frees the folio to the buddy
struct Put : Cmd {
  uint32_t h;
  explicit Put(const RefModel& s) : h(pick(s.folios, [](const FolioState& f) { return !f.frozen; })) {}
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && !f->frozen;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override {
    if (--s.folios[h].refcount == 0) s.folios.erase(h);
  }
  void run(const RefModel& s, Sut& sut) const override {
    const FolioState& f = s.folios.at(h);
    const uint32_t before = sut.nr_free();
    core::folio_put(sut.m, sut.pfn.at(h));
    RC_ASSERT(sut.nr_free() == before + (f.refcount == 1 ? 1u << f.order : 0u));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "folio_put(#" << h << ")"; }
};

// n --folio_put_refs(k)--> n-k (k <= n)
struct PutRefs : Cmd {
  uint32_t h;
  int32_t k;
  explicit PutRefs(const RefModel& s) : h(pick(s.folios, [](const FolioState& f) { return !f.frozen; })) {
    k = *rc::gen::inRange(1, s.folios.at(h).refcount + 1);
  }
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && !f->frozen && k <= f->refcount;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override {
    if ((s.folios[h].refcount -= k) == 0) s.folios.erase(h);
  }
  void run(const RefModel& s, Sut& sut) const override {
    const FolioState& f = s.folios.at(h);
    const uint32_t before = sut.nr_free();
    core::folio_put_refs(sut.m, sut.pfn.at(h), k);
    RC_ASSERT(sut.nr_free() == before + (f.refcount == k ? 1u << f.order : 0u));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "folio_put_refs(#" << h << ", " << k << ")"; }
};

// n --folio_ref_freeze(e)--> 0 when e == n; otherwise refused, n stays.
// `expected` is drawn around the count at generation time: exact, one above
// or one below, so freezes both succeed and fail (and fail on frozen folios).
struct Freeze : Cmd {
  uint32_t h;
  int32_t expected;
  explicit Freeze(const RefModel& s) : h(pick(s.folios, [](const FolioState&) { return true; })) {
    const int32_t n = s.folios.at(h).refcount;
    expected = std::max(1, n + *rc::gen::element(0, 0, 1, -1));
  }
  void checkPreconditions(const RefModel& s) const override { RC_PRE(s.folios.count(h) == 1u); }
  bool succeeds(const FolioState& f) const { return !f.frozen && f.refcount == expected; }
  void apply(RefModel& s) const override {
    FolioState& f = s.folios[h];
    if (succeeds(f)) {
      f.frozen = true;
      f.refcount = 0;
    }
  }
  void run(const RefModel& s, Sut& sut) const override {
    RC_ASSERT(core::folio_ref_freeze(sut.m, sut.pfn.at(h), expected) == succeeds(s.folios.at(h)));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "folio_ref_freeze(#" << h << ", " << expected << ")"; }
};

// 0 (frozen) --folio_ref_unfreeze(n)--> n
struct Unfreeze : FolioCount {
  explicit Unfreeze(const RefModel& s)
      : FolioCount("folio_ref_unfreeze", core::folio_ref_unfreeze,
                   pick(s.folios, [](const FolioState& f) { return f.frozen; })) {
    k = *rc::gen::inRange(1, 4);
  }
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && f->frozen;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override {
    s.folios[h].frozen = false;
    s.folios[h].refcount = k;
  }
};

// 0 (frozen) --free_frozen_pages--> buddy
struct FreeFrozen : Cmd {
  uint32_t h;
  explicit FreeFrozen(const RefModel& s) : h(pick(s.folios, [](const FolioState& f) { return f.frozen; })) {}
  void checkPreconditions(const RefModel& s) const override {
    const FolioState* f = find(s, h);
    const bool legal = f != nullptr && f->frozen;
    RC_PRE(legal);
  }
  void apply(RefModel& s) const override { s.folios.erase(h); }
  void run(const RefModel& s, Sut& sut) const override {
    const FolioState& f = s.folios.at(h);
    const uint32_t before = sut.nr_free();
    core::free_frozen_pages(sut.m, sut.pfn.at(h), f.order);
    RC_ASSERT(sut.nr_free() == before + (1u << f.order));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "free_frozen_pages(#" << h << ")"; }
};

RC_GTEST_PROP(PageRefState, LegalSequencesMatchTheSequentialModel, ()) {
  Sut sut;
  rc::state::check(RefModel{}, sut,
                   rc::state::gen::execOneOfWithArgs<Alloc, Get, RefAdd, TryGet, Put, PutRefs, Freeze, Unfreeze,
                                                     FreeFrozen>());
  rc_classify_probes(sut.m.probes(), {{Probe::FreezeSucceeded, "a freeze succeeded"},
                                      {Probe::FreezeFailed, "a freeze failed"},
                                      {Probe::TryGetSawZero, "a try_get saw zero"},
                                      {Probe::PutWasLast, "a put freed a folio"}});
  // Whatever is still held goes back: everything merges.
  rc_drain_fully_merged(sut);
}

}  // namespace
