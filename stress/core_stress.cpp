// refhammer::stress::run_core_stress — see core_stress.hpp.
#include "stress/core_stress.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>

#include "core/audit.hpp"
#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/hugetlb.hpp"
#include "core/offline.hpp"
#include "core/reporting.hpp"
#include "core/zone_device.hpp"
#include "core/gup.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "stress/quiesce_gate.hpp"
#include "harness/rng.hpp"

namespace refhammer::stress {
namespace {

using core::Pfn;
using core::kNoPfn;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeld = 24;
constexpr int32_t kMaxRefsPerHolding = 6;
constexpr size_t kMaxKeptViolations = 8;

// One folio a worker holds: `refs` references, or the folio frozen.
struct Held {
  Pfn pfn;
  int32_t refs;
  bool frozen;
  uint8_t order;
};

// A GUP pin a worker holds (on `page`, of folio `head`).
struct Pin {
  Pfn page;
  Pfn head;
};

// Stops the run at the first violation and keeps the first few.
class StopSink final : public core::ViolationSink {
 public:
  void report(const core::Violation& v) override {
    std::lock_guard<std::mutex> g(mu_);
    if (kept_.size() < kMaxKeptViolations) kept_.push_back(v);
    // release: pairs with the acquire load in stopped().
    stop_.store(true, std::memory_order_release);
  }
  bool stopped() const noexcept { return stop_.load(std::memory_order_acquire); }  // acquire: see report()
  std::vector<core::Violation> kept() {
    std::lock_guard<std::mutex> g(mu_);
    return kept_;
  }

 private:
  std::mutex mu_;
  std::vector<core::Violation> kept_;
  std::atomic<bool> stop_{false};
};

struct Shared;

struct Worker {
  unsigned id = 0;
  Rng rng{0};
  std::vector<Held> held;       // written by this worker inside the gate; read by auditors when closed
  std::vector<Pin> pins;        // likewise
  Pfn isolated_start = kNoPfn;  // a pageblock range this worker isolated
  Pfn isolated_end = kNoPfn;
  uint64_t ops = 0;
};

struct Shared {
  const CoreStressOptions& opt;
  core::Model model;
  StopSink sink;
  QuiesceGate gate;
  std::unique_ptr<std::atomic<Pfn>[]> slots;  // each non-empty slot holds one reference
  std::vector<Worker> workers;
  std::atomic<uint64_t> ops_total{0};
  std::atomic<uint64_t> audits{0};
  std::atomic<bool> leak_planted{false};
  Clock::time_point start;
  Clock::time_point deadline;
  std::ostream* progress = nullptr;

  explicit Shared(const CoreStressOptions& o) : opt(o), model(o.model), slots(std::make_unique<std::atomic<Pfn>[]>(o.slots)) {
    if (o.profile == CoreStressOptions::Profile::Special && o.model.device_frames != 0) model.pgmap().memremap_pages();
    for (unsigned i = 0; i < o.slots; ++i) slots[i].store(kNoPfn, std::memory_order_relaxed);  // relaxed: before threads start
    model.set_violation_sink(&sink);
  }
};

Held* pick(Worker& w, bool want_frozen) {
  if (w.held.empty()) return nullptr;
  size_t start = w.rng.below(static_cast<uint32_t>(w.held.size()));
  for (size_t i = 0; i < w.held.size(); ++i) {
    Held& h = w.held[(start + i) % w.held.size()];
    if (h.frozen == want_frozen) return &h;
  }
  return nullptr;
}

void drop_if_empty(Worker& w) {
  w.held.erase(std::remove_if(w.held.begin(), w.held.end(), [](const Held& h) { return !h.frozen && h.refs == 0; }),
               w.held.end());
}

// Records a reference this worker now holds on `pfn` (from a lookup or an
// unpublish); false if there is no room, and the caller puts it back.
uint8_t order_of(core::Model& m, Pfn pfn) {
  // relaxed: the caller holds a reference or the folio frozen, so its order
  // cannot change (a split needs the only reference).
  return m.frame(pfn).order.load(std::memory_order_relaxed);
}

bool take_ref(core::Model& m, Worker& w, Pfn pfn) {
  for (Held& h : w.held)
    if (!h.frozen && h.pfn == pfn && h.refs < kMaxRefsPerHolding) {
      h.refs++;
      return true;
    }
  if (w.held.size() >= kMaxHeld) return false;
  w.held.push_back(Held{pfn, 1, false, order_of(m, pfn)});
  return true;
}

// Buddy-zone pfns: [0, normal + movable).
Pfn random_pfn(Shared& s, Worker& w) { return w.rng.below(s.opt.model.normal_frames + s.opt.model.movable_frames); }

void op_alloc(Shared& s, Worker& w) {
  if (w.held.size() >= kMaxHeld) return;
  const auto zone = w.rng.chance(1, 2) ? core::ZoneType::Normal : core::ZoneType::Movable;
  const unsigned r = w.rng.below(10);
  const unsigned order = r < 6 ? 0 : std::min<unsigned>(r - 5, s.opt.model.max_page_order);
  const bool frozen = w.rng.chance(1, 8);
  Pfn p = frozen ? core::alloc_frozen_pages(s.model, zone, order) : core::alloc_pages(s.model, zone, order);
  if (p == kNoPfn) return;
  w.held.push_back(Held{p, frozen ? 0 : 1, frozen, static_cast<uint8_t>(order)});
}

void op_get(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr || h->refs >= kMaxRefsPerHolding) return;
  core::folio_get(s.model, h->pfn);
  h->refs++;
}

void op_put(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr) return;
  core::folio_put(s.model, h->pfn);
  h->refs--;
  drop_if_empty(w);
}

void op_publish(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr) return;
  auto& slot = s.slots[w.rng.below(s.opt.slots)];
  core::folio_get(s.model, h->pfn);  // the slot's reference
  Pfn expected = kNoPfn;
  // release: pairs with the acquire loads of lookups and unpublishers: the
  // slot's reference is taken before the folio becomes reachable.
  if (!slot.compare_exchange_strong(expected, h->pfn, std::memory_order_release, std::memory_order_relaxed))
    core::folio_put(s.model, h->pfn);  // never the last: we still hold ours
}

void op_unpublish(Shared& s, Worker& w) {
  auto& slot = s.slots[w.rng.below(s.opt.slots)];
  // acq_rel: acquire pairs with the publisher's release; release hands our
  // view to the next publisher of this slot.
  Pfn p = slot.exchange(kNoPfn, std::memory_order_acq_rel);
  if (p == kNoPfn) return;
  if (!take_ref(s.model, w, p)) core::folio_put(s.model, p);  // the slot's reference is ours now
}

// The speculative lookup, steps 1/2/3 of page_ref.hpp.
void op_lookup(Shared& s, Worker& w) {
  auto& slot = s.slots[w.rng.below(s.opt.slots)];
  Pfn p = slot.load(std::memory_order_acquire);  // 1. acquire: pairs with the publisher's release
  if (p == kNoPfn) return;
  if (!core::folio_try_get(s.model, p)) return;  // 2. add unless zero
  if (slot.load(std::memory_order_acquire) != p || w.rng.chance(1, 2) || !take_ref(s.model, w, p))  // 3. re-check
    core::folio_put(s.model, p);  // may be the last put: the speculative holder frees
}

// A pfn walker (compaction / offlining): speculative get on whatever folio
// the frame belongs to, re-check, back out.
void op_pfn_walk(Shared& s, Worker& w) {
  const Pfn p = random_pfn(s, w);
  core::Frame& f = s.model.frame(p);
  // relaxed: only a guess at the folio; folio_try_get (acquire) and the
  // re-check below are what validate it.
  const Pfn head = f.head.load(std::memory_order_relaxed);
  if (!core::folio_try_get(s.model, head)) return;
  // Re-check: p still belongs to the folio we pinned.
  // relaxed: we hold a reference on `head`, so its layout cannot change.
  const bool same = f.head.load(std::memory_order_relaxed) == head &&
                    p < head + (1u << s.model.frame(head).order.load(std::memory_order_relaxed));
  (void)same;  // a real walker would isolate or inspect here; either way it backs out
  core::folio_put(s.model, head);
}

void op_freeze(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr || h->refs != 1) return;
  if (core::folio_ref_freeze(s.model, h->pfn, 1)) {
    h->frozen = true;
    h->refs = 0;
  }
}

void op_unfreeze(Shared& s, Worker& w) {
  Held* h = pick(w, true);
  if (h == nullptr) return;
  core::folio_ref_unfreeze(s.model, h->pfn, 1);
  h->frozen = false;
  h->refs = 1;
}

void op_free_frozen(Shared& s, Worker& w) {
  Held* h = pick(w, true);
  if (h == nullptr) return;
  core::free_frozen_pages(s.model, h->pfn, order_of(s.model, h->pfn));
  w.held.erase(w.held.begin() + (h - w.held.data()));
}

void op_split(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr || h->refs != 1) return;
  const uint8_t order = order_of(s.model, h->pfn);
  if (order == 0 || w.held.size() + (1u << order) > kMaxHeld + 8) return;
  const Pfn head = h->pfn;
  if (!core::split_folio(s.model, head)) return;
  h->order = 0;
  for (Pfn p = head + 1; p < head + (1u << order); ++p) w.held.push_back(Held{p, 1, false, 0});
}

void op_isolate(Shared& s, Worker& w) {
  if (w.isolated_start != kNoPfn) {
    s.model.buddy().undo_isolate_page_range(w.isolated_start, w.isolated_end);
    w.isolated_start = w.isolated_end = kNoPfn;
    return;
  }
  const uint32_t pb = s.model.frames().pageblock_frames();
  const Pfn start = random_pfn(s, w) & ~(pb - 1);
  if (s.model.buddy().start_isolate_page_range(start, start + pb)) {
    w.isolated_start = start;
    w.isolated_end = start + pb;
  }
}

core::Mm& random_mm(Shared& s, Worker& w) { return s.model.mm(w.rng.below(s.model.nr_mms())); }
uint32_t random_slot(Shared& s, Worker& w) { return w.rng.below(s.opt.model.mm_slots); }

void op_map(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr) return;
  const Pfn page = h->pfn + w.rng.below(core::folio_nr_pages(s.model, h->pfn));
  core::map_page(s.model, random_mm(s, w), random_slot(s, w), page);  // the PTE takes its own reference
}

void op_unmap(Shared& s, Worker& w) { core::unmap_slot(s.model, random_mm(s, w), random_slot(s, w)); }

void op_user_access(Shared& s, Worker& w) {
  core::Mm& mm = random_mm(s, w);
  uint64_t v;
  if (w.rng.chance(1, 2)) core::mm_write(s.model, mm, random_slot(s, w), w.rng.next());
  else core::mm_read(s.model, mm, random_slot(s, w), v);
}

void op_gup(Shared& s, Worker& w) {
  if (w.pins.size() >= kMaxHeld || w.held.size() >= kMaxHeld) return;
  const unsigned r = w.rng.below(4);
  const unsigned flags = r == 0 ? core::foll::get : r == 3 ? core::foll::pin | core::foll::longterm : core::foll::pin;
  core::Mm& mm = random_mm(s, w);
  const uint32_t slot = random_slot(s, w);
  core::GupResult g = (r != 3 && w.rng.chance(2, 3)) ? core::get_user_page_fast(s.model, mm, slot, flags)
                                                     : core::get_user_page(s.model, mm, slot, flags);
  if (g.err != 0) return;
  if (flags & core::foll::get) {
    if (!take_ref(s.model, w, g.head)) core::put_user_page(s.model, g.page);
    // take_ref counted a reference we already hold: the one GUP took.
    return;
  }
  w.pins.push_back(Pin{g.page, g.head});
}

void op_unpin(Shared& s, Worker& w) {
  if (w.pins.empty()) return;
  const size_t i = w.rng.below(static_cast<uint32_t>(w.pins.size()));
  core::unpin_user_page(s.model, w.pins[i].page);
  w.pins[i] = w.pins.back();
  w.pins.pop_back();
}

// Compaction-style: a pfn walker isolates a folio and migrates it.
void op_migrate(Shared& s, Worker& w) {
  const Pfn head = core::pfn_walk_get(s.model, random_pfn(s, w));
  if (head == kNoPfn) return;
  core::migrate_folio(s.model, head, w.rng.chance(1, 2) ? core::ZoneType::Normal : core::ZoneType::Movable);
}

void op_cache_add(Shared& s, Worker& w) {
  Held* h = pick(w, false);
  if (h == nullptr) return;
  core::filemap_add_folio(s.model, s.model.file(), h->pfn, w.rng.below(s.opt.model.file_pages));
}

void op_cache_lookup(Shared& s, Worker& w) {
  const Pfn head = core::filemap_get_folio(s.model, s.model.file(), w.rng.below(s.opt.model.file_pages));
  if (head == kNoPfn) return;
  if (w.rng.chance(1, 2) || !take_ref(s.model, w, head)) core::folio_put(s.model, head);
}

void op_truncate(Shared& s, Worker& w) { core::truncate_folio(s.model, s.model.file(), w.rng.below(s.opt.model.file_pages)); }

void op_gmem(Shared& s, Worker& w) {
  core::GuestMemfd& g = s.model.gmem();
  const uint32_t i = w.rng.below(g.size());
  switch (w.rng.below(6)) {
    case 0: g.populate(i); break;
    case 1:
    case 2: g.fault_map(random_mm(s, w), random_slot(s, w), i); break;
    case 3: g.convert(i, 1 + w.rng.below(std::min<uint32_t>(4, g.size() - i)), true); break;
    case 4: g.convert(i, 1 + w.rng.below(std::min<uint32_t>(4, g.size() - i)), false); break;
    default: g.punch_hole(i); break;
  }
}

// --- the special owners (issue 4): hugetlb, ZONE_DEVICE, PageOffline and
// memory-block offlining, free page reporting; pfn walkers race them all.

void op_huge(Shared& s, Worker& w) {
  core::Hugetlb& h = s.model.hugetlb();
  switch (w.rng.below(4)) {
    case 0: h.alloc_fresh_hugetlb_folio(); break;
    case 1: {
      if (w.held.size() >= kMaxHeld) return;
      const Pfn p = h.alloc_hugetlb_folio();  // refcount 1; the last put returns it to the pool
      if (p != kNoPfn) w.held.push_back(Held{p, 1, false, order_of(s.model, p)});
      break;
    }
    case 2: h.dissolve_free_hugetlb_folio(h.free_folio_at(w.rng.below(8))); break;
    default: h.demote_free_hugetlb_folio(h.free_folio_at(w.rng.below(8))); break;
  }
}

void op_dev(Shared& s, Worker& w) {
  if (w.held.size() >= kMaxHeld) return;
  const Pfn p = s.model.pgmap().dev_alloc();  // 0-based: refcount 1, page_free on the last put
  if (p != kNoPfn) w.held.push_back(Held{p, 1, false, order_of(s.model, p)});
}

void op_offline(Shared& s, Worker& w) {
  core::OfflineDriver& d = s.model.offline_driver();
  if (w.rng.chance(1, 2)) d.offline_alloc(w.rng.chance(1, 2) ? core::ZoneType::Normal : core::ZoneType::Movable);
  else d.offline_free(w.rng.below(16));
}

void op_block(Shared& s, Worker& w) {
  const uint32_t nblocks = (s.opt.model.normal_frames + s.opt.model.movable_frames) / s.opt.model.block_frames;
  const uint32_t b = w.rng.below(nblocks);
  if (w.rng.chance(1, 2)) s.model.hotplug().offline_pages(b);
  else s.model.hotplug().online_pages(b, w.rng.below(2));
}

void op_report(Shared& s, Worker&) { s.model.reporting().report_cycle(); }

// A planted leak for tests: take a reference the ledger never hears about.
void maybe_plant_leak(Shared& s, Worker& w) {
  if (s.opt.plant_leak_at_op == 0 || s.ops_total.load(std::memory_order_relaxed) < s.opt.plant_leak_at_op) return;
  Held* h = pick(w, false);
  if (h == nullptr) return;
  bool expected = false;
  // relaxed: a one-shot latch; nothing is ordered on it.
  if (s.leak_planted.compare_exchange_strong(expected, true, std::memory_order_relaxed)) core::folio_get(s.model, h->pfn);
}

using OpFn = void (*)(Shared&, Worker&);
struct WeightedOp {
  OpFn fn;
  unsigned weight;
};

// The op mixes, as data. "refcount": the foundation's primitives only;
// "all": with mappings, GUP, migration, the page cache and guest_memfd.
constexpr WeightedOp kRefcountMix[] = {
    {op_alloc, 16}, {op_get, 10}, {op_put, 20}, {op_publish, 8}, {op_unpublish, 6}, {op_lookup, 16},
    {op_pfn_walk, 10}, {op_freeze, 5}, {op_unfreeze, 3}, {op_free_frozen, 2}, {op_split, 2}, {op_isolate, 1},
};
constexpr WeightedOp kAllMix[] = {
    {op_alloc, 14}, {op_get, 6}, {op_put, 18}, {op_publish, 4}, {op_unpublish, 3}, {op_lookup, 6},
    {op_pfn_walk, 5}, {op_freeze, 3}, {op_unfreeze, 2}, {op_free_frozen, 1}, {op_split, 1}, {op_isolate, 1},
    {op_map, 8}, {op_unmap, 6}, {op_user_access, 3}, {op_gup, 8}, {op_unpin, 7}, {op_migrate, 3},
    {op_cache_add, 3}, {op_cache_lookup, 4}, {op_truncate, 2}, {op_gmem, 4},
};

constexpr WeightedOp kSpecialMix[] = {
    {op_alloc, 12}, {op_get, 4}, {op_put, 16}, {op_pfn_walk, 10}, {op_migrate, 4}, {op_map, 4}, {op_unmap, 4},
    {op_huge, 8}, {op_dev, 6}, {op_offline, 6}, {op_block, 2}, {op_report, 3}, {op_isolate, 1},
};

template <size_t N>
void run_from(const WeightedOp (&mix)[N], Worker& w, Shared& s) {
  unsigned total = 0;
  for (const auto& op : mix) total += op.weight;
  unsigned r = w.rng.below(total);
  for (const auto& op : mix) {
    if (r < op.weight) {
      op.fn(s, w);
      return;
    }
    r -= op.weight;
  }
}

void run_one_op(Shared& s, Worker& w) {
  if (s.opt.profile == CoreStressOptions::Profile::Refcount) run_from(kRefcountMix, w, s);
  else if (s.opt.profile == CoreStressOptions::Profile::Special) run_from(kSpecialMix, w, s);
  else run_from(kAllMix, w, s);
  maybe_plant_leak(s, w);
}

void release_everything(Shared& s, Worker& w) {
  for (const Pin& p : w.pins) core::unpin_user_page(s.model, p.page);
  w.pins.clear();
  for (Held& h : w.held) {
    if (h.frozen) core::free_frozen_pages(s.model, h.pfn, order_of(s.model, h.pfn));
    else
      for (int32_t i = 0; i < h.refs; ++i) core::folio_put(s.model, h.pfn);
  }
  w.held.clear();
  if (w.isolated_start != kNoPfn) s.model.buddy().undo_isolate_page_range(w.isolated_start, w.isolated_end);
  w.isolated_start = w.isolated_end = kNoPfn;
}

core::HolderLedger build_ledger(Shared& s) {
  core::HolderLedger l(s.model.frames().size());
  for (const Worker& w : s.workers)
    for (const Held& h : w.held) {
      if (h.frozen) l.add_frozen(h.pfn, "stress worker");
      else l.add_ref(h.pfn, h.refs);
    }
  for (const Worker& w : s.workers)
    for (const Pin& p : w.pins) l.add_pin(p.head, 1);
  for (unsigned i = 0; i < s.opt.slots; ++i) {
    Pfn p = s.slots[i].load(std::memory_order_relaxed);  // relaxed: the world is stopped
    if (p != kNoPfn) l.add_ref(p, 1);
  }
  return l;
}

// Called by a worker between ops (not holding the gate).
void quiescent_audit(Shared& s) {
  if (!s.gate.close()) return;  // someone else is auditing
  core::audit(s.model, build_ledger(s), true);
  s.audits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
  s.gate.reopen();
}

void worker_main(Shared& s, Worker& w) {
  const uint64_t my_budget = s.opt.max_ops == 0 ? UINT64_MAX : s.opt.max_ops / s.workers.size() + 1;
  const uint64_t my_audit_every = std::max<uint64_t>(1, s.opt.audit_every / s.workers.size());
  auto next_progress = Clock::now() + std::chrono::duration<double>(s.opt.progress_every);
  while (w.ops < my_budget && !s.sink.stopped()) {
    s.gate.enter();
    for (int i = 0; i < 64 && w.ops < my_budget; ++i, ++w.ops) run_one_op(s, w);
    s.gate.leave();
    s.ops_total.fetch_add(64, std::memory_order_relaxed);  // relaxed: statistic
    if (s.opt.audit_every != 0 && (w.ops / 64) % std::max<uint64_t>(1, my_audit_every / 64) == 0) quiescent_audit(s);
    const auto now = Clock::now();
    if (now >= s.deadline) break;
    if (w.id == 0 && s.progress != nullptr && s.opt.progress_every > 0 && now >= next_progress) {
      const double el = std::chrono::duration<double>(now - s.start).count();
      const uint64_t ops = s.ops_total.load(std::memory_order_relaxed);  // relaxed: statistic
      char line[160];
      std::snprintf(line, sizeof line, "[stress] %6.1fs  %12llu ops  %9.0f ops/s  %6llu audits  %llu violations\n", el,
                    static_cast<unsigned long long>(ops), ops / el,
                    static_cast<unsigned long long>(s.audits.load(std::memory_order_relaxed)),  // relaxed: statistic
                    static_cast<unsigned long long>(s.model.violation_count()));
      *s.progress << line << std::flush;
      next_progress = now + std::chrono::duration<double>(s.opt.progress_every);
    }
  }
  s.gate.enter();
  release_everything(s, w);
  s.gate.leave();
}

}  // namespace

CoreStressResult run_core_stress(const CoreStressOptions& opt, std::ostream* progress) {
  Shared s(opt);
  s.progress = progress;
  s.workers.resize(std::max(1u, opt.threads));
  for (unsigned i = 0; i < s.workers.size(); ++i) {
    s.workers[i].id = i;
    s.workers[i].rng = Rng(opt.seed * 0x100000001b3ull + i);
  }
  const unsigned n = static_cast<unsigned>(s.workers.size());
  s.start = Clock::now();
  s.deadline = s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
  {
    // Allow n worker threads even when n exceeds the cores (oversubscription
    // is a way to widen race windows). The gate never waits for a worker
    // that has not started, so TBB may run the bodies in any concurrency.
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, n + 1);
    tbb::task_arena arena(static_cast<int>(n));
    arena.execute([&] {
      tbb::parallel_for(0u, n, 1u, [&](unsigned i) { worker_main(s, s.workers[i]); }, tbb::simple_partitioner());
    });
  }
  CoreStressResult r;
  r.threads = n;
  r.seconds = std::chrono::duration<double>(Clock::now() - s.start).count();
  for (const Worker& w : s.workers) r.ops += w.ops;
  r.audits = s.audits.load(std::memory_order_relaxed);  // relaxed: workers have joined
  // Teardown (oracle level 3): drain the slots, then everything must be free.
  for (unsigned i = 0; i < opt.slots; ++i) {
    Pfn p = s.slots[i].exchange(kNoPfn, std::memory_order_relaxed);  // relaxed: single-threaded now
    if (p != kNoPfn) core::folio_put(s.model, p);
  }
  for (uint32_t i = 0; i < s.model.nr_mms(); ++i)
    for (uint32_t k = 0; k < s.model.mm(i).nr_slots(); ++k) core::unmap_slot(s.model, s.model.mm(i), k);
  for (uint32_t i = 0; i < s.model.file().size(); ++i) core::truncate_folio(s.model, s.model.file(), i);
  for (uint32_t i = 0; i < s.model.gmem().size(); i += s.model.gmem().huge_pages()) s.model.gmem().punch_hole(i);
  s.model.hotplug().online_all();
  s.model.offline_driver().free_all();
  s.model.hugetlb().dissolve_all_free();
  core::HolderLedger nothing(s.model.frames().size());
  core::AuditReport fin = core::audit(s.model, nothing, true);
  r.final_audit = fin.summary();
  r.final_all_free = fin.clean() && fin.free_frames == opt.model.normal_frames + opt.model.movable_frames;
  r.violations = s.model.violation_count();
  r.first_violations = s.sink.kept();
  for (unsigned p = 0; p < core::kNrProbes; ++p) r.probes[p] = s.model.probes().count(static_cast<core::Probe>(p));
  return r;
}

std::string describe(const CoreStressOptions& opt, const CoreStressResult& r) {
  std::ostringstream o;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "core stress (%s ops): %u threads, seed %llu, %u+%u frames (max order %u), %u slots, free path %s, "
                "guest_memfd %s\n",
                opt.profile == CoreStressOptions::Profile::All ? "all" : opt.profile == CoreStressOptions::Profile::Special ? "special" : "refcount", r.threads,
                static_cast<unsigned long long>(opt.seed), opt.model.normal_frames, opt.model.movable_frames,
                unsigned(opt.model.max_page_order), opt.slots, core::free_dispatch_name(opt.model.design.free_dispatch),
                core::gmem_pin_policy_name(opt.model.design.gmem_pin_policy));
  o << buf;
  std::snprintf(buf, sizeof buf, "  ran %llu ops in %.2f s (%.0f ops/s), %llu quiescent audits (%.1f/s)\n",
                static_cast<unsigned long long>(r.ops), r.seconds, r.seconds > 0 ? r.ops / r.seconds : 0.0,
                static_cast<unsigned long long>(r.audits), r.seconds > 0 ? r.audits / r.seconds : 0.0);
  o << buf;
  o << "  interleavings reached (probes):\n";
  unsigned unreached = 0;
  for (unsigned p = 0; p < core::kNrProbes; ++p) {
    if (r.probes[p] == 0) {
      ++unreached;
      continue;
    }
    std::snprintf(buf, sizeof buf, "    %12llu  %s\n", static_cast<unsigned long long>(r.probes[p]),
                  core::probe_name(static_cast<core::Probe>(p)));
    o << buf;
  }
  if (unreached != 0) o << "    (" << unreached << " probe(s) of other subsystems or profiles not reached)\n";
  o << "  teardown audit: " << r.final_audit << "\n";
  if (r.violations != 0) {
    o << "  " << r.violations << " violation(s); first:\n";
    for (const auto& v : r.first_violations) o << core::format_violation_long(v);
  }
  o << "verdict: " << (r.clean() ? "CLEAN" : "VIOLATION") << "\n";
  return o.str();
}

}  // namespace refhammer::stress
