// refhammer::stress::run_stress — see stress.hpp.
#include "stress/stress.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/sync.hpp"
#include "harness/gen.hpp"
#include "harness/record.hpp"
#include "harness/runtime.hpp"
#include "harness/trace.hpp"
#include "harness/world.hpp"

namespace refhammer::stress {

using harness::Actor;
using harness::Op;
using harness::Program;
using harness::World;
using Clock = std::chrono::steady_clock;

core::ModelConfig StressOptions::stress_model(uint32_t frames) {
  core::ModelConfig m;
  m.block_frames = 32;
  const uint32_t blocks = std::max<uint32_t>(2, (frames + 31) / 32);
  m.normal_frames = (blocks - blocks / 2) * 32;
  m.movable_frames = (blocks / 2) * 32;
  m.device_frames = 32;
  m.max_page_order = 3;
  m.nr_mms = 2;
  m.mm_slots = 16;
  m.file_pages = 16;
  m.gmem_pages = 16;
  m.gmem_huge_order = 2;
  return m;
}

const char* record_mode_name(RecordMode m) {
  switch (m) {
    case RecordMode::Off: return "off";
    case RecordMode::Repro: return "repro";
    case RecordMode::Always: return "always";
  }
  return "?";
}

std::string validate(const StressOptions& o) {
  if (o.record == RecordMode::Always && !o.fresh_worlds)
    return "recording needs fresh worlds (a continuous run's log would have no beginning): drop --continuous or use --record off";
  if (harness::find_profile(o.profile) == nullptr)
    return "unknown profile '" + o.profile + "' (" + harness::profile_names() + ")";
  if (o.threads == 0 || o.threads > harness::kMaxActors)
    return "threads must be 1.." + std::to_string(harness::kMaxActors) + " (one trace actor each)";
  if (o.ring == 0) return "ring must be at least 1";
  if (o.batch == 0) return "batch must be at least 1";
  return o.model.validate();
}

namespace {

struct alignas(64) Worker {
  unsigned id = 0;
  Rng rng{0};
  uint64_t seed = 0;
  // The ring: ops since the world was new (fresh_worlds; never wraps), or
  // the last `ring` ops (a circular buffer; `pos` is the next write).
  std::vector<Op> ring;
  std::vector<uint64_t> started;  // when each recorded op started (op_clock_now), parallel to `ring`
  size_t pos = 0;
  std::vector<harness::SyncAccess> log;  // recorded sync points since the world was new (RecordMode::Always)
  uint64_t ops = 0;          // ops this worker ran in the whole run
  uint64_t gen = 0;          // the world generation the ring belongs to

  // Written only by this worker, inside the gate; read at quiescence.
  template <class T>
  std::vector<T> in_order(const std::vector<T>& v, bool circular, size_t cap) const {
    if (!circular || v.size() < cap) return v;
    std::vector<T> out;
    out.reserve(v.size());
    out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(pos), v.end());
    out.insert(out.end(), v.begin(), v.begin() + static_cast<std::ptrdiff_t>(pos));
    return out;
  }
  void record(const Op& op, bool circular, size_t cap) {
    const uint64_t now = op_clock_now();
    if (!circular || ring.size() < cap) {
      ring.push_back(op);
      started.push_back(now);
      pos = ring.size() % cap;
    } else {
      ring[pos] = op;
      started[pos] = now;
      pos = (pos + 1) % cap;
    }
  }
};

struct Shared {
  const StressOptions& o;
  const harness::Generator gen;
  Program empty;
  std::unique_ptr<World> world;
  harness::FirstViolation sink;
  harness::QuiesceGate gate;
  std::vector<Worker> workers;
  alignas(64) std::atomic<uint64_t> ops_total{0};
  alignas(64) std::atomic<uint64_t> audits{0};
  std::atomic<uint64_t> worlds{1};
  alignas(64) std::atomic<uint64_t> generation{0};  // bumped by each fresh world
  std::atomic<unsigned> finished{0};
  harness::StripeTable stripes;  // recording: per-stripe sequence numbers
  uint64_t probes[core::kNrProbes] = {};  // of retired worlds; written at quiescence
  Clock::time_point start, deadline;

  Shared(const StressOptions& opt)
      : o(opt), gen(*harness::find_profile(opt.profile), opt.model) {
    empty.actors.resize(opt.threads);
    new_world();
  }

  void new_world() {
    world = std::make_unique<World>(o.model, empty);
    world->model().set_violation_sink(&sink);
    sink.set_world(world.get());
  }

  void retire_probes() {
    for (unsigned p = 0; p < core::kNrProbes; ++p) probes[p] += world->model().probes().count(static_cast<core::Probe>(p));
  }

  // At quiescence (the gate closed by the caller): audit; with `reset`, tear
  // the world down (oracle level 3) and start a fresh one with empty rings.
  void quiescent(unsigned auditor, bool reset) {
    core::ScopedSyncHook none(nullptr);  // the audit is not part of the race
    if (!sink.stopped()) {
      harness::audit_world(*world, sink, static_cast<int>(auditor));
      audits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
    }
    if (!reset || sink.stopped()) return;
    if (!harness::teardown_world(*world, sink)) return;
    retire_probes();
    // Nobody records now (every worker left the gate, and leaving is a sync
    // point that releases the stripe it held): the new world's sequences
    // start at 0, as its workers' logs do.
    stripes.reset();
    new_world();
    worlds.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
    // Each worker empties its own ring when it sees the new generation
    // (rings are only ever touched by their owner while the run lasts).
    generation.fetch_add(1, std::memory_order_release);  // release: pairs with the workers' acquire
  }

  // The worker's ring belongs to an older world: empty it. Owner only.
  void catch_up(Worker& w) {
    const uint64_t g = generation.load(std::memory_order_acquire);  // acquire: pairs with quiescent()
    if (w.gen == g) return;
    w.gen = g;
    w.ring.clear();
    w.started.clear();
    w.log.clear();
    w.pos = 0;
  }

  bool time_is_up() const {
    if (o.max_ops != 0 && ops_total.load(std::memory_order_relaxed) >= o.max_ops) return true;  // relaxed: a budget
    return Clock::now() >= deadline;
  }

  // A worker's op source for harness::actor_loop(): the profile's generator,
  // `batch` ops per gate hold, until the time or the op budget is up; every
  // op goes into the worker's ring first.
  struct GeneratorOps {
    Shared& s;
    Worker& w;
    harness::RecordingHook* recorder;
    bool circular;  // a ring of the last `cap` ops, else the whole world's history
    size_t cap;
    World* world = nullptr;
    Actor* a = nullptr;

    bool ring_full() const { return !circular && w.ring.size() >= cap; }
    bool more() const { return !s.time_is_up(); }
    bool prepare() {
      s.catch_up(w);
      if (!ring_full()) return true;
      // Our ring is full: a fresh world for everyone. If another worker is
      // auditing, wait for it and look again (it may have reset).
      if (s.gate.close()) {
        s.quiescent(w.id, true);
        s.gate.reopen();
      } else {
        core::cpu_relax();
      }
      return false;
    }
    void begin() {
      s.catch_up(w);  // a fresh world may have come between prepare() and the gate
      world = s.world.get();
      a = &world->actors()[w.id];
      if (recorder != nullptr) recorder->watch(&a->current);
    }
    uint32_t batch() const { return s.o.batch; }
    bool next() {
      if (ring_full()) return false;
      const Op op = s.gen.next(w.rng);
      w.record(op, circular, cap);
      ++w.ops;
      world->exec(*a, op);
      return true;
    }
    void end(uint32_t n) {
      if (recorder != nullptr) recorder->watch(nullptr);  // the world may be replaced from here on
      // relaxed: a counter; the audit's ordering comes from the gate.
      const uint64_t before = s.ops_total.fetch_add(n, std::memory_order_relaxed);
      if (s.o.audit_every != 0 && before / s.o.audit_every != (before + n) / s.o.audit_every && !s.sink.stopped()) {
        // Someone else auditing already covers this mark.
        if (s.gate.close()) {
          s.quiescent(w.id, false);
          s.gate.reopen();
        }
      }
    }
  };

  void worker_main(Worker& w) {
    const bool record = o.record == RecordMode::Always;
    const uint64_t hook_seed = o.seed * 0x9e3779b97f4a7c15ull + w.id;
    std::unique_ptr<core::SyncHook> hook;
    harness::RecordingHook* recorder = nullptr;
    if (record) {
      auto h = std::make_unique<harness::RecordingHook>(stripes, &w.log, o.perturb, hook_seed, o.perturb_gap);
      recorder = h.get();
      hook = std::move(h);
    } else {
      hook = harness::make_thread_hook(o.perturb, hook_seed, o.perturb_gap);
    }
    hook->actor = static_cast<uint8_t>(w.id);
    core::ScopedSyncHook installed(hook.get());
    GeneratorOps ops{*this, w, recorder, !o.fresh_worlds, o.ring};
    harness::actor_loop(gate, sink, ops);
    if (recorder != nullptr) recorder->release();
    finished.fetch_add(1, std::memory_order_release);  // release: pairs with the main thread's acquire
  }
};

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 80) out.resize(80);
  return out.empty() ? "violation" : out;
}

// Writes `text` at `<dir>/<stem><ext>`, or `<stem>-2<ext>`, ... if taken.
std::string write_new_file(const std::string& dir, const std::string& stem, const std::string& ext,
                           const std::string& text, std::string& err) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err = "cannot create " + dir + ": " + ec.message();
    return {};
  }
  for (unsigned i = 1; i < 1000; ++i) {
    const std::string path = dir + "/" + stem + (i == 1 ? "" : "-" + std::to_string(i)) + ext;
    if (std::filesystem::exists(path)) continue;
    err = harness::write_file_atomic(path, text, false);
    if (err.empty()) return path;
    if (!std::filesystem::exists(path)) return {};  // a real error, not a race for the name
  }
  err = "no free file name for " + dir + "/" + stem + ext;
  return {};
}

std::string fmt_count(double v) {
  char b[32];
  if (v >= 1e9) std::snprintf(b, sizeof b, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  else std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

}  // namespace

StressResult run_stress(const StressOptions& o, std::ostream* progress) {
  StressResult r;
  const unsigned n = o.threads;
  r.threads = n;
  Shared s(o);
  s.workers.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    Worker& w = s.workers[i];
    w.id = i;
    w.seed = o.seed * 0x100000001b3ull + i;
    w.rng = Rng(w.seed);
    w.ring.reserve(o.ring);
    w.started.reserve(o.ring);
  }
  s.start = Clock::now();
  s.deadline = s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  {
    // n workers even when n exceeds the cores (oversubscription widens race
    // windows); no arena slot for this thread, which prints progress.
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, n + 1);
    tbb::task_arena arena(static_cast<int>(n), 0);
    for (unsigned i = 0; i < n; ++i) arena.enqueue([&s, i] { s.worker_main(s.workers[i]); });
    auto next = s.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.progress_every));
    bool printed_tty = false;
    // acquire: pairs with the workers' release: their rings and counters are ours once all finished.
    while (s.finished.load(std::memory_order_acquire) < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto now = Clock::now();
      if (progress == nullptr || o.progress_every <= 0 || now < next) continue;
      next = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.progress_every));
      const double el = std::chrono::duration<double>(now - s.start).count();
      // relaxed (all): statistics.
      const uint64_t ops = s.ops_total.load(std::memory_order_relaxed);
      const uint64_t audits = s.audits.load(std::memory_order_relaxed);
      char line[256];
      std::snprintf(line, sizeof line,
                    "[stress] %6.1fs / %.0fs  %9s ops  %8s ops/s  %7llu audits (%5.0f/s)  %llu worlds  %d violation(s)",
                    el, o.seconds, fmt_count(double(ops)).c_str(), fmt_count(ops / std::max(el, 1e-9)).c_str(),
                    static_cast<unsigned long long>(audits), audits / std::max(el, 1e-9),
                    static_cast<unsigned long long>(s.worlds.load(std::memory_order_relaxed)),
                    s.sink.stopped() ? 1 : 0);
      if (o.progress_tty) {
        *progress << "\r" << line << std::flush;
        printed_tty = true;
      } else {
        *progress << line << "\n" << std::flush;
      }
    }
    if (printed_tty) *progress << "\n" << std::flush;
  }
  const auto stopped = Clock::now();
  r.seconds = std::chrono::duration<double>(stopped - s.start).count();
  r.ops = s.ops_total.load(std::memory_order_relaxed);  // relaxed: the workers have finished
  r.audits = s.audits.load(std::memory_order_relaxed);  // relaxed: likewise
  r.worlds = s.worlds.load(std::memory_order_relaxed);  // relaxed: likewise

  // Oracle level 3 on the last world, when nothing was found before.
  if (!s.sink.has()) harness::teardown_world(*s.world, s.sink);
  for (unsigned p = 0; p < core::kNrProbes; ++p)
    r.probes[p] = s.probes[p] + s.world->model().probes().count(static_cast<core::Probe>(p));
  if (!s.sink.has()) return r;

  // A violation: the trace first, before anything else can go wrong.
  r.violation = true;
  r.report = s.sink.take();
  r.detect_seconds = std::chrono::duration<double>(s.sink.when() - s.start).count();
  harness::Trace t;
  t.model = o.model;
  t.seed = o.seed;
  t.scheduler = o.perturb ? harness::SchedulerKind::Perturb : harness::SchedulerKind::Free;
  t.audit_every = repro_audit_every(r.report.signature);
  t.expect_clean = false;
  t.expect_signature = r.report.signature;
  t.program.actors.resize(n);
  OpClock clock(n);
  for (unsigned i = 0; i < n; ++i) {
    s.catch_up(s.workers[i]);  // a ring of an older world is history of nothing that is left
    t.program.actors[i] = s.workers[i].in_order(s.workers[i].ring, !o.fresh_worlds, o.ring);
    clock[i] = s.workers[i].in_order(s.workers[i].started, !o.fresh_worlds, o.ring);
    r.recorded_ops += t.program.actors[i].size();
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "refhammer stress: profile %s, scheduler %s, %u thread(s), seed %llu, found after %.3f s",
                o.profile.c_str(), o.perturb ? "perturb" : "free", n, static_cast<unsigned long long>(o.seed),
                r.detect_seconds);
  t.comments.push_back(buf);
  t.comments.push_back("violation: " + r.report.signature + (r.report.op_text.empty() ? "" : " in '" + r.report.op_text + "'"));
  t.comments.push_back(o.fresh_worlds
                           ? "the actors' ops are each worker's whole history since the world was new (a fresh world "
                             "whenever a ring fills)"
                           : "the actors' ops are each worker's last " + std::to_string(o.ring) +
                                 " ops of one continuous run: earlier holdings are missing");
  for (unsigned i = 0; i < n; ++i) {
    const Worker& w = s.workers[i];
    const uint64_t count = t.program.actors[i].size();
    std::snprintf(buf, sizeof buf, "t%u: worker %u, generator seed %llu, its ops #%llu..#%llu", i, i,
                  static_cast<unsigned long long>(w.seed),
                  static_cast<unsigned long long>(w.ops - count), static_cast<unsigned long long>(w.ops));
    t.comments.push_back(buf);
  }
  if (o.record == RecordMode::Always) {
    std::vector<std::vector<harness::SyncAccess>> logs(n);
    for (unsigned i = 0; i < n; ++i) logs[i] = std::move(s.workers[i].log);
    r.order_error = harness::merge_sync_order(logs, t.order);
    t.has_order = r.order_error.empty();
    r.recorded = t.has_order;
    if (t.has_order) {
      r.order_steps = harness::schedule_steps(t.order);
      t.comments.push_back("order: the sync-point order the threads ran (" + std::to_string(r.order_steps) +
                           " sync points inside ops); `refhammer replay` follows it on the deterministic scheduler");
    }
  }
  r.trace = t;
  const std::string stem = "stress-" + std::to_string(o.seed) + "-" + slug(r.report.signature);
  if (o.write_traces) r.trace_path = write_new_file(o.out_dir, stem, ".trace", harness::write_trace(t), r.trace_error);

  if (!o.reproduce) return r;
  r.repro_tried = true;
  const auto repro_start = Clock::now();
  const auto repro_elapsed = [&] { return std::chrono::duration<double>(Clock::now() - repro_start).count(); };
  // 1. The recorded order, when this run has one: the deterministic
  //    scheduler follows the threads sync point for sync point.
  const harness::Trace* base = &t;
  auto follow_order = [&](const harness::Trace& tr) {
    harness::RunResult rr = harness::run_trace(tr);
    ++r.repro.schedules;
    if (!harness::verdict_matches(tr, rr)) {
      if (!rr.clean()) r.repro.other_signatures[rr.report.signature]++;
      return false;
    }
    r.repro.found = true;
    r.repro.source = "recorded-order";
    r.repro.window = 0;
    r.repro.audit_every = tr.audit_every;
    r.repro.program = tr.program;
    r.repro.run = std::move(rr);
    return true;
  };
  if (t.has_order) follow_order(t);
  // 2a. No recording yet (RecordMode::Repro): run the failing world's own
  //     program again on real threads, recorded, until it fails the same
  //     way, and follow that run's order. Each attempt is one world (the
  //     rings' ops), so thousands fit where one stress re-run must first
  //     come back to the world that failed.
  harness::Trace replayed;
  if (!r.repro.found && o.record == RecordMode::Repro && o.fresh_worlds && o.repro.program_rerun_share > 0) {
    const double until = o.repro.seconds * o.repro.record_share * o.repro.program_rerun_share;
    harness::RunOptions ro;
    ro.audit_every = t.audit_every;
    ro.perturb_gap = o.perturb_gap;
    // The last 64 ops of each actor first, then 256, then all of them, a
    // third of the time each: a short program that races minimizes in
    // seconds, where a whole world's takes the minimizer's whole budget.
    const size_t windows[] = {64, 256, SIZE_MAX};
    for (uint64_t i = 0; repro_elapsed() < until; ++i) {
      const size_t w = windows[std::min<size_t>(2, static_cast<size_t>(3 * repro_elapsed() / until))];
      harness::Program prog = t.program.suffix(w);
      ro.seed = o.seed * 0x100000001b3ull + i;
      // Every other perturbed attempt also "preempts" now and then (a spin of
      // ~1-10 us, harness/record.hpp): an idle machine rarely does.
      ro.preempt_pauses = i % 2 == 0 ? 0 : 256u << (i / 2 % 4);
      harness::Schedule order;
      std::string order_error;
      const harness::RunResult rr = harness::run_threads_recorded(o.model, prog, o.perturb, ro, order, order_error);
      ++r.program_reruns;
      if (rr.clean() || rr.report.signature != r.report.signature || !order_error.empty()) continue;
      replayed = t;
      replayed.program = std::move(prog);
      replayed.order = std::move(order);
      replayed.has_order = true;
      replayed.comments.push_back("order: of a recorded re-run on real threads (attempt " + std::to_string(i + 1) +
                                  ") of this program" +
                                  (w == SIZE_MAX ? std::string() : ": each actor's last " + std::to_string(w) + " ops") +
                                  ", which failed the same way");
      if (follow_order(replayed)) {
        base = &replayed;
        r.from_program_rerun = true;
        break;
      }
    }
    r.program_rerun_seconds = repro_elapsed();
  }
  // 2b. Then run the same stress again with recording on until it finds the
  //    same signature, and follow that run's order.
  StressResult rerun;
  if (!r.repro.found && o.record == RecordMode::Repro && o.fresh_worlds) {
    const double budget = o.repro.seconds * o.repro.record_share;
    // The short rings' quarter is of this phase's own time (it starts after
    // the program re-runs), not of the whole reproduction's.
    const double short_until = repro_elapsed() + (budget - repro_elapsed()) / 4;
    while (repro_elapsed() < budget) {
      StressOptions ro = o;
      ro.record = RecordMode::Always;
      const bool short_rings = o.repro.rerun_ring != 0 && o.repro.rerun_ring < o.ring && repro_elapsed() < short_until;
      if (short_rings) ro.ring = o.repro.rerun_ring;
      ro.write_traces = false;
      ro.reproduce = true;
      ro.repro.seconds = 0;  // the order only, no search
      ro.seconds = std::max(0.05, (short_rings ? short_until : budget) - repro_elapsed());
      ro.progress_every = 0;
      StressResult rr = run_stress(ro, nullptr);
      ++r.record_runs;
      if (rr.violation && rr.report.signature == r.report.signature && rr.repro.found &&
          rr.repro.source == "recorded-order") {
        rerun = std::move(rr);
        r.from_rerun = true;
        r.rerun_ring = ro.ring;
        r.repro = rerun.repro;
        base = &rerun.trace;
        break;
      }
      if (rr.violation) r.repro.other_signatures["(recorded re-run) " + rr.report.signature]++;
    }
    r.record_seconds = repro_elapsed();
  }
  // 3. The search over schedules of the unrecorded program.
  if (!r.repro.found) {
    ReproOptions ro = o.repro;
    ro.seed = o.seed;
    ro.seconds = std::max(0.0, o.repro.seconds - repro_elapsed());
    const uint64_t before = r.repro.schedules;
    auto others = r.repro.other_signatures;
    if (ro.seconds > 0) {
      r.repro = reproduce(o.model, t.program, r.report.signature, ro, &clock);
      r.repro.schedules += before;
      for (const auto& [sig, c] : others) r.repro.other_signatures[sig] += c;
    }
  }
  r.repro.seconds = repro_elapsed();
  if (!r.repro.found) return r;
  harness::Trace d = *base;
  d.scheduler = harness::SchedulerKind::Deterministic;
  d.source = r.repro.source;
  d.audit_every = r.repro.audit_every;
  d.has_order = d.has_order && r.repro.source == "recorded-order";
  d.program = r.repro.program;
  d.has_schedule = true;
  d.schedule = r.repro.run.schedule;
  if (r.from_rerun)
    d.comments.push_back("the program and order are of a recorded re-run (same seed and options, rings of " + std::to_string(r.rerun_ring) + " ops) that found the same signature");
  d.comments.push_back("reproduced on the deterministic scheduler after " + std::to_string(r.repro.schedules) +
                       " schedule(s) (" + r.repro.source + ")" +
                       (r.repro.window ? ", last " + std::to_string(r.repro.window) + " ops per actor" : ""));
  const std::string text = harness::write_trace(d);
  // Confirm through the text, as `refhammer replay` will read it: the order
  // when there is one, and the engine schedule it produced.
  harness::Trace back;
  if (harness::parse_trace(text, "repro", back).empty()) {
    for (unsigned i = 0; i < 3; ++i) {
      ++r.confirm_runs;
      r.confirm_matched += harness::verdict_matches(back, harness::run_trace(back, i));
    }
    if (back.has_order) {
      harness::Trace by_schedule = back;
      by_schedule.has_order = false;
      ++r.confirm_runs;
      r.confirm_matched += harness::verdict_matches(by_schedule, harness::run_trace(by_schedule, 0));
    }
  }
  if (o.write_traces) {
    std::string err;
    r.repro_path = write_new_file(o.out_dir, stem + "-repro", ".trace", text, err);
    if (!err.empty() && r.trace_error.empty()) r.trace_error = err;
  }
  return r;
}

std::string describe(const StressOptions& o, const StressResult& r) {
  std::ostringstream out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "stress: profile %s, scheduler %s, %u thread(s), seed %llu, %u+%u+%u frames, design %s, bugs %s\n",
                o.profile.c_str(), o.perturb ? "perturb" : "free", r.threads, static_cast<unsigned long long>(o.seed),
                o.model.normal_frames, o.model.movable_frames, o.model.device_frames,
                harness::format_design(o.model.design).c_str(), harness::format_bugs(o.model.bugs).c_str());
  out << buf;
  std::snprintf(buf, sizeof buf,
                "  ran %llu ops in %.2f s (%.0f ops/s), %llu quiescent audits (%.1f/s, every %llu ops), %llu world(s)%s\n",
                static_cast<unsigned long long>(r.ops), r.seconds, r.seconds > 0 ? r.ops / r.seconds : 0.0,
                static_cast<unsigned long long>(r.audits), r.seconds > 0 ? r.audits / r.seconds : 0.0,
                static_cast<unsigned long long>(o.audit_every), static_cast<unsigned long long>(r.worlds),
                o.fresh_worlds ? (" (fresh every " + std::to_string(o.ring) + " ops of a worker)").c_str() : "");
  out << buf;
  out << "  interleavings reached (probes):\n";
  unsigned unreached = 0;
  for (unsigned p = 0; p < core::kNrProbes; ++p) {
    if (r.probes[p] == 0) {
      ++unreached;
      continue;
    }
    std::snprintf(buf, sizeof buf, "    %12llu  %s\n", static_cast<unsigned long long>(r.probes[p]),
                  core::probe_name(static_cast<core::Probe>(p)));
    out << buf;
  }
  if (unreached != 0) out << "    (" << unreached << " probe(s) of other subsystems or profiles not reached)\n";
  if (!r.violation) {
    out << "verdict: CLEAN\n";
    return out.str();
  }
  std::snprintf(buf, sizeof buf, "  first violation after %.3f s: %s%s\n", r.detect_seconds, r.report.signature.c_str(),
                r.report.op_text.empty() ? "" : (" in '" + r.report.op_text + "'").c_str());
  out << buf;
  out << core::format_violation_long(r.report.violation);
  if (!r.trace_path.empty())
    out << "  trace (" << r.recorded_ops << " recorded ops): " << r.trace_path << "\n";
  if (!r.trace_error.empty()) out << "  trace NOT written: " << r.trace_error << "\n";
  if (r.recorded)
    out << "  sync-point order recorded: " << r.order_steps << " sync points inside ops\n";
  else if (!r.order_error.empty())
    out << "  sync-point order NOT usable: " << r.order_error << "\n";
  if (r.program_reruns > 0) {
    std::snprintf(buf, sizeof buf, "  recorded re-runs of the failing world's program: %llu in %.2f s, %s\n",
                  static_cast<unsigned long long>(r.program_reruns), r.program_rerun_seconds,
                  r.from_program_rerun ? "the last failed the same way" : "none failed the same way");
    out << buf;
  }
  if (r.record_runs > 0) {
    std::snprintf(buf, sizeof buf, "  recorded re-runs: %u in %.2f s, %s\n", r.record_runs, r.record_seconds,
                  r.from_rerun ? "the last found the same signature" : "none found the same signature");
    out << buf;
  }
  if (r.repro_tried) {
    if (r.repro.found) {
      std::snprintf(buf, sizeof buf,
                    "  reproduced deterministically after %llu schedule(s) in %.2f s (%s%s); replays %u/%u\n",
                    static_cast<unsigned long long>(r.repro.schedules), r.repro.seconds, r.repro.source.c_str(),
                    r.repro.window ? (", last " + std::to_string(r.repro.window) + " ops per actor").c_str() : "",
                    r.confirm_matched, r.confirm_runs);
      out << buf;
      if (!r.repro_path.empty())
        out << "  deterministic trace: " << r.repro_path << "\n    refhammer replay " << r.repro_path << "\n";
    } else {
      std::snprintf(buf, sizeof buf, "  NOT reproduced deterministically: %llu schedule(s) in %.2f s\n",
                    static_cast<unsigned long long>(r.repro.schedules), r.repro.seconds);
      out << buf;
      for (const auto& [sig, count] : r.repro.other_signatures)
        out << "    (found instead: " << sig << " x" << count << ")\n";
    }
  }
  out << "verdict: VIOLATION " << r.report.signature << "\n";
  return out.str();
}

}  // namespace refhammer::stress
