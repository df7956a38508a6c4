// harness::engine — see engine.hpp.
#include "harness/engine.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/sync.hpp"
#include "harness/fiber.hpp"
#include "harness/record.hpp"
#include "harness/runtime.hpp"
#include "harness/rng.hpp"
#include "harness/world.hpp"

namespace refhammer::harness {

std::string make_signature(const core::Violation& v, const std::string& op_name) {
  return std::string(core::violation_kind_name(v.kind)) + "/" + v.site + "/" + op_name;
}

namespace {

// What every scheduler shares: the world, the gate, the sink, audits.
struct Run {
  World w;
  FirstViolation sink;
  QuiesceGate gate;
  RunOptions o;
  std::atomic<uint64_t> audits{0};
  std::atomic<uint64_t> last_progress{0};  // ops completed (for livelock detection)
  bool scheduler_audits = false;           // deterministic: audits from the scheduler (audit_if_quiescent)
  int audit_due = -1;                      // ... the actor that made one due, -1 none

  Run(const core::ModelConfig& cfg, const Program& p, const RunOptions& opt) : w(cfg, p), o(opt) {
    sink.set_world(&w);
    w.model().set_violation_sink(&sink);
  }

  void audit_now(int auditor) {
    if (!gate.close()) return;
    audit_world(w, sink, auditor);
    audits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
    gate.reopen();
  }

  // A program-driven actor's op source for actor_loop(): its own ops, one
  // per gate hold, to the end of its program.
  struct ProgramOps {
    Run& run;
    Actor& a;
    bool more() const { return !a.done(); }
    bool prepare() const { return true; }
    void begin() const {}
    uint32_t batch() const { return 1; }
    bool next() {
      if (a.done()) return false;
      run.w.step(a);
      if (run.o.on_op) run.o.on_op(a.id, a.pc);
      return true;
    }
    void end(uint32_t n) {
      if (n == 0) return;
      run.last_progress.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
      if (run.o.audit_every == 0 || a.pc % run.o.audit_every != 0) return;
      if (run.scheduler_audits) {
        // Deterministic: the scheduler audits at the next moment no actor
        // is inside an op; nobody waits for it.
        if (run.audit_due < 0) run.audit_due = a.id;
      } else {
        run.audit_now(a.id);
      }
    }
  };

  void actor_body(Actor& a) {
    ProgramOps ops{*this, a};
    actor_loop(gate, sink, ops);
  }

  // Deterministic runs: an audit that is due runs from the scheduler's
  // context once every actor is between ops (or finished). It reads the
  // model with peek() only, so it adds no sync points and blocks no actor:
  // every interleaving of the ops stays reachable.
  void audit_if_quiescent(const std::vector<Fiber>& fibers) {
    if (audit_due < 0 || sink.stopped()) return;
    for (size_t i = 0; i < fibers.size(); ++i)
      if (!fibers[i].finished() && w.actors()[i].current != -1) return;
    const int auditor = audit_due;
    audit_due = -1;
    audit_world(w, sink, auditor);
    audits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic, one OS thread
  }

  // Oracle level 3, single-threaded, no hook installed.
  void teardown() { teardown_world(w, sink); }

  std::string last_ops() {
    std::string s;
    for (const Actor& a : w.actors()) {
      s += "  t" + std::to_string(a.id) + ":";
      const size_t from = a.results.size() > 3 ? a.results.size() - 3 : 0;
      if (from > 0) s += " ...";
      for (size_t i = from; i < a.results.size() && i < a.program.size(); ++i) {
        const int res = a.results[i];
        s += " [#" + std::to_string(i) + " " + format_op(a.program[i]) + " =" + (res == kSkipped ? "skip" : std::to_string(res)) + "]";
      }
      if (a.current >= 0) s += " [#" + std::to_string(a.current) + " " + format_op(a.program[a.current]) + " ...in progress]";
      else if (a.done()) s += " (done)";
      s += "\n";
    }
    return s;
  }

  void finish(RunResult& r) {
    r.n = static_cast<unsigned>(w.actors().size());
    r.audits = audits.load(std::memory_order_relaxed);  // relaxed: actors have stopped
    for (const Actor& a : w.actors()) {
      r.ops += a.pc;
      r.results.push_back(a.results);
    }
    for (unsigned p = 0; p < core::kNrProbes; ++p) r.probes[p] = w.model().probes().count(static_cast<core::Probe>(p));
    if (sink.has()) {
      r.verdict = Verdict::Violation;
      r.report = sink.take();
      r.report.last_ops = last_ops();
    }
  }
};

// --- deterministic -------------------------------------------------------------

class DetHook final : public core::SyncHook {
 public:
  std::vector<uint8_t> spinning;      // pending sync point is a Spin (cpu_relax)
  std::vector<core::SyncOp> pending;  // the sync point each actor yielded at
  std::vector<const void*> pending_addr;
  // Per actor: the locations it read since its last spin (what a spinner
  // waits on), and, once it spins, the set it watches.
  std::vector<std::vector<const void*>> reads, watched;
  SchedView view;                     // in_op per actor, for order-following sources
  std::vector<Actor>* actors = nullptr;
  // With interleaving coverage (sites) or a source that anchors on op steps
  // (op_steps): per actor, the op its pending sync point belongs to and its
  // index within it (view.op, view.op_step), and the pending access's site.
  bool sites = false, op_steps = false;
  std::vector<uint32_t> next_step, pending_site;
  WeakMemory* weak = nullptr;  // RunOptions::weak_memory
  uint64_t on_weak_load(const void* addr, uint64_t latest, std::memory_order mo) override {
    if (weak == nullptr || !Fiber::in_fiber()) return latest;
    return weak->load(actor, addr, latest, mo);
  }
  void on_weak_write(const void* addr, uint64_t before, uint64_t after, std::memory_order mo,
                     core::WeakWrite kind) override {
    if (weak != nullptr && Fiber::in_fiber()) weak->write(actor, addr, before, after, mo, kind);
  }
  void on_sync(core::SyncOp op, const void* addr) override {
    countdown = 1;
    if (!Fiber::in_fiber()) return;  // the scheduler's own context (audits)
    if (actor < spinning.size()) {
      spinning[actor] = op == core::SyncOp::Spin;
      pending[actor] = op;
      pending_addr[actor] = addr;
      if (op_steps) {
        const Actor& act = (*actors)[actor];
        if (act.current != view.op[actor]) {
          view.op[actor] = act.current;
          next_step[actor] = 0;
        }
        view.op_step[actor] = next_step[actor]++;
        if (sites) {
          const uint32_t code = act.current >= 0 ? act.program[static_cast<size_t>(act.current)].code : 0xffu;
          pending_site[actor] = code << 16 | std::min<uint32_t>(view.op_step[actor], 0xfff) << 4 |
                                static_cast<uint32_t>(op);
        }
      }
      if (op == core::SyncOp::Spin) {
        watched[actor].swap(reads[actor]);
        reads[actor].clear();
      } else if (op == core::SyncOp::Load || op == core::SyncOp::Cas) {
        if (reads[actor].size() < 8) reads[actor].push_back(addr);
      }
      // Actor::current is set by World::step before the op's first sync
      // point and cleared after its last: the same test the recorder on
      // real threads makes (harness/record.cpp).
      view.in_op[actor] = (*actors)[actor].current != -1;
    }
    Fiber::yield();
  }
};

bool is_write(core::SyncOp op) {
  return op == core::SyncOp::Store || op == core::SyncOp::Rmw || op == core::SyncOp::Cas;
}

uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

}  // namespace

void InterleavingCoverage::access(const void* addr, uint8_t actor, uint32_t site, bool write) {
  // Linear probing from the address's hash; a slot of an older run is empty.
  // (A direct-mapped table used to let two locations that collide overwrite
  // each other, so one schedule run twice could count different pairs.)
  for (size_t i = mix64(reinterpret_cast<uintptr_t>(addr)) & (kWriters - 1);; i = (i + 1) & (kWriters - 1)) {
    Writer& w = writers[i];
    if (w.gen != gen) {  // a location this run has not written yet
      if (write && used < kMaxLocations) {
        w = Writer{addr, gen, actor, site};
        ++used;
      }
      return;
    }
    if (w.addr != addr) continue;
    if (w.actor != actor) {
      // The pair of sites, not the location: the same race on another frame
      // is the same feature.
      ++pairs;
      if (counters != nullptr && size != 0) {
        uint8_t& c = counters[mix64(uint64_t{w.site} << 32 | site) & (size - 1)];
        if (c != 0xff) ++c;
      }
    }
    if (write) {
      w.actor = actor;
      w.site = site;
    }
    return;
  }
}

namespace {

struct FiberArg {
  Run* run;
  Actor* actor;
};

void fiber_entry(void* p) {
  auto* fa = static_cast<FiberArg*>(p);
  fa->run->actor_body(*fa->actor);
}

std::string actor_states(Run& run, const std::vector<Fiber>& fibers, const std::vector<uint8_t>& spinning) {
  std::string s;
  for (const Actor& a : run.w.actors()) {
    s += "  t" + std::to_string(a.id) + ": ";
    if (fibers[a.id].finished()) s += "finished";
    else if (a.current >= 0) s += "in op " + std::to_string(a.current) + " '" + format_op(a.program[a.current]) + "'";
    else s += "between ops (at op " + std::to_string(a.pc) + ")";
    if (!fibers[a.id].finished() && spinning[a.id]) s += ", spinning";
    s += "\n";
  }
  return s;
}

}  // namespace

RunResult run_deterministic(const core::ModelConfig& cfg, const Program& p, DecisionSource& src, const RunOptions& o) {
  RunResult r;
  auto run = std::make_unique<Run>(cfg, p, o);
  const unsigned n = static_cast<unsigned>(run->w.actors().size());
  run->scheduler_audits = true;
  DetHook hook;
  hook.spinning.assign(n, 0);
  hook.pending.assign(n, core::SyncOp::Load);
  hook.pending_addr.assign(n, nullptr);
  hook.reads.assign(n, {});
  hook.watched.assign(n, {});
  hook.view.in_op.assign(n, 0);
  hook.actors = &run->w.actors();
  InterleavingCoverage* const icov = o.interleaving;
  hook.op_steps = icov != nullptr || src.wants_op_steps();
  if (hook.op_steps) {
    hook.view.op.assign(n, -1);
    hook.view.op_step.assign(n, 0);
    hook.next_step.assign(n, 0);
  }
  if (icov != nullptr) {
    hook.sites = true;
    hook.pending_site.assign(n, 0);
    icov->used = 0;
    if (++icov->gen == 0) {  // wrapped: old entries could match again
      icov->writers.assign(InterleavingCoverage::kWriters, {});
      icov->gen = 1;
    }
  }
  std::unique_ptr<WeakMemory> weak;
  if (o.weak_memory) {
    weak = std::make_unique<WeakMemory>(n, o.stale, o.stale_random);
    hook.weak = weak.get();
    hook.weak_memory = true;
    hook.wants_done = true;
  }
  src.attach(&hook.view);
  // A spinner is blocked until another actor writes (see the spinner rule
  // below).
  std::vector<uint8_t> blocked(n, 0);
  std::vector<FiberArg> args(n);
  std::vector<Fiber> fibers;
  fibers.reserve(n);
  std::vector<size_t> pc_at_stop;
  std::string last_ops_at_stop;
  for (unsigned i = 0; i < n; ++i) {
    args[i] = FiberArg{run.get(), &run->w.actors()[i]};
    fibers.emplace_back(fiber_entry, &args[i]);
  }
  {
    core::ScopedSyncHook installed(&hook);
    std::vector<unsigned> runnable, cand;
    int current = -1;
    uint64_t step = 0, progress_seen = 0, progress_step = 0;
    bool was_replaying = src.replaying();
    while (!run->sink.stopped()) {
      runnable.clear();
      cand.clear();
      for (unsigned i = 0; i < n; ++i)
        if (!fibers[i].finished()) runnable.push_back(i);
      if (runnable.empty()) {
        run->audit_if_quiescent(fibers);
        break;
      }
      // The spinner rule. An actor that reached a spin sync point (one
      // iteration of a busy-wait) is blocked until another actor writes
      // (a store, RMW or CAS) a location the spinner read in that
      // iteration: before that, running it again only repeats what it saw. Once someone wrote, it is a candidate like
      // any other, so it can see the change at any point the real threads
      // could have: a spinner may run while the writer is still inside its
      // op. (An older rule excluded every spinner while a non-spinner could
      // run; it made orders like "block_offline retries while the walker is
      // mid-op" unreachable. The candidates now are a superset of that
      // rule's, so recorded schedules made under it still replay.) Sources
      // that replay recorded choices see every runnable actor.
      const bool all_runnable = src.replaying();
      bool all_spinning = true;
      for (unsigned i : runnable) {
        all_spinning = all_spinning && hook.spinning[i];
        if (all_runnable || !hook.spinning[i] || !blocked[i]) cand.push_back(i);
      }
      if (all_spinning && !all_runnable) {
        // Every runnable actor is spinning. A spinner may be about to see
        // what it waits for, or sit in a bounded delay loop, so they take
        // turns: the next spinner after the current one is always offered.
        // A source that prefers one actor (PCT priorities, the bounded
        // explorer's "keep running", exhausted bytes) would otherwise starve
        // the others, and a live run would be reported as a deadlock. A real
        // deadlock still makes no progress and is reported after
        // livelock_steps.
        unsigned next = runnable.front();
        for (unsigned i : runnable)
          if (static_cast<int>(i) > current) {
            next = i;
            break;
          }
        if (std::find(cand.begin(), cand.end(), next) == cand.end()) {
          cand.push_back(next);
          std::sort(cand.begin(), cand.end());
        }
      }
      const unsigned a = src.pick(cand, current, step);
      if (current >= 0 && static_cast<unsigned>(current) != a && !fibers[current].finished() &&
          !hook.spinning[current])
        ++r.preemptions;
      // One actor with RunOptions::solo_batch: nobody to switch to, so the
      // fiber runs `batch` sync points per resume (counted as that many
      // steps; the run's schedule and k are then approximate).
      const uint32_t batch = n == 1 && o.solo_batch > 1 && !o.weak_memory ? o.solo_batch : 1;
      if (!r.schedule.empty() && r.schedule.back().actor == a) r.schedule.back().steps += batch;
      else r.schedule.push_back(Slice{static_cast<uint8_t>(a), batch});
      current = static_cast<int>(a);
      hook.actor = static_cast<uint8_t>(a);
      hook.countdown = batch;
      if (fibers[a].started() && is_write(hook.pending[a]))
        for (unsigned i = 0; i < n; ++i) {
          if (i == a || !blocked[i]) continue;
          const auto& w = hook.watched[i];
          // A spin loop that read nothing (a bounded delay) waits on nobody
          // in particular: any write may be what it waits for.
          if (w.empty() || std::find(w.begin(), w.end(), hook.pending_addr[a]) != w.end()) blocked[i] = 0;
        }
      // The pending access of `a` happens in this resume: count its pair
      // with the last other actor's write to the location.
      if (icov != nullptr && fibers[a].started() && hook.pending_addr[a] != nullptr &&
          hook.pending[a] != core::SyncOp::Spin)
        icov->access(hook.pending_addr[a], static_cast<uint8_t>(a), hook.pending_site[a], is_write(hook.pending[a]));
      fibers[a].resume();
      if (hook.spinning[a]) blocked[a] = 1;
      step += batch;
      run->audit_if_quiescent(fibers);
      if (o.timeline) {
        const Actor& act = run->w.actors()[a];
        const int op = act.current >= 0 ? act.current : -1;
        if (!r.timeline.empty() && r.timeline.back().actor == a && r.timeline.back().op == op)
          r.timeline.back().last_step = step;
        else
          r.timeline.push_back(Segment{static_cast<uint8_t>(a), op, step, step});
      }
      // relaxed: single OS thread; a statistic.
      const uint64_t progress = run->last_progress.load(std::memory_order_relaxed);
      // A recorded order or schedule is what a run did: a spinner that spun
      // for long on real threads (its lock holder descheduled on a loaded
      // machine) spins as long here, and so does the engine schedule taken
      // from that replay; that is not a livelock. So no livelock is reported
      // while the source replays. Where the recording ends:
      //  - a real-thread order: the no-progress clock starts there (its
      //    stretches say nothing about the engine's progress);
      //  - an engine schedule: the clock goes on, so a run that the engine
      //    stopped as a livelock replays to the same step, k and schedule.
      // max_steps still bounds every run.
      const bool replaying = src.replaying();
      if (progress != progress_seen) {
        progress_seen = progress;
        progress_step = step;
      } else if (was_replaying && !replaying && src.follows_order()) {
        progress_step = step;
      }
      was_replaying = replaying;
      if ((!replaying && step - progress_step > o.livelock_steps) || step >= o.max_steps) {
        core::Violation v;
        v.kind = core::ViolationKind::Deadlock;
        v.site = step >= o.max_steps ? "scheduler:step-budget" : "scheduler:no-progress";
        v.detail = "no op completed in " + std::to_string(step - progress_step) + " steps";
        run->sink.record(v, "schedule", -1);
        r.report.extra = actor_states(*run, fibers, hook.spinning);
        break;
      }
    }
    r.k = step;
    for (const Actor& act : run->w.actors()) pc_at_stop.push_back(act.pc);
    if (run->sink.has()) last_ops_at_stop = run->last_ops();
    // Drain: after a violation (or a livelock report) every actor stops at
    // its next op boundary; let each finish the op it is in, round-robin, so
    // that nothing on a fiber stack is abandoned (abandoned fibers run no
    // destructors and LeakSanitizer would report what they own). Only a
    // fiber still stuck after the drain budget is abandoned.
    for (uint64_t drain = 0; drain < o.livelock_steps; ++drain) {
      bool any = false;
      for (unsigned i = 0; i < n; ++i) {
        if (fibers[i].finished()) continue;
        any = true;
        hook.actor = static_cast<uint8_t>(i);
        hook.countdown = 1;
        fibers[i].resume();
      }
      if (!any) break;
    }
  }
  r.d = src.depth();
  r.diverged = src.diverged();
  if (weak) {
    r.weak_memory = true;
    r.stale = weak->taken();
    r.eligible_loads = weak->eligible_loads();
    r.stale_choices = weak->choices();
  }
  const std::string extra = r.report.extra;
  if (!run->sink.has()) run->teardown();
  run->finish(r);
  if (!extra.empty()) r.report.extra = extra;
  if (!last_ops_at_stop.empty()) r.report.last_ops = last_ops_at_stop;
  if (!r.clean()) {
    // Report the world as it was when the run stopped, not after the drain.
    r.ops = 0;
    for (unsigned i = 0; i < n && i < pc_at_stop.size(); ++i) {
      if (r.results[i].size() > pc_at_stop[i]) r.results[i].resize(pc_at_stop[i]);
      r.ops += r.results[i].size();
    }
  }
  fibers.clear();  // abandons unfinished fibers (a violation stopped the run)
  return r;
}

core::FaultConfig swarm_faults(Rng& rng) {
  core::FaultConfig f;
  for (unsigned i = 0; i < core::kNrFaultSites; ++i)
    if (rng.chance(1, 2)) f.sites |= core::fault_bit(static_cast<core::FaultSite>(i));
  f.seed = rng.next();
  f.rate = 2 + rng.below(15);
  return f;
}

std::string format_interleaving(const Program& p, const RunResult& r, size_t max_rows) {
  const size_t n = p.actors.size();
  constexpr size_t kCol = 36;
  auto cell = [&](std::string t) {
    if (t.size() > kCol - 1) t = t.substr(0, kCol - 2) + "~";
    return t + std::string(kCol - t.size(), ' ');
  };
  std::string out = "  steps          ";
  for (size_t a = 0; a < n; ++a) out += "| " + cell("t" + std::to_string(a));
  out += "\n";
  size_t rows = 0;
  // The reporting actor's last segment carries the violation marker.
  size_t marked = r.timeline.size();
  if (!r.clean() && r.report.actor >= 0)
    for (size_t i = r.timeline.size(); i-- > 0;)
      if (r.timeline[i].actor == r.report.actor && r.timeline[i].op == r.report.op_index) {
        marked = i;
        break;
      }
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const Segment& s = r.timeline[i];
    if (s.op < 0) continue;  // at the audit gate: not an op
    if (++rows > max_rows) {
      out += "  ... (" + std::to_string(r.timeline.size() - i) + " more segments)\n";
      break;
    }
    char steps[32];
    std::snprintf(steps, sizeof steps, "  %6llu-%-7llu ", static_cast<unsigned long long>(s.first_step),
                  static_cast<unsigned long long>(s.last_step));
    out += steps;
    for (size_t a = 0; a < n; ++a) {
      std::string t;
      if (a == s.actor && static_cast<size_t>(s.op) < p.actors[a].size()) {
        t = "#" + std::to_string(s.op) + " " + format_op(p.actors[a][s.op]);
        if (a < r.results.size() && static_cast<size_t>(s.op) < r.results[a].size()) {
          const int res = r.results[a][s.op];
          t += res == kSkipped ? " =skip" : " =" + std::to_string(res);
        }
        if (i == marked) t = "!! " + t;
      }
      out += "| " + cell(t);
    }
    out += "\n";
  }
  return out;
}

// --- free and perturbed threads ---------------------------------------------------

namespace {

class ThreadHook final : public core::SyncHook {
 public:
  ThreadHook(bool perturb, uint64_t seed, uint32_t gap) : perturb_(perturb), gap_(gap == 0 ? 1 : gap), rng_(seed) {
    rearm();
  }
  void on_sync(core::SyncOp, const void*) override {
    rearm();
    if (!perturb_) return;
    const uint32_t r = rng_.below(8);
    if (r == 0) {
      std::this_thread::yield();
    } else {
      for (uint32_t i = 0; i < r * 8; ++i) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    }
  }

 private:
  void rearm() { countdown = perturb_ ? 1 + rng_.below(2 * gap_) : core::kIdleCountdown; }
  bool perturb_;
  uint32_t gap_;
  Rng rng_;
};

}  // namespace

std::unique_ptr<core::SyncHook> make_thread_hook(bool perturb, uint64_t seed, uint32_t gap) {
  return std::make_unique<ThreadHook>(perturb, seed, gap);
}

namespace {

// One OS thread per actor, each with the hook `body` installs around
// run.actor_body(); then the teardown oracle and the result.
template <class ActorOnThread>
RunResult run_on_threads(Run& run, ActorOnThread body) {
  RunResult r;
  {
    std::vector<std::thread> threads;
    for (Actor& a : run.w.actors()) threads.emplace_back([&run, &a, &body] { body(run, a); });
    for (auto& t : threads) t.join();
  }
  if (!run.sink.has()) run.teardown();
  run.finish(r);
  return r;
}

uint64_t thread_hook_seed(const RunOptions& o, const Actor& a) { return o.seed * 0x9e3779b97f4a7c15ull + a.id; }

}  // namespace

RunResult run_threads_recorded(const core::ModelConfig& cfg, const Program& p, bool perturb, const RunOptions& o,
                               Schedule& order, std::string& order_error) {
  auto run = std::make_unique<Run>(cfg, p, o);
  StripeTable stripes;
  std::vector<std::vector<SyncAccess>> logs(run->w.actors().size());
  RunResult r = run_on_threads(*run, [&](Run& rn, Actor& a) {
    RecordingHook hook(stripes, &logs[a.id], perturb, thread_hook_seed(o, a), o.perturb_gap, o.preempt_pauses);
    hook.actor = a.id;
    hook.watch(&a.current);
    core::ScopedSyncHook installed(&hook);
    rn.actor_body(a);
    hook.release();
  });
  order.clear();
  order_error = merge_sync_order(logs, order);
  return r;
}

RunResult run_threads(const core::ModelConfig& cfg, const Program& p, bool perturb, const RunOptions& o) {
  auto run = std::make_unique<Run>(cfg, p, o);
  return run_on_threads(*run, [&](Run& rn, Actor& a) {
    ThreadHook hook(perturb, thread_hook_seed(o, a), o.perturb_gap);
    hook.actor = a.id;
    core::ScopedSyncHook installed(&hook);
    rn.actor_body(a);
  });
}

}  // namespace refhammer::harness
