// campaign::Report as report.html: self-contained (inline CSS and SVG
// charts, no scripts, no external references).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "campaign/dedup.hpp"
#include "campaign/report.hpp"
#include "campaign/report_common.hpp"

namespace refhammer::campaign {

using namespace report_detail;

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

}  // namespace refhammer::campaign
