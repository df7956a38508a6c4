// Every stress profile reaches the protocol paths it exists to stress
// (issue #18): a profile lists, in `Profile::reaches` (harness/gen.cpp), the
// probes that prove its paths run, and this test fails when a fixed set of
// deterministic runs of the profile no longer hits one of them.
//
// Per profile: random programs from fixed seeds (3 actors), each run once on
// the deterministic engine, the decision source alternating between the
// random scheduler and PCT. No threads: the counts are a function of the
// seeds, so the test cannot flake; a change of the generator, the op table
// or the core that moves them is what it is there to notice. The lists were
// chosen by measurement (each probe hit by many of the runs, not one lucky
// seed); the test prints the per-profile totals, so a list can be revisited.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/probe.hpp"
#include "core/violation.hpp"
#include "harness/engine.hpp"
#include "harness/gen.hpp"
#include "harness/sched.hpp"
#include "stress/stress.hpp"
#include "tests/support/harness_support.hpp"

namespace {

namespace harness = refhammer::harness;
using refhammer::stress::StressOptions;

// 100 programs of 3 actors x 100 ops per profile: about 0.03-0.25 s per
// profile in release (offline is the slowest), a few times that under the
// sanitizers. Shorter programs reach the multi-op paths (a migration of a
// folio nobody else holds, a long-term pin that migrates) in too few runs.
constexpr unsigned kActors = 3;
constexpr size_t kOpsPerActor = 100;
constexpr unsigned kPrograms = 100;
constexpr uint32_t kFrames = 128;      // the stress driver's default model
constexpr uint32_t kAuditEvery = 16;   // quiescent audits too: a violation there is a model bug as well
constexpr uint64_t kSeedBase = 0x18003;  // issue #18 part 3

struct Tally {
  unsigned runs = 0;
  uint64_t steps = 0;
  uint64_t hits[core::kNrProbes] = {};
  unsigned runs_hit[core::kNrProbes] = {};  // runs that hit the probe at least once
};

// The model a profile runs on: the stress driver's (stress.cpp), which has a
// block of ZONE_DEVICE frames for the profiles that want them.
core::ModelConfig model_for(const harness::Profile& p) {
  core::ModelConfig cfg = StressOptions::stress_model(kFrames);
  if (p.wants_device && cfg.device_frames == 0) cfg.device_frames = cfg.block_frames;
  return cfg;
}

Tally run_profile(const harness::Profile& p) {
  const core::ModelConfig cfg = model_for(p);
  harness::RunOptions opts;
  opts.audit_every = kAuditEvery;
  Tally t;
  uint64_t k_est = 2000;  // PCT's step estimate: the last random run's length
  for (unsigned i = 0; i < kPrograms; ++i) {
    const uint64_t seed = kSeedBase + i;
    refhammer::Rng rng(seed);
    const harness::Program program = harness::random_program(rng, cfg, p, kActors, kOpsPerActor);
    const bool pct = i % 2 == 1;
    std::unique_ptr<harness::DecisionSource> src =
        pct ? harness::make_pct_source(seed, kActors, 1 + (i / 2) % 3, k_est) : harness::make_random_source(seed);
    const harness::RunResult r = harness::run_deterministic(cfg, program, *src, opts);
    EXPECT_TRUE(r.clean()) << p.name << " seed " << seed << " (" << src->describe() << "): " << refhammer_test::describe(r);
    if (!pct) k_est = std::max<uint64_t>(1, r.k);
    ++t.runs;
    t.steps += r.k;
    for (unsigned q = 0; q < core::kNrProbes; ++q) {
      t.hits[q] += r.probes[q];
      if (r.probes[q] > 0) ++t.runs_hit[q];
    }
  }
  return t;
}

std::string format_tally(const harness::Profile& p, const Tally& t) {
  std::ostringstream os;
  os << "profile " << p.name << ": " << t.runs << " runs, " << t.steps
     << " steps; probes hit (hits / runs that hit it; * = listed in Profile::reaches):\n";
  for (unsigned q = 0; q < core::kNrProbes; ++q) {
    if (t.hits[q] == 0) continue;
    const auto probe = static_cast<core::Probe>(q);
    const bool listed = std::find(p.reaches.begin(), p.reaches.end(), probe) != p.reaches.end();
    os << "  " << (listed ? '*' : ' ') << std::setw(3) << q << " " << std::left << std::setw(52)
       << core::probe_name(probe) << std::right << std::setw(8) << t.hits[q] << " / " << t.runs_hit[q] << "\n";
  }
  return os.str();
}

// Parameterised by the profile's name, so that a failure names the profile.
class ProfileProbes : public ::testing::TestWithParam<std::string> {};

TEST_P(ProfileProbes, ReachesEveryListedProbe) {
  const harness::Profile* found = harness::find_profile(GetParam());
  ASSERT_NE(found, nullptr) << GetParam();
  const harness::Profile& p = *found;
  EXPECT_FALSE(p.reaches.empty()) << p.name << ": Profile::reaches is empty (harness/gen.cpp)";
  const Tally t = run_profile(p);
  std::cout << format_tally(p, t) << std::flush;
  for (const core::Probe probe : p.reaches) {
    const auto q = static_cast<unsigned>(probe);
    EXPECT_GT(t.hits[q], 0u) << "profile " << p.name << " no longer reaches probe " << q << " \""
                             << core::probe_name(probe) << "\" (" << t.hits[q] << " hits in " << t.runs_hit[q] << " of "
                             << t.runs << " runs)\n"
                             << format_tally(p, t);
  }
  std::string listed;
  for (const core::Probe probe : p.reaches) {
    const auto q = static_cast<unsigned>(probe);
    if (!listed.empty()) listed += "; ";
    listed += std::string(core::probe_name(probe)) + "=" + std::to_string(t.hits[q]) + "/" +
              std::to_string(t.runs_hit[q]);
  }
  RecordProperty("reaches", listed);
}

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (const harness::Profile& p : harness::profiles()) out.emplace_back(p.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Profiles, ProfileProbes, ::testing::ValuesIn(profile_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
