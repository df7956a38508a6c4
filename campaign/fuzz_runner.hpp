// campaign::fuzz_runner — one libFuzzer target under a time budget, in a
// child process group, with its status lines sampled as they come (exec/s
// and coverage over time), its crash files watched (time to first finding),
// and the corpus merge afterwards.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "campaign/report.hpp"

namespace refhammer::campaign {

// A libFuzzer status line: "#N: cov: C ft: F corp: K exec/s: E
// oom/timeout/crash: a/b/c time: Ts ..." (fork mode) or "#N\tNEW cov: C ft: F
// corp: K/S exec/s: E ..." (single process). False for any other line.
bool parse_status_line(std::string_view line, FuzzSample& out);

struct FuzzRunOptions {
  std::string binary;                    // build/fuzz/fuzz/fuzz_gup
  std::string target;
  std::string dir;                       // the run's directory: work/ (new inputs), crashes/, fuzz.log
  std::vector<std::string> seed_dirs;    // read-only corpora after work/
  std::string dict;                      // "" : none
  unsigned jobs = 1;
  double seconds = 10;
  unsigned rss_limit_mb = 2560;
  unsigned timeout = 20;
  std::vector<std::pair<std::string, std::string>> env;  // set in the child (REFHAMMER_DESIGN, ...)
  std::function<void(const FuzzRun&)> on_tick;           // about every 0.5 s
};

// Runs it; never throws. The returned run's paths are absolute.
FuzzRun run_fuzzer(const FuzzRunOptions& o);

// Crash files of a run (crash-*, leak-*, timeout-*, oom-*), oldest first.
std::vector<std::string> crash_files(const std::string& dir);

// Merges `work` into `corpus` atomically: the corpus is copied to a
// temporary directory beside it, `binary -merge=1 tmp work` adds what reaches
// new coverage, and two renames swap it in (an interrupted merge leaves the
// old corpus). Empty on success; `added` is the number of new files.
std::string merge_corpus(const std::string& binary, const std::string& corpus, const std::string& work,
                         const std::string& log, unsigned rss_limit_mb, unsigned timeout, uint64_t& added);

}  // namespace refhammer::campaign
