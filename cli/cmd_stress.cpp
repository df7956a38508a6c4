// refhammer stress — TBB workers run random programs of the op language on
// real threads against one shared world, with quiescent audits; a violation
// is written as a trace and reproduced on the deterministic scheduler.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

#include "cli/commands.hpp"
#include "harness/gen.hpp"
#include "harness/trace.hpp"
#include "stress/stress.hpp"

namespace refhammer::cli {
namespace {

struct StressArgs {
  refhammer::stress::StressOptions st;
  VariantArgs variants;
  std::string scheduler = "free";
  uint32_t frames = 128;
  bool continuous = false;
  double progress = -1;
  double default_repro_seconds = 0;  // what --repro-seconds is when not given
};

std::string profile_help() {
  std::string s = "op mix:";
  for (const auto& p : harness::profiles()) s += std::string("\n  ") + p.name + ": " + p.help;
  return s;
}

int run(StressArgs& args) {
  auto& st = args.st;
  st.model = refhammer::stress::StressOptions::stress_model(args.frames);
  std::string err = apply_variants(args.variants, st.model);
  if (err.empty()) {
    st.perturb = args.scheduler == "perturb";
    st.fresh_worlds = !args.continuous;
    err = refhammer::stress::validate(st);
  }
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer stress: %s\n", err.c_str());
    return kExitUsage;
  }
  const bool tty = isatty(STDOUT_FILENO) != 0;
  st.progress_tty = tty;
  st.progress_every = args.progress >= 0 ? args.progress : tty ? 0.5 : 5.0;
  std::string repeat = "refhammer stress --profile " + st.profile + " --scheduler " + args.scheduler + " --threads " +
                       std::to_string(st.threads) + " --seed " + std::to_string(st.seed) + " --frames " +
                       std::to_string(args.frames);
  // Design variants, model fields and bugs as they ended up in the model.
  repeat += harness::variant_options(st.model, refhammer::stress::StressOptions::stress_model(args.frames));
  // Every other option that changes what runs.
  const refhammer::stress::StressOptions defaults;
  if (st.perturb_gap != defaults.perturb_gap) repeat += " --perturb-gap " + std::to_string(st.perturb_gap);
  if (st.audit_every != defaults.audit_every) repeat += " --audit-every " + std::to_string(st.audit_every);
  if (st.ring != defaults.ring) repeat += " --ring " + std::to_string(st.ring);
  if (args.continuous) repeat += " --continuous";
  if (st.record != defaults.record) repeat += std::string(" --record ") + refhammer::stress::record_mode_name(st.record);
  // The budgets: a run that stops earlier or later can end with another verdict.
  char secs[64];
  std::snprintf(secs, sizeof secs, "%g", st.seconds);
  repeat += std::string(" --seconds ") + secs;
  if (st.max_ops != 0) repeat += " --ops " + std::to_string(st.max_ops);
  if (!st.reproduce) repeat += " --repro-seconds 0";
  else if (st.repro.seconds != args.default_repro_seconds) {
    std::snprintf(secs, sizeof secs, "%g", st.repro.seconds);
    repeat += std::string(" --repro-seconds ") + secs;
  }
  std::printf("refhammer stress: seed %llu, %u thread(s), profile %s, scheduler %s, %.1f s budget%s\n  repeat: %s\n",
              static_cast<unsigned long long>(st.seed), st.threads, st.profile.c_str(), args.scheduler.c_str(), st.seconds,
              st.max_ops ? (", " + std::to_string(st.max_ops) + " ops").c_str() : "", repeat.c_str());
  std::fflush(stdout);
  const auto r = refhammer::stress::run_stress(st, &std::cout);
  std::cout << refhammer::stress::describe(st, r) << std::flush;
  return r.clean() ? kExitClean : kExitViolation;
}

}  // namespace

Runner add_stress(CLI::App& app) {
  auto args = std::make_shared<StressArgs>();
  auto& st = args->st;
  auto* cmd = app.add_subcommand(
      "stress", "Race random programs of the op language on real threads (TBB), with quiescent audits; write a "
                "violation as a trace and reproduce it deterministically");
  cmd->add_option("--profile,-p", st.profile, profile_help())
      ->check(CLI::IsMember([] {
        std::vector<std::string> names;
        for (const auto& p : harness::profiles()) names.emplace_back(p.name);
        return names;
      }()))
      ->capture_default_str();
  cmd->add_option("--threads,-t", st.threads, "worker threads, one trace actor each")
      ->check(CLI::Range(1u, harness::kMaxActors))->capture_default_str();
  cmd->add_option("--seconds,-s", st.seconds, "time budget in seconds")->check(CLI::Range(0.0, 1e7))->capture_default_str();
  cmd->add_option("--ops", st.max_ops, "op budget over all workers (0: no limit)")->capture_default_str();
  cmd->add_option("--seed", st.seed, "seed of the workers' generators (worker w: seed*0x100000001b3+w)")->capture_default_str();
  cmd->add_option("--scheduler", args->scheduler,
                  "free: threads untouched; perturb: random yields and short spins at sync points")
      ->check(CLI::IsMember({"free", "perturb"}))->capture_default_str();
  cmd->add_option("--perturb-gap", st.perturb_gap, "perturb: mean sync points between perturbations")
      ->check(CLI::Range(1u, 1u << 20))->capture_default_str();
  cmd->add_option("--audit-every", st.audit_every, "ops (all workers) between quiescent audits (0: none)")
      ->capture_default_str();
  cmd->add_option("--frames", args->frames, "buddy frames (half NORMAL, half MOVABLE, blocks of 32; plus 32 DEVICE)")
      ->check(CLI::Range(64u, 1u << 20))->capture_default_str();
  cmd->add_option("--ring", st.ring, "ops each worker records for the trace")
      ->check(CLI::Range(1u, 1u << 20))->capture_default_str();
  cmd->add_flag("--continuous", args->continuous,
                "one world for the whole run (the rings then hold a window of it, which may not reproduce); "
                "default: a fresh world whenever a ring fills, so a trace holds the whole history");
  cmd->add_option("--out,-o", st.out_dir, "directory for traces (created; existing files are never overwritten)")
      ->capture_default_str();
  cmd->add_option("--record", st.record,
                  "sync-point recording for deterministic replay: off; repro (after a finding, re-run recorded until "
                  "the same signature shows, then follow its order); always (every run records)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, refhammer::stress::RecordMode>{
          {"off", refhammer::stress::RecordMode::Off},
          {"repro", refhammer::stress::RecordMode::Repro},
          {"always", refhammer::stress::RecordMode::Always}}))
      ->default_str("repro");
  cmd->add_option("--repro-seconds", st.repro.seconds,
                  "time budget of the deterministic reproduction search (0: no search)")
      ->check(CLI::Range(0.0, 1e6))->capture_default_str();
  cmd->add_option("--progress", args->progress,
                  "seconds between progress lines (default: a status line every 0.5 s on a TTY, else a line every 5 s; 0: none)");
  add_variant_options(cmd, args->variants);
  args->default_repro_seconds = st.repro.seconds;
  return [args] {
    args->st.reproduce = args->st.repro.seconds > 0;
    return run(*args);
  };
}

}  // namespace refhammer::cli
