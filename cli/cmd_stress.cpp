// refhammer stress — race the core on real threads (TBB), with quiescent audits.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

#include "cli/commands.hpp"
#include "stress/core_stress.hpp"

namespace refhammer::cli {
namespace {

int run_stress(const refhammer::stress::CoreStressOptions& opt) {
  std::string err = opt.model.validate();
  if (!err.empty()) {
    std::fprintf(stderr, "refhammer stress: %s\n", err.c_str());
    return kExitUsage;
  }
  std::printf("refhammer stress: seed %llu, %u threads, %.1f s budget%s (replay: refhammer stress --seed %llu "
              "--threads %u --seconds %g)\n",
              static_cast<unsigned long long>(opt.seed), opt.threads, opt.seconds,
              opt.max_ops ? (", " + std::to_string(opt.max_ops) + " ops").c_str() : "",
              static_cast<unsigned long long>(opt.seed), opt.threads, opt.seconds);
  std::fflush(stdout);
  auto r = refhammer::stress::run_core_stress(opt, &std::cout);
  std::cout << refhammer::stress::describe(opt, r) << std::flush;
  return r.clean() ? kExitClean : kExitViolation;
}


struct StressArgs {
  refhammer::stress::CoreStressOptions st;
  std::string free_dispatch = "owner-hook";
  std::string profile = "all";
  std::string gmem_policy = "refuse-longterm";
};

}  // namespace

Runner add_stress(CLI::App& app) {
  auto args = std::make_shared<StressArgs>();
  auto& st = args->st;
  auto& free_dispatch = args->free_dispatch;
  auto& profile = args->profile;
  auto& gmem_policy = args->gmem_policy;
  auto* stress = app.add_subcommand("stress", "Race the core's refcount primitives on real threads, with quiescent audits");
  stress->add_option("--threads,-t", st.threads, "worker threads")->check(CLI::Range(1u, 64u))->capture_default_str();
  stress->add_option("--seconds,-s", st.seconds, "time budget in seconds")->check(CLI::Range(0.0, 1e7))->capture_default_str();
  stress->add_option("--ops", st.max_ops, "total op budget (0: no limit)")->capture_default_str();
  stress->add_option("--seed", st.seed, "seed of the workers' generators")->capture_default_str();
  stress->add_option("--audit-every", st.audit_every, "ops between quiescent audits (0: only at teardown)")->capture_default_str();
  stress->add_option("--slots", st.slots, "shared publication slots")->check(CLI::Range(1u, 4096u))->capture_default_str();
  stress->add_option("--normal-frames", st.model.normal_frames, "frames in ZONE_NORMAL")->capture_default_str();
  stress->add_option("--movable-frames", st.model.movable_frames, "frames in ZONE_MOVABLE")->capture_default_str();
  stress->add_option("--block-frames", st.model.block_frames, "frames per memory block")->capture_default_str();
  stress->add_option("--max-order", st.model.max_page_order, "MAX_PAGE_ORDER (pageblock order)")
      ->check(CLI::Range(0, 10))->capture_default_str();
  stress->add_option("--free-dispatch", free_dispatch, "zero-transition design: owner-hook | per-type-checks")
      ->check(CLI::IsMember({"owner-hook", "per-type-checks"}))->capture_default_str();
  stress->add_option("--profile", profile, "op mix: all | refcount | special")
      ->check(CLI::IsMember({"all", "refcount", "special"}))->capture_default_str();
  stress->add_option("--gmem-pin-policy", gmem_policy, "guest_memfd design: refuse-longterm (a) | split-small-folios (b)")
      ->check(CLI::IsMember({"refuse-longterm", "split-small-folios"}))->capture_default_str();
  stress->add_option("--progress", st.progress_every, "seconds between progress lines (0: none)")->capture_default_str();

  return [args] {
    auto& st = args->st;
    const auto& free_dispatch = args->free_dispatch;
    const auto& profile = args->profile;
    const auto& gmem_policy = args->gmem_policy;
    st.model.design.free_dispatch =
        free_dispatch == "per-type-checks" ? core::FreeDispatch::PerTypeChecks : core::FreeDispatch::OwnerHook;
    st.profile = profile == "refcount"  ? refhammer::stress::CoreStressOptions::Profile::Refcount
                 : profile == "special" ? refhammer::stress::CoreStressOptions::Profile::Special
                                        : refhammer::stress::CoreStressOptions::Profile::All;
    st.model.design.gmem_pin_policy =
        gmem_policy == "split-small-folios" ? core::GmemPinPolicy::SplitSmallFolios : core::GmemPinPolicy::RefuseLongterm;
    if (st.progress_every == 0 && isatty(STDOUT_FILENO)) st.progress_every = 1.0;
    return run_stress(st);
  };
}

}  // namespace refhammer::cli
