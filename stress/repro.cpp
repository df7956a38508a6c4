// refhammer::stress::reproduce — see repro.hpp.
#include "stress/repro.hpp"

#include <algorithm>
#include <chrono>

#include "harness/sched.hpp"

namespace refhammer::stress {

using harness::Program;
using harness::RunOptions;
using harness::RunResult;
using Clock = std::chrono::steady_clock;

std::string signature_op(const std::string& signature) {
  const size_t slash = signature.rfind('/');
  return slash == std::string::npos ? signature : signature.substr(slash + 1);
}

uint32_t repro_audit_every(const std::string& signature) { return signature_op(signature) == "audit" ? 1 : 0; }

namespace {

Program suffix(const Program& p, size_t n) {
  Program out;
  out.actors.resize(p.actors.size());
  for (size_t a = 0; a < p.actors.size(); ++a) {
    const auto& ops = p.actors[a];
    const size_t from = ops.size() > n ? ops.size() - n : 0;
    out.actors[a].assign(ops.begin() + static_cast<std::ptrdiff_t>(from), ops.end());
  }
  return out;
}

size_t longest(const Program& p) {
  size_t n = 0;
  for (const auto& a : p.actors) n = std::max(n, a.size());
  return n;
}

struct Candidate {
  Program program;
  size_t window;   // 0: whole
  uint64_t k = 0;  // steps of a first run, for PCT's change points
};

}  // namespace

ReproResult reproduce(const core::ModelConfig& cfg, const Program& program, const std::string& signature,
                      const ReproOptions& o) {
  ReproResult res;
  res.audit_every = repro_audit_every(signature);
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };

  // Whole program first, then shorter suffixes (fewer steps: PCT's odds of
  // placing a preemption right grow as 1/k^(d-1)).
  std::vector<Candidate> cands;
  cands.push_back(Candidate{program, 0});
  std::vector<size_t> windows = o.windows;
  std::sort(windows.rbegin(), windows.rend());
  for (size_t w : windows)
    if (w > 0 && w < longest(program)) cands.push_back(Candidate{suffix(program, w), w});

  RunOptions ro;
  ro.audit_every = res.audit_every;
  ro.max_steps = o.max_steps;
  ro.seed = o.seed;
  const unsigned n = static_cast<unsigned>(program.actors.size());

  auto attempt = [&](Candidate& c, harness::DecisionSource& src) {
    RunResult r = harness::run_deterministic(cfg, c.program, src, ro);
    ++res.schedules;
    if (c.k == 0) c.k = std::max<uint64_t>(1, r.k);
    if (r.clean()) return false;
    if (r.report.signature == signature) {
      res.found = true;
      res.source = src.describe();
      res.window = c.window;
      res.program = c.program;
      res.run = std::move(r);
      return true;
    }
    res.other_signatures[r.report.signature]++;
    return false;
  };

  // Phase budget (fractions of the time): PCT d=1 (few distinct schedules:
  // one per priority order), d=2, d=3, then random until the end.
  struct Phase {
    uint32_t d;       // 0: random
    double until;     // fraction of the budget
    uint64_t max;     // executions per candidate in this phase (0: no cap)
  };
  const Phase phases[] = {{1, 0.05, 4u * n}, {2, 0.40, 0}, {3, 0.70, 0}, {0, 1.0, 0}};
  uint64_t seed = o.seed * 0x9e3779b97f4a7c15ull + 1;
  for (const Phase& ph : phases) {
    std::vector<uint64_t> tried(cands.size(), 0);
    for (uint64_t i = 0;; ++i) {
      if (elapsed() >= o.seconds * ph.until) break;
      Candidate& c = cands[i % cands.size()];
      uint64_t& t = tried[i % cands.size()];
      if (ph.max != 0 && t >= ph.max) {
        bool all = true;
        for (uint64_t x : tried) all = all && x >= ph.max;
        if (all) break;
        continue;
      }
      ++t;
      ++seed;
      if (c.k == 0) {
        // A first run to learn k: random.
        auto src = harness::make_random_source(seed);
        if (attempt(c, *src)) break;
        continue;
      }
      auto src = ph.d == 0 ? harness::make_random_source(seed) : harness::make_pct_source(seed, n, ph.d, c.k);
      if (attempt(c, *src)) break;
    }
    if (res.found) break;
  }
  res.seconds = elapsed();
  return res;
}

}  // namespace refhammer::stress
