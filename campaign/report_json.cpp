// campaign::Report as report.json (machine readable; the schema is in
// docs/reports.md).
#include <cmath>
#include <nlohmann/json.hpp>

#include "campaign/report.hpp"
#include "campaign/report_common.hpp"

namespace refhammer::campaign {

using ojson = nlohmann::ordered_json;
using namespace report_detail;

namespace {

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

}  // namespace refhammer::campaign
