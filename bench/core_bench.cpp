// core_bench — micro-benchmarks of core/'s hot paths, and the ratio table the
// design targets are stated in.
//
// Every ratio compares two benchmarks measured in the same run (same binary,
// same machine state, repetitions randomly interleaved). The table printed
// after the runs is computed from the measured results only: nothing here is
// a hard-coded number except the targets themselves. The exit code is 0
// whether or not a target is met (this is a measurement, not a test); it is 1
// only when a benchmark could not run (alloc failure, a violation, a setup
// check), which is what the ctest smoke run checks.
//
//   core_bench                                 # 15 short interleaved repetitions
//   core_bench --benchmark_repetitions=31 --benchmark_min_time=0.02
//   core_bench --benchmark_filter=FreePath     # rows whose runs are missing print n/a
//   core_bench --ratio_estimator=median        # verdicts on the median (default: min)
//
// Ratios use CPU time per iteration (a shared machine does not charge a
// benchmark for the time it spent preempted), by default of the fastest
// repetition of each side: the development machine is a VM whose neighbours
// slow whole bursts of repetitions by up to 1.6x, which CPU time cannot see;
// there the median ratio of two identical loops wandered over 0.6x..1.3x
// between runs while the ratio of the fastest repetitions stayed within 3%
// (bench/README.md). The median ratio and the real-time ratio are printed
// alongside, and the `noise` row (two identical loops) says how far to trust
// a run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_report.hpp"
#include "core/buddy.hpp"
#include "core/gup.hpp"
#include "core/migrate.hpp"
#include "core/model.hpp"
#include "core/owner.hpp"
#include "core/page_ref.hpp"
#include "core/sync.hpp"

namespace {

using benchmark::State;
using core::Model;
using core::ModelConfig;
using core::Pfn;
using core::ZoneType;

// --- benchmark names: the single source for registration and the table ------

constexpr const char* kTryGetPut = "BM_TryGetPut";
constexpr const char* kTryGetPutNoHist = "BM_TryGetPut_NoHistory";
constexpr const char* kGetPut = "BM_GetPut";
constexpr const char* kPinUnpin = "BM_PinUnpin";
constexpr const char* kGupFastUnpin = "BM_GupFastPinUnpin";
constexpr const char* kMigrate0 = "BM_MigrateOrder0OneMapping";
constexpr const char* kRawAddUnlessDec = "BM_RawAddUnlessDec";
constexpr const char* kRawPinUnpin = "BM_RawPinUnpin";
constexpr const char* kRawGupFastUnpin = "BM_RawGupFastPinUnpin";
constexpr const char* kFreeOwnerHook = "BM_FreePath_OwnerHook";
constexpr const char* kFreeDirectBuddy = "BM_FreePath_DirectBuddy";
constexpr const char* kFreePerTypeChecks = "BM_FreePath_PerTypeChecks";
constexpr const char* kAllocFree0 = "BM_AllocFree_Order0";
constexpr const char* kAllocFree0NoMerge = "BM_AllocFree_Order0_NoMerge";
constexpr const char* kAllocFree3 = "BM_AllocFree_Order3";
constexpr const char* kHookIdle = "BM_AllocFree_Order0_HookIdle";
constexpr const char* kHookEvery64 = "BM_AllocFree_Order0_HookEvery64";
constexpr const char* kHookEvery1 = "BM_AllocFree_Order0_HookEvery1";
constexpr const char* kPairTryGet = "BM_Pair_TryGetPut_vs_Raw";
constexpr const char* kPairFreeHook = "BM_Pair_FreeOwnerHook_vs_DirectBuddy";
constexpr const char* kPairFreePerType = "BM_Pair_FreePerTypeChecks_vs_DirectBuddy";
constexpr const char* kPairHookIdle = "BM_Pair_HookIdle_vs_NoHook";
// The counter an interleaved pair reports its A/B ratio in.
constexpr const char* kPairCounter = "A/B";

// --- helpers -----------------------------------------------------------------

ModelConfig config_with(core::FreeDispatch d) {
  ModelConfig cfg;
  cfg.design.free_dispatch = d;
  return cfg;
}

// After a benchmark's loop: the model must be back where it started (as
// many NORMAL frames free as before the loop) and have reported nothing.
// Otherwise the numbers measured a broken path (a violation report, a refused
// free) and are void.
bool check_quiescent(State& st, Model& m, uint32_t free_before) {
  if (m.violation_count() != 0) {
    st.SkipWithError("the model reported a violation during the benchmark");
    return false;
  }
  if (m.buddy().nr_free_pages(ZoneType::Normal) != free_before) {
    st.SkipWithError("NORMAL frames were not all back in the buddy after the benchmark");
    return false;
  }
  return true;
}

// A hook that re-arms its countdown to `period` and otherwise does nothing
// but count its calls (which, with period 1, is the number of sync points).
class BenchHook final : public core::SyncHook {
 public:
  explicit BenchHook(uint64_t period) : period_(period) { countdown = period; }
  void on_sync(core::SyncOp, const void*) override {
    ++calls_;
    countdown = period_;
  }
  uint64_t calls() const noexcept { return calls_; }

 private:
  uint64_t period_;
  uint64_t calls_ = 0;
};

// --- 1. uncontended speculative get + put --------------------------------------

// One folio_try_get + folio_put.
inline void model_get_put(Model& m, Pfn p) {
  bool got = core::folio_try_get(m, p);
  benchmark::DoNotOptimize(got);
  core::folio_put(m, p);
}

// The same protocol on a bare std::atomic<int>: atomic_add_unless(v, 1, 0)
// as a relaxed read seeding a strong CAS loop (acq_rel on success, relaxed on
// failure), then fetch_sub(acq_rel): the memory orders folio_try_get and
// folio_put use, without the model around them.
inline void raw_get_put(std::atomic<int>* ref) {
  int old = ref->load(std::memory_order_relaxed);
  bool got = false;
  while (old != 0) {
    if (ref->compare_exchange_strong(old, old + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      got = true;
      break;
    }
  }
  benchmark::DoNotOptimize(got);
  int prev = ref->fetch_sub(1, std::memory_order_acq_rel);
  benchmark::DoNotOptimize(prev);
}

// A counter alone on its cache line, at 1 (the "other reference"), whose
// address has escaped: the compiler must assume someone else can see it, so
// it can neither fold the loop nor keep the count in a register.
struct alignas(64) RawRef {
  std::atomic<int> ref{1};
};
std::unique_ptr<RawRef> make_raw_ref() {
  auto r = std::make_unique<RawRef>();
  std::atomic<int>* p = &r->ref;
  benchmark::DoNotOptimize(p);
  benchmark::ClobberMemory();
  return r;
}

// folio_try_get + folio_put on an order-0 folio that holds one other
// reference (the allocation's), so the put never reaches zero.
void BM_TryGetPut(State& st) {
  Model m{ModelConfig{}};
  const uint32_t free_before = m.buddy().nr_free_pages(ZoneType::Normal);
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  if (p == core::kNoPfn) {
    st.SkipWithError("alloc_pages failed");
    return;
  }
  for (auto _ : st) model_get_put(m, p);
  if (core::folio_ref_count(m, p) != 1 || m.probes().count(core::Probe::TryGetSawZero) != 0) {
    st.SkipWithError("refcount is not back to 1, or a try_get failed");
    return;
  }
  core::folio_put(m, p);
  check_quiescent(st, m, free_before);
}

// The same with the per-frame page_ref history off (ModelConfig::page_ref_history):
// what the history ring costs on the fastest path.
void BM_TryGetPut_NoHistory(State& st) {
  ModelConfig cfg;
  cfg.page_ref_history = false;
  Model m{cfg};
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  if (p == core::kNoPfn) {
    st.SkipWithError("alloc_pages failed");
    return;
  }
  for (auto _ : st) model_get_put(m, p);
  if (core::folio_ref_count(m, p) != 1) st.SkipWithError("refcount is not back to 1");
  core::folio_put(m, p);
}

// folio_get + folio_put on a mapped order-0 folio: the baseline for pins.
void BM_GetPut(State& st) {
  Model m{ModelConfig{}};
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  core::map_page(m, m.mm(0), 0, p);
  for (auto _ : st) {
    core::folio_get(m, p);
    core::folio_put(m, p);
  }
  if (core::folio_ref_count(m, p) != 2) st.SkipWithError("refcount is not back to 2");
  core::unmap_slot(m, m.mm(0), 0);
  core::folio_put(m, p);
}

// FOLL_PIN through the slow path (PTL) + unpin_user_page, mapped order-0 folio.
void BM_PinUnpin(State& st) {
  Model m{ModelConfig{}};
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  core::map_page(m, m.mm(0), 0, p);
  for (auto _ : st) {
    const core::GupResult r = core::get_user_page(m, m.mm(0), 0, core::foll::pin);
    if (r.err != 0) {
      st.SkipWithError("pin failed");
      break;
    }
    core::unpin_user_page(m, r.page);
  }
  if (core::folio_ref_count(m, p) != 2) st.SkipWithError("refcount is not back to 2");
  core::unmap_slot(m, m.mm(0), 0);
  core::folio_put(m, p);
}

// GUP-fast FOLL_PIN + unpin_user_page, mapped order-0 folio.
void BM_GupFastPinUnpin(State& st) {
  Model m{ModelConfig{}};
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  core::map_page(m, m.mm(0), 0, p);
  for (auto _ : st) {
    const core::GupResult r = core::get_user_page_fast(m, m.mm(0), 0, core::foll::pin);
    if (r.err != 0) {
      st.SkipWithError("gup_fast failed");
      break;
    }
    core::unpin_user_page(m, r.page);
  }
  if (core::folio_ref_count(m, p) != 2) st.SkipWithError("refcount is not back to 2");
  core::unmap_slot(m, m.mm(0), 0);
  core::folio_put(m, p);
}

// Migration of an order-0 anon folio with one mapping, back and forth
// between the zones (isolate via a pfn walker, unmap, freeze, copy, remap).
void BM_MigrateOrder0OneMapping(State& st) {
  Model m{ModelConfig{}};
  const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
  core::map_page(m, m.mm(0), 0, p);
  core::folio_put(m, p);  // the mapping holds it
  bool to_movable = true;
  for (auto _ : st) {
    const Pfn cur = core::pte::pfn(m.mm(0).pte(0).peek());
    const Pfn head = core::pfn_walk_get(m, cur);
    if (head == core::kNoPfn || core::migrate_folio(m, head, to_movable ? ZoneType::Movable : ZoneType::Normal) != 0) {
      st.SkipWithError("migration failed");
      break;
    }
    to_movable = !to_movable;
  }
  core::unmap_slot(m, m.mm(0), 0);
  if (m.violation_count() != 0) st.SkipWithError("the model reported a violation");
}

void BM_RawAddUnlessDec(State& st) {
  auto raw = make_raw_ref();
  for (auto _ : st) raw_get_put(&raw->ref);
  if (raw->ref.load(std::memory_order_relaxed) != 1) st.SkipWithError("raw counter is not back to 1");
}

// The raw-atomic equivalents of a pin and an unpin of a mapped small folio:
// the same protocol steps with the same memory orders on plain std::atomic,
// without the model (no sync points, no history, no probes, no design or
// fault switches). One cache line for the "frame" (count, head, order), one
// for the "page table" (PTL and PTE).
struct alignas(64) RawFrame {
  std::atomic<int> ref{2};  // the allocation's and the mapping's reference
  std::atomic<uint32_t> head{7};
  std::atomic<uint8_t> order{0};
};
struct alignas(64) RawPte {
  std::atomic<uint32_t> ptl{0};
  std::atomic<uint64_t> pte{7};
};
struct RawPinWorld {
  RawFrame f;
  RawPte t;
};
std::unique_ptr<RawPinWorld> make_raw_pin_world() {
  auto w = std::make_unique<RawPinWorld>();
  RawPinWorld* p = w.get();
  benchmark::DoNotOptimize(p);
  benchmark::ClobberMemory();
  return w;
}
constexpr int kRawPinBias = 1024;  // GUP_PIN_COUNTING_BIAS

// add-unless-zero of n: the CAS loop of folio_ref_add_unless.
inline bool raw_add_unless_zero(std::atomic<int>& ref, int n) {
  int old = ref.load(std::memory_order_relaxed);
  while (old != 0)
    if (ref.compare_exchange_strong(old, old + n, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
  return false;
}
// unpin_user_page of a small folio: compound_head, the order (which chose
// the accounting), then the drop of the bias.
inline void raw_unpin(RawPinWorld& w) {
  benchmark::DoNotOptimize(w.f.head.load(std::memory_order_relaxed));
  const int nr = w.f.order.load(std::memory_order_relaxed) > 0 ? 1 : kRawPinBias;
  benchmark::DoNotOptimize(w.f.ref.fetch_sub(nr, std::memory_order_acq_rel));
}

// Slow GUP: the PTL (acquire CAS, release store), the PTE, compound_head,
// the order, the "count is positive" check, the add-unless-zero of the bias.
void BM_RawPinUnpin(State& st) {
  auto w = make_raw_pin_world();
  for (auto _ : st) {
    uint32_t unlocked = 0;
    while (!w->t.ptl.compare_exchange_strong(unlocked, 1, std::memory_order_acquire, std::memory_order_relaxed))
      unlocked = 0;
    benchmark::DoNotOptimize(w->t.pte.load(std::memory_order_relaxed));
    benchmark::DoNotOptimize(w->f.head.load(std::memory_order_relaxed));
    const int nr = w->f.order.load(std::memory_order_relaxed) > 0 ? 1 : kRawPinBias;
    bool got = w->f.ref.load(std::memory_order_relaxed) > 0 && raw_add_unless_zero(w->f.ref, nr);
    benchmark::DoNotOptimize(got);
    w->t.ptl.store(0, std::memory_order_release);
    raw_unpin(*w);
  }
  if (w->f.ref.load(std::memory_order_relaxed) != 2) st.SkipWithError("raw counter is not back to 2");
}

// GUP-fast: the PTE (acquire), compound_head, the order, the add-unless-zero
// of the bias, the head and order re-check, the PTE re-check (seq_cst).
void BM_RawGupFastPinUnpin(State& st) {
  auto w = make_raw_pin_world();
  for (auto _ : st) {
    const uint64_t v = w->t.pte.load(std::memory_order_acquire);
    const uint32_t head = w->f.head.load(std::memory_order_relaxed);
    const int nr = w->f.order.load(std::memory_order_relaxed) > 0 ? 1 : kRawPinBias;
    bool got = raw_add_unless_zero(w->f.ref, nr);
    got = got && w->f.head.load(std::memory_order_relaxed) == head &&
          (w->f.order.load(std::memory_order_relaxed) > 0 ? 1 : kRawPinBias) == nr &&
          w->t.pte.load(std::memory_order_seq_cst) == v;
    benchmark::DoNotOptimize(got);
    raw_unpin(*w);
  }
  if (w->f.ref.load(std::memory_order_relaxed) != 2) st.SkipWithError("raw counter is not back to 2");
}

// --- 2. the zero transition: owner hook vs. direct buddy free -----------------

// alloc_pages(order) + `free`, on a fresh model. `hold_buddy`: first allocate
// one order-0 page and keep it for the whole loop, so the measured frees never
// merge (and the allocations never split) — the buddy's cheapest case.
template <class FreeFn>
void alloc_free_loop(State& st, Model& m, unsigned order, FreeFn free_fn, bool hold_buddy = false) {
  const uint32_t free_before = m.buddy().nr_free_pages(ZoneType::Normal);
  Pfn held = core::kNoPfn;
  if (hold_buddy) {
    held = core::alloc_pages(m, ZoneType::Normal, 0);
    if (held == core::kNoPfn) {
      st.SkipWithError("alloc_pages failed");
      return;
    }
  }
  for (auto _ : st) {
    const Pfn p = core::alloc_pages(m, ZoneType::Normal, order);
    if (p == core::kNoPfn) [[unlikely]] {
      st.SkipWithError("alloc_pages failed");
      break;
    }
    free_fn(m, p);
  }
  if (held != core::kNoPfn) core::folio_put(m, held);
  check_quiescent(st, m, free_before);
}

// The put that reaches zero runs __folio_put: owner dispatch (or, on a
// PerTypeChecks model, mainline's checks), then the buddy.
void put_via_folio_put(Model& m, Pfn p) { core::folio_put(m, p); }
// The same zero transition, then straight to the buddy's free path.
void put_direct_to_buddy(Model& m, Pfn p) {
  if (core::folio_put_testzero(m, p)) core::free_folio_to_buddy(m, p);
}

// A: alloc_pages(0) + folio_put through the owner hook.
void BM_FreePath_OwnerHook(State& st) {
  Model m{config_with(core::FreeDispatch::OwnerHook)};
  alloc_free_loop(st, m, 0, put_via_folio_put);
}

// B: alloc_pages(0) + folio_put_testzero + free_folio_to_buddy.
void BM_FreePath_DirectBuddy(State& st) {
  Model m{config_with(core::FreeDispatch::OwnerHook)};
  alloc_free_loop(st, m, 0, put_direct_to_buddy);
}

// C: A with mainline's per-type checks in __folio_put instead of the hook.
void BM_FreePath_PerTypeChecks(State& st) {
  Model m{config_with(core::FreeDispatch::PerTypeChecks)};
  alloc_free_loop(st, m, 0, put_via_folio_put);
}

// --- 3. alloc + free, absolute ----------------------------------------------------

// Order 0 from a buddy whose blocks are all of max order: every allocation
// splits max_page_order times and every free merges as often. Same code as
// BM_FreePath_OwnerHook, registered separately: the pair shows the noise.
void BM_AllocFree_Order0(State& st) {
  Model m{ModelConfig{}};
  alloc_free_loop(st, m, 0, put_via_folio_put);
}

// Order 0 with the buddy page held: no split, no merge.
void BM_AllocFree_Order0_NoMerge(State& st) {
  Model m{ModelConfig{}};
  alloc_free_loop(st, m, 0, put_via_folio_put, /*hold_buddy=*/true);
}

void BM_AllocFree_Order3(State& st) {
  Model m{ModelConfig{}};
  alloc_free_loop(st, m, 3, put_via_folio_put);
}

// --- 4. an installed sync-point hook ----------------------------------------------

void hook_loop(State& st, uint64_t period) {
  Model m{ModelConfig{}};
  BenchHook hook{period};
  {
    core::ScopedSyncHook guard{&hook};
    alloc_free_loop(st, m, 0, put_via_folio_put);
  }
  // on_sync calls per alloc+free; with period 1, the sync points on the path.
  if (st.iterations() > 0)
    st.counters["on_sync/op"] = static_cast<double>(hook.calls()) / static_cast<double>(st.iterations());
}

// Idle: a countdown that never runs out (2^64 sync points); as core/ stands,
// each sync point costs a decrement of it. UINT64_MAX rather than some other
// huge value so that core/ may treat it as "idle" without a bench change.
void BM_AllocFree_Order0_HookIdle(State& st) { hook_loop(st, std::numeric_limits<uint64_t>::max()); }
// A sampling hook (on_sync once per 64 sync points), and one that sees every
// sync point, as the deterministic scheduler does.
void BM_AllocFree_Order0_HookEvery64(State& st) { hook_loop(st, 64); }
void BM_AllocFree_Order0_HookEvery1(State& st) { hook_loop(st, 1); }

// --- 5. interleaved pairs: a cross-check of the targeted ratios -------------------
//
// The ratios above divide two benchmarks that ran at different moments, and on
// a shared machine the moments differ. Here one benchmark alternates a chunk of
// side A with a chunk of side B (about 10 us each, the order flipped every
// iteration) and times each chunk with steady_clock. The A/B counter is the
// median of the per-chunk ratios: a preemption or a neighbour's burst spoils
// only the few chunks it lands in.

// Runs `chunk` operations of one side; false if the side failed (the reason
// is already reported with SkipWithError).
using ChunkFn = bool (*)(void* ctx, int chunk);

double median_of(std::vector<double>& v) {
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

void interleaved_pair(State& st, int chunk, void* ctx, ChunkFn a, ChunkFn b) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> ratios, ta, tb;
  ratios.reserve(static_cast<size_t>(st.max_iterations));
  ta.reserve(static_cast<size_t>(st.max_iterations));
  tb.reserve(static_cast<size_t>(st.max_iterations));
  bool a_first = true;
  for (auto _ : st) {
    ChunkFn first = a_first ? a : b, second = a_first ? b : a;
    const auto t0 = Clock::now();
    const bool ok1 = first(ctx, chunk);
    const auto t1 = Clock::now();
    const bool ok2 = ok1 && second(ctx, chunk);
    const auto t2 = Clock::now();
    if (!ok2) break;
    const double d1 = std::chrono::duration<double, std::nano>(t1 - t0).count();
    const double d2 = std::chrono::duration<double, std::nano>(t2 - t1).count();
    const double da = a_first ? d1 : d2, db = a_first ? d2 : d1;
    if (da > 0 && db > 0) {
      ratios.push_back(da / db);
      ta.push_back(da / chunk);
      tb.push_back(db / chunk);
    }
    a_first = !a_first;
  }
  if (ratios.empty()) return;
  st.counters[kPairCounter] = median_of(ratios);
  // Per-op wall time of each side, median over the chunks.
  st.counters["A_ns"] = median_of(ta);
  st.counters["B_ns"] = median_of(tb);
}

struct GetPutPair {
  Model m{ModelConfig{}};
  Pfn p = core::kNoPfn;
  std::unique_ptr<RawRef> raw = make_raw_ref();
};

void BM_Pair_TryGetPut_vs_Raw(State& st) {
  GetPutPair c;
  const uint32_t free_before = c.m.buddy().nr_free_pages(ZoneType::Normal);
  c.p = core::alloc_pages(c.m, ZoneType::Normal, 0);
  if (c.p == core::kNoPfn) {
    st.SkipWithError("alloc_pages failed");
    return;
  }
  interleaved_pair(
      st, 1024, &c,
      [](void* ctx, int n) {
        auto& g = *static_cast<GetPutPair*>(ctx);
        for (int i = 0; i < n; ++i) model_get_put(g.m, g.p);
        return true;
      },
      [](void* ctx, int n) {
        auto& g = *static_cast<GetPutPair*>(ctx);
        for (int i = 0; i < n; ++i) raw_get_put(&g.raw->ref);
        return true;
      });
  if (core::folio_ref_count(c.m, c.p) != 1 || c.raw->ref.load(std::memory_order_relaxed) != 1) {
    st.SkipWithError("a refcount is not back to 1");
    return;
  }
  core::folio_put(c.m, c.p);
  check_quiescent(st, c.m, free_before);
}

// alloc_pages(0) + `put` on `m`, `n` times.
bool alloc_free_chunk(State& st, Model& m, void (*put)(Model&, Pfn), int n) {
  for (int i = 0; i < n; ++i) {
    const Pfn p = core::alloc_pages(m, ZoneType::Normal, 0);
    if (p == core::kNoPfn) [[unlikely]] {
      st.SkipWithError("alloc_pages failed");
      return false;
    }
    put(m, p);
  }
  return true;
}

struct FreePair {
  State* st;
  Model* a;  // side A's model
  Model* b;  // side B's model (may be the same)
  core::SyncHook* hook_a = nullptr;  // installed around side A's chunks
};

bool free_side_a(void* ctx, int n) {
  auto& c = *static_cast<FreePair*>(ctx);
  if (c.hook_a != nullptr) {
    core::ScopedSyncHook guard{c.hook_a};
    return alloc_free_chunk(*c.st, *c.a, put_via_folio_put, n);
  }
  return alloc_free_chunk(*c.st, *c.a, put_via_folio_put, n);
}

bool direct_side_b(void* ctx, int n) {
  auto& c = *static_cast<FreePair*>(ctx);
  return alloc_free_chunk(*c.st, *c.b, put_direct_to_buddy, n);
}

bool plain_side_b(void* ctx, int n) {
  auto& c = *static_cast<FreePair*>(ctx);
  return alloc_free_chunk(*c.st, *c.b, put_via_folio_put, n);
}

// Owner hook vs. direct buddy free, on one model.
void BM_Pair_FreeOwnerHook_vs_DirectBuddy(State& st) {
  Model m{config_with(core::FreeDispatch::OwnerHook)};
  const uint32_t free_before = m.buddy().nr_free_pages(ZoneType::Normal);
  FreePair c{&st, &m, &m};
  interleaved_pair(st, 128, &c, free_side_a, direct_side_b);
  check_quiescent(st, m, free_before);
}

// Mainline's per-type checks vs. direct buddy free (two models).
void BM_Pair_FreePerTypeChecks_vs_DirectBuddy(State& st) {
  Model ma{config_with(core::FreeDispatch::PerTypeChecks)};
  Model mb{config_with(core::FreeDispatch::OwnerHook)};
  const uint32_t free_a = ma.buddy().nr_free_pages(ZoneType::Normal);
  const uint32_t free_b = mb.buddy().nr_free_pages(ZoneType::Normal);
  FreePair c{&st, &ma, &mb};
  interleaved_pair(st, 128, &c, free_side_a, direct_side_b);
  if (check_quiescent(st, ma, free_a)) check_quiescent(st, mb, free_b);
}

// Order-0 alloc+free with an idle hook installed vs. with none, on one model.
void BM_Pair_HookIdle_vs_NoHook(State& st) {
  Model m{ModelConfig{}};
  const uint32_t free_before = m.buddy().nr_free_pages(ZoneType::Normal);
  BenchHook idle{std::numeric_limits<uint64_t>::max()};
  FreePair c{&st, &m, &m, &idle};
  interleaved_pair(st, 128, &c, free_side_a, plain_side_b);
  check_quiescent(st, m, free_before);
}

void register_all() {
  const std::pair<const char*, void (*)(State&)> all[] = {
      {kTryGetPut, BM_TryGetPut},
      {kTryGetPutNoHist, BM_TryGetPut_NoHistory},
      {kGetPut, BM_GetPut},
      {kPinUnpin, BM_PinUnpin},
      {kGupFastUnpin, BM_GupFastPinUnpin},
      {kMigrate0, BM_MigrateOrder0OneMapping},
      {kRawAddUnlessDec, BM_RawAddUnlessDec},
      {kRawPinUnpin, BM_RawPinUnpin},
      {kRawGupFastUnpin, BM_RawGupFastPinUnpin},
      {kFreeOwnerHook, BM_FreePath_OwnerHook},
      {kFreeDirectBuddy, BM_FreePath_DirectBuddy},
      {kFreePerTypeChecks, BM_FreePath_PerTypeChecks},
      {kAllocFree0, BM_AllocFree_Order0},
      {kAllocFree0NoMerge, BM_AllocFree_Order0_NoMerge},
      {kAllocFree3, BM_AllocFree_Order3},
      {kHookIdle, BM_AllocFree_Order0_HookIdle},
      {kHookEvery64, BM_AllocFree_Order0_HookEvery64},
      {kHookEvery1, BM_AllocFree_Order0_HookEvery1},
      {kPairTryGet, BM_Pair_TryGetPut_vs_Raw},
      {kPairFreeHook, BM_Pair_FreeOwnerHook_vs_DirectBuddy},
      {kPairFreePerType, BM_Pair_FreePerTypeChecks_vs_DirectBuddy},
      {kPairHookIdle, BM_Pair_HookIdle_vs_NoHook},
  };
  // The fastest repetition, next to the library's mean/median/stddev/cv: on
  // a machine shared with noisy neighbours the slow repetitions are the
  // neighbours' doing, and min is the estimator they disturb least.
  for (const auto& [name, fn] : all)
    benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kNanosecond)->ComputeStatistics("min", [](const std::vector<double>& v) {
      return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
    });
}

// --- collecting the results ---------------------------------------------------------

// bench/bench_report's Collector keeps, per benchmark, the median and the
// minimum over its repetitions (the library's aggregates, with the min
// statistic register_all() adds, else the repetitions we saw) and, for the
// interleaved pairs, the median of the kPairCounter counter.
namespace bench = refhammer::bench;
using bench::Collector;
using bench::Measured;
using bench::Sample;

// --- the ratio table ------------------------------------------------------------------

struct RatioRow {
  const char* label;
  const char* num;
  const char* den;
  double target;  // <= target; 0: informational, no target
};

constexpr RatioRow kRatios[] = {
    {"try_get+put / raw add-unless+dec", kTryGetPut, kRawAddUnlessDec, 1.30},
    {"try_get+put, history off / raw", kTryGetPutNoHist, kRawAddUnlessDec, 1.30},
    {"pin+unpin (slow GUP) / its raw atomics", kPinUnpin, kRawPinUnpin, 2.0},
    {"gup_fast pin+unpin / its raw atomics", kGupFastUnpin, kRawGupFastUnpin, 2.0},
    {"pin+unpin (slow GUP) / folio_get+put", kPinUnpin, kGetPut, 0},
    {"gup_fast pin+unpin / folio_get+put", kGupFastUnpin, kGetPut, 0},
    {"free via owner hook / direct buddy free", kFreeOwnerHook, kFreeDirectBuddy, 1.05},
    {"free via per-type checks / direct buddy free", kFreePerTypeChecks, kFreeDirectBuddy, 0},
    {"free via owner hook / per-type checks", kFreeOwnerHook, kFreePerTypeChecks, 0},
    {"idle sync hook / no hook (order-0 alloc+free)", kHookIdle, kAllocFree0, 1.10},
    {"hook every 64 sync points / no hook", kHookEvery64, kAllocFree0, 0},
    {"hook every sync point / no hook", kHookEvery1, kAllocFree0, 0},
    {"order-0 split+merge / no split+merge", kAllocFree0, kAllocFree0NoMerge, 0},
    {"noise: two identical order-0 loops", kAllocFree0, kFreeOwnerHook, 0},
};

// The interleaved cross-checks of the targeted ratios (and of C).
struct PairRow {
  const char* label;
  const char* name;
  double target;  // as in kRatios; 0: no target
};

constexpr PairRow kPairs[] = {
    {"try_get+put / raw add-unless+dec", kPairTryGet, 1.30},
    {"free via owner hook / direct buddy free", kPairFreeHook, 1.05},
    {"free via per-type checks / direct buddy free", kPairFreePerType, 0},
    {"idle sync hook / no hook (order-0 alloc+free)", kPairHookIdle, 1.10},
};

struct AbsRow {
  const char* label;
  const char* name;
};

constexpr AbsRow kAbsolute[] = {
    {"try_get+put (uncontended)", kTryGetPut},
    {"try_get+put, history off", kTryGetPutNoHist},
    {"folio_get+folio_put (mapped order-0)", kGetPut},
    {"pin+unpin, slow GUP", kPinUnpin},
    {"gup_fast pin+unpin", kGupFastUnpin},
    {"migrate order-0, one mapping", kMigrate0},
    {"raw add-unless+dec", kRawAddUnlessDec},
    {"raw slow-GUP pin+unpin", kRawPinUnpin},
    {"raw GUP-fast pin+unpin", kRawGupFastUnpin},
    {"order-0 alloc+free", kAllocFree0},
    {"order-0 alloc+free, no split/merge", kAllocFree0NoMerge},
    {"order-3 alloc+free", kAllocFree3},
    {"order-0 alloc+free, idle hook", kHookIdle},
    {"order-0 alloc+free, hook every 64", kHookEvery64},
    {"order-0 alloc+free, hook every 1", kHookEvery1},
};

enum class Estimator { Min, Median };

// Measured::min is always there: the Collector is made with need_min.
const Sample& pick(const Measured& m, Estimator e) { return e == Estimator::Min ? *m.min : m.median; }

void print_table(std::FILE* out, const Collector& c, Estimator est) {
  const bool by_min = est == Estimator::Min;
  std::fprintf(out, "\n== core_bench ratios: CPU time per op, %s of the repetitions (--ratio_estimator=%s);\n"
                    "   the %s ratio and the real-time ratio alongside ==\n",
               by_min ? "fastest" : "median", by_min ? "min" : "median", by_min ? "median" : "min");
  int pass = 0, miss = 0, na = 0;
  for (const RatioRow& r : kRatios) {
    const auto n = c.get(r.num), d = c.get(r.den);
    char target[32] = "";
    if (r.target > 0) std::snprintf(target, sizeof target, "(target <= %.2fx)", r.target);
    if (!n || !d || d->min->cpu_ns <= 0 || d->min->real_ns <= 0 || d->median.cpu_ns <= 0 || d->median.real_ns <= 0) {
      std::fprintf(out, "ratio %-46s =   n/a  %-18s %s  [%s or %s not measured]\n", r.label, target,
                   r.target > 0 ? "N/A " : "info", r.num, r.den);
      na += r.target > 0;
      continue;
    }
    const Estimator other = by_min ? Estimator::Median : Estimator::Min;
    const double ratio = pick(*n, est).cpu_ns / pick(*d, est).cpu_ns;
    const double other_ratio = pick(*n, other).cpu_ns / pick(*d, other).cpu_ns;
    const double real_ratio = pick(*n, est).real_ns / pick(*d, est).real_ns;
    const char* verdict = "info";
    if (r.target > 0) {
      const bool ok = ratio <= r.target;
      verdict = ok ? "PASS" : "MISS";
      ++(ok ? pass : miss);
    }
    std::fprintf(out, "ratio %-46s = %5.2fx %-18s %s  [%.1f / %.1f ns; %s %.2fx; real %.2fx]\n", r.label, ratio,
                 target, verdict, pick(*n, est).cpu_ns, pick(*d, est).cpu_ns, by_min ? "median" : "min", other_ratio,
                 real_ratio);
  }
  std::fprintf(out, "\n== cross-check: A and B interleaved in ~10 us chunks within one benchmark; median of the\n"
                    "   per-chunk ratios, median over the repetitions (not counted in the totals below) ==\n");
  for (const PairRow& r : kPairs) {
    const auto v = c.get(r.name);
    char target[32] = "";
    if (r.target > 0) std::snprintf(target, sizeof target, "(target <= %.2fx)", r.target);
    if (!v || !v->counter) {
      std::fprintf(out, "pair  %-46s =   n/a  %-18s %s  [%s not measured]\n", r.label, target,
                   r.target > 0 ? "N/A " : "info", r.name);
      continue;
    }
    const char* verdict = r.target <= 0 ? "info" : *v->counter <= r.target ? "PASS" : "MISS";
    std::fprintf(out, "pair  %-46s = %5.2fx %-18s %s\n", r.label, *v->counter, target, verdict);
  }
  std::fprintf(out, "\n== absolute: ns per op (CPU time) ==\n");
  for (const AbsRow& r : kAbsolute) {
    if (auto v = c.get(r.name))
      std::fprintf(out, "%-40s min %7.1f ns  median %7.1f ns  (%d run%s)\n", r.label, v->min->cpu_ns,
                   v->median.cpu_ns, v->runs, v->runs == 1 ? "" : "s");
    else
      std::fprintf(out, "%-40s n/a\n", r.label);
  }
  std::fprintf(out, "\ntargets: %d PASS, %d MISS, %d not measured (a measurement, not a test: the exit code ignores them)\n",
               pass, miss, na);
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flag, taken out before the library sees the arguments.
  Estimator est = Estimator::Min;
  std::vector<char*> user;
  for (int i = 1; i < argc; ++i) {
    constexpr const char* kEst = "--ratio_estimator=";
    if (std::strncmp(argv[i], kEst, std::strlen(kEst)) == 0) {
      const std::string v = argv[i] + std::strlen(kEst);
      if (v != "min" && v != "median") {
        std::fprintf(stderr, "core_bench: --ratio_estimator must be min or median, not '%s'\n", v.c_str());
        return 2;
      }
      est = v == "min" ? Estimator::Min : Estimator::Median;
      continue;
    }
    user.push_back(argv[i]);
  }
  // Defaults for a noisy shared machine, placed before the user's arguments
  // so that any of them can be overridden (the last occurrence of a flag
  // wins): many short repetitions, randomly interleaved across benchmarks so
  // that a burst of load from elsewhere is spread over both sides of every
  // ratio, and only the aggregates on the console.
  bench::CommandLine cl(argv[0],
                        {"--benchmark_repetitions=15", "--benchmark_min_time=0.05",
                         "--benchmark_enable_random_interleaving=true"},
                        /*aggregates_only=*/true, user);
  if (!cl.initialize()) return 1;

  std::FILE* out = cl.out();
  std::fprintf(out, "core_bench: %s, %s, REFHAMMER_DEBUG_CHECKS=%d\n", bench::compiler_name(),
               bench::assertions_kind(), REFHAMMER_DEBUG_CHECKS);
  std::fflush(out);

  register_all();
  Collector collector(kPairCounter, /*need_min=*/true);
  bench::CollectingReporter reporter(bench::make_display_reporter(cl.format()), collector);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::fflush(stdout);
  print_table(out, collector, est);
  return bench::print_errors(collector.errors());
}
