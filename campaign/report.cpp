// campaign::Report — the four forms of a campaign's report. See report.hpp
// and docs/reports.md.
#include "campaign/report.hpp"

#include "campaign/dedup.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace refhammer::campaign {

using ojson = nlohmann::ordered_json;

size_t Report::new_findings() const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) { return f.counts(); }));
}

namespace {

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

// Per driver of a variant: time to the first finding (-1: none) and the
// executions that found nothing (all of them, or those before the first).
struct DriverStat {
  bool ran = false, found = false;
  double ttf = -1;
  uint64_t clean_execs = 0;
  uint64_t execs = 0;
};
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

ojson fuzz_json(const FuzzRun& f, bool series) {
  ojson j;
  j["target"] = f.target;
  j["design"] = f.design;
  j["started"] = f.started;
  j["seconds"] = f.seconds;
  j["exit_code"] = f.exit_code;
  j["log"] = f.log;
  j["execs"] = f.execs();
  j["exec_per_s"] = std::round(f.exec_per_s());
  j["cov"] = f.cov();
  j["ft"] = f.ft();
  j["crash_files"] = f.crash_files;
  j["first_crash_seconds"] = f.first_crash < 0 ? ojson(nullptr) : ojson(f.first_crash);
  j["execs_before_first_crash"] = f.first_crash < 0 ? ojson(nullptr) : ojson(f.execs_before_first_crash);
  j["merged_new"] = f.merged_new;
  j["merge"] = f.merge_note;
  if (!f.error.empty()) j["error"] = f.error;
  if (f.round != 0) {
    j["round"] = f.round;
    j["budget"] = f.budget_note;
  }
  if (series) {
    ojson s = ojson::array();
    for (const auto& x : f.series)
      s.push_back({{"t", std::round(x.t * 100) / 100}, {"execs", x.execs}, {"cov", x.cov}, {"ft", x.ft},
                   {"corpus", x.corpus}, {"exec_per_s", x.exec_per_s}, {"crashes", x.crashes}});
    j["series"] = s;
  }
  return j;
}

ojson stress_json(const StressRun& s) {
  return {{"profile", s.profile},     {"scheduler", s.scheduler},  {"design", s.design},
          {"threads", s.threads},     {"started", s.started},      {"seconds", s.seconds},
          {"ops", s.ops},             {"ops_per_s", std::round(s.ops_per_s())},
          {"audits", s.audits},       {"worlds", s.worlds},        {"violation", s.violation},
          {"signature", s.signature}, {"detect_seconds", s.violation ? ojson(s.detect_seconds) : ojson(nullptr)},
          {"reproduced", s.reproduced}, {"trace", s.trace},        {"repro_trace", s.repro_trace}};
}

ojson config_json(const Config& c) {
  ojson pairs = ojson::array();
  for (const auto& p : c.compare.pairs)
    pairs.push_back({{"name", p.name},
                     {"title", p.title},
                     {"base", p.base},
                     {"a", {{"label", p.a.label}, {"design", p.a.design}}},
                     {"b", {{"label", p.b.label}, {"design", p.b.design}}},
                     {"target", p.target},
                     {"profile", p.profile}});
  return {{"seconds", c.seconds},
          {"seed", c.seed},
          {"out", c.out_dir},
          {"regressions", c.regressions_dir},
          {"bugbench", c.bugbench},
          {"bench_dir", c.bench_dir},
          {"shares", {{"fuzz", c.shares.fuzz}, {"stress", c.shares.stress}, {"compare", c.shares.compare},
                      {"minimize", c.shares.minimize}}},
          {"fuzz", {{"enabled", c.fuzz.enabled}, {"targets", c.fuzz.targets}, {"bin_dir", c.fuzz.bin_dir},
                    {"asan_bin_dir", c.fuzz.asan_bin_dir},
                    {"corpora_dir", c.fuzz.corpora_dir}, {"corpus_dir", c.fuzz.corpus_dir},
                    {"update_corpora", c.fuzz.update_corpora}, {"jobs", c.fuzz.jobs}, {"rss_limit_mb", c.fuzz.rss_limit_mb},
                    {"timeout", c.fuzz.timeout}, {"merge", c.fuzz.merge}, {"min_seconds", c.fuzz.min_seconds}, {"explore_share", c.fuzz.explore_share},
                    {"max_crash_files", c.fuzz.max_crash_files}}},
          {"stress", {{"enabled", c.stress.enabled}, {"profiles", c.stress.profiles},
                      {"schedulers", c.stress.schedulers}, {"threads", c.stress.threads}, {"frames", c.stress.frames},
                      {"repro_seconds", c.stress.repro_seconds}, {"min_seconds", c.stress.min_seconds}}},
          {"minimize", {{"enabled", c.minimize.enabled}, {"seconds_per_finding", c.minimize.seconds_per_finding},
                        {"min_seconds", c.minimize.min_seconds}}},
          {"compare", {{"enabled", c.compare.enabled}, {"scheduler", c.compare.scheduler},
                       {"freepath_iters", c.compare.freepath_iters}, {"pairs", pairs}}}};
}

ojson variant_json(const VariantResult& v) {
  const DriverStat f = fuzz_stat(v), s = stress_stat(v);
  ojson j;
  j["label"] = v.label;
  j["design"] = v.design;
  j["fuzz"] = v.has_fuzz ? fuzz_json(v.fuzz, true) : ojson(nullptr);
  j["stress"] = v.has_stress ? stress_json(v.stress) : ojson(nullptr);
  j["findings"] = v.finding_keys;
  j["time_to_first_finding"] = {{"fuzz", f.ran && f.found ? ojson(f.ttf) : ojson(nullptr)},
                                {"stress", s.ran && s.found ? ojson(s.ttf) : ojson(nullptr)}};
  j["executions_without_finding"] = {{"fuzz", f.ran ? ojson(f.clean_execs) : ojson(nullptr)},
                                     {"stress", s.ran ? ojson(s.clean_execs) : ojson(nullptr)}};
  j["freepath_ns"] = v.freepath_ns;
  j["bench_freepath_ns"] = v.bench_freepath_ns > 0 ? ojson(v.bench_freepath_ns) : ojson(nullptr);
  return j;
}

}  // namespace

std::string parse_bugbench(const std::string& text, const std::string& filename, std::vector<BugbenchRow>& out) {
  out.clear();
  ojson j;
  try {
    j = ojson::parse(text);
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

std::string to_json(const Report& r) {
  ojson j;
  j["schema"] = "refhammer-campaign-report/1";
  j["tool"] = r.tool_version;
  j["started"] = r.started_utc;
  j["out_dir"] = r.out_dir;
  j["command"] = r.command;
  j["seed"] = r.seed;
  j["cores"] = r.cores;
  j["seconds"] = r.seconds;
  j["verdict"] = r.new_findings() > 0 ? "new findings" : "clean";
  j["new_findings"] = r.new_findings();
  j["config"] = config_json(r.config);
  ojson ph = ojson::array();
  for (const auto& p : r.phases)
    ph.push_back({{"name", p.name}, {"start", p.start}, {"seconds", p.seconds}, {"budget", p.budget}});
  j["phases"] = ph;
  ojson fz = ojson::array();
  for (const auto& f : r.fuzz) fz.push_back(fuzz_json(f, true));
  j["fuzz"] = fz;
  ojson st = ojson::array();
  for (const auto& s : r.stress) st.push_back(stress_json(s));
  j["stress"] = st;
  ojson fi = ojson::array();
  for (const auto& f : r.findings)
    fi.push_back({{"key", f.key},
                  {"signature", f.signature},
                  {"design", f.design},
                  {"status", f.status},
                  {"known_as", f.known_as},
                  {"source", f.source},
                  {"phase", f.phase},
                  {"t", f.t},
                  {"hits", f.hits},
                  {"reproduced", f.reproduced},
                  {"input", f.input},
                  {"note", f.note},
                  {"minimized", f.minimized},
                  {"ops_before", f.ops_before},
                  {"ops_after", f.ops_after},
                  {"preemptions_before", f.preemptions_before},
                  {"preemptions_after", f.preemptions_after},
                  {"minimize_seconds", f.minimize_seconds},
                  {"trace_path", f.trace_path},
                  {"trace", f.trace_text}});
  j["findings"] = fi;
  ojson cmp = ojson::array();
  for (const auto& p : r.compare)
    cmp.push_back({{"name", p.pair.name},
                   {"title", p.pair.title},
                   {"base", p.pair.base},
                   {"target", p.pair.target},
                   {"profile", p.pair.profile},
                   {"seconds_each", p.seconds_each},
                   {"a", variant_json(p.a)},
                   {"b", variant_json(p.b)}});
  j["compare"] = cmp;
  if (r.bugbench_source.empty()) {
    j["bugbench"] = nullptr;
  } else {
    ojson ms = ojson::array();
    for (const auto& b : r.bugbench) {
      ojson d = ojson::object();
      for (const auto& [k, v] : b.seconds) d[k] = v < 0 ? ojson(nullptr) : ojson(v);
      ms.push_back({{"name", b.mutant}, {"seconds", d}});
    }
    j["bugbench"] = {{"source", r.bugbench_source}, {"error", r.bugbench_error}, {"mutants", ms}};
  }
  j["notes"] = r.notes;
  return j.dump(2) + "\n";
}

// ---------------------------------------------------------------- markdown

namespace {

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return o;
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

}  // namespace

std::string to_markdown(const Report& r) {
  std::ostringstream o;
  const size_t nnew = r.new_findings();
  o << "# refhammer campaign: " << (nnew ? std::to_string(nnew) + " NEW finding(s)" : std::string("clean")) << "\n\n";
  o << "Started " << r.started_utc << ", " << secs(r.seconds) << " wall, budget " << secs(r.config.seconds) << ", seed "
    << r.seed << ", " << r.cores << " core(s). Output: `" << r.out_dir << "`.\n";
  if (!r.command.empty()) o << "Repeat: `" << r.command << "`\n";
  o << "\n| phase | budget | took |\n|---|---:|---:|\n";
  for (const auto& p : r.phases) o << "| " << p.name << " | " << secs(p.budget) << " | " << secs(p.seconds) << " |\n";

  o << "\n## Findings\n\n";
  if (r.findings.empty()) {
    o << "None.\n";
  } else {
    o << "| status | signature | design | found by | at | hits | reproduced | minimized | trace |\n"
         "|---|---|---|---|---:|---:|---|---|---|\n";
    for (const auto& f : r.findings) {
      o << "| "
        << (f.status == "new"          ? std::string("**NEW**")
            : f.status == "regression" ? "**REGRESSION** (of " + f.known_as + ")"
                                       : f.status + (f.known_as.empty() ? "" : " (" + f.known_as + ")"))
        << " | `" << md_cell(f.signature) << "` | " << (design_diff(f.design).empty() ? std::string("default") : "`" + md_cell(design_diff(f.design)) + "`")
        << " | " << md_cell(f.source) << " | " << secs(f.t) << " | " << f.hits << " | " << (f.reproduced ? "yes" : "no")
        << " | " << (f.minimized ? std::to_string(f.ops_before) + " → " + std::to_string(f.ops_after) + " ops" : "—")
        << " | " << (f.trace_path.empty() ? md_cell(f.note) : "`" + f.trace_path + "`") << " |\n";
    }
  }

  if (!r.fuzz.empty()) {
    o << "\n## Fuzz targets\n\n| target | seconds | runs | exec/s | cov | ft | crash files | corpus merge | budget |\n"
         "|---|---:|---:|---:|---:|---:|---:|---|---|\n";
    for (const auto& f : r.fuzz)
      o << "| " << f.target << " | " << fmt("%.1f", f.seconds) << " | " << human(static_cast<double>(f.execs())) << " | "
        << fmt("%.0f", f.exec_per_s()) << " | " << f.cov() << " | " << f.ft() << " | " << f.crash_files << " | "
        << (f.error.empty() ? (f.merge_note.rfind("merged", 0) == 0 ? "+" + std::to_string(f.merged_new)
                                                                    : md_cell(f.merge_note))
                            : "ERROR " + md_cell(f.error))
        << " | " << md_cell(f.budget_note) << " |\n";
  }
  if (!r.stress.empty()) {
    o << "\n## Stress\n\n| profile | scheduler | threads | seconds | ops | ops/s | audits | verdict |\n"
         "|---|---|---:|---:|---:|---:|---:|---|\n";
    for (const auto& s : r.stress)
      o << "| " << s.profile << " | " << s.scheduler << " | " << s.threads << " | " << fmt("%.1f", s.seconds) << " | "
        << human(static_cast<double>(s.ops)) << " | " << human(s.ops_per_s()) << " | " << s.audits << " | "
        << (s.violation ? "`" + s.signature + "`" + (s.reproduced ? " (reproduced)" : " (not reproduced)")
                        : std::string("clean"))
        << " |\n";
  }
  if (!r.compare.empty()) {
    o << "\n## Design comparison\n\nEach variant ran the same drivers under the same budget ("
      << secs(r.compare.front().seconds_each) << " each). Executions: fuzz inputs and stress ops before the first "
         "finding, or all of them.\n";
    for (const auto& p : r.compare) {
      o << "\n### " << p.pair.name << ": " << p.pair.title << "\n\n";
      const bool fz = p.a.has_fuzz || p.b.has_fuzz;
      o << "Drivers: " << (!fz ? "" : "fuzz target `" + p.pair.target + "`") << (!fz || p.pair.profile.empty() ? "" : ", ")
        << (p.pair.profile.empty() ? "" : "stress profile `" + p.pair.profile + "` (" + r.config.compare.scheduler + ")")
        << "\n\n| | " << md_cell(p.a.label) << " | " << md_cell(p.b.label) << " |\n|---|---|---|\n";
      for (const auto& row : pair_rows(r, p))
        o << "| " << row[0] << " | " << md_cell(row[1]) << " | " << md_cell(row[2]) << " |\n";
      for (const VariantResult* v : {&p.a, &p.b})
        for (const auto& k : v->finding_keys) {
          const Finding* f = find_key(r, k);
          if (f == nullptr) continue;
          if (f->minimized && !f->trace_text.empty()) {
            o << "\n" << v->label << ": `" << f->signature << "`, minimized trace (`" << f->trace_path << "`):\n\n```\n"
              << f->trace_text << "```\n";
          } else {
            o << "\n" << v->label << ": `" << f->signature << "`: "
              << (f->trace_path.empty() ? "no trace" : "`" + f->trace_path + "`") << " (not minimized"
              << (f->reproduced ? "" : ": not reproduced on the deterministic scheduler") << ")\n";
          }
        }
    }
  }
  if (!r.bugbench.empty()) {
    std::set<std::string> drivers;
    for (const auto& b : r.bugbench)
      for (const auto& [d, s] : b.seconds) drivers.insert(d);
    o << "\n## Bugbench (time to detect, `" << r.bugbench_source << "`)\n\n| mutant |";
    for (const auto& d : drivers) o << " " << d << " |";
    o << "\n|---|";
    for (size_t i = 0; i < drivers.size(); ++i) o << "---:|";
    o << "\n";
    for (const auto& b : r.bugbench) {
      o << "| " << b.mutant << " |";
      for (const auto& d : drivers) {
        const auto it = b.seconds.find(d);
        o << " " << (it == b.seconds.end() ? "" : it->second < 0 ? "not found" : secs(it->second)) << " |";
      }
      o << "\n";
    }
  }
  if (!r.notes.empty()) {
    o << "\n## Notes\n\n";
    for (const auto& n : r.notes) o << "- " << n << "\n";
  }
  o << "\nReports: `report.json`, `report.md`, `report.html`, `junit.xml`; regression candidates in `findings/`.\n";
  return o.str();
}

// ---------------------------------------------------------------- escapes

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') continue;  // not allowed in XML 1.0
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default: o += static_cast<char>(c);
    }
  }
  return o;
}

// ---------------------------------------------------------------- html

namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"};
const char* color(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

// A "nice" tick step for a range: 1, 2 or 5 times a power of ten.
double nice_step(double range, int ticks) {
  if (range <= 0) return 1;
  const double raw = range / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

std::string num(double v) {
  if (std::fabs(v) >= 1e4) return human(v);
  if (v == std::floor(v)) return fmt("%.0f", v);
  return fmt("%.2g", v);
}

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> pts;
};

// A line chart: one polyline per series, axes with nice ticks, a legend on
// the right, a <title> tooltip per point.
std::string line_chart(const std::string& title, const std::vector<Series>& ss, const std::string& xl,
                       const std::string& yl) {
  const int W = 980, H = 340, L = 70, R = 230, T = 34, B = 46;
  const int pw = W - L - R, ph = H - T - B;
  double xmax = 0, ymax = 0;
  for (const auto& s : ss)
    for (const auto& [x, y] : s.pts) xmax = std::max(xmax, x), ymax = std::max(ymax, y);
  if (xmax <= 0) xmax = 1;
  if (ymax <= 0) ymax = 1;
  const double xs = nice_step(xmax, 8), ys = nice_step(ymax, 5);
  xmax = std::ceil(xmax / xs) * xs;
  ymax = std::ceil(ymax * 1.02 / ys) * ys;
  auto X = [&](double x) { return L + x / xmax * pw; };
  auto Y = [&](double y) { return T + ph - y / ymax * ph; };
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-label=\"" << html_escape(title) << "\">\n";
  o << "<text x=\"" << L << "\" y=\"20\" class=\"ct\">" << html_escape(title) << "</text>\n";
  for (double y = 0; y <= ymax + ys / 2; y += ys)
    o << "<line x1=\"" << L << "\" x2=\"" << L + pw << "\" y1=\"" << fmt("%.1f", Y(y)) << "\" y2=\"" << fmt("%.1f", Y(y))
      << "\" class=\"grid\"/><text x=\"" << L - 6 << "\" y=\"" << fmt("%.1f", Y(y) + 4)
      << "\" class=\"tick\" text-anchor=\"end\">" << num(y) << "</text>\n";
  for (double x = 0; x <= xmax + xs / 2; x += xs)
    o << "<line x1=\"" << fmt("%.1f", X(x)) << "\" x2=\"" << fmt("%.1f", X(x)) << "\" y1=\"" << T + ph << "\" y2=\""
      << T + ph + 5 << "\" class=\"axis\"/><text x=\"" << fmt("%.1f", X(x)) << "\" y=\"" << T + ph + 18
      << "\" class=\"tick\" text-anchor=\"middle\">" << num(x) << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << pw << "\" height=\"" << ph << "\" class=\"frame\"/>\n";
  o << "<text x=\"" << L + pw / 2 << "\" y=\"" << H - 8 << "\" class=\"lbl\" text-anchor=\"middle\">"
    << html_escape(xl) << "</text>\n";
  o << "<text x=\"16\" y=\"" << T + ph / 2 << "\" class=\"lbl\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
    << T + ph / 2 << ")\">" << html_escape(yl) << "</text>\n";
  for (size_t i = 0; i < ss.size(); ++i) {
    const auto& s = ss[i];
    if (s.pts.empty()) continue;
    o << "<g><title>" << html_escape(s.name) << "</title><polyline fill=\"none\" stroke=\"" << color(i)
      << "\" stroke-width=\"2\" points=\"";
    for (const auto& [x, y] : s.pts) o << fmt("%.1f", X(x)) << "," << fmt("%.1f", Y(y)) << " ";
    o << "\"/>";
    for (const auto& [x, y] : s.pts)
      o << "<circle cx=\"" << fmt("%.1f", X(x)) << "\" cy=\"" << fmt("%.1f", Y(y)) << "\" r=\"2.5\" fill=\"" << color(i)
        << "\"><title>" << html_escape(s.name) << ": " << num(y) << " at " << fmt("%.1f", x) << " s</title></circle>";
    o << "</g>\n";
    const int ly = T + 12 + static_cast<int>(i) * 18;
    o << "<rect x=\"" << L + pw + 16 << "\" y=\"" << ly - 9 << "\" width=\"12\" height=\"12\" fill=\"" << color(i)
      << "\"/><text x=\"" << L + pw + 34 << "\" y=\"" << ly + 1 << "\" class=\"leg\">" << html_escape(s.name)
      << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

// Phases as bands over the campaign's time, findings as dots in one lane
// per status.
std::string timeline_chart(const Report& r) {
  const int W = 980, L = 90, R = 30, T = 40, lane = 34;
  const std::vector<std::string> lanes = {"new", "regression", "known", "variant"};
  const int ph = lane * static_cast<int>(lanes.size());
  const int H = T + ph + 50, pw = W - L - R;
  double xmax = std::max(1.0, r.seconds);
  for (const auto& f : r.findings) xmax = std::max(xmax, f.t);
  const double xs = nice_step(xmax, 10);
  xmax = std::ceil(xmax / xs) * xs;
  auto X = [&](double x) { return L + x / xmax * pw; };
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-label=\"findings timeline\">\n";
  o << "<text x=\"" << L << "\" y=\"20\" class=\"ct\">Findings over the campaign (phases shaded)</text>\n";
  const char* band[] = {"#dbe9f6", "#e3f1de", "#fbead3", "#ece3f3"};
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const auto& p = r.phases[i];
    o << "<rect x=\"" << fmt("%.1f", X(p.start)) << "\" y=\"" << T << "\" width=\""
      << fmt("%.1f", std::max(1.0, X(p.start + p.seconds) - X(p.start))) << "\" height=\"" << ph << "\" fill=\""
      << band[i % 4] << "\"><title>" << html_escape(p.name) << ": " << secs(p.seconds) << "</title></rect>"
      << "<text x=\"" << fmt("%.1f", X(p.start) + 4) << "\" y=\"" << T - 4 << "\" class=\"tick\">"
      << html_escape(p.name) << "</text>\n";
  }
  for (size_t i = 0; i < lanes.size(); ++i) {
    const int y = T + lane * static_cast<int>(i) + lane / 2;
    o << "<line x1=\"" << L << "\" x2=\"" << L + pw << "\" y1=\"" << y << "\" y2=\"" << y << "\" class=\"grid\"/>"
      << "<text x=\"" << L - 8 << "\" y=\"" << y + 4 << "\" class=\"tick\" text-anchor=\"end\">" << lanes[i]
      << "</text>\n";
  }
  for (double x = 0; x <= xmax + xs / 2; x += xs)
    o << "<text x=\"" << fmt("%.1f", X(x)) << "\" y=\"" << T + ph + 16 << "\" class=\"tick\" text-anchor=\"middle\">"
      << num(x) << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << pw << "\" height=\"" << ph << "\" class=\"frame\"/>\n";
  o << "<text x=\"" << L + pw / 2 << "\" y=\"" << H - 10
    << "\" class=\"lbl\" text-anchor=\"middle\">seconds since the campaign started</text>\n";
  for (const auto& f : r.findings) {
    const size_t li = f.status == "new" ? 0 : f.status == "regression" ? 1 : f.status == "known" ? 2 : 3;
    const int y = T + lane * static_cast<int>(li) + lane / 2;
    const char* c = li <= 1 ? "#d62728" : li == 2 ? "#7f7f7f" : "#1f77b4";
    o << "<circle cx=\"" << fmt("%.1f", X(f.t)) << "\" cy=\"" << y << "\" r=\"6\" fill=\"" << c
      << "\" stroke=\"#fff\"><title>" << html_escape(f.key + " (" + f.source + ", " + secs(f.t) + ")")
      << "</title></circle>\n";
  }
  o << "</svg>\n";
  return o.str();
}

// Time to detect per mutant and driver, horizontal bars on a log scale.
std::string bugbench_chart(const Report& r) {
  std::vector<std::string> drivers;
  double lo = 1e300, hi = 0;
  for (const auto& b : r.bugbench)
    for (const auto& [d, s] : b.seconds) {
      if (std::find(drivers.begin(), drivers.end(), d) == drivers.end()) drivers.push_back(d);
      if (s > 0) lo = std::min(lo, s), hi = std::max(hi, s);
    }
  if (hi <= 0) lo = 0.001, hi = 1;
  const double l0 = std::floor(std::log10(std::max(lo, 1e-6))), l1 = std::max(l0 + 1, std::ceil(std::log10(hi)));
  const int L = 250, R = 150, T = 40, bar = 12, W = 980;
  const int group = bar * static_cast<int>(std::max<size_t>(1, drivers.size())) + 10;
  const int ph = group * static_cast<int>(r.bugbench.size());
  const int H = T + ph + 50, pw = W - L - R;
  auto X = [&](double s) { return L + (std::log10(std::max(s, std::pow(10.0, l0))) - l0) / (l1 - l0) * pw; };
  std::ostringstream o;
  o << "<svg class=\"chart\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-label=\"bugbench\">\n";
  o << "<text x=\"" << L << "\" y=\"20\" class=\"ct\">Bugbench: time to detect each catalog mutant (log scale)</text>\n";
  for (double e = l0; e <= l1 + 0.5; e += 1) {
    const double x = L + (e - l0) / (l1 - l0) * pw;
    o << "<line x1=\"" << fmt("%.1f", x) << "\" x2=\"" << fmt("%.1f", x) << "\" y1=\"" << T << "\" y2=\"" << T + ph
      << "\" class=\"grid\"/><text x=\"" << fmt("%.1f", x) << "\" y=\"" << T + ph + 16
      << "\" class=\"tick\" text-anchor=\"middle\">" << num(std::pow(10.0, e)) << " s</text>\n";
  }
  for (size_t m = 0; m < r.bugbench.size(); ++m) {
    const auto& b = r.bugbench[m];
    const int gy = T + group * static_cast<int>(m);
    o << "<text x=\"" << L - 8 << "\" y=\"" << gy + group / 2 + 2 << "\" class=\"tick\" text-anchor=\"end\">"
      << html_escape(b.mutant) << "</text>\n";
    for (size_t d = 0; d < drivers.size(); ++d) {
      const auto it = b.seconds.find(drivers[d]);
      const int y = gy + 5 + bar * static_cast<int>(d);
      if (it == b.seconds.end()) continue;
      if (it->second < 0) {
        o << "<text x=\"" << L + 4 << "\" y=\"" << y + bar - 3 << "\" class=\"nf\" fill=\"" << color(d)
          << "\">not found (" << html_escape(drivers[d]) << ")</text>\n";
      } else {
        o << "<rect x=\"" << L << "\" y=\"" << y << "\" width=\"" << fmt("%.1f", std::max(1.0, X(it->second) - L))
          << "\" height=\"" << bar - 2 << "\" fill=\"" << color(d) << "\"><title>" << html_escape(b.mutant) << ", "
          << html_escape(drivers[d]) << ": " << secs(it->second) << "</title></rect><text x=\""
          << fmt("%.1f", std::max(1.0, X(it->second) - L) + L + 4) << "\" y=\"" << y + bar - 3 << "\" class=\"nf\">"
          << secs(it->second) << "</text>\n";
      }
    }
  }
  for (size_t d = 0; d < drivers.size(); ++d)
    o << "<rect x=\"" << L + pw + 16 << "\" y=\"" << T + 18 * static_cast<int>(d) << "\" width=\"12\" height=\"12\" fill=\""
      << color(d) << "\"/><text x=\"" << L + pw + 34 << "\" y=\"" << T + 10 + 18 * static_cast<int>(d)
      << "\" class=\"leg\">" << html_escape(drivers[d]) << "</text>\n";
  o << "<text x=\"" << L + pw / 2 << "\" y=\"" << H - 10
    << "\" class=\"lbl\" text-anchor=\"middle\">seconds to the first detection</text>\n</svg>\n";
  return o.str();
}

// Markdown-ish `code` spans of pair_rows() -> <code>.
std::string cell_html(const std::string& s) {
  std::string o;
  bool in = false;
  for (char c : s) {
    if (c == '`') {
      o += in ? "</code>" : "<code>";
      in = !in;
    } else {
      o += html_escape(std::string(1, c));
    }
  }
  if (in) o += "</code>";
  return o;
}

}  // namespace

std::string to_html(const Report& r) {
  std::ostringstream o;
  const size_t nnew = r.new_findings();
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>refhammer campaign "
    << html_escape(r.started_utc) << "</title>\n<style>\n"
    << "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1100px}\n"
    << "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:2em}\n"
    << "table{border-collapse:collapse;margin:8px 0 16px;max-width:100%}td,th{border:1px solid #ccc;padding:4px 8px;"
       "text-align:left;vertical-align:top;font-size:0.92em;overflow-wrap:anywhere}td code{word-break:break-all}"
       "details pre{white-space:pre;max-width:520px;max-height:360px;overflow:auto;word-break:normal}th{background:#f3f3f3}td.n{text-align:right}\n"
    << "code,pre{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:0.88em}pre{background:#f7f7f7;"
       "padding:8px;overflow-x:auto;border:1px solid #e3e3e3}\n"
    << ".verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:bold}"
       ".clean{background:#2ca02c}.bad{background:#d62728}\n"
    << ".new{color:#d62728;font-weight:bold}.known{color:#7f7f7f}.variant{color:#1f77b4}\n"
    << "svg.chart{display:block;margin:8px 0 20px;background:#fff}.ct{font-size:14px;font-weight:bold}"
       ".tick{font-size:11px;fill:#444}.lbl{font-size:12px;fill:#333}.leg{font-size:11px;fill:#222}"
       ".nf{font-size:10px;font-style:italic}.grid{stroke:#e6e6e6}.axis{stroke:#888}.frame{fill:none;stroke:#888}\n"
    << "</style></head><body>\n";
  o << "<h1>refhammer campaign <span class=\"verdict " << (nnew ? "bad" : "clean") << "\">"
    << (nnew ? std::to_string(nnew) + " new finding(s)" : std::string("clean")) << "</span></h1>\n";
  o << "<p>Started " << html_escape(r.started_utc) << ", " << secs(r.seconds) << " wall, budget "
    << secs(r.config.seconds) << ", seed " << r.seed << ", " << r.cores << " core(s).<br>Output: <code>"
    << html_escape(r.out_dir) << "</code>";
  if (!r.command.empty()) o << "<br>Repeat: <code>" << html_escape(r.command) << "</code>";
  o << "</p>\n<table><tr><th>phase</th><th>budget</th><th>took</th></tr>\n";
  for (const auto& p : r.phases)
    o << "<tr><td>" << html_escape(p.name) << "</td><td class=\"n\">" << secs(p.budget) << "</td><td class=\"n\">"
      << secs(p.seconds) << "</td></tr>\n";
  o << "</table>\n";

  o << "<h2>Findings</h2>\n" << timeline_chart(r);
  if (r.findings.empty()) {
    o << "<p>None.</p>\n";
  } else {
    o << "<table><tr><th>status</th><th>signature</th><th>design</th><th>found by</th><th>at</th><th>hits</th>"
         "<th>reproduced</th><th>minimized</th><th>trace</th></tr>\n";
    for (const auto& f : r.findings) {
      o << "<tr><td class=\"" << html_escape(f.status) << "\">" << html_escape(f.status)
        << (f.known_as.empty() ? "" : " (" + html_escape(f.known_as) + ")") << "</td><td><code>"
        << html_escape(f.signature) << "</code></td><td>"
        << (design_diff(f.design).empty() ? std::string("default")
                                          : "<code>" + html_escape(design_diff(f.design)) + "</code>")
        << "</td><td>" << html_escape(f.source) << "</td><td class=\"n\">" << secs(f.t) << "</td><td class=\"n\">"
        << f.hits << "</td><td>" << (f.reproduced ? "yes" : "no") << "</td><td>"
        << (f.minimized ? std::to_string(f.ops_before) + " &rarr; " + std::to_string(f.ops_after) + " ops" : "—")
        << "</td><td>";
      if (!f.trace_text.empty())
        o << "<details><summary><code>" << html_escape(f.trace_path) << "</code></summary><pre>"
          << html_escape(f.trace_text) << "</pre></details>";
      else
        o << html_escape(f.note);
      o << "</td></tr>\n";
    }
    o << "</table>\n";
  }

  if (!r.fuzz.empty()) {
    o << "<h2>Fuzz targets</h2>\n";
    std::vector<Series> cov, eps;
    for (const auto& f : r.fuzz) {
      const std::string name = f.round == 2 ? f.target + " (r2)" : f.target;
      Series c{name, {}}, e{name, {}};
      for (const auto& s : f.series) {
        c.pts.emplace_back(s.t, static_cast<double>(s.cov));
        e.pts.emplace_back(s.t, static_cast<double>(s.exec_per_s));
      }
      cov.push_back(c);
      eps.push_back(e);
    }
    o << line_chart("Edge coverage over time, per target", cov, "seconds into the target's run", "cov (edges)");
    o << line_chart("exec/s over time, per target (libFuzzer status lines)", eps, "seconds into the target's run",
                    "exec/s");
    o << "<table><tr><th>target</th><th>seconds</th><th>runs</th><th>exec/s</th><th>cov</th><th>ft</th>"
         "<th>crash files</th><th>corpus merge</th><th>budget</th></tr>\n";
    for (const auto& f : r.fuzz)
      o << "<tr><td>" << html_escape(f.target) << "</td><td class=\"n\">" << fmt("%.1f", f.seconds)
        << "</td><td class=\"n\">" << human(static_cast<double>(f.execs())) << "</td><td class=\"n\">"
        << fmt("%.0f", f.exec_per_s()) << "</td><td class=\"n\">" << f.cov() << "</td><td class=\"n\">" << f.ft()
        << "</td><td class=\"n\">" << f.crash_files << "</td><td>"
        << html_escape(f.error.empty() ? (f.merge_note.rfind("merged", 0) == 0 ? "+" + std::to_string(f.merged_new)
                                                                               : f.merge_note)
                                       : "ERROR " + f.error)
        << "</td><td>" << html_escape(f.budget_note) << "</td></tr>\n";
    o << "</table>\n";
  }
  if (!r.stress.empty()) {
    o << "<h2>Stress</h2>\n<table><tr><th>profile</th><th>scheduler</th><th>threads</th><th>seconds</th><th>ops</th>"
         "<th>ops/s</th><th>audits</th><th>verdict</th></tr>\n";
    for (const auto& s : r.stress)
      o << "<tr><td>" << html_escape(s.profile) << "</td><td>" << html_escape(s.scheduler) << "</td><td class=\"n\">"
        << s.threads << "</td><td class=\"n\">" << fmt("%.1f", s.seconds) << "</td><td class=\"n\">"
        << human(static_cast<double>(s.ops)) << "</td><td class=\"n\">" << human(s.ops_per_s())
        << "</td><td class=\"n\">" << s.audits << "</td><td>"
        << (s.violation ? "<code>" + html_escape(s.signature) + "</code>" +
                              (s.reproduced ? " (reproduced)" : " (not reproduced)")
                        : std::string("clean"))
        << "</td></tr>\n";
    o << "</table>\n";
  }
  if (!r.compare.empty()) {
    o << "<h2>Design comparison</h2>\n<p>Each variant ran the same drivers under the same budget ("
      << secs(r.compare.front().seconds_each)
      << " each). Executions without a finding: fuzz inputs and stress ops before the first finding, or all of "
         "them. Free-path cost: alloc_pages(0) + folio_put on the variant's model, best of 5 rounds in this "
         "process (and bench/core_bench's BM_FreePath_* where the variants differ in that path).</p>\n";
    for (const auto& p : r.compare) {
      const bool fz = p.a.has_fuzz || p.b.has_fuzz;
      o << "<h3>" << html_escape(p.pair.name) << ": " << html_escape(p.pair.title) << "</h3>\n<p>Drivers: "
        << (!fz ? "" : "fuzz target <code>" + html_escape(p.pair.target) + "</code>")
        << (!fz || p.pair.profile.empty() ? "" : ", ")
        << (p.pair.profile.empty() ? ""
                                   : "stress profile <code>" + html_escape(p.pair.profile) + "</code> (" +
                                         html_escape(r.config.compare.scheduler) + ")")
        << "</p>\n<table><tr><th></th><th>" << html_escape(p.a.label) << "</th><th>" << html_escape(p.b.label)
        << "</th></tr>\n";
      for (const auto& row : pair_rows(r, p))
        o << "<tr><th>" << html_escape(row[0]) << "</th><td>" << cell_html(row[1]) << "</td><td>" << cell_html(row[2])
          << "</td></tr>\n";
      o << "</table>\n";
      for (const VariantResult* v : {&p.a, &p.b})
        for (const auto& k : v->finding_keys) {
          const Finding* f = find_key(r, k);
          if (f == nullptr) continue;
          if (f->minimized && !f->trace_text.empty())
            o << "<details><summary>" << html_escape(v->label) << ": <code>" << html_escape(f->signature)
              << "</code>, minimized trace</summary><pre>" << html_escape(f->trace_text) << "</pre></details>\n";
          else
            o << "<p>" << html_escape(v->label) << ": <code>" << html_escape(f->signature) << "</code>: "
              << (f->trace_path.empty() ? "no trace" : "<code>" + html_escape(f->trace_path) + "</code>")
              << " (not minimized" << (f->reproduced ? "" : ": not reproduced on the deterministic scheduler")
              << ")</p>\n";
        }
    }
  }
  if (!r.bugbench_source.empty()) {
    o << "<h2>Bugbench</h2>\n";
    if (!r.bugbench_error.empty()) o << "<p>" << html_escape(r.bugbench_error) << "</p>\n";
    if (!r.bugbench.empty()) o << bugbench_chart(r);
  }
  if (!r.notes.empty()) {
    o << "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : r.notes) o << "<li>" << html_escape(n) << "</li>\n";
    o << "</ul>\n";
  }
  o << "<p>Reports: report.json, report.md, report.html, junit.xml; regression candidates in findings/.</p>\n"
    << "</body></html>\n";
  return o.str();
}

// ---------------------------------------------------------------- junit

std::string to_junit(const Report& r) {
  struct Case {
    std::string cls, name;
    double time = 0;
    std::string failure, failure_text, skipped, out;
  };
  std::vector<std::pair<std::string, std::vector<Case>>> suites;
  auto new_from = [&](const std::string& source_prefix) {
    std::string keys;
    for (const auto& f : r.findings)
      if (f.counts() && f.source.rfind(source_prefix, 0) == 0) keys += (keys.empty() ? "" : ", ") + f.key;
    return keys;
  };
  {
    std::vector<Case> cs;
    for (const auto& f : r.fuzz) {
      Case c{"campaign.fuzz", f.round == 2 ? f.target + ".round2" : f.target, f.seconds, "", "", "", ""};
      c.out = "runs " + std::to_string(f.execs()) + ", exec/s " + fmt("%.0f", f.exec_per_s()) + ", cov " +
              std::to_string(f.cov()) + ", ft " + std::to_string(f.ft()) + ", crash files " +
              std::to_string(f.crash_files) + ", log " + f.log;
      if (!f.error.empty()) c.failure = "could not run: " + f.error;
      const std::string k = new_from("fuzz " + f.target);
      if (!k.empty()) c.failure = "new finding(s): " + k;
      cs.push_back(c);
    }
    if (!cs.empty()) suites.emplace_back("refhammer.campaign.fuzz", cs);
  }
  {
    std::vector<Case> cs;
    for (const auto& s : r.stress) {
      Case c{"campaign.stress", s.profile + "/" + s.scheduler, s.seconds, "", "", "", ""};
      c.out = "ops " + std::to_string(s.ops) + ", audits " + std::to_string(s.audits) +
              (s.violation ? ", violation " + s.signature : ", clean");
      const std::string k = new_from("stress " + s.profile + "/" + s.scheduler);
      if (!k.empty()) c.failure = "new finding: " + k;
      cs.push_back(c);
    }
    if (!cs.empty()) suites.emplace_back("refhammer.campaign.stress", cs);
  }
  {
    std::vector<Case> cs;
    for (const auto& p : r.compare)
      for (const VariantResult* v : {&p.a, &p.b}) {
        Case c{"campaign.compare." + p.pair.name, v->label, p.seconds_each, "", "", "", ""};
        c.out = "design " + v->design + "; findings: " + (v->finding_keys.empty() ? "none" : "");
        for (const auto& k : v->finding_keys) c.out += k + " ";
        const std::string k = new_from("compare " + p.pair.name + "/" + v->label);
        if (!k.empty()) c.failure = "new finding(s) on the default design: " + k;
        cs.push_back(c);
      }
    if (!cs.empty()) suites.emplace_back("refhammer.campaign.compare", cs);
  }
  {
    std::vector<Case> cs;
    for (const auto& f : r.findings) {
      Case c{"campaign.finding", f.key, f.minimize_seconds, "", "", "", ""};
      c.out = "found by " + f.source + "; input " + f.input + (f.trace_path.empty() ? "" : "; trace " + f.trace_path) +
              (f.note.empty() ? "" : "; " + f.note);
      if (f.status == "new" || f.status == "regression") {
        c.failure = (f.status == "new" ? "new finding " : "regression of corpora/regressions/" + f.known_as + ": ") +
                    f.signature + " (" + f.source + ")";
        c.failure_text = f.trace_text.empty() ? f.note : f.trace_text;
      } else if (f.status == "known") {
        c.skipped = "known: corpora/regressions/" + f.known_as;
      }
      cs.push_back(c);
    }
    if (!cs.empty()) suites.emplace_back("refhammer.campaign.findings", cs);
  }
  size_t tests = 0, failures = 0;
  for (const auto& [n, cs] : suites)
    for (const auto& c : cs) tests++, failures += !c.failure.empty();
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<testsuites name=\"refhammer campaign\" tests=\"" << tests << "\" failures=\"" << failures << "\" time=\""
    << fmt("%.3f", r.seconds) << "\">\n";
  for (const auto& [name, cs] : suites) {
    size_t f = 0, s = 0;
    double t = 0;
    for (const auto& c : cs) f += !c.failure.empty(), s += !c.skipped.empty(), t += c.time;
    o << "  <testsuite name=\"" << xml_escape(name) << "\" tests=\"" << cs.size() << "\" failures=\"" << f
      << "\" errors=\"0\" skipped=\"" << s << "\" time=\"" << fmt("%.3f", t) << "\" timestamp=\""
      << xml_escape(r.started_utc) << "\">\n";
    for (const auto& c : cs) {
      o << "    <testcase classname=\"" << xml_escape(c.cls) << "\" name=\"" << xml_escape(c.name) << "\" time=\""
        << fmt("%.3f", c.time) << "\">\n";
      if (!c.failure.empty())
        o << "      <failure message=\"" << xml_escape(c.failure) << "\">" << xml_escape(c.failure_text)
          << "</failure>\n";
      if (!c.skipped.empty()) o << "      <skipped message=\"" << xml_escape(c.skipped) << "\"/>\n";
      o << "      <system-out>" << xml_escape(c.out) << "</system-out>\n    </testcase>\n";
    }
    o << "  </testsuite>\n";
  }
  o << "</testsuites>\n";
  return o.str();
}

}  // namespace refhammer::campaign
