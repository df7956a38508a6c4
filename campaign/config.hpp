// campaign::Config — what `refhammer campaign` runs, with embedded defaults
// (no configuration file is needed) and an optional JSON file that overrides
// them. docs/reports.md documents every key.
//
// The budget is one number (seconds); the phases get shares of it:
//   fuzz      every libFuzzer target, -fork over the cores, equal slices
//   stress    every op-mix profile x {free, perturb}, in-process (TBB)
//   compare   each design pair: both variants under the same drivers and
//             the same slice (a fuzz target and a stress profile)
//   minimize  the deduplicated findings, each minimized on the
//             deterministic scheduler
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace refhammer::campaign {

struct FuzzConfig {
  bool enabled = true;
  std::vector<std::string> targets;      // empty: every fuzz_* binary in bin_dir
  // The fuzzing runs use the throughput build (the fuzz-fast preset: no
  // sanitizers); each crash file is then run once more by the ASan+UBSan
  // build of the same target (the fuzz preset), whose report lands in the
  // finding. asan_bin_dir "" (or equal to bin_dir): no such replay.
  std::string bin_dir = "build/fuzz-fast/fuzz";
  std::string asan_bin_dir = "build/fuzz/fuzz";
  std::string corpora_dir = "corpora";   // seeds: corpora/<target>/ and <target>.dict (read only)
  // Where new inputs are merged: <corpus_dir>/<target>/, made from the seeds
  // the first time. Empty: OUT/corpora (a fresh copy per run). A directory
  // the user names persists across runs (ClusterFuzz keeps corpora in
  // storage, not in the source tree); it is a seed source too.
  std::string corpus_dir;
  bool update_corpora = false;           // merge into corpora_dir (the checkout) instead
  unsigned jobs = 0;                     // -fork=J; 0: every core
  unsigned rss_limit_mb = 2560;
  unsigned timeout = 20;                 // libFuzzer -timeout (seconds per input)
  bool merge = true;                     // merge new inputs into the corpus (atomically); see corpus_dir
  double min_seconds = 3;                // a target's slice is never shorter
  double explore_share = 0.4;            // round 1 (even slices); the rest by yield (1: all even)
  unsigned max_crash_files = 40;         // per target run: crash files replayed for dedup
};

struct StressConfig {
  bool enabled = true;
  std::vector<std::string> profiles;     // empty: every profile of harness/gen.hpp
  std::vector<std::string> schedulers = {"free", "perturb"};
  unsigned threads = 0;                  // 0: every core (at most 8)
  uint32_t frames = 128;
  double repro_seconds = 30;             // deterministic reproduction search per violation (stress::ReproOptions)
  double min_seconds = 1;
};

struct MinimizeConfig {
  bool enabled = true;
  double seconds_per_finding = 60;       // upper bound; the phase's share is split over the findings
  double min_seconds = 3;
};

// One side of a design pair: a label and --design KEY=VALUE items.
struct Variant {
  std::string label;
  std::vector<std::string> design;
};

struct ComparePair {
  std::string name;                      // "offline"
  std::string title;                     // "PageOffline: legacy (refcount 1) vs frozen (refcount 0)"
  std::vector<std::string> base;         // design items both sides share
  Variant a, b;
  std::string target;                    // fuzz target both sides run ("" : none)
  std::string profile;                   // stress profile both sides run ("" : none)
};

struct CompareConfig {
  bool enabled = true;
  std::string scheduler = "perturb";     // the stress driver's scheduler
  uint32_t freepath_iters = 200000;      // alloc+free loop of the free-path cost
  std::vector<ComparePair> pairs = default_pairs();
  static std::vector<ComparePair> default_pairs();
};

struct Shares {
  double fuzz = 0.40, stress = 0.25, compare = 0.25, minimize = 0.10;
};

struct Config {
  double seconds = 300;                  // the whole budget
  uint64_t seed = 0;                     // 0: from the clock (printed, repeatable)
  std::string out_dir;                   // empty: refhammer-out/campaign-<UTC time>
  std::string regressions_dir = "corpora/regressions";
  std::string bugbench;                  // a bugbench JSON to chart (docs/reports.md)
  std::string bench_dir = "build/release/bench";  // core_bench for the free-path cost (optional)
  Shares shares;
  FuzzConfig fuzz;
  StressConfig stress;
  MinimizeConfig minimize;
  CompareConfig compare;
};

// Overrides `cfg` with the JSON text of `filename` (all or nothing: on an
// error `cfg` is unchanged). Empty on success, else
// one line per problem: "FILE: key.path: what is wrong" (unknown keys, wrong
// types, values out of range, unknown profiles, targets or design items).
std::string apply_config_json(const std::string& text, const std::string& filename, Config& cfg);
// Reads the file and applies it; same error convention ("FILE: cannot read").
std::string load_config_file(const std::string& path, Config& cfg);
// Checks the whole configuration (also after the CLI's overrides).
std::string validate(const Config& cfg);

}  // namespace refhammer::campaign
