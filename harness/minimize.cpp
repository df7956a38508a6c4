// harness::minimize — see minimize.hpp.
#include "harness/minimize.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "harness/bounded.hpp"
#include "harness/sched.hpp"

namespace refhammer::harness {
namespace {

using Clock = std::chrono::steady_clock;

// Which actor and op each step of a run belonged to (0-based step index).
struct StepOwner {
  uint8_t actor;
  int op;  // -1: between ops
};

struct State {
  Program program;
  Schedule schedule;          // what actually ran (up to the violation)
  std::vector<StepOwner> steps;
  uint64_t preemptions = 0;
  StaleScript stale;          // weak memory: the stale reads it took
};

Schedule canonical(const Schedule& s) {
  Schedule out;
  for (const Slice& sl : s) {
    if (sl.steps == 0) continue;
    if (!out.empty() && out.back().actor == sl.actor) out.back().steps += sl.steps;
    else out.push_back(sl);
  }
  return out;
}

std::vector<StepOwner> step_owners(const RunResult& r) {
  std::vector<StepOwner> v(r.k, StepOwner{0, -1});
  // Fill from the schedule first (actor of every step), then the ops from
  // the timeline.
  uint64_t i = 0;
  for (const Slice& s : r.schedule)
    for (uint32_t k = 0; k < s.steps && i < v.size(); ++k) v[i++].actor = s.actor;
  for (const Segment& seg : r.timeline)
    for (uint64_t s = seg.first_step; s <= seg.last_step && s >= 1 && s <= v.size(); ++s) v[s - 1].op = seg.op;
  // Steps between ops (the audit gate after an op) belong to the op before
  // them: removing an op removes its audit too.
  std::vector<int> last(kMaxActors, -1);
  for (StepOwner& st : v) {
    if (st.op >= 0) last[st.actor % kMaxActors] = st.op;
    else st.op = last[st.actor % kMaxActors];
  }
  return v;
}

}  // namespace

std::vector<size_t> ddmin(std::vector<size_t> items, const std::function<bool(const std::vector<size_t>&)>& fails,
                          const std::function<bool()>& stop) {
  size_t n = 2;
  while (items.size() >= 1 && !(stop && stop())) {
    const size_t size = items.size();
    n = std::min(n, size);
    const size_t chunk = (size + n - 1) / n;
    bool reduced = false;
    for (size_t i = 0; i * chunk < size && !reduced; ++i) {
      std::vector<size_t> complement;
      complement.reserve(size);
      for (size_t k = 0; k < size; ++k)
        if (k < i * chunk || k >= (i + 1) * chunk) complement.push_back(items[k]);
      if (stop && stop()) return items;
      if (fails(complement)) {
        items = std::move(complement);
        n = std::max<size_t>(n - 1, 2);
        reduced = true;
      }
    }
    if (!reduced) {
      if (chunk == 1) break;  // every single element was tried: 1-minimal
      n = std::min(size, n * 2);
    }
  }
  return items;
}

namespace {

class Minimizer {
 public:
  Minimizer(const Trace& t, const MinimizeOptions& o) : base_(t), o_(o), start_(Clock::now()) {}

  MinimizeResult run() {
    MinimizeResult res;
    res.actors_before = base_.program.actors.size();
    res.ops_before = base_.program.total_ops();
    Schedule initial = base_.has_schedule ? base_.schedule : Schedule{};
    cur_.stale = base_.stale;
    RunResult r = execute(base_.program, initial, !base_.has_schedule);
    if (r.clean()) {
      res.error = "the trace runs clean on the deterministic scheduler: nothing to minimize";
      return res;
    }
    want_ = base_.expect_clean ? r.report.signature : base_.expect_signature;
    if (r.report.signature != want_) {
      res.error = "the trace fails with " + r.report.signature + ", not its expected " + want_;
      return res;
    }
    res.signature = want_;
    accept(base_.program, r);
    res.preemptions_before = cur_.preemptions;
    res.steps_before = r.k;

    pass_threads();
    pass_windows();
    // A fixed point only when a whole round ran to its end inside the budget
    // and changed nothing: a pass that the budget cut short also reports "no
    // change", and a round like that proves nothing (a loaded machine's
    // campaign called 51 ops a fixed point that 60 s took to 10).
    bool fixed = false;
    while (!out_of_budget()) {
      bool changed = false;
      changed |= pass_actors();
      changed |= pass_ops();
      changed |= pass_args();
      changed |= pass_schedule();
      changed |= pass_fewest_preemptions();
      changed |= pass_stale();
      if (out_of_budget()) break;
      // At a fixed point of the passes above, the two whole-program passes
      // again: a program they shrank may now have a short window that
      // races within 2 preemptions, or race on real threads without ops
      // the projected schedule still needed.
      if (!changed) changed = pass_windows() || pass_threads();
      if (out_of_budget()) break;
      if (!changed) {
        // 1-minimality: the passes above tried every single op and every
        // single context switch on this last round without success.
        fixed = true;
        break;
      }
    }
    res.fixed_point = fixed;
    res.ok = true;
    res.trace = base_;
    res.trace.program = cur_.program;
    res.trace.has_schedule = true;
    res.trace.schedule = cur_.schedule;
    res.trace.stale = cur_.stale;
    res.trace.has_order = false;  // the recorded order was of the unminimized program
    res.trace.scheduler = SchedulerKind::Deterministic;
    res.trace.expect_clean = false;
    res.trace.expect_signature = want_;
    res.trace.source = "minimized";
    res.actors_after = cur_.program.actors.size();
    res.ops_after = cur_.program.total_ops();
    res.preemptions_after = cur_.preemptions;
    res.steps_after = schedule_steps(cur_.schedule);
    res.candidates = candidates_;
    res.accepted = accepted_;
    res.seconds = elapsed();
    return res;
  }

 private:
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  bool out_of_budget() const { return elapsed() > o_.seconds || candidates_ >= o_.max_candidates; }

  // `stale`: the stale reads to take (weak memory), default the current ones.
  RunResult execute(const Program& p, const Schedule& s, bool round_robin = false, const StaleScript* stale = nullptr) {
    RunOptions ro = candidate_options();
    if (stale != nullptr) ro.stale = *stale;
    ro.max_steps = std::max<uint64_t>(2'000'000, 4 * schedule_steps(s));
    auto src = round_robin ? make_random_source(base_.seed) : make_recorded_source(s);
    return run_deterministic(base_.model, p, *src, ro);
  }

  bool fails(const RunResult& r) const { return !r.clean() && r.report.signature == want_; }

  void accept(const Program& p, const RunResult& r) {
    cur_.program = p;
    cur_.schedule = canonical(r.schedule);
    cur_.steps = step_owners(r);
    cur_.preemptions = r.preemptions;
    cur_.stale = r.stale;
    ++accepted_;
    if (o_.progress) o_.progress(candidates_, p.total_ops(), r.preemptions, pass_);
  }

  // Runs a candidate: first with `s`, then (small programs) with a bounded
  // search at the current preemption bound. Accepts it when it fails with
  // the signature and is no worse in preemptions than `max_preemptions`.
  bool try_candidate(const Program& p, const Schedule& s, uint64_t max_preemptions, bool explore) {
    if (out_of_budget()) return false;
    ++candidates_;
    RunResult r = execute(p, s);
    if (fails(r) && r.preemptions <= max_preemptions) {
      accept(p, r);
      return true;
    }
    if (explore && p.total_ops() > o_.explore_max_ops && p.total_ops() <= o_.sample_max_ops)
      return sample_candidate(p, max_preemptions);
    if (!explore || p.total_ops() > o_.explore_max_ops || o_.explore_runs == 0) return false;
    // Each program is explored once per bound: later rounds of the passes
    // propose the same candidates again.
    if (!first_time("explore", p, max_preemptions)) return false;
    // Iterative context bounding first: a depth-first search at a high bound
    // spends a small budget in one corner of the schedule space (every run
    // shares a long prefix), while bounds 1 and 2 are nearly exhausted by it
    // on a program this small, and most races need no more.
    const uint64_t shallow = std::min<uint64_t>(max_preemptions, 2);
    for (uint32_t c = 1; c <= shallow; ++c)
      if (explore_and_accept(p, c, o_.explore_runs, max_preemptions)) return true;
    if (max_preemptions <= shallow) return false;
    return explore_and_accept(p, static_cast<uint32_t>(std::min<uint64_t>(max_preemptions, 8)), o_.explore_runs,
                              max_preemptions);
  }

  // True the first time (what, p, bound) is asked.
  bool first_time(const char* what, const Program& p, uint64_t bound) {
    std::string key = std::string(what) + " " + std::to_string(bound) + "|";
    for (size_t a = 0; a < p.actors.size(); ++a)
      for (const Op& op : p.actors[a]) key += std::to_string(a) + " " + format_op(op) + ";";
    return explored_.insert(std::move(key)).second;
  }

  // The deterministic run options of every candidate.
  RunOptions candidate_options() const {
    RunOptions ro;
    ro.audit_every = base_.audit_every;
    ro.timeline = true;
    ro.livelock_steps = 20'000;
    ro.weak_memory = base_.weak_memory;
    ro.stale = cur_.stale;
    return ro;
  }

  // Bounded exploration of p up to `bound` preemptions (at most max_runs
  // schedules); its first failure with the signature, re-run with a timeline
  // (for later projections), is accepted if it has at most max_preemptions.
  bool explore_and_accept(const Program& p, uint32_t bound, uint64_t max_runs, uint64_t max_preemptions) {
    BoundedOptions bo;
    bo.bound = bound;
    bo.max_runs = max_runs;
    bo.stop_at_first = true;
    bo.want_signature = want_;
    bo.run = candidate_options();
    bo.run.timeline = false;
    // Weak memory: each schedule with no stale read, then with each single
    // one (the current script's load numbers do not carry over to another
    // program).
    bo.run.stale.clear();
    bo.stale_bound = base_.weak_memory ? 1 : 0;
    BoundedResult b = explore_bounded(base_.model, p, bo);
    candidates_ += b.runs;
    if (!b.has_failure) return false;
    RunResult again = execute(p, b.first_failure.schedule, false, &b.first_failure.stale);
    if (!fails(again) || again.preemptions > max_preemptions) return false;
    accept(p, again);
    return true;
  }

  // A program too long to explore every schedule of: random schedules with
  // 1..3 context switches at uniform steps (make_switch_random_source), a
  // few hundred, once per program and bound.
  bool sample_candidate(const Program& p, uint64_t max_preemptions) {
    if (!first_time("sample", p, max_preemptions)) return false;
    const uint64_t k = std::max<uint64_t>(64, schedule_steps(cur_.schedule));
    for (uint32_t c = 1; c <= std::min<uint64_t>(3, std::max<uint64_t>(1, max_preemptions)); ++c)
      if (try_switch_schedules(p, c, k, max_preemptions, o_.sample_runs, kNoDeadline)) return true;
    return false;
  }

  static constexpr double kNoDeadline = std::numeric_limits<double>::infinity();

  // Up to `runs` random schedules of `p` with exactly c context switches at
  // uniform steps below k (make_switch_random_source), while the budget and
  // `until` (elapsed seconds) last. The first that fails the same way with
  // at most `max_preemptions`, and still does as a replayable trace runs
  // it, is accepted.
  bool try_switch_schedules(const Program& p, uint32_t c, uint64_t k, uint64_t max_preemptions, uint64_t runs,
                            double until) {
    for (uint64_t i = 0; i < runs && !out_of_budget() && elapsed() < until; ++i) {
      ++candidates_;
      auto src = make_switch_random_source(++sample_seed_, c, k);
      RunResult r = run_deterministic(base_.model, p, *src, candidate_options());
      if (!fails(r) || r.preemptions > max_preemptions) continue;
      RunResult again = execute(p, r.schedule, false, &r.stale);  // the schedule as a replayable trace runs it
      if (!fails(again) || again.preemptions > max_preemptions) continue;
      accept(p, again);
      return true;
    }
    return false;
  }

  // The current schedule without the steps of removed ops; actors renumbered
  // by `actor_map` (-1: removed).
  Schedule project(const std::vector<std::vector<bool>>& keep_op, const std::vector<int>& actor_map) const {
    Schedule s;
    for (const StepOwner& st : cur_.steps) {
      const int na = st.actor < actor_map.size() ? actor_map[st.actor] : -1;
      if (na < 0) continue;
      if (st.op >= 0 && st.actor < keep_op.size() && static_cast<size_t>(st.op) < keep_op[st.actor].size() &&
          !keep_op[st.actor][st.op])
        continue;
      if (!s.empty() && s.back().actor == na) s.back().steps++;
      else s.push_back(Slice{static_cast<uint8_t>(na), 1});
    }
    return s;
  }

  std::vector<int> identity_actors() const {
    std::vector<int> m(cur_.program.actors.size());
    for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int>(i);
    return m;
  }

  bool pass_actors() {
    pass_ = "actors";
    bool any = false;
    for (size_t a = cur_.program.actors.size(); a-- > 0 && cur_.program.actors.size() > 1;) {
      Program p = cur_.program;
      p.actors.erase(p.actors.begin() + static_cast<long>(a));
      std::vector<int> m = identity_actors();
      m[a] = -1;
      for (size_t i = a + 1; i < m.size(); ++i) m[i] = static_cast<int>(i) - 1;
      std::vector<std::vector<bool>> keep;
      for (const auto& ops : cur_.program.actors) keep.emplace_back(ops.size(), true);
      if (try_candidate(p, project(keep, m), cur_.preemptions, true)) any = true;
    }
    return any;
  }

  // The program with only the ops whose flat index is in `keep`.
  bool try_keep(const std::vector<bool>& keep_flat, bool explore) {
    Program p;
    p.actors.resize(cur_.program.actors.size());
    std::vector<std::vector<bool>> keep;
    size_t f = 0;
    for (size_t a = 0; a < cur_.program.actors.size(); ++a) {
      keep.emplace_back();
      for (const Op& op : cur_.program.actors[a]) {
        keep.back().push_back(keep_flat[f]);
        if (keep_flat[f]) p.actors[a].push_back(op);
        ++f;
      }
    }
    return try_candidate(p, project(keep, identity_actors()), cur_.preemptions, explore);
  }

  // ddmin over the ops; single-op removals may explore schedules.
  bool pass_ops() {
    pass_ = "ops";
    const size_t n = cur_.program.total_ops();
    std::vector<size_t> kept(n);
    for (size_t i = 0; i < n; ++i) kept[i] = i;
    bool any = false;
    auto test = [&](const std::vector<size_t>& subset) {
      // `kept` are the flat indices (of the pass's first program) of the
      // current program's ops; `subset` is a subset of them.
      std::vector<bool> keep(kept.size(), false);
      size_t j = 0;
      for (size_t i = 0; i < kept.size(); ++i) {
        while (j < subset.size() && subset[j] < kept[i]) ++j;
        keep[i] = j < subset.size() && subset[j] == kept[i];
      }
      if (!try_keep(keep, kept.size() - subset.size() == 1)) return false;
      kept = subset;
      any = true;
      return true;
    };
    ddmin(kept, test, [&] { return out_of_budget(); });
    return any;
  }

  // A long program with many preemptions (a recorded real-thread run: ~1000
  // ops per actor and a switch every few sync points) is slow to shrink op by
  // op, and its race usually lies in the last ops of each actor. Before the
  // ddmin passes, try each actor's last w ops alone (w = 2, 4, ... 32, from a
  // fresh world) under a bounded search of up to 2 preemptions; the first
  // window that fails the same way replaces the program. A small share of the
  // budget at most (a tenth); exact schedules are kept when nothing is found.
  bool pass_windows() {
    if (cur_.program.total_ops() <= 8 || (cur_.program.total_ops() <= 64 && cur_.preemptions <= 3 && tried_windows_)) return false;
    tried_windows_ = true;
    pass_ = "windows";
    const double until = elapsed() + o_.seconds / 10;
    const size_t longest = cur_.program.longest();
    for (size_t w = 2; w <= 32 && w < longest; w *= 2) {
      const Program p = cur_.program.suffix(w);
      for (uint32_t c = 0; c <= 2; ++c) {
        if (out_of_budget() || elapsed() > until) return false;
        if (explore_and_accept(p, c, 4000, UINT64_MAX)) return true;
      }
    }
    return false;
  }

  // One candidate on real threads (see MinimizeOptions::thread_attempts):
  // free and perturbed runs alternate, the perturbation gap varies.
  bool threads_fail(const Program& p) {
    if (base_.weak_memory) return false;  // real threads do not model the C++ memory model's stale reads
    // Short programs are cheap to run: more attempts (a race in a short
    // program on an idle machine needs more of them to be hit again).
    const uint64_t attempts =
        std::max<uint64_t>(o_.thread_attempts, std::min<uint64_t>(2000, 40'000 / std::max<size_t>(1, p.total_ops())));
    for (uint64_t i = 0; i < attempts && !out_of_budget() && elapsed() < threads_until_; ++i) {
      RunOptions ro;
      ro.audit_every = base_.audit_every;
      ro.seed = ++thread_seed_;
      ro.perturb_gap = 16u << (2 * (i % 3));  // 16, 64 (stress's default), 256
      // Half the perturbed attempts also "preempt" (a long spin, about 1-10
      // us): on an idle machine that is what makes wide windows cross.
      ro.preempt_pauses = (i / 3) % 2 == 0 ? 0 : 256u << (i % 4);
      Schedule order;
      std::string order_error;
      ++candidates_;
      const RunResult rr = run_threads_recorded(base_.model, p, i % 4 != 0, ro, order, order_error);
      if (!fails(rr) || !order_error.empty()) continue;
      RunOptions d = candidate_options();
      d.max_steps = 2'000'000 + schedule_steps(order);
      auto src = make_order_source(order);
      ++candidates_;
      RunResult det = run_deterministic(base_.model, p, *src, d);
      if (!fails(det)) continue;
      accept(p, det);
      return true;
    }
    return false;
  }

  // ddmin over the ops, each candidate tested on real threads. A long
  // recording's projection rarely races again once ops go (every later
  // sync point moves); the same program on real threads races as often as
  // the stress run did, and more often the shorter it gets.
  bool pass_threads() {
    if (o_.thread_attempts == 0 || cur_.program.total_ops() <= o_.threads_min_ops) return false;
    if (!base_.has_order && cur_.preemptions <= 3) return false;  // not a recording of real threads
    pass_ = "threads";
    threads_until_ = elapsed() + (o_.seconds - elapsed()) * o_.threads_share;
    const size_t ops_before = cur_.program.total_ops();  // it changed something only if it shrank
    // First each actor's last w ops alone (w = 4, 8, ...): a race usually
    // needs only the last ops before it, and a few candidates settle that.
    bool hit = false;
    for (size_t w = 4; w < cur_.program.longest() && elapsed() < threads_until_ && !out_of_budget() && !hit; w *= 2)
      hit = threads_fail(cur_.program.suffix(w));
    if (!hit) {
      // No window races again; nor the whole program? Then this race does
      // not come back on real threads: leave the budget to the
      // deterministic passes. (A hit keeps the fewer-preemption schedule.)
      const uint64_t preemptions_before = cur_.preemptions;
      const Schedule schedule_before = cur_.schedule;
      const std::vector<StepOwner> steps_before = cur_.steps;
      if (!threads_fail(cur_.program)) return false;
      if (cur_.preemptions > preemptions_before) {
        cur_.preemptions = preemptions_before;
        cur_.schedule = schedule_before;
        cur_.steps = steps_before;
      }
    }
    if (cur_.program.total_ops() <= o_.threads_min_ops) return cur_.program.total_ops() < ops_before;
    std::vector<size_t> all(cur_.program.total_ops());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    // Flat index -> (actor, op) of the ddmin's first program.
    std::vector<std::pair<size_t, size_t>> where;
    for (size_t a = 0; a < cur_.program.actors.size(); ++a)
      for (size_t i = 0; i < cur_.program.actors[a].size(); ++i) where.emplace_back(a, i);
    const Program first = cur_.program;
    auto test = [&](const std::vector<size_t>& subset) {
      Program p;
      p.actors.resize(first.actors.size());
      for (size_t f : subset) p.actors[where[f].first].push_back(first.actors[where[f].first][where[f].second]);
      return threads_fail(p);
    };
    ddmin(all, test, [&] { return out_of_budget() || elapsed() >= threads_until_; });
    return cur_.program.total_ops() < ops_before;
  }

  bool pass_args() {
    pass_ = "args";
    bool any = false;
    for (size_t a = 0; a < cur_.program.actors.size(); ++a)
      for (size_t i = 0; i < cur_.program.actors[a].size(); ++i) {
        const OpSpec& spec = op_spec(cur_.program.actors[a][i].code);
        for (unsigned k = 0; k < spec.nargs; ++k) {
          const uint32_t v = cur_.program.actors[a][i].a[k];
          if (v == 0) continue;
          std::vector<uint32_t> tries = {0};
          if (v / 2 != 0) tries.push_back(v / 2);
          if (v - 1 != 0 && v - 1 != v / 2) tries.push_back(v - 1);
          for (uint32_t nv : tries) {
            if (out_of_budget()) return any;
            Program p = cur_.program;
            p.actors[a][i].a[k] = nv;
            if (try_candidate(p, cur_.schedule, cur_.preemptions, false)) {
              any = true;
              break;
            }
          }
        }
      }
    return any;
  }

  // Drop context switches: slice i's steps join the same actor's previous
  // (or next) slice. Kept when the run still fails with fewer preemptions
  // (or as many and fewer slices).
  bool pass_schedule() {
    pass_ = "schedule";
    bool any = false;
    for (size_t i = cur_.schedule.size(); i-- > 0;) {
      if (out_of_budget()) break;
      const Schedule s = cur_.schedule;
      if (i >= s.size()) continue;
      const uint8_t actor = s[i].actor;
      for (int dir : {-1, +1}) {
        Schedule c = s;
        const uint32_t steps = c[i].steps;
        c[i].steps = 0;
        bool placed = false;
        if (dir < 0) {
          for (size_t j = i; j-- > 0;)
            if (c[j].actor == actor) {
              c[j].steps += steps;
              placed = true;
              break;
            }
        } else {
          for (size_t j = i + 1; j < c.size(); ++j)
            if (c[j].actor == actor) {
              c[j].steps += steps;
              placed = true;
              break;
            }
          if (!placed) {
            c.push_back(Slice{actor, steps});
            placed = true;
          }
        }
        if (!placed) continue;
        c = canonical(c);
        const uint64_t before_p = cur_.preemptions;
        const size_t before_slices = cur_.schedule.size();
        ++candidates_;
        RunResult r = execute(cur_.program, c);
        if (fails(r) && (r.preemptions < before_p ||
                         (r.preemptions == before_p && canonical(r.schedule).size() < before_slices))) {
          accept(cur_.program, r);
          any = true;
          break;
        }
      }
    }
    return any;
  }

  // A small program whose schedule still has many preemptions (a recorded
  // real-thread order, projected): dropping one context switch at a time
  // rarely keeps the race, yet a schedule with far fewer often exists.
  // Iterative context bounding (CHESS) over the program, bound 0, 1, ...
  // below the current count, up to 3: the first bound with a failing
  // schedule is the fewest preemptions this signature needs here.
  bool pass_fewest_preemptions() {
    if (cur_.preemptions <= 3 || cur_.program.total_ops() > o_.explore_max_ops || o_.explore_runs == 0) return false;
    pass_ = "preemptions";
    const uint64_t top = std::min<uint64_t>(cur_.preemptions - 1, 3);
    // A quarter of the budget at most, spread over the bounds.
    const double until = elapsed() + o_.seconds / 4;
    for (uint32_t c = 0; c <= top && !out_of_budget() && elapsed() < until; ++c) {
      if (!first_time("fewest", cur_.program, c)) continue;
      if (explore_and_accept(cur_.program, c, o_.fewest_preemptions_runs, c)) return true;
      // The depth-first search did not exhaust the bound (its runs share a
      // long prefix): schedules with exactly c switches at uniform steps
      // sample the rest (the bugbench's offline race: 1% of them fail at
      // c = 3, none of the first 20 000 depth-first ones).
      const double bound_until = elapsed() + (until - elapsed()) / static_cast<double>(top + 1 - c);
      const uint64_t k = std::max<uint64_t>(64, schedule_steps(cur_.schedule));
      if (c > 0 && try_switch_schedules(cur_.program, c, k, c, o_.fewest_preemptions_runs, bound_until)) return true;
    }
    return false;
  }

  // Weak memory: fewer stale reads, each reading a newer store. Each stale
  // read goes (the rest keep their loads' numbers: the same run up to the
  // dropped one, so the numbering before it holds), then each one's `back`
  // drops by one.
  bool pass_stale() {
    if (!base_.weak_memory || cur_.stale.empty()) return false;
    pass_ = "stale";
    bool any = false;
    for (size_t i = cur_.stale.size(); i-- > 0 && !out_of_budget();) {
      if (i >= cur_.stale.size()) continue;
      for (int variant = 0; variant < 2; ++variant) {
        StaleScript c = cur_.stale;
        if (variant == 0) c.erase(c.begin() + static_cast<long>(i));
        else if (c[i].back > 1) --c[i].back;
        else continue;
        ++candidates_;
        RunResult r = execute(cur_.program, cur_.schedule, false, &c);
        if (fails(r) && r.preemptions <= cur_.preemptions &&
            (r.stale.size() < cur_.stale.size() || variant == 1)) {
          accept(cur_.program, r);
          any = true;
          break;
        }
      }
    }
    return any;
  }

  Trace base_;
  MinimizeOptions o_;
  Clock::time_point start_;
  std::string want_;
  State cur_;
  uint64_t candidates_ = 0;
  uint64_t accepted_ = 0;
  std::set<std::string> explored_;
  double threads_until_ = 0;
  bool tried_windows_ = false;
  uint64_t sample_seed_ = 0;  // pass_threads's share of the budget ends here
  uint64_t thread_seed_ = 0;
  const char* pass_ = "start";
};

}  // namespace

MinimizeResult minimize_trace(const Trace& failing, const MinimizeOptions& o) {
  if (failing.scheduler != SchedulerKind::Deterministic) {
    MinimizeResult r;
    r.error = "a free/perturb trace needs a deterministic schedule first (find_deterministic_schedule)";
    return r;
  }
  return Minimizer(failing, o).run();
}

uint64_t find_deterministic_schedule(const Trace& t, double seconds, Trace& out, bool& found) {
  found = false;
  const auto start = Clock::now();
  auto left = [&] { return seconds - std::chrono::duration<double>(Clock::now() - start).count(); };
  RunOptions ro;
  ro.audit_every = t.audit_every;
  const unsigned n = static_cast<unsigned>(t.program.actors.size());
  uint64_t runs = 0;
  uint64_t k_est = 0;
  {
    auto probe = make_random_source(t.seed);
    k_est = std::max<uint64_t>(1, run_deterministic(t.model, t.program, *probe, ro).k);
    ++runs;
  }
  auto check = [&](DecisionSource& src) {
    RunResult r = run_deterministic(t.model, t.program, src, ro);
    ++runs;
    if (r.clean() || (!t.expect_clean && r.report.signature != t.expect_signature)) return false;
    out = t;
    out.has_order = src.follows_order();  // a searched schedule is not the recorded order
    out.scheduler = SchedulerKind::Deterministic;
    out.has_schedule = true;
    out.schedule = r.schedule;
    out.source = src.describe();
    out.expect_clean = false;
    out.expect_signature = r.report.signature;
    found = true;
    return true;
  };
  // A recorded sync-point order is the real threads' own interleaving.
  if (t.has_order) {
    // A long recording must not hit the step budget before it ends.
    const uint64_t budget = ro.max_steps;
    ro.max_steps += schedule_steps(t.order);
    auto src = make_order_source(t.order);
    const bool hit = check(*src);
    ro.max_steps = budget;
    if (hit) return runs;
  }
  // A share of the budget for PCT at each depth, the rest for random.
  for (uint32_t d = 1; d <= 3; ++d) {
    const double stop_at = seconds * d / 4.0;
    for (uint64_t i = 0; std::chrono::duration<double>(Clock::now() - start).count() < stop_at; ++i) {
      auto src = make_pct_source(t.seed * 7919 + i, n, d, k_est);
      if (check(*src)) return runs;
    }
  }
  for (uint64_t i = 0; left() > 0; ++i) {
    auto src = make_random_source(t.seed * 104729 + i);
    if (check(*src)) return runs;
  }
  return runs;
}

uint32_t reproduction_count(const Trace& t, uint32_t n) {
  uint32_t ok = 0;
  for (uint32_t i = 0; i < n; ++i) ok += verdict_matches(t, run_trace(t, i)) ? 1 : 0;
  return ok;
}

}  // namespace refhammer::harness
