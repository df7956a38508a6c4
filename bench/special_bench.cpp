// special_bench — the special owners' slow paths: an offline/online cycle of a
// memory block (isolate, migrate what is movable, take it out of the buddy,
// give it back) and a free-page-reporting pass.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <vector>

#include "core/folio.hpp"
#include "core/model.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"

namespace {

core::ModelConfig bench_config() {
  core::ModelConfig c;  // the defaults: 256 + 256 frames, memory blocks of 64
  return c;
}

// A MOVABLE memory block with nothing allocated in it.
void BM_OfflineOnlineEmptyBlock(benchmark::State& st) {
  core::Model m(bench_config());
  const uint32_t block = m.frames().block_of(m.frames().zone(core::ZoneType::Movable).start);
  for (auto _ : st) {
    if (m.hotplug().offline_pages(block) != 0 || m.hotplug().online_pages(block, 0) != 0) {
      st.SkipWithError("offline/online failed");
      break;
    }
  }
  if (m.violation_count() != 0) st.SkipWithError("violation");
}

// The same block with 8 mapped order-0 folios that offlining must migrate out.
void BM_OfflineOnlineBlockWithMappedPages(benchmark::State& st) {
  core::Model m(bench_config());
  const core::ZoneSpan mov = m.frames().zone(core::ZoneType::Movable);
  const uint32_t block = m.frames().block_of(mov.start);
  for (auto _ : st) {
    st.PauseTiming();
    // Fill the block's frames with mapped folios (migration targets come from NORMAL).
    uint32_t mapped = 0;
    for (uint32_t slot = 0; slot < m.mm(0).nr_slots() && mapped < 8; ++slot) {
      const core::Pfn p = core::alloc_pages(m, core::ZoneType::Movable, 0);
      if (p == core::kNoPfn) break;
      if (m.frames().block_of(p) == block && core::map_page(m, m.mm(0), slot, p) == 0) ++mapped;
      core::folio_put(m, p);
    }
    st.ResumeTiming();
    if (m.hotplug().offline_pages(block) != 0 || m.hotplug().online_pages(block, 0) != 0) {
      st.SkipWithError("offline/online failed");
      break;
    }
    st.PauseTiming();
    for (uint32_t slot = 0; slot < m.mm(0).nr_slots(); ++slot) core::unmap_slot(m, m.mm(0), slot);
    st.ResumeTiming();
  }
  if (m.violation_count() != 0) st.SkipWithError("violation");
}

// One reporting pass over a fully free model: reports up to its capacity of
// blocks of at least the reporting order; PageReported is cleared again by
// an allocate-and-free of everything so that every pass has work.
void BM_ReportingPass(benchmark::State& st) {
  core::Model m(bench_config());
  int64_t reported = 0;
  for (auto _ : st) {
    reported += m.reporting().report_cycle();
    st.PauseTiming();
    std::vector<core::Pfn> held;
    for (core::Pfn p; (p = core::alloc_pages(m, core::ZoneType::Normal, 0)) != core::kNoPfn;) held.push_back(p);
    for (core::Pfn p : held) core::folio_put(m, p);
    st.ResumeTiming();
  }
  st.counters["blocks_per_pass"] = benchmark::Counter(double(reported) / double(st.iterations()));
  if (m.violation_count() != 0) st.SkipWithError("violation");
}

}  // namespace

BENCHMARK(BM_OfflineOnlineEmptyBlock)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OfflineOnlineBlockWithMappedPages)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReportingPass)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
