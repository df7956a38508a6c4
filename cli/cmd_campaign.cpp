// refhammer campaign — the main job: every fuzz target and stress profile
// under one time budget, findings reproduced, deduplicated and minimized,
// the design pairs compared, reports in four forms (campaign/campaign.hpp).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "campaign/campaign.hpp"
#include "campaign/config.hpp"
#include "cli/commands.hpp"

namespace refhammer::cli {
namespace {

struct CampaignArgs {
  campaign::Config cfg;  // the defaults; CLI values land here, then are applied over the file
  std::string config_file;
  double minutes = 0, seconds = 0;
  bool no_fuzz = false, no_stress = false, no_compare = false, no_minimize = false, no_merge = false;
  bool update_corpora = false;
  bool print_summary = false;
  std::vector<std::string> targets, profiles;
  CLI::App* cmd = nullptr;
};

bool given(const CampaignArgs& a, const char* name) { return a.cmd->count(name) > 0; }

int run_campaign_cmd(CampaignArgs& a, const std::string& argv_line) {
  // The campaign sets REFHAMMER_DESIGN / REFHAMMER_BUGS for its children
  // itself; the caller's must not leak into the default runs or the replays.
  unsetenv("REFHAMMER_DESIGN");
  unsetenv("REFHAMMER_BUGS");
  campaign::Config cfg;  // embedded defaults
  if (!a.config_file.empty()) {
    const std::string e = campaign::load_config_file(a.config_file, cfg);
    if (!e.empty()) {
      std::fprintf(stderr, "refhammer campaign: %s\n", e.c_str());
      return kExitUsage;
    }
  }
  // Command-line options override the file.
  if (given(a, "--minutes") && given(a, "--seconds")) {
    std::fprintf(stderr, "refhammer campaign: give --minutes or --seconds, not both\n");
    return kExitUsage;
  }
  if (given(a, "--minutes")) cfg.seconds = a.minutes * 60;
  if (given(a, "--seconds")) cfg.seconds = a.seconds;
  if (given(a, "--seed")) cfg.seed = a.cfg.seed;
  if (given(a, "--out")) cfg.out_dir = a.cfg.out_dir;
  if (given(a, "--fuzz-bin")) cfg.fuzz.bin_dir = a.cfg.fuzz.bin_dir;
  if (given(a, "--asan-fuzz-bin")) cfg.fuzz.asan_bin_dir = a.cfg.fuzz.asan_bin_dir;
  if (given(a, "--corpora")) cfg.fuzz.corpora_dir = a.cfg.fuzz.corpora_dir;
  if (given(a, "--corpus-dir")) cfg.fuzz.corpus_dir = a.cfg.fuzz.corpus_dir;
  if (a.update_corpora) cfg.fuzz.update_corpora = true;
  if (given(a, "--regressions")) cfg.regressions_dir = a.cfg.regressions_dir;
  if (given(a, "--bench-dir")) cfg.bench_dir = a.cfg.bench_dir;
  if (given(a, "--bugbench")) cfg.bugbench = a.cfg.bugbench;
  if (given(a, "--jobs")) cfg.fuzz.jobs = a.cfg.fuzz.jobs;
  if (given(a, "--threads")) cfg.stress.threads = a.cfg.stress.threads;
  if (given(a, "--target")) cfg.fuzz.targets = a.targets;
  if (given(a, "--profile")) cfg.stress.profiles = a.profiles;
  if (a.no_fuzz) cfg.fuzz.enabled = false;
  if (a.no_stress) cfg.stress.enabled = false;
  if (a.no_compare) cfg.compare.enabled = false;
  if (a.no_minimize) cfg.minimize.enabled = false;
  if (a.no_merge) cfg.fuzz.merge = false;
  std::string e = campaign::validate(cfg);
  if (!e.empty()) {
    std::fprintf(stderr, "refhammer campaign: %s\n", e.c_str());
    return kExitUsage;
  }
  campaign::Hooks h;
  h.out = &std::cout;
  h.tty = isatty(STDOUT_FILENO) != 0;
  h.command = argv_line;
  // Crash files take the path `refhammer replay --target T` takes.
  h.load_crash = [](const std::string& path, const std::string& target, const std::vector<std::string>& design,
                    harness::Trace& out) {
    InputArgs in;
    in.target = target;
    in.variants.design = design;
    return load_input(path, in, out);
  };
  campaign::Report rep;
  const int rc = campaign::run_campaign(cfg, h, rep, e);
  if (rc == campaign::kUsage) {
    std::fprintf(stderr, "refhammer campaign: %s\n", e.c_str());
    return kExitUsage;
  }
  if (a.print_summary) {
    std::cout << "\n" << campaign::to_markdown(rep) << std::flush;
  } else {
    size_t known = 0, variant = 0;
    for (const auto& f : rep.findings) known += f.status == "known", variant += f.status == "variant";
    std::printf("\nrefhammer campaign: %s in %.0f s: %zu new finding(s), %zu known, %zu on design variants\n",
                rc == campaign::kClean ? "CLEAN" : "NEW FINDINGS", rep.seconds, rep.new_findings(), known, variant);
    for (const auto& f : rep.findings)
      if (f.counts())
        std::printf("  %s %s (%s)%s%s\n", f.status == "regression" ? "REGRESSION" : "NEW", f.key.c_str(), f.source.c_str(), f.trace_path.empty() ? ": " : " -> ",
                    f.trace_path.empty() ? f.note.c_str() : (rep.out_dir + "/" + f.trace_path).c_str());
    std::printf("reports: %s/{report.md,report.html,report.json,junit.xml}\n", rep.out_dir.c_str());
  }
  return rc == campaign::kNewFindings ? kExitViolation : kExitClean;
}

}  // namespace

Runner add_campaign(CLI::App& app) {
  auto a = std::make_shared<CampaignArgs>();
  auto& c = a->cfg;
  auto* cmd = app.add_subcommand(
      "campaign",
      "The nightly job: every fuzz target and stress profile under one time budget; findings reproduced, "
      "deduplicated, minimized; the design pairs compared; report.json/.md/.html and junit.xml");
  a->cmd = cmd;
  cmd->add_option("--minutes,-m", a->minutes, "time budget in minutes (default 5)")->check(CLI::Range(0.02, 1e5));
  cmd->add_option("--seconds,-s", a->seconds, "time budget in seconds")->check(CLI::Range(1.0, 1e7));
  cmd->add_option("--config,-c", a->config_file, "a JSON file overriding the embedded defaults (docs/reports.md)");
  cmd->add_option("--out,-o", c.out_dir, "output directory, must not exist (default refhammer-out/campaign-<UTC time>)");
  cmd->add_option("--seed", c.seed, "seed of the stress workers and searches (default: the clock)");
  cmd->add_option("--fuzz-bin", c.fuzz.bin_dir, "directory of the libFuzzer binaries that fuzz (the fuzz-fast preset)")
      ->capture_default_str();
  cmd->add_option("--asan-fuzz-bin", c.fuzz.asan_bin_dir,
                  "the ASan+UBSan builds of the targets (the fuzz preset): each crash file is replayed there; '' none")
      ->capture_default_str();
  cmd->add_option("--corpora", c.fuzz.corpora_dir, "seed corpora and dictionaries (read only unless --update-corpora)")
      ->capture_default_str();
  cmd->add_option("--corpus-dir", c.fuzz.corpus_dir,
                  "merge new inputs into DIR/<target>/ (kept across runs, seeds the next; default OUT/corpora)");
  cmd->add_flag("--update-corpora", a->update_corpora,
                "merge new inputs into the --corpora directory (the checkout's corpora/) instead");
  cmd->add_option("--regressions", c.regressions_dir, "known findings: the regression traces")->capture_default_str();
  cmd->add_option("--bench-dir", c.bench_dir, "where core_bench is, for the free-path cost")->capture_default_str();
  cmd->add_option("--bugbench", c.bugbench, "a bugbench JSON to chart in the report (docs/reports.md)");
  cmd->add_option("--jobs,-j", c.fuzz.jobs, "libFuzzer -fork jobs (default: every core)")->check(CLI::Range(1u, 256u));
  cmd->add_option("--threads,-t", c.stress.threads, "stress workers (default: every core, 2..8)")
      ->check(CLI::Range(1u, 8u));
  cmd->add_option("--target", a->targets, "fuzz only this target (repeatable)")->allow_extra_args(false);
  cmd->add_option("--profile", a->profiles, "stress only this profile (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--no-fuzz", a->no_fuzz, "no fuzzing (stress only; the comparison runs stress only)");
  cmd->add_flag("--no-stress", a->no_stress, "no stress phase");
  cmd->add_flag("--no-compare", a->no_compare, "no design comparison");
  cmd->add_flag("--no-minimize", a->no_minimize, "write the findings' traces without minimizing them");
  cmd->add_flag("--no-merge", a->no_merge, "no merge of new inputs at all");
  cmd->add_flag("--summary", a->print_summary, "print report.md at the end instead of the short verdict");
  return [a] {
    std::string line = "refhammer campaign";
    // A repeatable command line: the options as parsed.
    for (const auto* o : a->cmd->get_options())
      if (o->count() > 0 && o->get_name() != "--help")
        for (const auto& v : o->results())
          line += " " + o->get_name() + (o->get_expected_min() == 0 ? "" : " " + v);
    return run_campaign_cmd(*a, line);
  };
}

}  // namespace refhammer::cli
