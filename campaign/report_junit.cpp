// campaign::Report as junit.xml: one test case per fuzz target, stress
// run, design variant and finding; a new finding or a regression fails its
// case.
#include <sstream>

#include "campaign/report.hpp"
#include "campaign/report_common.hpp"

namespace refhammer::campaign {

using namespace report_detail;

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
