// stress_bench — the numbers of the stress driver (issue 7), printed with
// their targets:
//  1. throughput, release, scheduler free, profile all: 1 and 2 threads
//     (target >= 5 M ops/s on 2 threads), with the default fresh-world rings
//     and with one continuous world;
//  2. audit overhead at the default interval: one continuous world with
//     audits every StressOptions::audit_every ops vs none (target <= 10%);
//     the fresh-world resets (each with an audit and a teardown check) are
//     reported separately;
//  3. time to detect the legacy races, free vs perturb (median of N seeds),
//     and the deterministic reproduction's success rate and time;
//  4. the cost of sync-point recording (RecordMode::Always vs Off), free and
//     perturb, profiles all and offline: throughput ratio, target <= 1.5x,
//     and the log's size per op.
//
//   stress_bench [--seconds S] [--seeds N] [--repro-seconds R] [--quick]
// Machine load matters: the numbers are for a quiet machine.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "stress/stress.hpp"

namespace {

using refhammer::stress::StressOptions;
using refhammer::stress::StressResult;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double ops_per_s(const StressResult& r) { return r.seconds > 0 ? r.ops / r.seconds : 0; }

StressOptions base(double seconds) {
  StressOptions o;
  o.profile = "all";
  o.seconds = seconds;
  o.write_traces = false;
  o.reproduce = false;
  return o;
}

// Best of three: the machine is shared, the best run is the least disturbed.
StressResult best_of(const StressOptions& o) {
  StressResult best;
  for (int i = 0; i < 3; ++i) {
    StressResult r = refhammer::stress::run_stress(o);
    if (!r.clean()) std::printf("  !! unexpected violation: %s\n", r.report.signature.c_str());
    if (ops_per_s(r) > ops_per_s(best)) best = r;
  }
  return best;
}

struct Race {
  const char* name;
  const char* profile;
  void (*apply)(core::ModelConfig&);
};

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2, repro_seconds = 10;
  unsigned seeds = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--repro-seconds") && i + 1 < argc) repro_seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) {
      seconds = 0.2;
      seeds = 1;
      repro_seconds = 1;
    } else {
      std::fprintf(stderr, "usage: stress_bench [--seconds S] [--seeds N] [--repro-seconds R] [--quick]\n");
      return 2;
    }
  }
  bool clean = true;

  std::printf("== 1. throughput: scheduler free, profile all, best of 3 runs of %.1f s\n", seconds);
  double fresh2 = 0;
  for (unsigned t : {1u, 2u}) {
    StressOptions o = base(seconds);
    o.threads = t;
    const StressResult f = best_of(o);
    o.fresh_worlds = false;
    const StressResult c = best_of(o);
    clean = clean && f.clean() && c.clean();
    if (t == 2) fresh2 = ops_per_s(f);
    std::printf("  %u thread(s): %6.2f M ops/s (fresh world every %u ops of a worker, %llu worlds)   %6.2f M ops/s "
                "(one continuous world)\n",
                t, ops_per_s(f) / 1e6, o.ring, static_cast<unsigned long long>(f.worlds), ops_per_s(c) / 1e6);
  }
  std::printf("  target >= 5 M ops/s on 2 threads: %.2f M ops/s -> %s\n", fresh2 / 1e6, fresh2 >= 5e6 ? "met" : "NOT met");

  std::printf("== 2. audit overhead at the default interval (%llu ops), 2 threads, one continuous world\n",
              static_cast<unsigned long long>(StressOptions{}.audit_every));
  {
    StressOptions o = base(seconds);
    o.fresh_worlds = false;
    const StressResult with = best_of(o);
    o.audit_every = 0;
    const StressResult without = best_of(o);
    const double overhead = 1.0 - ops_per_s(with) / std::max(1.0, ops_per_s(without));
    std::printf("  with audits %.2f M ops/s (%.0f audits/s), without %.2f M ops/s: overhead %.1f%% (target <= 10%%: %s)\n",
                ops_per_s(with) / 1e6, with.audits / std::max(with.seconds, 1e-9), ops_per_s(without) / 1e6,
                100 * overhead, overhead <= 0.10 ? "met" : "NOT met");
    StressOptions f = base(seconds);
    const StressResult fresh = best_of(f);
    std::printf("  fresh worlds (default): %.2f M ops/s, %.0f resets/s (each: audit + teardown check + new world): "
                "%.1f%% below the continuous world with audits\n",
                ops_per_s(fresh) / 1e6, fresh.worlds / std::max(fresh.seconds, 1e-9),
                100 * (1.0 - ops_per_s(fresh) / std::max(1.0, ops_per_s(with))));
  }

  std::printf("== 4. sync-point recording: throughput off / always, 2 threads, best of 3 runs of %.1f s\n", seconds);
  for (const char* profile : {"all", "offline"})
    for (int perturb = 0; perturb < 2; ++perturb) {
      StressOptions o = base(seconds);
      o.profile = profile;
      o.perturb = perturb != 0;
      o.record = refhammer::stress::RecordMode::Off;
      const StressResult off = best_of(o);
      o.record = refhammer::stress::RecordMode::Always;
      const StressResult on = best_of(o);
      clean = clean && off.clean() && on.clean();
      const double ratio = ops_per_s(off) / std::max(1.0, ops_per_s(on));
      std::printf("  %-8s %-7s off %6.2f M ops/s, recording %6.2f M ops/s: %.2fx slower (target <= 1.5x: %s)\n", profile,
                  perturb ? "perturb" : "free", ops_per_s(off) / 1e6, ops_per_s(on) / 1e6, ratio,
                  ratio <= 1.5 ? "met" : "NOT met");
    }
  std::printf("== 3. legacy races: time to detect (median of %u seeds), free vs perturb; reproduction (budget %.0f s)\n",
              seeds, repro_seconds);
  const Race races[] = {
      {"seed 000: offline=legacy free_dispatch=per-type-checks", "offline",
       [](core::ModelConfig& m) {
         m.design.offline = core::OfflineRefcount::Legacy;
         m.design.free_dispatch = core::FreeDispatch::PerTypeChecks;
       }},
      {"seed 002: zone_device=1-based", "device",
       [](core::ModelConfig& m) { m.design.zone_device = core::ZoneDeviceRefcount::LegacyOneBased; }},
  };
  unsigned repro_tried = 0, repro_ok = 0;
  std::vector<double> repro_times;
  for (const Race& race : races) {
    std::printf("  %s (profile %s)\n", race.name, race.profile);
    double med[2] = {};
    for (int perturb = 0; perturb < 2; ++perturb) {
      std::vector<double> detect;
      unsigned found = 0, ok = 0, by_order = 0;
      std::vector<double> rt;
      for (unsigned s = 1; s <= seeds; ++s) {
        StressOptions o = base(60);
        o.profile = race.profile;
        o.seed = s;
        o.perturb = perturb != 0;
        race.apply(o.model);
        o.reproduce = true;
        o.repro.seconds = repro_seconds;
        const StressResult r = refhammer::stress::run_stress(o);
        if (r.clean()) continue;
        ++found;
        detect.push_back(r.detect_seconds);
        ++repro_tried;
        if (r.reproduced()) {
          ++ok;
          by_order += r.repro.source == "recorded-order";
          ++repro_ok;
          rt.push_back(r.repro.seconds);
          repro_times.push_back(r.repro.seconds);
        }
      }
      med[perturb] = median(detect);
      std::printf("    %-7s found %u/%u, time to detect median %8.2f ms; reproduced %u/%u (%u by a recorded order), median %.2f s\n",
                  perturb ? "perturb" : "free", found, seeds, 1e3 * med[perturb], ok, found, by_order, median(rt));
    }
    std::printf("    perturb/free time-to-detect ratio: %.2f\n", med[0] > 0 ? med[1] / med[0] : 0.0);
  }
  std::printf("  reproduction: %u/%u (%.0f%%), median %.2f s\n", repro_ok, repro_tried,
              repro_tried ? 100.0 * repro_ok / repro_tried : 0.0, median(repro_times));
  return clean ? 0 : 1;
}
