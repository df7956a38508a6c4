// stateful property of core/'s mappings, page cache, GUP, migration and
// guest_memfd — random legal sequences against a sequential model of who
// maps, pins, caches and holds what.
//
// The model names folios by handle (the n-th folio created); the Sut maps
// handles to head pfns, and follows a folio when migration moves it. Every
// command's return code is predicted by the model. After every command:
//  - every live folio's refcount, mapcount and pincount equal the model's
//    (refcount = held + PTEs + cache pages + pins x (1 | GUP_PIN_COUNTING_BIAS)),
//    as do its order, zone, owner, folio->mapping and every page's payload;
//  - every PTE, page-cache entry and guest_memfd page state equals the model's;
//  - the audit, with a ledger of the model's held references and pins, is
//    clean, and no frame is unaccounted for;
//  - no violation is ever reported.
// At the end everything is released and the buddy must merge back whole.
// Runs once per guest_memfd pin policy.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/filemap.hpp"
#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/gup.hpp"
#include "core/migrate.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using core::GmemPinPolicy;
using core::GmemState;
using namespace refhammer_test;
namespace foll = core::foll;

constexpr uint32_t kMms = 2;
constexpr uint32_t kSlots = 8;
constexpr uint32_t kFilePages = 16;
constexpr uint32_t kGmemPages = 16;
constexpr uint32_t kUnit = 4;  // guest_memfd huge unit (gmem_huge_order 2)
constexpr uint32_t kZone = 128;
// Live folios outside guest_memfd, and guest_memfd units (one order-2 block
// each) with any frame still live. Each lies in one max-order block; with at
// most 10 + 4 of them and one migration target, each zone (16 blocks) always
// has a whole free block: every allocation succeeds in the zone asked for,
// so the model can predict it.
constexpr uint32_t kMaxFolios = 10;
constexpr uint32_t kMaxUnits = 4;

core::ModelConfig prop_config(GmemPinPolicy pol) {
  core::ModelConfig c = small_config();
  c.normal_frames = kZone;
  c.movable_frames = kZone;
  c.refcount_limit = std::numeric_limits<int32_t>::max();
  c.nr_mms = kMms;
  c.mm_slots = kSlots;
  c.file_pages = kFilePages;
  c.gmem_pages = kGmemPages;
  c.gmem_huge_order = 2;
  c.gmem_convert_spins = 4;
  c.design.gmem_pin_policy = pol;
  return c;
}

uint64_t fresh_value(uint32_t handle, uint32_t page) { return 0xf000000000000000ull | (uint64_t(handle) << 8) | page; }

// --- the sequential model -------------------------------------------------------

struct FolioM {
  unsigned order = 0;
  ZoneType zone = ZoneType::Normal;
  bool gmem_owned = false;  // owner Guestmem (for life, even once punched out)
  uint32_t unit = 0;        // guest_memfd: which populate() allocated it
  int32_t held = 0;         // plain references the test holds
  int32_t pins = 0;
  int32_t file_index = -1;  // first index in the regular file, or -1
  int32_t gmem_index = -1;  // first index in guest_memfd's cache, or -1
  std::vector<uint64_t> payload;
  uint32_t nr() const { return 1u << order; }
  bool cached() const { return file_index >= 0 || gmem_index >= 0; }
};

struct PageRef {
  uint32_t h, off;
};

struct State {
  GmemPinPolicy policy = GmemPinPolicy::RefuseLongterm;
  std::map<uint32_t, FolioM> folios;
  std::map<uint32_t, PageRef> ptes;  // mm * kSlots + slot
  std::vector<PageRef> pins;
  std::array<int64_t, kFilePages> file;
  std::array<int64_t, kGmemPages> gmem;  // handle of the folio backing each page
  std::array<GmemState, kGmemPages> gstate;
  uint32_t next_handle = 0;
  uint32_t next_unit = 0;
  uint64_t next_value = 1;

  State() {
    file.fill(-1);
    gmem.fill(-1);
    gstate.fill(GmemState::Absent);
  }
  uint32_t ptes_of(uint32_t h) const {
    uint32_t n = 0;
    for (const auto& [k, p] : ptes) n += p.h == h;
    return n;
  }
  uint32_t plain_folios() const {
    uint32_t n = 0;
    for (const auto& [h, f] : folios) n += !f.gmem_owned;
    return n;
  }
  // guest_memfd allocations (huge units) some frame of which is still live.
  uint32_t live_units() const {
    std::set<uint32_t> units;
    for (const auto& [h, f] : folios)
      if (f.gmem_owned) units.insert(f.unit);
    return static_cast<uint32_t>(units.size());
  }
  // The next handle's folio, fresh from the allocator: its pages' payloads
  // are their fresh values.
  FolioM fresh_folio(ZoneType zone, unsigned order) const {
    FolioM f;
    f.order = order;
    f.zone = zone;
    for (uint32_t i = 0; i < f.nr(); ++i) f.payload.push_back(fresh_value(next_handle, i));
    return f;
  }
  GmemState page_state(const FolioM& f, uint32_t off) const {
    return f.gmem_index >= 0 ? gstate[f.gmem_index + off] : GmemState::Absent;
  }
  void unmap_all(uint32_t h) {
    for (auto it = ptes.begin(); it != ptes.end();) it = it->second.h == h ? ptes.erase(it) : std::next(it);
  }
  // Folios nobody holds, maps, pins or caches are gone.
  void collect() {
    for (auto it = folios.begin(); it != folios.end();) {
      const FolioM& f = it->second;
      it = (f.held == 0 && f.pins == 0 && !f.cached() && ptes_of(it->first) == 0) ? folios.erase(it) : std::next(it);
    }
  }
};

uint32_t key(uint32_t mm, uint32_t slot) { return mm * kSlots + slot; }

// --- the system under test --------------------------------------------------------

struct Sut {
  core::Model m;
  std::map<uint32_t, Pfn> pfn;  // handle -> head
  State last;

  explicit Sut(GmemPinPolicy pol) : m(prop_config(pol)) {}

  // alloc_pages for handle `h`, in `zone` as asked, each page's payload set
  // to its fresh value.
  Pfn alloc_fresh(uint32_t h, ZoneType zone, unsigned order) {
    const Pfn p = core::alloc_pages(m, zone, order);
    RC_ASSERT(p != kNoPfn);
    RC_ASSERT(m.frames().zone_of(p) == zone);
    pfn[h] = p;
    for (uint32_t i = 0; i < (1u << order); ++i)
      m.frame(p + i).payload.store(fresh_value(h, i), std::memory_order_relaxed);
    return p;
  }
  Pfn page(const State& s, uint32_t h, uint32_t off) const {
    (void)s;
    return pfn.at(h) + off;
  }

  // Where a migrated folio went: any of its PTEs, or its cache entry.
  Pfn find_moved(const State& s, uint32_t h) {
    for (const auto& [k, p] : s.ptes)
      if (p.h == h) return m.frame(core::pte::pfn(m.mm(k / kSlots).pte(k % kSlots).peek())).head.peek();
    const FolioM& f = s.folios.at(h);
    if (f.file_index >= 0) return m.file().entry(f.file_index).peek();
    return kNoPfn;
  }

  void check(const State& s) {
    last = s;
    if (m.violation_count() != 0) RC_FAIL("violations:" + describe(m.violations()));
    for (auto it = pfn.begin(); it != pfn.end();) it = s.folios.count(it->first) ? std::next(it) : pfn.erase(it);
    core::HolderLedger ledger(m.frames().size());
    uint32_t held_frames = 0;
    for (const auto& [h, f] : s.folios) {
      const Pfn p = pfn.at(h);
      const core::Frame& fr = m.frame(p);
      const int32_t ptes = static_cast<int32_t>(s.ptes_of(h));
      const int32_t cache = f.cached() ? static_cast<int32_t>(f.nr()) : 0;
      const int32_t pin_refs = f.pins * (f.order > 0 ? 1 : core::GUP_PIN_COUNTING_BIAS);
      RC_ASSERT(fr.refcount.peek() == f.held + ptes + cache + pin_refs);
      RC_ASSERT(fr.mapcount.peek() == ptes);
      RC_ASSERT(fr.pincount.peek() == (f.order > 0 ? f.pins : 0));
      RC_ASSERT(fr.order.peek() == f.order);
      RC_ASSERT(m.frames().zone_of(p) == f.zone);
      RC_ASSERT(static_cast<core::OwnerId>(fr.owner.peek()) ==
                (f.gmem_owned ? core::OwnerId::Guestmem : core::OwnerId::Buddy));
      const uint16_t mapping = f.file_index >= 0 ? core::kFileMapping : f.gmem_index >= 0 ? core::kGmemMapping : 0;
      RC_ASSERT(fr.mapping.peek() == mapping);
      for (uint32_t i = 0; i < f.nr(); ++i) RC_ASSERT(m.frame(p + i).payload.peek() == f.payload[i]);
      ledger.add_ref(p, f.held);
      ledger.add_pin(p, f.pins);
      held_frames += f.nr();
    }
    for (uint32_t mm = 0; mm < kMms; ++mm)
      for (uint32_t slot = 0; slot < kSlots; ++slot) {
        const auto it = s.ptes.find(key(mm, slot));
        const uint64_t want = it == s.ptes.end() ? 0 : core::pte::mk(pfn.at(it->second.h) + it->second.off);
        RC_ASSERT(m.mm(mm).pte(slot).peek() == want);
      }
    for (uint32_t i = 0; i < kFilePages; ++i)
      RC_ASSERT(m.file().entry(i).peek() == (s.file[i] < 0 ? kNoPfn : pfn.at(uint32_t(s.file[i]))));
    for (uint32_t i = 0; i < kGmemPages; ++i) {
      RC_ASSERT(m.gmem().cache().entry(i).peek() == (s.gmem[i] < 0 ? kNoPfn : pfn.at(uint32_t(s.gmem[i]))));
      RC_ASSERT(m.gmem().state_quiescent(i) == s.gstate[i]);
    }
    const core::AuditReport r = rc_audit_clean(m, ledger);
    RC_ASSERT(r.free_frames + held_frames == 2 * kZone);
  }

  // Gives back everything the last checked state holds; the buddy must then
  // be whole again.
  void drain() {
    const State& s = last;
    for (const PageRef& p : s.pins) core::unpin_user_page(m, pfn.at(p.h) + p.off);
    for (const auto& [h, f] : s.folios)
      for (int32_t i = 0; i < f.held; ++i) core::folio_put(m, pfn.at(h));
    for (const auto& [k, p] : s.ptes) core::unmap_slot(m, m.mm(k / kSlots), k % kSlots);
    for (uint32_t i = 0; i < kFilePages; ++i) core::truncate_folio(m, m.file(), i);
    for (uint32_t i = 0; i < kGmemPages; i += kUnit) m.gmem().punch_hole(i);
  }
};

using Cmd = rc::state::Command<State, Sut>;
using FolioOp = FolioOpCmd<State, Sut>;

// A PTE slot: mostly one that maps something.
uint32_t pick_slot(const State& s) {
  if (!s.ptes.empty() && *rc::gen::inRange(0, 10) < 8) {
    std::vector<uint32_t> ks;
    for (const auto& [k, p] : s.ptes) ks.push_back(k);
    return *rc::gen::elementOf(ks);
  }
  return *rc::gen::inRange<uint32_t>(0, kMms * kSlots);
}

const char* kind_name(unsigned flags) {
  return (flags & foll::longterm) ? "pin|longterm" : (flags & foll::pin) ? "pin" : "get";
}

// --- commands ---------------------------------------------------------------------

// An anonymous folio; the test holds its allocation reference.
struct AllocAnon : Cmd {
  ZoneType zone = *rc::gen::element(ZoneType::Normal, ZoneType::Movable);
  unsigned order = *rc::gen::element(0u, 0u, 1u, 2u);
  void checkPreconditions(const State& s) const override { RC_PRE(s.plain_folios() < kMaxFolios); }
  void apply(State& s) const override {
    FolioM f = s.fresh_folio(zone, order);
    f.held = 1;
    s.folios[s.next_handle++] = f;
  }
  void run(const State& s, Sut& sut) const override {
    sut.alloc_fresh(s.next_handle, zone, order);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "alloc_pages(" << core::zone_name(zone) << ", " << order << ")";
  }
};

// An anonymous page fault: a new folio, one page of it mapped, and the
// allocation reference dropped, so that only the mapping holds it (the
// folio that migration and long-term pinning can move).
struct FaultAnon : Cmd {
  ZoneType zone = *rc::gen::element(ZoneType::Normal, ZoneType::Movable, ZoneType::Movable);
  unsigned order = *rc::gen::element(0u, 0u, 1u, 2u);
  uint32_t off = *rc::gen::inRange<uint32_t>(0, 4);
  uint32_t k;
  explicit FaultAnon(const State& s) : k(*rc::gen::inRange<uint32_t>(0, kMms * kSlots)) {
    RC_PRE(!s.ptes.count(k));
  }
  uint32_t page() const { return off % (1u << order); }
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.plain_folios() < kMaxFolios && !s.ptes.count(k));
  }
  void apply(State& s) const override {
    const FolioM f = s.fresh_folio(zone, order);
    s.ptes[k] = PageRef{s.next_handle, page()};
    s.folios[s.next_handle++] = f;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn p = sut.alloc_fresh(s.next_handle, zone, order);
    RC_ASSERT(core::map_page(sut.m, sut.m.mm(k / kSlots), k % kSlots, p + page()) == 0);
    core::folio_put(sut.m, p);
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "fault in alloc_pages(" << core::zone_name(zone) << ", " << order << ")+" << page() << " at mm"
       << k / kSlots << "/" << k % kSlots;
  }
};

// filemap_add_folio of a held folio at an index (mostly aligned).
struct AddToFile : Cmd {
  uint32_t h, index;
  explicit AddToFile(const State& s) : h(pick(s.folios, [](const FolioM& f) { return f.held > 0 && !f.gmem_owned; })) {
    const uint32_t nr = s.folios.at(h).nr();
    index = *rc::gen::inRange<uint32_t>(0, kFilePages + 1);
    if (*rc::gen::inRange(0, 10) < 8) index &= ~(nr - 1);
  }
  int expect(const State& s) const {
    const FolioM& f = s.folios.at(h);
    if (index >= kFilePages || index % f.nr() != 0 || index + f.nr() > kFilePages) return -EINVAL;
    if (f.cached()) return -EBUSY;
    for (uint32_t i = index; i < index + f.nr(); ++i)
      if (s.file[i] >= 0) return -EEXIST;
    return 0;
  }
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.folios.count(h) && s.folios.at(h).held > 0 && !s.folios.at(h).gmem_owned);
  }
  void apply(State& s) const override {
    if (expect(s) != 0) return;
    FolioM& f = s.folios.at(h);
    f.file_index = static_cast<int32_t>(index);
    for (uint32_t i = index; i < index + f.nr(); ++i) s.file[i] = h;
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::filemap_add_folio(sut.m, sut.m.file(), sut.pfn.at(h), index) == expect(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "filemap_add_folio(#" << h << ", " << index << ")"; }
};

struct Put : FolioOp {
  explicit Put(const State& s)
      : FolioOp("folio_put", core::folio_put, pick(s.folios, [](const FolioM& f) { return f.held > 0; })) {}
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.count(h) && s.folios.at(h).held > 0); }
  void apply(State& s) const override {
    s.folios.at(h).held--;
    s.collect();
  }
};

// filemap_get_folio on the regular file or on guest_memfd's cache.
struct Lookup : Cmd {
  bool gmem = *rc::gen::arbitrary<bool>();
  uint32_t index = *rc::gen::inRange<uint32_t>(0, 16);
  int64_t found(const State& s) const { return gmem ? s.gmem[index] : s.file[index]; }
  void apply(State& s) const override {
    if (found(s) >= 0) s.folios.at(uint32_t(found(s))).held++;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn got = core::filemap_get_folio(sut.m, gmem ? sut.m.gmem().cache() : sut.m.file(), index);
    RC_ASSERT(got == (found(s) < 0 ? kNoPfn : sut.pfn.at(uint32_t(found(s)))));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "filemap_get_folio(" << (gmem ? "gmem" : "file") << ", " << index << ")";
  }
};

// map_page of a page of a folio the test holds.
struct Map : Cmd {
  uint32_t h, off, mm, slot;
  explicit Map(const State& s) : h(pick(s.folios, [](const FolioM& f) { return f.held > 0; })) {
    off = *rc::gen::inRange<uint32_t>(0, s.folios.at(h).nr());
    mm = *rc::gen::inRange<uint32_t>(0, kMms);
    slot = *rc::gen::inRange<uint32_t>(0, kSlots);
  }
  int expect(const State& s) const {
    if (s.page_state(s.folios.at(h), off) == GmemState::Private) return -EPERM;
    return s.ptes.count(key(mm, slot)) ? -EBUSY : 0;
  }
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.folios.count(h) && s.folios.at(h).held > 0 && off < s.folios.at(h).nr());
  }
  void apply(State& s) const override {
    if (expect(s) == 0) s.ptes[key(mm, slot)] = PageRef{h, off};
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::map_page(sut.m, sut.m.mm(mm), slot, sut.page(s, h, off)) == expect(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "map_page(mm" << mm << "/" << slot << ", #" << h << "+" << off << ")";
  }
};

struct Unmap : Cmd {
  uint32_t k;
  explicit Unmap(const State& s) : k(pick_slot(s)) {}
  void apply(State& s) const override {
    s.ptes.erase(k);
    s.collect();
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::unmap_slot(sut.m, sut.m.mm(k / kSlots), k % kSlots) == (s.ptes.count(k) != 0));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "unmap_slot(mm" << k / kSlots << "/" << k % kSlots << ")"; }
};

// A host fault on a guest_memfd page.
struct FaultMap : Cmd {
  uint32_t index = *rc::gen::inRange<uint32_t>(0, kGmemPages);
  uint32_t mm = *rc::gen::inRange<uint32_t>(0, kMms);
  uint32_t slot = *rc::gen::inRange<uint32_t>(0, kSlots);
  int expect(const State& s) const {
    if (s.gstate[index] != GmemState::Shared) return s.gstate[index] == GmemState::Absent ? -ENOENT : -EPERM;
    if (s.gmem[index] < 0) return -ENOENT;
    return s.ptes.count(key(mm, slot)) ? -EBUSY : 0;
  }
  void apply(State& s) const override {
    if (expect(s) != 0) return;
    const uint32_t h = uint32_t(s.gmem[index]);
    s.ptes[key(mm, slot)] = PageRef{h, index - uint32_t(s.folios.at(h).gmem_index)};
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(sut.m.gmem().fault_map(sut.m.mm(mm), slot, index) == expect(s));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "gmem fault_map(mm" << mm << "/" << slot << ", " << index << ")"; }
};

// get_user_page(s), slow or fast, FOLL_GET / FOLL_PIN / FOLL_PIN|FOLL_LONGTERM.
struct Gup : Cmd {
  uint32_t k;
  bool fast = *rc::gen::arbitrary<bool>();
  unsigned flags = *rc::gen::element(foll::get, foll::pin, foll::pin | foll::longterm);
  explicit Gup(const State& s) : k(pick_slot(s)) {}

  struct Outcome {
    int err;
    bool migrate;
  };
  Outcome expect(const State& s) const {
    const auto it = s.ptes.find(k);
    if (it == s.ptes.end()) return {-EFAULT, false};
    const FolioM& f = s.folios.at(it->second.h);
    if (flags & foll::longterm) {
      const bool refuse = s.policy == GmemPinPolicy::RefuseLongterm &&
                          s.page_state(f, it->second.off) != GmemState::Absent;
      if (fast) return {(f.zone == ZoneType::Movable || refuse) ? -EAGAIN : 0, false};
      if (refuse) return {-EPERM, false};
      if (f.zone == ZoneType::Movable) {
        if (f.held > 0 || f.pins > 0) return {-EAGAIN, false};
        return {0, true};
      }
    }
    return {0, false};
  }
  void apply(State& s) const override {
    const Outcome o = expect(s);
    if (o.err != 0) return;
    const PageRef p = s.ptes.at(k);
    FolioM& f = s.folios.at(p.h);
    if (o.migrate) f.zone = ZoneType::Normal;
    if (flags & foll::pin) {
      f.pins++;
      s.pins.push_back(p);
    } else {
      f.held++;
    }
  }
  void run(const State& s, Sut& sut) const override {
    const Outcome o = expect(s);
    core::Mm& mm = sut.m.mm(k / kSlots);
    const core::GupResult r = fast ? core::get_user_page_fast(sut.m, mm, k % kSlots, flags)
                                   : core::get_user_page(sut.m, mm, k % kSlots, flags);
    RC_ASSERT(r.err == o.err);
    if (o.err == 0) {
      const PageRef p = s.ptes.at(k);
      const Pfn old = sut.pfn.at(p.h);
      if (o.migrate) {
        RC_ASSERT(r.head != old);
        sut.pfn[p.h] = r.head;
      } else {
        RC_ASSERT(r.head == old);
      }
      RC_ASSERT(r.page == r.head + p.off);
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << (fast ? "get_user_page_fast(mm" : "get_user_page(mm") << k / kSlots << "/" << k % kSlots << ", "
       << kind_name(flags) << ")";
  }
};

struct Unpin : Cmd {
  uint32_t i;
  explicit Unpin(const State& s) {
    RC_PRE(!s.pins.empty());
    i = *rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(s.pins.size()));
  }
  void checkPreconditions(const State& s) const override { RC_PRE(i < s.pins.size()); }
  void apply(State& s) const override {
    s.folios.at(s.pins[i].h).pins--;
    s.pins.erase(s.pins.begin() + i);
    s.collect();
  }
  void run(const State& s, Sut& sut) const override {
    core::unpin_user_page(sut.m, sut.page(s, s.pins[i].h, s.pins[i].off));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "unpin_user_page(pin " << i << ")"; }
};

// A pfn walker isolates a folio (pfn_walk_get) and migrates it.
struct Migrate : Cmd {
  uint32_t h, off;
  ZoneType zone = *rc::gen::element(ZoneType::Normal, ZoneType::Movable);
  explicit Migrate(const State& s) : h(pick(s.folios, [](const FolioM&) { return true; })) {
    off = *rc::gen::inRange<uint32_t>(0, s.folios.at(h).nr());
  }
  int expect(const State& s) const {
    const FolioM& f = s.folios.at(h);
    if (f.gmem_owned) return -EBUSY;
    return (f.held > 0 || f.pins > 0) ? -EAGAIN : 0;
  }
  void checkPreconditions(const State& s) const override { RC_PRE(s.folios.count(h) && off < s.folios.at(h).nr()); }
  void apply(State& s) const override {
    if (expect(s) == 0) s.folios.at(h).zone = zone;
  }
  void run(const State& s, Sut& sut) const override {
    const Pfn old = sut.pfn.at(h);
    RC_ASSERT(core::pfn_walk_get(sut.m, old + off) == old);
    const int err = core::migrate_folio(sut.m, old, zone);
    RC_ASSERT(err == expect(s));
    if (err == 0) {
      const Pfn now = sut.find_moved(s, h);
      RC_ASSERT(now != kNoPfn);
      RC_ASSERT(now != old);
      sut.pfn[h] = now;
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "migrate_folio(pfn_walk_get(#" << h << "+" << off << "), " << core::zone_name(zone) << ")";
  }
};

struct Truncate : Cmd {
  uint32_t index = *rc::gen::inRange<uint32_t>(0, kFilePages);
  void apply(State& s) const override {
    if (s.file[index] < 0) return;
    const uint32_t h = uint32_t(s.file[index]);
    FolioM& f = s.folios.at(h);
    for (uint32_t i = 0; i < f.nr(); ++i) s.file[f.file_index + i] = -1;
    f.file_index = -1;
    s.unmap_all(h);
    s.collect();
  }
  void run(const State& s, Sut& sut) const override {
    RC_ASSERT(core::truncate_folio(sut.m, sut.m.file(), index) == (s.file[index] < 0 ? -ENOENT : 0));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "truncate_folio(" << index << ")"; }
};

struct Populate : Cmd {
  uint32_t index = *rc::gen::inRange<uint32_t>(0, kGmemPages);
  uint32_t base() const { return index & ~(kUnit - 1); }
  void checkPreconditions(const State& s) const override {
    RC_PRE(s.gmem[base()] >= 0 || s.live_units() < kMaxUnits);
  }
  void apply(State& s) const override {
    if (s.gmem[base()] >= 0) return;
    const uint32_t unit = s.next_unit++;
    const bool split = s.policy == GmemPinPolicy::SplitSmallFolios;
    for (uint32_t i = 0; i < kUnit; i += split ? 1 : kUnit) {
      FolioM f;
      f.order = split ? 0 : 2;
      f.gmem_owned = true;
      f.unit = unit;
      f.gmem_index = static_cast<int32_t>(base() + i);
      for (uint32_t j = 0; j < f.nr(); ++j) {
        f.payload.push_back(fresh_value(s.next_handle, j));
        s.gmem[base() + i + j] = s.next_handle;
      }
      s.folios[s.next_handle++] = f;
    }
    for (uint32_t i = base(); i < base() + kUnit; ++i) s.gstate[i] = GmemState::Shared;
  }
  void run(const State& s, Sut& sut) const override {
    const bool exists = s.gmem[base()] >= 0;
    RC_ASSERT(sut.m.gmem().populate(index) == (exists ? -EEXIST : 0));
    if (!exists) {
      const State next = nextState(s);
      for (uint32_t h = s.next_handle; h < next.next_handle; ++h) {
        const FolioM& f = next.folios.at(h);
        const Pfn p = sut.m.gmem().cache().entry(f.gmem_index).peek();
        sut.pfn[h] = p;
        for (uint32_t j = 0; j < f.nr(); ++j) sut.m.frame(p + j).payload.store(f.payload[j], std::memory_order_relaxed);
      }
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "gmem populate(" << index << ")"; }
};

struct Convert : Cmd {
  uint32_t start = *rc::gen::inRange<uint32_t>(0, kGmemPages);
  uint32_t nr = *rc::gen::inRange<uint32_t>(1, 6);
  bool to_private = *rc::gen::arbitrary<bool>();
  uint32_t end() const { return std::min(start + nr, kGmemPages); }

  // Applies the conversion to s and returns its result.
  int convert(State& s) const {
    if (!to_private) {
      for (uint32_t i = start; i < end(); ++i) s.gstate[i] = GmemState::Shared;
      return 0;
    }
    // 2. every host mapping of the range goes, even if the conversion fails
    for (uint32_t i = start; i < end(); ++i) {
      if (s.gmem[i] < 0) continue;
      const uint32_t h = uint32_t(s.gmem[i]);
      const uint32_t off = i - uint32_t(s.folios.at(h).gmem_index);
      for (auto it = s.ptes.begin(); it != s.ptes.end();)
        it = (it->second.h == h && it->second.off == off) ? s.ptes.erase(it) : std::next(it);
    }
    // 3. any reference beyond the cache's on a folio of the range: busy
    for (uint32_t i = start; i < end(); ++i) {
      if (s.gmem[i] < 0) continue;
      const uint32_t h = uint32_t(s.gmem[i]);
      const FolioM& f = s.folios.at(h);
      if (f.held > 0 || f.pins > 0 || s.ptes_of(h) > 0) return -EAGAIN;
    }
    // 4.
    for (uint32_t i = start; i < end(); ++i) {
      s.gstate[i] = GmemState::Private;
      if (s.gmem[i] < 0) continue;
      FolioM& f = s.folios.at(uint32_t(s.gmem[i]));
      f.payload[i - uint32_t(f.gmem_index)] = core::kGmemScrubbed;
    }
    return 0;
  }
  void apply(State& s) const override { convert(s); }
  void run(const State& s, Sut& sut) const override {
    State scratch = s;
    RC_ASSERT(sut.m.gmem().convert(start, end() - start, to_private) == convert(scratch));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override {
    os << "gmem convert(" << start << ", " << end() - start << (to_private ? ", to private)" : ", to shared)");
  }
};

struct PunchHole : Cmd {
  uint32_t index = *rc::gen::inRange<uint32_t>(0, kGmemPages);
  uint32_t base() const { return index & ~(kUnit - 1); }
  void apply(State& s) const override {
    for (uint32_t i = base(); i < base() + kUnit; ++i) {
      if (s.gmem[i] >= 0) {
        const uint32_t h = uint32_t(s.gmem[i]);
        FolioM& f = s.folios.at(h);
        for (uint32_t j = 0; j < f.nr(); ++j) s.gmem[f.gmem_index + j] = -1;
        f.gmem_index = -1;
        s.unmap_all(h);
      }
      s.gstate[i] = GmemState::Absent;
    }
    s.collect();
  }
  void run(const State& s, Sut& sut) const override {
    bool any = false;
    for (uint32_t i = base(); i < base() + kUnit; ++i) any |= s.gmem[i] >= 0;
    RC_ASSERT(sut.m.gmem().punch_hole(index) == (any ? 0 : -ENOENT));
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "gmem punch_hole(" << index << ")"; }
};

// A user write through a mapping.
struct Write : Cmd {
  uint32_t k;
  explicit Write(const State& s) : k(pick_slot(s)) {}
  void apply(State& s) const override {
    const auto it = s.ptes.find(k);
    if (it != s.ptes.end()) s.folios.at(it->second.h).payload[it->second.off] = s.next_value;
    s.next_value++;
  }
  void run(const State& s, Sut& sut) const override {
    const int err = core::mm_write(sut.m, sut.m.mm(k / kSlots), k % kSlots, s.next_value);
    RC_ASSERT(err == (s.ptes.count(k) ? 0 : -EFAULT));
    if (err == 0) {
      uint64_t v = 0;
      RC_ASSERT(core::mm_read(sut.m, sut.m.mm(k / kSlots), k % kSlots, v) == 0);
      RC_ASSERT(v == s.next_value);
    }
    sut.check(nextState(s));
  }
  void show(std::ostream& os) const override { os << "mm_write(mm" << k / kSlots << "/" << k % kSlots << ")"; }
};

void run_property(GmemPinPolicy pol) {
  State initial;
  initial.policy = pol;
  Sut sut(pol);
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<AllocAnon, FaultAnon, FaultAnon, AddToFile, Put, Put, Lookup, Map,
                                                     Map, Unmap, FaultMap, FaultMap, Gup, Gup, Gup, Gup, Unpin,
                                                     Unpin, Migrate, Migrate, Truncate, Populate, Populate, Convert,
                                                     Convert, PunchHole, Write>());
  rc_classify_probes(sut.m.probes(), {{Probe::MigrateSucceeded, "migrated"},
                                      {Probe::MigrateExtraRefs, "migration refused"},
                                      {Probe::LongtermMigrated, "long-term pin migrated first"},
                                      {Probe::GmemConvertBusy, "conversion busy"},
                                      {Probe::GmemLongtermRefused, "long-term pin refused"},
                                      {Probe::PutLastByOwnerHook, "guest_memfd folio freed by its owner"}});
  rc_drain_fully_merged(sut);
  rc_audit_clean(sut.m, core::HolderLedger(sut.m.frames().size()));
}

RC_GTEST_PROP(MmState, RefuseLongtermPolicyMatchesTheSequentialModel, ()) {
  run_property(GmemPinPolicy::RefuseLongterm);
}

RC_GTEST_PROP(MmState, SplitSmallFoliosPolicyMatchesTheSequentialModel, ()) {
  run_property(GmemPinPolicy::SplitSmallFolios);
}

}  // namespace
