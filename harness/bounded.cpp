// harness::explore_bounded — see bounded.hpp.
#include "harness/bounded.hpp"

#include <algorithm>
#include <chrono>

namespace refhammer::harness {
namespace {

struct StepInfo {
  bool cur_ok;                 // the running actor could have continued here
  unsigned chosen;
  std::vector<unsigned> todo;  // alternatives still to explore at this step
  uint32_t preemptions;        // preemptions up to and including this step's choice
};

// Replays the prefix in `stack`, then extends it with default choices,
// recording alternatives within the bound.
class BoundedSource final : public DecisionSource {
 public:
  BoundedSource(std::vector<StepInfo>& stack, uint32_t bound) : stack_(stack), bound_(bound) {}

  unsigned pick(const std::vector<unsigned>& cand, int current, uint64_t step) override {
    const bool cur_ok = current >= 0 && std::find(cand.begin(), cand.end(), static_cast<unsigned>(current)) != cand.end();
    const uint32_t before = step == 0 ? 0 : stack_[step - 1].preemptions;
    if (step < stack_.size()) {
      // Forced prefix. The last forced step's choice is the alternative
      // being explored: its preemption count was fixed when it was pushed.
      return stack_[step].chosen;
    }
    const unsigned chosen = cur_ok ? static_cast<unsigned>(current) : cand[0];
    StepInfo s{cur_ok, chosen, {}, before};
    for (unsigned a : cand) {
      if (a == chosen) continue;
      const uint32_t cost = cur_ok ? 1 : 0;  // leaving a runnable actor is a preemption
      if (before + cost <= bound_) s.todo.push_back(a);
    }
    stack_.push_back(std::move(s));
    return chosen;
  }
  std::string describe() const override { return "bounded c=" + std::to_string(bound_); }

 private:
  std::vector<StepInfo>& stack_;
  uint32_t bound_;
};

}  // namespace

BoundedResult explore_bounded(const core::ModelConfig& cfg, const Program& p, const BoundedOptions& o) {
  BoundedResult res;
  res.bound = o.bound;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<StepInfo> stack;
  // True when the search should stop here.
  auto account = [&](RunResult&& r) {
    ++res.runs;
    if (r.clean()) return false;
    ++res.failing;
    ++res.signatures[r.report.signature];
    const bool wanted = o.want_signature.empty() || r.report.signature == o.want_signature;
    if (wanted && !res.has_failure) {
      res.has_failure = true;
      res.first_failure = std::move(r);
    }
    return wanted && o.stop_at_first;
  };
  bool stop = false;
  while (!stop && res.runs < o.max_runs) {
    BoundedSource src(stack, o.bound);
    RunResult r = run_deterministic(cfg, p, src, o.run);
    // The run may have stopped early (a violation): drop steps it never took.
    const uint64_t taken = schedule_steps(r.schedule);
    if (stack.size() > taken) stack.resize(taken);
    const bool clean = r.clean();
    const Schedule schedule = r.schedule;
    const std::vector<uint8_t> choices = r.stale_choices;
    stop = account(std::move(r));
    // Weak memory: the same schedule with each single stale read. A stale
    // value can change what the actor does next, so the schedule is
    // followed as far as it fits (the run records what it did).
    if (clean && o.run.weak_memory && o.stale_bound > 0) {
      RunOptions ro = o.run;
      ro.max_steps += schedule_steps(schedule);
      for (uint32_t load = 0; load < choices.size() && !stop && res.runs < o.max_runs; ++load)
        for (uint8_t back = 1; back < choices[load] && back <= o.max_back && !stop && res.runs < o.max_runs; ++back) {
          ro.stale = {StaleRead{load, back}};
          auto rec = make_recorded_source(schedule);
          ++res.stale_runs;
          stop = account(run_deterministic(cfg, p, *rec, ro));
        }
    }
    if (stop) break;
    // Backtrack to the deepest step with an unexplored alternative.
    while (!stack.empty() && stack.back().todo.empty()) stack.pop_back();
    if (stack.empty()) {
      res.exhausted = true;
      break;
    }
    StepInfo& top = stack.back();
    const unsigned alt = top.todo.back();
    top.todo.pop_back();
    const uint32_t before = stack.size() >= 2 ? stack[stack.size() - 2].preemptions : 0;
    // Any choice other than the default preempts the running actor when it
    // could have continued (the default then was to continue it).
    top.preemptions = before + (top.cur_ok ? 1u : 0u);
    top.chosen = alt;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace refhammer::harness
