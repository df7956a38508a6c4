// campaign/report_common — what the writers of the report's forms
// (report_json.cpp, report_md.cpp, report_html.cpp, report_junit.cpp)
// share: number and time formatting, each driver's numbers for one side of
// a design pair, and the rows of a pair's side-by-side table. Internal to
// campaign/report*.cpp; report.hpp is the interface.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "campaign/report.hpp"

namespace refhammer::campaign::report_detail {

// snprintf of one double with format `f`.
std::string fmt(const char* f, double v);
// 1234567 -> "1.23M", 12345 -> "12.3k"
std::string human(double v);
// "—" (< 0), "1.23 s", "12.3 s", "12.5 min"
std::string secs(double s);

// Per driver of a variant: time to the first finding (-1: none) and the
// executions that found nothing (all of them, or those before the first).
struct DriverStat {
  bool ran = false, found = false;
  double ttf = -1;
  uint64_t clean_execs = 0;
  uint64_t execs = 0;
};
DriverStat fuzz_stat(const VariantResult& v);
DriverStat stress_stat(const VariantResult& v);

// The finding with that key, nullptr none.
const Finding* find_key(const Report& r, const std::string& key);

// A driver's time to the first finding (time) or its executions without
// one, as a table cell; "" when it did not run.
std::string driver_text(const DriverStat& d, bool time);

// The rows of a design pair's side-by-side table: {label, a, b}, markdown
// `code` spans in the cells.
std::vector<std::array<std::string, 3>> pair_rows(const Report& r, const PairResult& p);

}  // namespace refhammer::campaign::report_detail
