// refhammer::stress::reproduce — see repro.hpp.
#include "stress/repro.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "harness/sched.hpp"

namespace refhammer::stress {

using harness::Program;
using harness::RunOptions;
using harness::RunResult;
using Clock = std::chrono::steady_clock;

uint64_t op_clock_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

std::string signature_op(const std::string& signature) {
  const size_t slash = signature.rfind('/');
  return slash == std::string::npos ? signature : signature.substr(slash + 1);
}

uint32_t repro_audit_every(const std::string& signature) { return signature_op(signature) == "audit" ? 1 : 0; }

namespace {

// Follows the op-level interleaving the real threads had: an actor's op i
// ran from start[i] to start[i+1] (its last op: until the end). At each step
// the eligible actors are those whose current op started before the
// earliest end among the candidates' current ops — the ops that overlapped
// it in time; among them, keep running the current actor, and switch to a
// random eligible one with probability 1/switch_den.
class GuidedSource final : public harness::DecisionSource {
 public:
  GuidedSource(const OpClock& clock, std::shared_ptr<std::vector<size_t>> pc, uint64_t seed, uint32_t switch_den)
      : clock_(clock), pc_(std::move(pc)), rng_(seed), seed_(seed), den_(switch_den) {}
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t) override {
    const std::vector<size_t>& pc = *pc_;
    auto start = [&](unsigned a) { return pc[a] < clock_[a].size() ? clock_[a][pc[a]] : UINT64_MAX; };
    auto end = [&](unsigned a) { return pc[a] + 1 < clock_[a].size() ? clock_[a][pc[a] + 1] : UINT64_MAX; };
    uint64_t m = UINT64_MAX;
    for (unsigned a : c) m = std::min(m, end(a));
    eligible_.clear();
    bool cur = false;
    for (unsigned a : c)
      if (start(a) <= m) {
        eligible_.push_back(a);
        cur = cur || static_cast<int>(a) == current;
      }
    if (eligible_.empty()) return c[0];
    if (cur && (eligible_.size() == 1 || rng_.below(den_) != 0)) return static_cast<unsigned>(current);
    return eligible_[rng_.below(static_cast<uint32_t>(eligible_.size()))];
  }
  std::string describe() const override {
    return "guided switch=1/" + std::to_string(den_) + " seed=" + std::to_string(seed_);
  }

 private:
  const OpClock& clock_;
  std::shared_ptr<std::vector<size_t>> pc_;
  Rng rng_;
  uint64_t seed_;
  uint32_t den_;
  std::vector<unsigned> eligible_;
};

struct Candidate {
  Program program;
  size_t window;   // 0: whole
  uint64_t k = 0;  // steps of a first run, for PCT's change points
};

}  // namespace

ReproResult reproduce(const core::ModelConfig& cfg, const Program& program, const std::string& signature,
                      const ReproOptions& o, const OpClock* clock) {
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
    if (w > 0 && w < program.longest()) cands.push_back(Candidate{program.suffix(w), w});

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

  uint64_t seed = o.seed * 0x9e3779b97f4a7c15ull + 1;
  bool guided_ok = clock != nullptr && clock->size() == program.actors.size();
  for (size_t a = 0; guided_ok && a < program.actors.size(); ++a)
    guided_ok = (*clock)[a].size() == program.actors[a].size();
  if (guided_ok) {
    // The guided phase: the whole program, following the recorded op order.
    auto pc = std::make_shared<std::vector<size_t>>(n, 0);
    RunOptions go = ro;
    go.on_op = [pc](unsigned actor, size_t done) { (*pc)[actor] = done; };
    static constexpr uint32_t kDens[] = {2, 4, 16, 64, 256};
    for (uint64_t i = 0; elapsed() < o.seconds * o.guided_share; ++i) {
      std::fill(pc->begin(), pc->end(), 0);
      ++seed;
      GuidedSource src(*clock, pc, seed, kDens[i % std::size(kDens)]);
      RunResult r = harness::run_deterministic(cfg, program, src, go);
      ++res.schedules;
      if (r.clean()) continue;
      if (r.report.signature == signature) {
        res.found = true;
        res.source = src.describe();
        res.window = 0;
        res.program = program;
        res.run = std::move(r);
        break;
      }
      res.other_signatures[r.report.signature]++;
    }
  }
  if (res.found) {
    res.seconds = elapsed();
    return res;
  }

  // Phase budget (fractions of the time): PCT d=1 (few distinct schedules:
  // one per priority order), d=2, d=3, then a few random context switches
  // (1..4 at uniform steps: races that need a preemption at a precise step
  // on each side, like seed 000's walker around MEM_GOING_OFFLINE, where PCT
  // and uniform random almost never land), then random until the end.
  struct Phase {
    uint32_t d;       // PCT depth; 0: random; kSwitch: random context switches
    double until;     // fraction of the budget
    uint64_t max;     // executions per candidate in this phase (0: no cap)
  };
  constexpr uint32_t kSwitch = 1000;
  const double g = guided_ok ? o.guided_share : 0.0;
  auto at = [&](double f) { return g + (1.0 - g) * f; };
  const Phase phases[] = {{1, at(0.05), 4u * n}, {2, at(0.25), 0}, {3, at(0.40), 0}, {kSwitch, at(0.90), 0}, {0, 1.0, 0}};
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
      auto src = ph.d == 0         ? harness::make_random_source(seed)
                 : ph.d == kSwitch ? harness::make_switch_random_source(seed, 1 + static_cast<uint32_t>(i % 4), c.k)
                                   : harness::make_pct_source(seed, n, ph.d, c.k);
      if (attempt(c, *src)) break;
    }
    if (res.found) break;
  }
  res.seconds = elapsed();
  return res;
}

}  // namespace refhammer::stress
