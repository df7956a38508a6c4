// Stateful property of core::OfflineDriver and core::MemoryHotplug
// (PageOffline / virtio-mem and memory-block offlining, issue 4) — random
// legal command sequences against a sequential model, in both PageOffline
// designs (Frozen: refcount 0 and Skippable; Legacy: the driver's refcount 1,
// MEM_GOING_OFFLINE drops it) and both free dispatch designs. Sequentially
// every combination must be correct: the seed-000 race needs a stray put
// between GOING_OFFLINE and the isolation test, which a sequential program
// cannot place.
//
// Layout: NORMAL = memory block 0, MOVABLE = memory block 1 (64 frames
// each), DEVICE = block 2 (never offlinable). One block per zone lets the
// model know where every page lives without knowing pfns: an order-0
// allocation lands in the zone asked for while it has a free frame, MOVABLE
// falls back to NORMAL, an offline block has none.
//
// Model: anonymous pages (zone, references the test holds, the PTE slot that
// maps it), PageOffline pages (zone, withheld at onlining or taken from the
// buddy, stray speculative references the test holds), the driver's page
// list in its order, and which blocks are offline. At most kMaxPages pages
// exist, so migration out of MOVABLE always finds room in NORMAL.
// Offlining block b (what the model predicts):
//  - mapped pages nobody else holds are movable: out of MOVABLE they migrate
//    to NORMAL (if NORMAL is online), even when offlining then fails; NORMAL
//    pages have nowhere to go;
//  - it succeeds iff no anonymous page is left in the block and (legacy) no
//    PageOffline page of the block has a stray reference; PageOffline pages
//    stay with the driver (Skippable; legacy: refcount 0 while offline).
// After every command:
//  - anonymous pages: refcount = held + PTE, mapcount, zone, owner, the PTE;
//  - PageOffline pages: type and owner Offline, refcount (frozen 0; legacy
//    1 + stray while online, 0 while offline), the NeverOnlined / Skippable /
//    was_onlined flags; the driver's list, in order;
//  - is_offline() per block and the buddy's free counts per zone;
//  - core::audit against a ledger of held and stray references is clean;
//  - the ViolationSink has received nothing.
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
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "tests/support/harness_support.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using namespace refhammer_test;
using core::OfflineRefcount;

constexpr uint32_t kBlock = 64;
constexpr uint32_t kSlots = 16;
constexpr uint32_t kMaxPages = 40;
constexpr uint32_t kOfflineFlags = core::pg::offline_skippable | core::pg::offline_never_onlined | core::pg::was_onlined;

core::ModelConfig state_config(OfflineRefcount o, core::FreeDispatch d) {
  core::ModelConfig c = special_config();
  c.normal_frames = kBlock;
  c.movable_frames = kBlock;
  c.device_frames = kBlock;
  c.block_frames = kBlock;
  c.nr_mms = 1;
  c.mm_slots = kSlots;
  c.offline_passes = 2;
  c.design.offline = o;
  c.design.free_dispatch = d;
  c.bugs |= bugs_from_env();  // bench/bugbench: a catalog mutant, if named
  return c;
}


unsigned zi(ZoneType z) { return z == ZoneType::Normal ? 0u : 1u; }
ZoneType zone_of_block(uint32_t b) { return b == 0 ? ZoneType::Normal : ZoneType::Movable; }

// --- the sequential model ---------------------------------------------------------

struct AnonM {
  ZoneType zone = ZoneType::Normal;
  int32_t held = 0;
  int32_t slot = -1;
};

struct OffM {
  ZoneType zone = ZoneType::Normal;
  bool withheld = false;
  int32_t stray = 0;
};

struct State {
  bool legacy = false;
  std::map<uint32_t, AnonM> anon;
  std::map<uint32_t, OffM> off;
  std::vector<uint32_t> drv;  // the driver's list, in order
  bool offline[2] = {false, false};
  uint32_t next_handle = 0;

  uint32_t pages() const { return static_cast<uint32_t>(anon.size() + off.size()); }
  uint32_t used(ZoneType z) const {
    uint32_t n = 0;
    for (const auto& [h, a] : anon) n += a.zone == z;
    for (const auto& [h, o] : off) n += o.zone == z;
    return n;
  }
  uint32_t free_frames(ZoneType z) const { return offline[zi(z)] ? 0 : kBlock - used(z); }
  // Where an order-0 allocation asked of `z` lands (MOVABLE falls back to
  // NORMAL), or nowhere.
  int alloc_zone(ZoneType z) const {
    if (free_frames(z) > 0) return static_cast<int>(z);
    if (z == ZoneType::Movable && free_frames(ZoneType::Normal) > 0) return static_cast<int>(ZoneType::Normal);
    return -1;
  }
  bool slot_used(int32_t slot) const {
    for (const auto& [h, a] : anon)
      if (a.slot == slot) return true;
    return false;
  }
  void collect(uint32_t h) {
    const AnonM& a = anon.at(h);
    if (a.held == 0 && a.slot < 0) anon.erase(h);
  }
  // What offline_pages(b) returns; with `apply`, its effects.
  int offline_block(uint32_t b, bool apply) {
    if (b >= 2 || offline[b]) return -EINVAL;
    const ZoneType z = zone_of_block(b);
    // Migration happens in the first pass, whatever the outcome.
    for (auto& [h, a] : anon)
      if (a.zone == z && a.held == 0 && a.slot >= 0 && z == ZoneType::Movable && !offline[0] && apply)
        a.zone = ZoneType::Normal;
    bool ok = true;
    for (const auto& [h, a] : anon)
      if (a.zone == z && (a.held > 0 || a.slot < 0 || z == ZoneType::Normal || offline[0])) ok = false;
    for (const auto& [h, o] : off)
      if (o.zone == z && o.stray > 0) ok = false;
    if (ok && apply) offline[b] = true;
    return ok ? 0 : -EBUSY;
  }
};

// --- the system under test ----------------------------------------------------------

struct Sut {
  CollectingSink sink;
  core::Model m;
  std::map<uint32_t, Pfn> pfn;  // handle -> pfn (anonymous or PageOffline)
  State last;

  Sut(OfflineRefcount o, core::FreeDispatch d) : m(state_config(o, d)) { m.set_violation_sink(&sink); }
  ~Sut() { m.set_violation_sink(nullptr); }
  core::Mm& mm() { return m.mm(0); }

  void check(const State& s) {
    last = s;
    if (!sink.got.empty()) RC_FAIL("violations:" + describe(sink.got));
    for (auto it = pfn.begin(); it != pfn.end();)
      it = (s.anon.count(it->first) || s.off.count(it->first)) ? std::next(it) : pfn.erase(it);
    core::HolderLedger ledger(m.frames().size());
    for (const auto& [h, a] : s.anon) {
      const Pfn p = pfn.at(h);
      const core::Frame& fr = m.frame(p);
      RC_ASSERT(m.frames().zone_of(p) == a.zone);
      RC_ASSERT(fr.refcount.peek() == a.held + (a.slot >= 0 ? 1 : 0));
      RC_ASSERT(fr.mapcount.peek() == (a.slot >= 0 ? 1 : 0));
      RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) == core::OwnerId::Buddy);
      RC_ASSERT(static_cast<core::PageType>(fr.page_type.peek()) == core::PageType::None);
      RC_ASSERT((fr.flags.peek() & kOfflineFlags) == 0u);
      if (a.slot >= 0) RC_ASSERT(mm().pte(static_cast<uint32_t>(a.slot)).peek() == core::pte::mk(p));
      ledger.add_ref(p, a.held);
    }
    for (uint32_t slot = 0; slot < kSlots; ++slot)
      if (!s.slot_used(static_cast<int32_t>(slot))) RC_ASSERT(mm().pte(slot).peek() == 0u);
    for (const auto& [h, o] : s.off) {
      const Pfn p = pfn.at(h);
      const core::Frame& fr = m.frame(p);
      RC_ASSERT(m.frames().zone_of(p) == o.zone);
      RC_ASSERT(static_cast<core::PageType>(fr.page_type.peek()) == core::PageType::Offline);
      RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) == core::OwnerId::Offline);
      const bool block_off = s.offline[zi(o.zone)];
      RC_ASSERT(fr.refcount.peek() == (s.legacy ? (block_off ? 0 : 1) + o.stray : 0));
      const uint32_t flags = s.legacy ? (o.withheld ? 0u : core::pg::was_onlined)
                                      : core::pg::offline_skippable | (o.withheld ? core::pg::offline_never_onlined : 0u);
      RC_ASSERT((fr.flags.peek() & kOfflineFlags) == flags);
      ledger.add_ref(p, o.stray);
    }
    RC_ASSERT(m.offline_driver().nr_pages() == s.drv.size());
    for (uint32_t i = 0; i < s.drv.size(); ++i) RC_ASSERT(m.offline_driver().page_at(i) == pfn.at(s.drv[i]));
    for (uint32_t b = 0; b < 3; ++b) RC_ASSERT(m.hotplug().is_offline(b) == (b < 2 && s.offline[b]));
    for (ZoneType z : {ZoneType::Normal, ZoneType::Movable}) RC_ASSERT(m.buddy().nr_free_pages(z) == s.free_frames(z));
    rc_audit_clean(m, ledger);
  }

  void drain() {
    const State& s = last;
    for (const auto& [h, a] : s.anon) {
      if (a.slot >= 0) core::unmap_slot(m, mm(), static_cast<uint32_t>(a.slot));
      for (int32_t i = 0; i < a.held; ++i) core::folio_put(m, pfn.at(h));
    }
    for (const auto& [h, o] : s.off)
      for (int32_t i = 0; i < o.stray; ++i) core::folio_put(m, pfn.at(h));
    m.hotplug().online_all();
    m.offline_driver().free_all();
  }
};

using Cmd = rc::state::Command<State, Sut>;
using FolioOp = FolioOpCmd<State, Sut>;

ZoneType gen_zone() { return *rc::gen::element(ZoneType::Normal, ZoneType::Movable); }

// --- commands -------------------------------------------------------------------------

// alloc_pages(zone, 0): an anonymous page the test holds.
struct Alloc : Cmd {
  ZoneType zone = gen_zone();
  void checkPreconditions(const State& s) const override { RC_PRE(s.pages() < kMaxPages); }
  void apply(State& s) const override {
    const int z = s.alloc_zone(zone);
    if (z >= 0) s.anon[s.next_handle++] = AnonM{static_cast<ZoneType>(z), 1, -1};
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = core::alloc_pages(sut.m, zone, 0);
    RC_ASSERT((p != kNoPfn) == (s.alloc_zone(zone) >= 0));
    if (p != kNoPfn) sut.pfn[s.next_handle] = p;
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "alloc_pages(" << core::zone_name(zone) << ")"; }
};

// offline_alloc(zone): the driver fake-offlines a page taken from the buddy.
struct OfflineAlloc : Cmd {
  ZoneType zone = gen_zone();
  void checkPreconditions(const State& s) const override { RC_PRE(s.pages() < kMaxPages); }
  void apply(State& s) const override {
    const int z = s.alloc_zone(zone);
    if (z < 0) return;
    s.off[s.next_handle] = OffM{static_cast<ZoneType>(z), false, 0};
    s.drv.push_back(s.next_handle++);
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = sut.m.offline_driver().offline_alloc(zone);
    RC_ASSERT((p != kNoPfn) == (s.alloc_zone(zone) >= 0));
    if (p != kNoPfn) sut.pfn[s.next_handle] = p;
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "offline_alloc(" << core::zone_name(zone) << ")"; }
};

// offline_free(i): -ENOENT (none), -EBUSY (its block is offline), else the
// page goes back to the buddy — or, legacy, to whoever still holds a stray
// reference on it (whose put then frees it as a plain page).
struct OfflineFree : Cmd {
  uint32_t i = *rc::gen::inRange<uint32_t>(0, 64);
  int expect(const State& s) const {
    if (s.drv.empty()) return -ENOENT;
    return s.offline[zi(s.off.at(s.drv[i % s.drv.size()]).zone)] ? -EBUSY : 0;
  }
  void apply(State& s) const override {
    if (expect(s) != 0) return;
    const uint32_t k = i % static_cast<uint32_t>(s.drv.size());
    const uint32_t h = s.drv[k];
    s.drv.erase(s.drv.begin() + k);
    const OffM o = s.off.at(h);
    s.off.erase(h);
    if (o.stray > 0) s.anon[h] = AnonM{o.zone, o.stray, -1};
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.offline_driver().offline_free(i) == expect(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "offline_free(" << i << ")"; }
};

// A page fault: a new anonymous page mapped at a free slot, held only by the
// mapping (a movable page: migration can move it).
struct Fault : Cmd {
  ZoneType zone = *rc::gen::element(ZoneType::Movable, ZoneType::Movable, ZoneType::Normal);
  uint32_t slot = *rc::gen::inRange<uint32_t>(0, kSlots);
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.pages() < kMaxPages && !s.slot_used(static_cast<int32_t>(slot)));
  }
  void apply(State& s) const override {
    const int z = s.alloc_zone(zone);
    if (z >= 0) s.anon[s.next_handle++] = AnonM{static_cast<ZoneType>(z), 0, static_cast<int32_t>(slot)};
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = core::alloc_pages(sut.m, zone, 0);
    RC_ASSERT((p != kNoPfn) == (s.alloc_zone(zone) >= 0));
    if (p != kNoPfn) {
      sut.pfn[s.next_handle] = p;
      RC_ASSERT(core::map_page(sut.m, sut.mm(), slot, p) == 0);
      core::folio_put(sut.m, p);
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "fault(" << core::zone_name(zone) << ", slot " << slot << ")"; }
};

struct Map : Cmd {
  uint32_t h, slot;
  explicit Map(const State& s)
      : h(pick(s.anon, [](const AnonM& a) { return a.held > 0 && a.slot < 0; })),
        slot(*rc::gen::inRange<uint32_t>(0, kSlots)) {}
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.anon.count(h) && s.anon.at(h).held > 0 && s.anon.at(h).slot < 0);
    RC_PRE(!s.slot_used(static_cast<int32_t>(slot)));
  }
  void apply(State& s) const override { s.anon.at(h).slot = static_cast<int32_t>(slot); }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::map_page(sut.m, sut.mm(), slot, sut.pfn.at(h)) == 0);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "map_page(#" << h << ", slot " << slot << ")"; }
};

struct Unmap : Cmd {
  uint32_t h;
  explicit Unmap(const State& s) : h(pick(s.anon, [](const AnonM& a) { return a.slot >= 0; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.anon.count(h) && s.anon.at(h).slot >= 0); }
  void apply(State& s) const override {
    s.anon.at(h).slot = -1;
    s.collect(h);
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::unmap_slot(sut.m, sut.mm(), static_cast<uint32_t>(s.anon.at(h).slot)));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "unmap(#" << h << ")"; }
};

struct Put : FolioOp {
  explicit Put(const State& s)
      : FolioOp("folio_put", core::folio_put, pick(s.anon, [](const AnonM& a) { return a.held > 0; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.anon.count(h) && s.anon.at(h).held > 0); }
  void apply(State& s) const override {
    s.anon.at(h).held--;
    s.collect(h);
  }
};

// A pfn walker's speculative get on an anonymous page (kept: an extra
// reference that makes migration and offlining fail until it is put).
struct PfnWalk : Cmd {
  uint32_t h;
  explicit PfnWalk(const State& s) : h(pick(s.anon, [](const AnonM&) { return true; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.anon.count(h) != 0); }
  void apply(State& s) const override { s.anon.at(h).held++; }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::pfn_walk_get(sut.m, sut.pfn.at(h)) == sut.pfn.at(h));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "pfn_walk_get(#" << h << ")"; }
};

// A stray speculative get on a PageOffline page: succeeds only on a legacy
// page of an online block (refcount 1); frozen pages are never referenced.
struct StrayGet : Cmd {
  uint32_t h;
  bool walk = *rc::gen::arbitrary<bool>();
  explicit StrayGet(const State& s) : h(pick(s.off, [](const OffM&) { return true; })) {}
  bool succeeds(const State& s) const { return s.legacy && !s.offline[zi(s.off.at(h).zone)]; }
  void checkPreconditions(const State& s) const override { RC_PRE(s.off.count(h) != 0); }
  void apply(State& s) const override {
    if (succeeds(s)) s.off.at(h).stray++;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = sut.pfn.at(h);
    if (walk) RC_ASSERT(core::pfn_walk_get(sut.m, p) == (succeeds(s) ? p : kNoPfn));
    else RC_ASSERT(core::folio_try_get(sut.m, p) == succeeds(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << (walk ? "pfn_walk_get" : "folio_try_get") << "(offline #" << h << ")"; }
};

struct StrayPut : FolioOp {
  explicit StrayPut(const State& s)
      : FolioOp("folio_put", core::folio_put, pick(s.off, [](const OffM& o) { return o.stray > 0; }), "offline ") {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.off.count(h) && s.off.at(h).stray > 0); }
  void apply(State& s) const override { s.off.at(h).stray--; }
};

struct BlockOffline : Cmd {
  uint32_t b = *rc::gen::element(0u, 1u, 1u, 1u, 2u);
  void apply(State& s) const override { s.offline_block(b, true); }
  void run(const State& s, Sut& sut) const override {
    State copy = s;
    RC_ASSERT(sut.m.hotplug().offline_pages(b) == copy.offline_block(b, false));
    // Migrated pages moved: follow them through their PTEs.
    for (const auto& [h, a] : s.anon)
      if (a.slot >= 0) sut.pfn[h] = core::pte::pfn(sut.mm().pte(static_cast<uint32_t>(a.slot)).peek());
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "offline_pages(block " << b << ")"; }
};

// online_pages(b, withhold): the driver's online_page callback keeps the
// first `withhold` frames that are not PageOffline as never-onlined pages.
struct BlockOnline : Cmd {
  uint32_t b = *rc::gen::element(0u, 1u, 1u, 2u);
  uint32_t withhold = *rc::gen::element(0u, 0u, 1u, 3u);
  uint32_t withheld(const State& s) const {
    if (b >= 2 || !s.offline[b]) return 0;
    uint32_t offline_pages = 0;
    for (const auto& [h, o] : s.off) offline_pages += o.zone == zone_of_block(b);
    return std::min(withhold, kBlock - offline_pages);
  }
  void checkPreconditions(const State& s) const override { RC_PRE(s.pages() + withhold <= kMaxPages); }
  void apply(State& s) const override {
    if (b >= 2 || !s.offline[b]) return;
    const uint32_t n = withheld(s);
    for (uint32_t i = 0; i < n; ++i) {
      s.off[s.next_handle] = OffM{zone_of_block(b), true, 0};
      s.drv.push_back(s.next_handle++);
    }
    s.offline[b] = false;
  }
  void run(const State& s, Sut& sut) const override {
    const bool ok = b < 2 && s.offline[b];
    RC_ASSERT(sut.m.hotplug().online_pages(b, withhold) == (ok ? 0 : -EINVAL));
    const uint32_t n = withheld(s);
    Pfn prev = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const Pfn p = sut.m.offline_driver().page_at(static_cast<uint32_t>(s.drv.size()) + i);
      RC_ASSERT(sut.m.frames().block_of(p) == b);
      RC_ASSERT(i == 0 || p > prev);  // the first ones, in pfn order
      prev = p;
      sut.pfn[s.next_handle + i] = p;
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "online_pages(block " << b << ", withhold " << withhold << ")"; }
};

void run_property(OfflineRefcount o) {
  const core::FreeDispatch d = *rc::gen::element(core::FreeDispatch::OwnerHook, core::FreeDispatch::PerTypeChecks);
  State initial;
  initial.legacy = o == OfflineRefcount::Legacy;
  Sut sut(o, d);
  sut.check(initial);
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<Alloc, Fault, Fault, OfflineAlloc, OfflineAlloc, OfflineFree, Map, Map,
                                                     Unmap, Put, Put, PfnWalk, StrayGet, StrayPut, BlockOffline,
                                                     BlockOffline, BlockOnline, BlockOnline>());
  rc_classify_probes(sut.m.probes(), {{Probe::OfflineSucceeded, "offlined"},
                                      {Probe::OfflineBusy, "offline busy"},
                                      {Probe::MigrateSucceeded, "migrated"},
                                      {Probe::OfflineGoingOfflineReferenced, "going-offline found a stray ref"}});
  const core::AuditReport r = rc_drain_audit_clean(sut);
  RC_ASSERT(r.free_frames == 2 * kBlock);
}

RC_GTEST_PROP(OfflineState, FrozenPageOfflineMatchesTheSequentialModel, ()) { run_property(OfflineRefcount::Frozen); }

RC_GTEST_PROP(OfflineState, LegacyPageOfflineMatchesTheSequentialModel, ()) { run_property(OfflineRefcount::Legacy); }

}  // namespace
