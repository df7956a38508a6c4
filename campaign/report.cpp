// campaign::Report — what the four forms of a campaign's report share
// (report_common.hpp), the text escapes, and the parser of a bugbench JSON.
// The forms: report_json.cpp, report_md.cpp, report_html.cpp,
// report_junit.cpp. See report.hpp and docs/reports.md.
#include "campaign/report.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "campaign/dedup.hpp"
#include "campaign/report_common.hpp"

namespace refhammer::campaign {

size_t Report::new_findings() const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return f.counts(); }));
}

namespace report_detail {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// 1234567 -> "1.23M", 12345 -> "12.3k"
std::string human(double v) {
  if (v >= 1e9) return fmt("%.2fG", v / 1e9);
  if (v >= 1e6) return fmt("%.2fM", v / 1e6);
  if (v >= 1e4) return fmt("%.1fk", v / 1e3);
  return fmt("%.0f", v);
}

std::string secs(double s) {
  if (s < 0) return "—";
  if (s < 10) return fmt("%.2f s", s);
  if (s < 600) return fmt("%.1f s", s);
  return fmt("%.1f min", s / 60);
}

DriverStat fuzz_stat(const VariantResult& v) {
  DriverStat d;
  d.ran = v.has_fuzz;
  if (!d.ran) return d;
  d.execs = v.fuzz.execs();
  d.found = v.fuzz.crash_files > 0;
  d.ttf = d.found ? v.fuzz.first_crash : -1;
  d.clean_execs = d.found ? v.fuzz.execs_before_first_crash : d.execs;
  return d;
}
DriverStat stress_stat(const VariantResult& v) {
  DriverStat d;
  d.ran = v.has_stress;
  if (!d.ran) return d;
  d.execs = v.stress.ops;
  d.found = v.stress.violation;
  d.ttf = d.found ? v.stress.detect_seconds : -1;
  d.clean_execs = v.stress.ops;
  return d;
}

const Finding* find_key(const Report& r, const std::string& key) {
  for (const auto& f : r.findings)
    if (f.key == key) return &f;
  return nullptr;
}

std::string driver_text(const DriverStat& d, bool time) {
  if (!d.ran) return "";
  if (time) return d.found ? secs(d.ttf) : "—";
  return human(static_cast<double>(d.clean_execs));
}

// The rows of a design pair's side-by-side table: {label, a, b}.
std::vector<std::array<std::string, 3>> pair_rows(const Report& r, const PairResult& p) {
  std::vector<std::array<std::string, 3>> rows;
  auto found = [&](const VariantResult& v) {
    if (v.finding_keys.empty()) return std::string("none");
    std::string s = std::to_string(v.finding_keys.size()) + ":";
    for (const auto& k : v.finding_keys) {
      const Finding* f = find_key(r, k);
      s += " `" + (f ? f->signature : k) + "`";
    }
    return s;
  };
  auto ttf = [&](const VariantResult& v) {
    const DriverStat f = fuzz_stat(v), s = stress_stat(v);
    std::string o;
    if (f.ran) o += "fuzz " + driver_text(f, true);
    if (s.ran) o += std::string(o.empty() ? "" : ", ") + "stress " + driver_text(s, true);
    return o;
  };
  auto clean = [&](const VariantResult& v) {
    const DriverStat f = fuzz_stat(v), s = stress_stat(v);
    std::string o;
    if (f.ran) o += "fuzz " + driver_text(f, false) + " inputs";
    if (s.ran) o += std::string(o.empty() ? "" : ", ") + "stress " + driver_text(s, false) + " ops";
    return o;
  };
  auto cost = [&](const VariantResult& v) {
    std::string o = fmt("%.1f ns", v.freepath_ns);
    if (v.bench_freepath_ns > 0) o += " (core_bench " + fmt("%.1f ns", v.bench_freepath_ns) + ")";
    return o;
  };
  auto dd = [](const std::string& d) {
    const std::string x = design_diff(d);
    return x.empty() ? std::string("the default design") : "`" + x + "`";
  };
  rows.push_back({"design (items not at their default)", dd(p.a.design), dd(p.b.design)});
  rows.push_back({"violations found", found(p.a), found(p.b)});
  rows.push_back({"time to first finding", ttf(p.a), ttf(p.b)});
  rows.push_back({"executions without a finding", clean(p.a), clean(p.b)});
  rows.push_back({"free-path cost (alloc_pages(0) + folio_put)", cost(p.a), cost(p.b)});
  return rows;
}

}  // namespace report_detail

// ---------------------------------------------------------------- escapes

namespace {

// `s` with the five markup characters as entities; `apos` is the single
// quote's (HTML 4 has no &apos;). With `xml`, drops the control characters
// XML 1.0 does not allow.
std::string markup_escape(const std::string& s, const char* apos, bool xml) {
  std::string o;
  o.reserve(s.size());
  for (unsigned char c : s) {
    if (xml && c < 0x20 && c != '\n' && c != '\t' && c != '\r') continue;
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += apos; break;
      default: o += static_cast<char>(c);
    }
  }
  return o;
}

}  // namespace

std::string html_escape(const std::string& s) { return markup_escape(s, "&#39;", false); }
std::string xml_escape(const std::string& s) { return markup_escape(s, "&apos;", true); }

// ---------------------------------------------------------------- bugbench

std::string parse_bugbench(const std::string& text, const std::string& filename, std::vector<BugbenchRow>& out) {
  out.clear();
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    return filename + ": not valid JSON";
  }
  if (!j.is_object() || !j.contains("mutants") || !j["mutants"].is_array())
    return filename + ": mutants: missing (expected {\"mutants\": [{\"name\": ..., \"drivers\": {...}}]})";
  for (size_t i = 0; i < j["mutants"].size(); ++i) {
    const auto& m = j["mutants"][i];
    const std::string w = filename + ": mutants[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) return w + ".name: missing or not a string";
    if (!m.contains("drivers") || !m["drivers"].is_object()) return w + ".drivers: missing or not an object";
    BugbenchRow r;
    r.mutant = m["name"].get<std::string>();
    for (auto it = m["drivers"].begin(); it != m["drivers"].end(); ++it) {
      const auto& d = it.value();
      if (!d.is_object() || !d.contains("seconds"))
        return w + ".drivers." + it.key() + ".seconds: missing";
      const auto& s = d["seconds"];
      if (s.is_null()) r.seconds[it.key()] = -1;
      else if (s.is_number() && s.get<double>() >= 0) r.seconds[it.key()] = s.get<double>();
      else return w + ".drivers." + it.key() + ".seconds: must be a non-negative number or null";
    }
    out.push_back(std::move(r));
  }
  return {};
}

}  // namespace refhammer::campaign
