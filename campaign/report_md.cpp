// campaign::Report as report.md: the summary a person reads in a CI log.
#include <set>
#include <sstream>

#include "campaign/dedup.hpp"
#include "campaign/report.hpp"
#include "campaign/report_common.hpp"

namespace refhammer::campaign {

using namespace report_detail;

namespace {

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return o;
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

}  // namespace refhammer::campaign
