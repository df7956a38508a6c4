// bench/bench_report — see bench_report.hpp.
#include "bench/bench_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace refhammer::bench {

void Collector::add(const Run& r) {
  Entry& e = entries_[r.run_name.function_name];
  if (r.error_occurred) {
    e.errors.push_back(r.error_message);
    return;
  }
  const double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
  const Sample s{r.GetAdjustedCPUTime() * to_ns, r.GetAdjustedRealTime() * to_ns};
  const auto counter = counter_ != nullptr ? r.counters.find(counter_) : r.counters.end();
  const bool has_counter = counter != r.counters.end();
  if (r.run_type == Run::RT_Aggregate) {
    e.aggregate_runs = static_cast<int>(r.iterations);  // an aggregate's iterations = repetitions
    if (r.aggregate_name == "median") {
      e.median = s;
      if (has_counter) e.median_counter = counter->second.value;
    }
    if (r.aggregate_name == "min") e.min = s;
  } else {
    e.runs.push_back(s);
    if (has_counter) e.counters.push_back(counter->second.value);
  }
}

std::optional<Measured> Collector::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.errors.empty()) return std::nullopt;
  const Entry& e = it->second;
  if (e.median && (e.min || !need_min_)) return Measured{*e.median, e.min, e.aggregate_runs, e.median_counter};
  if (e.runs.empty()) return std::nullopt;
  std::vector<double> cpu, real;
  for (const Sample& s : e.runs) {
    cpu.push_back(s.cpu_ns);
    real.push_back(s.real_ns);
  }
  std::optional<double> c;
  if (!e.counters.empty()) c = median(e.counters);
  return Measured{Sample{median(cpu), median(real)},
                  Sample{*std::min_element(cpu.begin(), cpu.end()), *std::min_element(real.begin(), real.end())},
                  static_cast<int>(e.runs.size()), c};
}

std::vector<std::pair<std::string, std::string>> Collector::errors() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, e] : entries_)
    if (!e.errors.empty()) out.emplace_back(name, e.errors.front());
  return out;
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& r : runs) sink_(r);
  inner_->ReportRuns(runs);
}

std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::string& format) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
  if (format == "csv") return std::make_unique<benchmark::CSVReporter>();
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
  return std::make_unique<benchmark::ConsoleReporter>(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                                                                            : benchmark::ConsoleReporter::OO_None);
}

CommandLine::CommandLine(char* argv0, const std::vector<std::string>& defaults, bool aggregates_only,
                         const std::vector<char*>& user)
    : extra_(defaults), format_(flag_value(user, "--benchmark_format")) {
  if (aggregates_only && !has_flag(user, "--benchmark_display_aggregates_only") &&
      !has_flag(user, "--benchmark_report_aggregates_only"))
    extra_.push_back("--benchmark_display_aggregates_only=true");
  args_.push_back(argv0);
  for (std::string& d : extra_) args_.push_back(d.data());
  args_.insert(args_.end(), user.begin(), user.end());
}

bool CommandLine::initialize() {
  int nargs = static_cast<int>(args_.size());
  args_.push_back(nullptr);
  benchmark::Initialize(&nargs, args_.data());
  return !benchmark::ReportUnrecognizedArguments(nargs, args_.data());
}

std::vector<char*> user_args(int argc, char** argv) { return std::vector<char*>(argv + 1, argv + argc); }

bool has_flag(const std::vector<char*>& args, const char* flag) {
  const size_t len = std::strlen(flag);
  for (const char* a : args)
    if (std::strncmp(a, flag, len) == 0 && (a[len] == '=' || a[len] == '\0')) return true;
  return false;
}

std::string flag_value(const std::vector<char*>& args, const char* flag) {
  const size_t len = std::strlen(flag);
  std::string v;
  for (const char* a : args)
    if (std::strncmp(a, flag, len) == 0 && a[len] == '=') v = a + len + 1;
  return v;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int print_errors(const std::vector<std::pair<std::string, std::string>>& errors) {
  for (const auto& [name, msg] : errors) std::fprintf(stderr, "ERROR: %s: %s\n", name.c_str(), msg.c_str());
  return errors.empty() ? 0 : 1;
}

}  // namespace refhammer::bench
