// campaign::run_campaign — refhammer's main job (`refhammer campaign`):
// fuzzers and stress under one time budget, every finding reproduced on the
// deterministic scheduler, deduplicated, minimized and written as a
// regression candidate, the design pairs compared, and the reports written.
//
// Phases, in order, each with its share of the budget (config.hpp):
//  1. fuzz: every libFuzzer target with -fork over the cores, default
//     designs; status lines sampled (coverage and exec/s over time); new
//     inputs merged back into corpora/<target>/ atomically.
//  2. stress: every profile x {free, perturb}, in-process (stress::run_stress);
//     a violation is reproduced on the deterministic scheduler by the driver.
//  3. compare: for each design pair, both variants under the same drivers and
//     budget (the pair's fuzz target with REFHAMMER_DESIGN set, then the
//     pair's stress profile), and the free-path cost of each model.
//  4. minimize: each new key's deterministic trace through
//     harness::minimize_trace, written as findings/<slug>.trace.
// Output directory (never overwritten): report.json, report.md, report.html,
// junit.xml, findings/, fuzz/<target>/, stress/, compare/.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "campaign/config.hpp"
#include "campaign/report.hpp"
#include "harness/trace.hpp"

namespace refhammer::campaign {

struct Hooks {
  // A raw crash file of `target`, found on the fuzz model with the design
  // items `design`, as a trace with its recorded schedule and verdict (the
  // CLI passes its load_input, the path `refhammer replay --target` takes).
  std::function<std::string(const std::string& path, const std::string& target,
                            const std::vector<std::string>& design, harness::Trace& out)>
      load_crash;
  std::ostream* out = nullptr;   // progress and the per-unit lines
  bool tty = false;              // rewrite one status line
  std::string command;           // how this run is repeated (for the report); the
                                 // campaign adds --seed when the clock chose it
};

inline constexpr int kClean = 0, kNewFindings = 1, kUsage = 2;

// Runs it and fills `rep` (also on failure, as far as it got). Returns
// kClean, kNewFindings, or kUsage with `error` set (bad output directory,
// no fuzz targets, ...).
int run_campaign(const Config& cfg, const Hooks& hooks, Report& rep, std::string& error);

// Fuzz targets in `bin_dir`: executables named fuzz_* (no extension), sorted.
std::vector<std::string> discover_targets(const std::string& bin_dir);

// Nanoseconds per alloc_pages(NORMAL, 0) + folio_put (bench/core_bench's
// BM_FreePath_* loop) on a default-sized model per design (a list of
// KEY=VALUE items each), best of 5 rounds; the models take turns each round.
std::vector<double> measure_freepath_ns(const std::vector<std::vector<std::string>>& designs, uint32_t iters);

}  // namespace refhammer::campaign
