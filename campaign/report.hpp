// campaign::Report — what one campaign did and found, and its four forms:
// report.json (machine readable), report.md (the summary a person reads in
// a CI log), report.html (self-contained: inline CSS and SVG, no scripts,
// no external references) and junit.xml (one test case per target, stress
// run, design variant and finding). docs/reports.md documents the schemas.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "campaign/config.hpp"

namespace refhammer::campaign {

// One libFuzzer status line, as sampled while the target ran.
struct FuzzSample {
  double t = 0;          // seconds since the target started
  uint64_t execs = 0;    // #N
  uint64_t cov = 0;
  uint64_t ft = 0;
  uint64_t corpus = 0;
  uint64_t exec_per_s = 0;
  uint64_t crashes = 0;  // oom/timeout/crash total so far
};

struct FuzzRun {
  std::string target;
  std::string design;            // REFHAMMER_DESIGN of the run ("" : the defaults)
  double started = 0;            // seconds since the campaign started
  double seconds = 0;            // wall time
  int exit_code = 0;
  std::string log;               // the libFuzzer log (relative to the output directory)
  std::vector<FuzzSample> series;
  uint64_t crash_files = 0;
  double first_crash = -1;       // seconds since the run started when the first crash file appeared; -1: none
  uint64_t execs_before_first_crash = 0;
  uint64_t merged_new = 0;       // inputs merge added to the run's corpus
  std::string merge_note;        // "", "merged", "skipped: ...", "failed: ..."
  std::string error;             // could not run
  int round = 0;                 // the fuzz phase's budget round (1 even, 2 by yield); 0 other phases
  std::string budget_note;       // why the run got its slice
  uint64_t execs() const { return series.empty() ? 0 : series.back().execs; }
  uint64_t cov() const { return series.empty() ? 0 : series.back().cov; }
  uint64_t ft() const { return series.empty() ? 0 : series.back().ft; }
  double exec_per_s() const;
};

struct StressRun {
  std::string profile;
  std::string scheduler;
  std::string design;
  unsigned threads = 0;
  double started = 0;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t audits = 0;
  uint64_t worlds = 0;
  bool violation = false;
  std::string signature;
  double detect_seconds = 0;
  bool reproduced = false;
  std::string trace;             // the stress trace / its deterministic reproduction (relative paths)
  std::string repro_trace;
  double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
};

// A deduplicated finding (one per key).
struct Finding {
  std::string key;               // signature, + "@design" when the design is not the default
  std::string signature;         // kind/site/op (or "crash/<target>/<kind>" when it did not reproduce)
  std::string design;            // format_design of the model it was found on
  std::string source;            // "fuzz fuzz_gup", "stress offline/perturb", "compare offline/legacy fuzz"
  std::string phase;             // fuzz | stress | compare
  double t = 0;                  // seconds since the campaign started
  uint64_t hits = 1;             // crash files / runs that gave this key
  std::string status;            // new | regression | known | variant (campaign/dedup.hpp)
  std::string known_as;          // the regression trace with the same key (known) or signature (regression)
  bool reproduced = false;       // deterministically, on the fiber scheduler
  std::string input;             // the crash file or stress trace it came from (relative path)
  std::string note;              // why it did not reproduce / minimize, if so
  bool minimized = false;
  size_t ops_before = 0, ops_after = 0;
  uint64_t preemptions_before = 0, preemptions_after = 0;
  double minimize_seconds = 0;
  std::string trace_path;        // findings/<slug>.trace (relative), the regression candidate
  std::string trace_text;        // its text
  bool counts() const { return status == "new" || status == "regression"; }
};

// One side of a design pair.
struct VariantResult {
  std::string label;
  std::string design;            // format_design of the model
  FuzzRun fuzz;                  // target "" when the pair runs no fuzz target
  StressRun stress;              // profile "" when it runs no stress
  bool has_fuzz = false, has_stress = false;
  std::vector<std::string> finding_keys;
  double time_to_first = -1;     // seconds of the variant's own budget until its first finding; -1: none
  uint64_t execs_without_finding = 0;  // executions (fuzz inputs + stress ops) that found nothing
  double freepath_ns = 0;        // alloc_pages(0) + folio_put on this model, best of 5
  double bench_freepath_ns = 0;  // bench/core_bench BM_FreePath_* when it measures this variant (0: n/a)
  bool found() const { return !finding_keys.empty(); }
};

struct PairResult {
  ComparePair pair;
  VariantResult a, b;
  double seconds_each = 0;       // the budget each side had
};

struct PhaseTime {
  std::string name;
  double start = 0, seconds = 0, budget = 0;
};

struct BugbenchRow {
  std::string mutant;
  std::map<std::string, double> seconds;  // driver -> time to detect; < 0: not found (null)
};

struct Report {
  std::string tool_version = "refhammer 0.1";
  std::string started_utc;       // 2025-01-01T00:00:00Z
  std::string out_dir;
  std::string command;           // how to repeat it
  uint64_t seed = 0;
  unsigned cores = 0;
  Config config;
  double seconds = 0;            // wall time of the campaign
  std::vector<PhaseTime> phases;      // in the order they ran
  std::vector<FuzzRun> fuzz;          // one per fuzz target and round
  std::vector<StressRun> stress;      // one per profile and scheduler
  std::vector<Finding> findings;      // deduplicated by signature, in the order found
  std::vector<PairResult> compare;    // one per design pair
  std::vector<BugbenchRow> bugbench;  // one per mutant (--bugbench)
  std::string bugbench_source;
  std::string bugbench_error;
  std::vector<std::string> notes;  // skipped phases and why
  size_t new_findings() const;
};

// Parses a bugbench JSON (docs/reports.md): empty on success.
std::string parse_bugbench(const std::string& text, const std::string& filename, std::vector<BugbenchRow>& out);

std::string to_json(const Report& r);        // report.json
std::string to_markdown(const Report& r);    // report.md
std::string to_html(const Report& r);        // report.html
std::string to_junit(const Report& r);       // junit.xml

// Text escapes.
std::string html_escape(const std::string& s);
std::string xml_escape(const std::string& s);

}  // namespace refhammer::campaign
