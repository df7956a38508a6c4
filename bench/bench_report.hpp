// bench/bench_report — what the Google Benchmark programs of bench/
// (core_bench, fiber_bench, harness_bench) share around their runs: the
// library's command line with each program's defaults before the user's
// arguments, a reporter that forwards to the display the user asked for
// (--benchmark_format) and keeps a copy of every run, the per-benchmark
// median and minimum those runs give, and the banner's build description.
// The tables and targets each program prints from the runs stay in it.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace refhammer::bench {

using Run = benchmark::BenchmarkReporter::Run;

// CPU and real time of one iteration, in ns.
struct Sample {
  double cpu_ns = 0, real_ns = 0;
};

// One benchmark over its repetitions.
struct Measured {
  Sample median;
  std::optional<Sample> min;      // always there when the Collector needs a min (see Collector)
  int runs = 0;                   // repetitions behind the numbers
  std::optional<double> counter;  // the Collector's counter, median over the repetitions
};

// Per benchmark, keyed by the name it was registered under
// (run_name.function_name): the median and the minimum over its
// repetitions, from the library's aggregates when it computed them, else
// from the repetitions it reported; and every error.
class Collector {
 public:
  // counter: a user counter to keep as well (its median), nullptr none.
  // need_min: the benchmarks compute a "min" statistic (ComputeStatistics):
  // the aggregates are used only when both the median and the min came.
  // Without it the aggregates need only the median, and Measured::min is
  // nullopt when they are used.
  explicit Collector(const char* counter = nullptr, bool need_min = false) : counter_(counter), need_min_(need_min) {}

  void add(const Run& r);
  std::optional<Measured> get(const std::string& name) const;  // nullopt: not run, or it failed
  // name: first error message, for every benchmark that failed (by name).
  std::vector<std::pair<std::string, std::string>> errors() const;

 private:
  struct Entry {
    std::optional<Sample> median, min;
    std::optional<double> median_counter;
    int aggregate_runs = 0;
    std::vector<Sample> runs;
    std::vector<double> counters;
    std::vector<std::string> errors;
  };
  const char* counter_;
  bool need_min_;
  std::map<std::string, Entry> entries_;
};

// Forwards everything to the display reporter and hands each run to `sink`
// first.
class CollectingReporter final : public benchmark::BenchmarkReporter {
 public:
  CollectingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, std::function<void(const Run&)> sink)
      : inner_(std::move(inner)), sink_(std::move(sink)) {}
  CollectingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, Collector& c)
      : CollectingReporter(std::move(inner), [&c](const Run& r) { c.add(r); }) {}
  bool ReportContext(const Context& ctx) override { return inner_->ReportContext(ctx); }
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override { inner_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::function<void(const Run&)> sink_;
};

// The reporter of --benchmark_format: json, csv, else the console (in
// colour on a terminal).
std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::string& format);

// The library's command line: argv[0], the program's `defaults`, then
// --benchmark_display_aggregates_only=true when `aggregates_only` and the
// user gave neither it nor --benchmark_report_aggregates_only, then the
// user's arguments. The last occurrence of a flag wins, so the user can
// override every default.
class CommandLine {
 public:
  CommandLine(char* argv0, const std::vector<std::string>& defaults, bool aggregates_only,
              const std::vector<char*>& user);
  // benchmark::Initialize; false when an argument was not recognized (the
  // library has said so on stderr).
  bool initialize();
  // The user's --benchmark_format ("" : none).
  const std::string& format() const { return format_; }
  // Where the banner and the table go: stdout after the console output, or
  // stderr when stdout carries JSON or CSV.
  std::FILE* out() const { return format_.empty() || format_ == "console" ? stdout : stderr; }

 private:
  std::vector<std::string> extra_;  // the defaults (and the aggregates flag): args_ points into them
  std::vector<char*> args_;
  std::string format_;
};

// The user's arguments: argv[1..argc).
std::vector<char*> user_args(int argc, char** argv);
// --flag or --flag=value among `args`.
bool has_flag(const std::vector<char*>& args, const char* flag);
// The value of the last --flag=value among `args` ("" : none), as the
// library lets the last one win.
std::string flag_value(const std::vector<char*>& args, const char* flag);

// Median of `v`; 0 when empty.
double median(std::vector<double> v);

// "ERROR: name: message" on stderr for each; 1 when there was any, else 0
// (the programs' exit code).
int print_errors(const std::vector<std::pair<std::string, std::string>>& errors);

// For the banners. Inline, so that they describe the program's own
// translation unit.
inline const char* compiler_name() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown compiler";
#endif
}

inline const char* assertions_kind() {
#ifdef NDEBUG
  return "NDEBUG";
#else
  return "assertions ON (not representative)";
#endif
}

}  // namespace refhammer::bench
