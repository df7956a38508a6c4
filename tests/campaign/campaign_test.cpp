// tests/campaign — configuration validation, status-line parsing, dedup,
// report writers, and a short in-process campaign.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "campaign/campaign.hpp"
#include "campaign/config.hpp"
#include "campaign/dedup.hpp"
#include "campaign/fuzz_runner.hpp"
#include "campaign/report.hpp"
#include "tests/support/support.hpp"

namespace fs = std::filesystem;
using namespace refhammer::campaign;

namespace {

std::string apply(const std::string& text, Config& c) { return apply_config_json(text, "cfg.json", c); }

// An executable shell script at `path`: a stand-in for a fuzz target.
void write_script(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_all);
}

// A fuzz-only campaign of `seconds` from seed 5 (no stress, comparison or
// minimization): `targets` of the stand-ins in `bin`, seeded from
// `corpora`, writing to `out`.
Config fuzz_only(double seconds, const fs::path& bin, const fs::path& corpora, const fs::path& out,
                 std::vector<std::string> targets) {
  Config c;
  c.seconds = seconds;
  c.seed = 5;
  c.out_dir = out.string();
  c.fuzz.bin_dir = bin.string();
  c.fuzz.corpora_dir = corpora.string();
  c.fuzz.targets = std::move(targets);
  c.fuzz.min_seconds = 1;
  c.stress.enabled = false;
  c.compare.enabled = false;
  c.minimize.enabled = false;
  c.regressions_dir = REFHAMMER_SOURCE_DIR "/corpora/regressions";
  return c;
}

// --- configuration ---------------------------------------------------------

TEST(CampaignConfig, DefaultsAreValidAndComplete) {
  Config c;
  EXPECT_EQ(validate(c), "");
  EXPECT_EQ(c.compare.pairs.size(), 4u);
  EXPECT_EQ(c.stress.schedulers, (std::vector<std::string>{"free", "perturb"}));
  EXPECT_GT(c.seconds, 60);
}

TEST(CampaignConfig, OverridesOnlyWhatIsGiven) {
  Config c;
  ASSERT_EQ(apply(R"({"minutes": 2, "fuzz": {"jobs": 1, "targets": ["fuzz_gup"]},
                      "stress": {"profiles": ["refcount"], "schedulers": ["perturb"]},
                      "compare": {"pairs": [{"name": "off", "a": {"label": "l", "design": ["offline=legacy"]},
                                             "b": {"label": "f", "design": ["offline=frozen"]},
                                             "profile": "offline"}]}})",
                  c),
            "");
  EXPECT_DOUBLE_EQ(c.seconds, 120);
  EXPECT_EQ(c.fuzz.jobs, 1u);
  EXPECT_EQ(c.fuzz.targets, std::vector<std::string>{"fuzz_gup"});
  EXPECT_TRUE(c.fuzz.merge);  // untouched
  EXPECT_EQ(c.stress.profiles, std::vector<std::string>{"refcount"});
  ASSERT_EQ(c.compare.pairs.size(), 1u);
  EXPECT_EQ(c.compare.pairs[0].a.design, std::vector<std::string>{"offline=legacy"});
}

TEST(CampaignConfig, UnknownKeysAreNamedWithTheirPath) {
  Config c;
  EXPECT_EQ(apply(R"({"fuzz": {"jbos": 2}})", c).rfind("cfg.json: fuzz.jbos: unknown key (allowed: enabled,", 0), 0u);
  EXPECT_EQ(apply(R"({"colour": 1})", c).rfind("cfg.json: colour: unknown key", 0), 0u);
  EXPECT_EQ(apply(R"({"compare": {"pairs": [{"name": "x", "a": {"label": "a", "desing": []}, "b": {"label": "b"}}]}})", c)
                .rfind("cfg.json: compare.pairs[0].a.desing: unknown key", 0),
            0u);
}

TEST(CampaignConfig, WrongTypesAndRanges) {
  Config c;
  EXPECT_EQ(apply(R"({"seconds": "300"})", c), "cfg.json: seconds: must be a number, not a string");
  EXPECT_EQ(apply(R"({"fuzz": {"merge": 1}})", c), "cfg.json: fuzz.merge: must be true or false, not an integer");
  EXPECT_EQ(apply(R"({"fuzz": {"jobs": -1}})", c), "cfg.json: fuzz.jobs: must be a non-negative integer, not -1");
  EXPECT_EQ(apply(R"({"fuzz": {"jobs": 1.5}})", c), "cfg.json: fuzz.jobs: must be a non-negative integer, not 1.5");
  EXPECT_EQ(apply(R"({"stress": {"profiles": ["refcount", 3]}})", c),
            "cfg.json: stress.profiles[1]: must be a string, not an integer");
  EXPECT_EQ(apply(R"({"shares": {"fuzz": 2}})", c), "cfg.json: shares.fuzz: must be between 0 and 1, not 2");
  EXPECT_EQ(apply(R"([1, 2])", c), "cfg.json: (top level): must be an object, not an array");
  // Every problem is listed, one per line.
  const std::string two = apply(R"({"seconds": true, "fuzz": {"timeout": "x"}})", c);
  EXPECT_NE(two.find("cfg.json: seconds: must be a number, not a boolean\n"), std::string::npos) << two;
  EXPECT_NE(two.find("cfg.json: fuzz.timeout: must be a non-negative integer, not a string"), std::string::npos) << two;
}

TEST(CampaignConfig, BadJsonAndBadNames) {
  Config c;
  const std::string e = apply("{\"seconds\": 3,\n  }", c);
  EXPECT_EQ(e.rfind("cfg.json: not valid JSON: parse error at line 2", 0), 0u) << e;
  EXPECT_EQ(apply(R"({"stress": {"profiles": ["nope"]}})", c).rfind("cfg.json: stress.profiles: unknown profile 'nope' (allowed: ", 0), 0u);
  EXPECT_EQ(apply(R"({"fuzz": {"targets": ["fuzz_nope"]}})", c), "cfg.json: fuzz.targets: unknown fuzz target 'fuzz_nope'");
  EXPECT_EQ(apply(R"({"stress": {"schedulers": ["deterministic"]}})", c),
            "cfg.json: stress.schedulers: unknown scheduler 'deterministic' (allowed: free, perturb)");
  const std::string d = apply(R"({"compare": {"pairs": [{"name": "x", "a": {"label": "a", "design": ["offline=maybe"]},
                                                         "b": {"label": "b"}, "profile": "offline"}]}})", c);
  EXPECT_EQ(d.rfind("cfg.json: compare.pairs[0].a.design: 'offline=maybe': ", 0), 0u) << d;
  EXPECT_EQ(apply(R"({"seconds": 60, "minutes": 1})", c), "cfg.json: minutes: give seconds or minutes, not both");
  EXPECT_EQ(load_config_file("/nonexistent/c.json", c), "/nonexistent/c.json: cannot read");
}

// --- libFuzzer status lines -----------------------------------------------

TEST(CampaignFuzz, ParsesForkAndSingleProcessStatusLines) {
  FuzzSample s;
  ASSERT_TRUE(parse_status_line(
      "#52468: cov: 1611 ft: 5091 corp: 318 exec/s: 4823 oom/timeout/crash: 0/2/1 time: 13s job: 5 dft_time: 0", s));
  EXPECT_EQ(s.execs, 52468u);
  EXPECT_EQ(s.cov, 1611u);
  EXPECT_EQ(s.ft, 5091u);
  EXPECT_EQ(s.corpus, 318u);
  EXPECT_EQ(s.exec_per_s, 4823u);
  EXPECT_EQ(s.crashes, 3u);
  ASSERT_TRUE(parse_status_line("#1024\tpulse  cov: 12 ft: 40 corp: 5/77b lim: 4 exec/s: 512 rss: 40Mb", s));
  EXPECT_EQ(s.execs, 1024u);
  EXPECT_EQ(s.cov, 12u);
  EXPECT_EQ(s.corpus, 5u);
  EXPECT_EQ(s.exec_per_s, 512u);
  EXPECT_FALSE(parse_status_line("INFO: Seed: 1123667115", s));
  EXPECT_FALSE(parse_status_line("==18730== ERROR: libFuzzer: deadly signal", s));
  EXPECT_FALSE(parse_status_line("#", s));
}

TEST(CampaignFuzz, MergeSwapsTheCorpusInAtomically) {
  const fs::path d = refhammer_test::scratch_dir("merge-test");
  fs::create_directories(d / "corpora" / "fuzz_x");
  fs::create_directories(d / "work");
  std::ofstream(d / "corpora" / "fuzz_x" / "old") << "a";
  std::ofstream(d / "work" / "n1") << "b";
  std::ofstream(d / "work" / "n2") << "c";
  // A stand-in for the fuzzer: -merge=1 -timeout=T -rss_limit_mb=R TMP WORK copies WORK into TMP.
  const fs::path bin = d / "fake_fuzzer";
  write_script(bin, "#!/bin/sh\ncp \"$5\"/* \"$4\"/\n");
  uint64_t added = 0;
  EXPECT_EQ(merge_corpus(bin.string(), (d / "corpora" / "fuzz_x").string(), (d / "work").string(),
                         (d / "merge.log").string(), 64, 5, added),
            "");
  EXPECT_EQ(added, 2u);
  for (const char* f : {"old", "n1", "n2"}) EXPECT_TRUE(fs::exists(d / "corpora" / "fuzz_x" / f)) << f;
  auto entries = [&] { return std::distance(fs::directory_iterator(d / "corpora"), fs::directory_iterator()); };
  EXPECT_EQ(entries(), 1);  // no temporary or old copy left beside it
  // A failing merge leaves the corpus as it was.
  std::ofstream(bin) << "#!/bin/sh\nexit 3\n";
  EXPECT_NE(merge_corpus(bin.string(), (d / "corpora" / "fuzz_x").string(), (d / "work").string(),
                         (d / "merge.log").string(), 64, 5, added),
            "");
  EXPECT_TRUE(fs::exists(d / "corpora" / "fuzz_x" / "n2"));
  EXPECT_EQ(entries(), 1);
  fs::remove_all(d);
}

// --- dedup ---------------------------------------------------------------

TEST(CampaignDedup, KeysNameOnlyTheNonDefaultDesignItems) {
  EXPECT_EQ(finding_key("leak/x/put", default_design()), "leak/x/put");
  EXPECT_EQ(finding_key("leak/x/put", ""), "leak/x/put");
  const std::string legacy = "free_dispatch=per-type-checks gmem_pin_policy=refuse-longterm zone_device=0-based offline=legacy";
  EXPECT_EQ(finding_key("leak/x/put", legacy), "leak/x/put@free_dispatch=per-type-checks,offline=legacy");
  EXPECT_EQ(slug("leak/x/put@free_dispatch=per-type-checks,offline=legacy"), "leak-x-put-free_dispatch-per-type-checks-offline-legacy");
  EXPECT_EQ(slug("//"), "finding");
}

TEST(CampaignDedup, RegressionTracesAreKnown) {
  std::vector<std::string> errors;
  const auto known = load_regression_keys(REFHAMMER_SOURCE_DIR "/corpora/regressions", &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_FALSE(known.empty());
  bool truncate = false;
  for (const auto& [k, f] : known) truncate = truncate || f == "truncate-skips-grace-period.trace";
  EXPECT_TRUE(truncate);
  // A clean regression (truncate-waits-for-grace-period) names no key.
  for (const auto& [k, f] : known) EXPECT_NE(f, "truncate-waits-for-grace-period.trace");
}

TEST(CampaignDedup, OneFindingPerKeyWithStatus) {
  Dedup d(std::map<std::string, std::string>{{"uaf/a/put", "a.trace"}});
  std::vector<Finding> list;
  bool first = false;
  Finding f;
  f.signature = "uaf/a/put";
  f.design = default_design();
  EXPECT_EQ(d.add(list, f, first), 0u);
  EXPECT_TRUE(first);
  EXPECT_EQ(list[0].status, "known");
  EXPECT_EQ(list[0].known_as, "a.trace");
  f.signature = "leak/b/get";
  EXPECT_EQ(d.add(list, f, first), 1u);
  EXPECT_EQ(list[1].status, "new");
  EXPECT_EQ(d.add(list, f, first), 1u);  // the same key again: a hit, not a finding
  EXPECT_FALSE(first);
  EXPECT_EQ(list[1].hits, 2u);
  f.design = "free_dispatch=owner-hook gmem_pin_policy=refuse-longterm zone_device=1-based offline=frozen";
  EXPECT_EQ(d.add(list, f, first), 2u);
  EXPECT_EQ(list[2].status, "variant");
  EXPECT_EQ(list[2].key, "leak/b/get@zone_device=1-based");
  Report r;
  r.findings = list;
  EXPECT_EQ(r.new_findings(), 1u);
}

// A regression trace that expects its signature only with a catalog bug or a
// legacy design on: the same switches are that known bug; the signature on
// the default core (switches off) is the fixed bug come back; a finding on a
// legacy design is a variant.
TEST(CampaignDedup, TheSwitchesAreInTheKeyAndAFixedBugOnTheDefaultCoreIsARegression) {
  const std::string legacy = "free_dispatch=per-type-checks gmem_pin_policy=refuse-longterm zone_device=0-based offline=legacy";
  EXPECT_EQ(finding_key("leak/x/put", default_design(), "gup-fast-skips-pte-recheck"), "leak/x/put+gup-fast-skips-pte-recheck");
  EXPECT_EQ(finding_key("leak/x/put", legacy, "none"), "leak/x/put@free_dispatch=per-type-checks,offline=legacy");
  EXPECT_EQ(key_signature("leak/x/put@offline=legacy+a-bug"), "leak/x/put");
  Dedup d(std::map<std::string, std::string>{
      {finding_key("data-loss/m/put", default_design(), "a-mutant"), "mutant.trace"},
      {finding_key("data-loss/o/walk", legacy), "legacy.trace"},
      {finding_key("uaf/k/put", default_design()), "known.trace"}});
  std::vector<Finding> list;
  bool first = false;
  auto add = [&](const std::string& sig, const std::string& design) {
    Finding f;
    f.signature = sig;
    f.design = design;
    return list[d.add(list, f, first)];
  };
  // Same switches: known.
  EXPECT_EQ(add("data-loss/o/walk", legacy).status, "known");
  EXPECT_EQ(add("uaf/k/put", default_design()).status, "known");
  // The mutant's signature on the default core, no mutant switched on.
  const Finding m = add("data-loss/m/put", default_design());
  EXPECT_EQ(m.status, "regression");
  EXPECT_EQ(m.known_as, "mutant.trace");
  EXPECT_TRUE(m.counts());
  // The legacy design's signature on the default design.
  const Finding l = add("data-loss/o/walk", default_design());
  EXPECT_EQ(l.status, "regression");
  EXPECT_EQ(l.known_as, "legacy.trace");
  // A legacy-variant finding with a mutant's signature: the comparison's.
  EXPECT_EQ(add("data-loss/m/put", legacy).status, "variant");
  Report r;
  r.findings = list;
  EXPECT_EQ(r.new_findings(), 2u);
  // The regression corpus' mutant traces carry their bugs in the key.
  const auto known = load_regression_keys(REFHAMMER_SOURCE_DIR "/corpora/regressions");
  bool with_bug = false;
  for (const auto& [k, f] : known) with_bug = with_bug || (f == "truncate-skips-grace-period.trace" && k.find("+truncate-skips-grace-period") != std::string::npos);
  EXPECT_TRUE(with_bug);
}

// --- report writers --------------------------------------------------------

Report sample_report() {
  Report r;
  r.started_utc = "2025-01-01T00:00:00Z";
  r.out_dir = "/tmp/x";
  r.seed = 5;
  r.cores = 2;
  r.seconds = 30;
  r.phases = {{"fuzz", 0, 12, 12}, {"stress", 12, 8, 8}, {"compare", 20, 8, 8}, {"minimize", 28, 2, 2}};
  FuzzRun f;
  f.target = "fuzz_gup";
  f.seconds = 12;
  f.series = {{1, 1000, 100, 200, 10, 1000, 0}, {6, 9000, 150, 400, 30, 1600, 0}, {12, 20000, 170, 500, 40, 1800, 1}};
  f.crash_files = 1;
  f.first_crash = 11;
  r.fuzz = {f};
  StressRun s;
  s.profile = "refcount";
  s.scheduler = "free";
  s.threads = 2;
  s.seconds = 4;
  s.ops = 400000;
  r.stress = {s};
  Finding x;
  x.key = x.signature = "use-after-free/__folio_put/<put & \"x\">";
  x.status = "new";
  x.source = "fuzz fuzz_gup";
  x.t = 11;
  x.reproduced = x.minimized = true;
  x.ops_before = 40;
  x.ops_after = 3;
  x.trace_path = "findings/a.trace";
  x.trace_text = "refhammer-trace 1\nt0 put slot=0\n";
  Finding k = x;
  k.key = k.signature = "leak/y/get";
  k.status = "known";
  k.known_as = "y.trace";
  r.findings = {x, k};
  PairResult p;
  p.pair = CompareConfig::default_pairs()[0];
  p.seconds_each = 4;
  p.a.label = "legacy";
  p.a.has_stress = true;
  p.a.stress = s;
  p.a.stress.violation = true;
  p.a.stress.detect_seconds = 0.5;
  p.a.finding_keys = {x.key};
  p.a.freepath_ns = 20;
  p.b.label = "frozen";
  p.b.has_stress = true;
  p.b.stress = s;
  p.b.freepath_ns = 21;
  r.compare = {p};
  EXPECT_EQ(parse_bugbench(R"({"mutants": [{"name": "pfn-walker-plain-get", "drivers": {"fuzz": {"seconds": 1.5},
                                "stress": {"seconds": null}}}, {"name": "m2", "drivers": {"fuzz": {"seconds": 0.01}}}]})",
                           "bb.json", r.bugbench),
            "");
  r.bugbench_source = "bb.json";
  return r;
}

TEST(CampaignReport, JsonHasTheDocumentedKeys) {
  const auto j = nlohmann::json::parse(to_json(sample_report()));
  for (const char* k : {"schema", "started", "seed", "seconds", "verdict", "new_findings", "config", "phases", "fuzz",
                        "stress", "findings", "compare", "bugbench", "notes"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["verdict"], "new findings");
  EXPECT_EQ(j["new_findings"], 1);
  EXPECT_EQ(j["fuzz"][0]["series"].size(), 3u);
  for (const char* k : {"t", "execs", "cov", "ft", "corpus", "exec_per_s", "crashes"})
    EXPECT_TRUE(j["fuzz"][0]["series"][0].contains(k)) << k;
  for (const char* k : {"target", "execs", "exec_per_s", "cov", "ft", "crash_files", "first_crash_seconds"})
    EXPECT_TRUE(j["fuzz"][0].contains(k)) << k;
  EXPECT_TRUE(j["stress"][0].contains("ops_per_s"));
  for (const char* k : {"key", "signature", "status", "trace_path", "trace", "ops_before", "ops_after"})
    EXPECT_TRUE(j["findings"][0].contains(k)) << k;
  const auto& a = j["compare"][0]["a"];
  for (const char* k : {"label", "design", "findings", "time_to_first_finding", "executions_without_finding",
                        "freepath_ns"})
    EXPECT_TRUE(a.contains(k)) << k;
  EXPECT_DOUBLE_EQ(a["time_to_first_finding"]["stress"].get<double>(), 0.5);
  EXPECT_TRUE(j["compare"][0]["b"]["time_to_first_finding"]["stress"].is_null());
  EXPECT_TRUE(j["bugbench"]["mutants"][0]["seconds"]["stress"].is_null());
  EXPECT_TRUE(j["config"]["compare"]["pairs"].is_array());
}

// A small well-formedness check: tags balance, attributes are quoted,
// entities are the five XML ones.
std::string xml_problem(const std::string& x) {
  std::vector<std::string> stack;
  size_t i = 0;
  if (x.rfind("<?xml", 0) != 0) return "no XML declaration";
  i = x.find("?>") + 2;
  while (i < x.size()) {
    if (x[i] == '&') {
      const size_t e = x.find(';', i);
      const std::string ent = x.substr(i, e - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") return "entity " + ent;
      i = e + 1;
      continue;
    }
    if (x[i] != '<') {
      ++i;
      continue;
    }
    const size_t e = x.find('>', i);
    if (e == std::string::npos) return "unterminated tag";
    std::string tag = x.substr(i + 1, e - i - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag";
    size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    if (quotes % 2) return "unbalanced quotes in <" + tag + ">";
    if (!tag.empty() && tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return "unexpected </" + tag.substr(1) + ">";
      stack.pop_back();
    } else if (!tag.empty() && tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
    i = e + 1;
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

TEST(CampaignReport, JunitIsWellFormedWithOneCasePerTargetAndFinding) {
  const std::string x = to_junit(sample_report());
  EXPECT_EQ(xml_problem(x), "");
  EXPECT_NE(x.find("<testcase classname=\"campaign.fuzz\" name=\"fuzz_gup\""), std::string::npos);
  EXPECT_NE(x.find("name=\"use-after-free/__folio_put/&lt;put &amp; &quot;x&quot;&gt;\""), std::string::npos);
  EXPECT_NE(x.find("<skipped message=\"known: corpora/regressions/y.trace\"/>"), std::string::npos);
  EXPECT_NE(x.find("<failure message=\"new finding"), std::string::npos);
  EXPECT_EQ(xml_problem("<?xml version=\"1.0\"?><a><b></a>"), "unexpected </a>");
}

TEST(CampaignReport, HtmlIsSelfContainedWithItsCharts) {
  const std::string h = to_html(sample_report());
  size_t svgs = 0;
  for (size_t p = h.find("<svg"); p != std::string::npos; p = h.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 4u);  // coverage, exec/s, findings timeline, bugbench
  EXPECT_NE(h.find("Edge coverage over time"), std::string::npos);
  EXPECT_NE(h.find("exec/s over time"), std::string::npos);
  EXPECT_NE(h.find("Findings over the campaign"), std::string::npos);
  EXPECT_NE(h.find("Bugbench"), std::string::npos);
  EXPECT_NE(h.find("Design comparison"), std::string::npos);
  for (const char* bad : {"http:", "https:", "<script", "<link", "src=", "url(", "@import", "<iframe"})
    EXPECT_EQ(h.find(bad), std::string::npos) << bad;
  EXPECT_NE(h.find("&lt;put &amp; &quot;x&quot;&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(h.find("<put &"), std::string::npos);
}

TEST(CampaignReport, MarkdownHasTheTables) {
  const std::string m = to_markdown(sample_report());
  EXPECT_EQ(m.rfind("# refhammer campaign: 1 NEW finding(s)", 0), 0u);
  EXPECT_NE(m.find("| violations found |"), std::string::npos);
  EXPECT_NE(m.find("| time to first finding | stress 0.50 s | stress — |"), std::string::npos) << m;
  EXPECT_NE(m.find("| fuzz_gup |"), std::string::npos);
  EXPECT_NE(m.find("not found"), std::string::npos);  // bugbench null
}

TEST(CampaignReport, BugbenchSchemaErrors) {
  std::vector<BugbenchRow> rows;
  EXPECT_EQ(parse_bugbench("{}", "b.json", rows).rfind("b.json: mutants: missing", 0), 0u);
  EXPECT_EQ(parse_bugbench(R"({"mutants": [{"name": "m", "drivers": {"fuzz": {"seconds": "x"}}}]})", "b.json", rows),
            "b.json: mutants[0].drivers.fuzz.seconds: must be a non-negative number or null");
  EXPECT_EQ(parse_bugbench("nope", "b.json", rows), "b.json: not valid JSON");
}

// --- a short campaign, stress only ------------------------------------------

TEST(CampaignRun, StressOnlyWritesFourReportsAndRefusesToOverwrite) {
  const fs::path out = refhammer_test::scratch_dir("campaign-test");
  Config c;
  c.seconds = 4;
  c.seed = 3;
  c.out_dir = out.string();
  c.fuzz.enabled = false;
  c.stress.profiles = {"refcount"};
  c.stress.threads = 2;
  c.compare.pairs.resize(1);
  c.compare.pairs[0].target.clear();
  c.compare.pairs[0].profile = "refcount";  // quick: the comparison's plumbing, not its result
  c.compare.freepath_iters = 1000;
  c.regressions_dir = REFHAMMER_SOURCE_DIR "/corpora/regressions";
  Hooks h;
  Report r;
  std::string err;
  const int rc = run_campaign(c, h, r, err);
  EXPECT_NE(rc, kUsage) << err;
  for (const char* f : {"report.json", "report.md", "report.html", "junit.xml"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_EQ(r.stress.size(), 2u);  // refcount x {free, perturb}
  ASSERT_EQ(r.compare.size(), 1u);
  EXPECT_GT(r.compare[0].a.freepath_ns, 0);
  std::ifstream in(out / "junit.xml");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(xml_problem(s.str()), "");
  Report again;
  EXPECT_EQ(run_campaign(c, h, again, err), kUsage);
  EXPECT_NE(err.find("refusing to overwrite"), std::string::npos) << err;
  // No fuzz targets where they are looked for: a usage error before anything runs.
  c.fuzz.enabled = true;
  c.fuzz.bin_dir = (out / "nothing-here").string();
  c.out_dir = (out / "second").string();
  EXPECT_EQ(run_campaign(c, h, again, err), kUsage);
  EXPECT_NE(err.find("no fuzz targets in"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out / "second"));
  fs::remove_all(out);
}

// The main job leaves the checkout as it was: new inputs go to OUT/corpora
// (or a corpus directory the user names), and only --update-corpora merges
// into the seed corpora. A stand-in fuzzer writes one new input per run.
TEST(CampaignRun, NewInputsGoToTheRunsCorpusNotToTheCheckout) {
  const fs::path d = refhammer_test::scratch_dir("corpus-test");
  fs::create_directories(d / "bin");
  fs::create_directories(d / "corpora" / "fuzz_program");
  std::ofstream(d / "corpora" / "fuzz_program" / "seed") << "s";
  const fs::path bin = d / "bin" / "fuzz_program";
  // -merge=1 -timeout=T -rss_limit_mb=R TMP WORK: copy WORK into TMP; a
  // fuzzing run: the first non-option argument is the work directory.
  write_script(bin,
               "#!/bin/sh\n"
               "if [ \"$1\" = -merge=1 ]; then cp \"$5\"/* \"$4\"/; exit 0; fi\n"
               "for a; do case $a in -*) ;; *) echo n > \"$a\"/new-input; exit 0;; esac; done\n");
  auto config = [&](const std::string& out) {
    Config c = fuzz_only(3, d / "bin", d / "corpora", d / out, {"fuzz_program"});
    c.fuzz.explore_share = 1;  // one round: one run
    return c;
  };
  auto files = [](const fs::path& dir) {
    std::vector<std::string> v;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      v.push_back(it->path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  };
  using V = std::vector<std::string>;
  Hooks h;
  std::string err;
  {  // Default: OUT/corpora/<target>, the seeds plus the new input.
    Report r;
    ASSERT_EQ(run_campaign(config("run1"), h, r, err), kClean) << err;
    EXPECT_EQ(files(d / "corpora" / "fuzz_program"), V{"seed"});
    EXPECT_EQ(files(d / "run1" / "corpora" / "fuzz_program"), (V{"new-input", "seed"}));
    ASSERT_EQ(r.fuzz.size(), 1u);
    EXPECT_EQ(r.fuzz[0].merged_new, 1u);
    EXPECT_EQ(files(d / "run1" / "corpora"), V{"fuzz_program"});  // no temporary left beside it
  }
  {  // A named corpus is made from the seeds, kept, and seeds the next run.
    Config c = config("run2");
    c.fuzz.corpus_dir = (d / "kept").string();
    Report r;
    ASSERT_EQ(run_campaign(c, h, r, err), kClean) << err;
    EXPECT_EQ(files(d / "kept" / "fuzz_program"), (V{"new-input", "seed"}));
    EXPECT_FALSE(fs::exists(d / "run2" / "corpora"));
    EXPECT_EQ(files(d / "corpora" / "fuzz_program"), V{"seed"});
  }
  {  // --update-corpora: the deliberate merge into the seed corpora.
    Config c = config("run3");
    c.fuzz.update_corpora = true;
    Report r;
    ASSERT_EQ(run_campaign(c, h, r, err), kClean) << err;
    EXPECT_EQ(files(d / "corpora" / "fuzz_program"), (V{"new-input", "seed"}));
    Config both = config("run4");
    both.fuzz.update_corpora = true;
    both.fuzz.corpus_dir = (d / "kept").string();
    EXPECT_EQ(run_campaign(both, h, r, err), kUsage);
    EXPECT_NE(err.find("give one"), std::string::npos) << err;
  }
  fs::remove_all(d);
}

// The fast build fuzzes; each crash file is run once more by the ASan+UBSan
// build of the target, and what it reported is in the finding.
TEST(CampaignRun, CrashFilesOfTheFastBuildAreReplayedUnderAsan) {
  const fs::path d = refhammer_test::scratch_dir("asan-replay-test");
  fs::create_directories(d / "fast");
  fs::create_directories(d / "asan");
  fs::create_directories(d / "corpora" / "fuzz_program");
  // The fast stand-in writes one crash file where -artifact_prefix says.
  write_script(d / "fast" / "fuzz_program",
               "#!/bin/sh\nfor a; do case $a in -artifact_prefix=*) echo x > \"${a#-artifact_prefix=}crash-0001\";; "
               "esac; done\nexit 0\n");
  // The ASan stand-in reports a use-after-free for any file it is given.
  write_script(d / "asan" / "fuzz_program",
               "#!/bin/sh\necho '==7==ERROR: AddressSanitizer: heap-use-after-free on address 0x1'\nexit 1\n");
  Config c = fuzz_only(3, d / "fast", d / "corpora", d / "out", {"fuzz_program"});
  c.fuzz.asan_bin_dir = (d / "asan").string();
  c.fuzz.merge = false;
  Hooks h;
  Report r;
  std::string err;
  EXPECT_EQ(run_campaign(c, h, r, err), kNewFindings) << err;
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_NE(r.findings[0].note.find("ASan+UBSan replay: AddressSanitizer: heap-use-after-free"), std::string::npos)
      << r.findings[0].note;
  EXPECT_TRUE(fs::exists(d / "out" / "fuzz" / "fuzz_program" / "crashes" / "crash-0001.asan.log"));
  fs::remove_all(d);
}

// The fuzz budget follows the yield: a target whose features still grew late
// in round 1 goes first in round 2; the report says why.
TEST(CampaignRun, RoundTwoOfTheFuzzBudgetGoesToTheTargetThatStillGrows) {
  const fs::path d = refhammer_test::scratch_dir("budget-test");
  fs::create_directories(d / "bin");
  // fuzz_gup's features keep growing; fuzz_gmem's are flat.
  for (const auto& [t, late] : {std::pair{"fuzz_gup", 900}, std::pair{"fuzz_gmem", 10}}) {
    write_script(d / "bin" / t, "#!/bin/sh\necho '#100\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 100 rss: 30Mb'\n"
                                "sleep 1\necho '#200\tpulse  cov: 20 ft: " +
                                    std::to_string(late) + " corp: 2/2b exec/s: 100 rss: 30Mb'\nexit 0\n");
  }
  Config c = fuzz_only(12, d / "bin", d / "corpora", d / "out", {"fuzz_gmem", "fuzz_gup"});
  c.fuzz.merge = false;
  c.shares = {1, 0, 0, 0};
  Hooks h;
  Report r;
  std::string err;
  ASSERT_EQ(run_campaign(c, h, r, err), kClean) << err;
  ASSERT_GE(r.fuzz.size(), 3u);
  EXPECT_EQ(r.fuzz[0].round, 1);
  EXPECT_EQ(r.fuzz[1].round, 1);
  EXPECT_EQ(r.fuzz[2].round, 2);
  EXPECT_EQ(r.fuzz[2].target, "fuzz_gup");
  EXPECT_NE(r.fuzz[2].budget_note.find("new features/s"), std::string::npos) << r.fuzz[2].budget_note;
  EXPECT_NE(to_markdown(r).find("round 2: score"), std::string::npos);
  fs::remove_all(d);
}

}  // namespace
