// harness::runtime — what every way of running actors against one World
// shares: the deterministic engine (fibers), free and perturbed threads
// (engine.cpp's run_threads) and the TBB stress driver (stress/stress.cpp).
//
//   QuiesceGate     stop-the-world for quiescent audits: actors hold it
//                   (shared) while inside ops, an auditor closes it.
//   FirstViolation  the sink every Model reports to: keeps the first
//                   violation, names the op it happened in, stops the run.
//   audit_world()   oracle level 2 on a quiescent world.
//   teardown_world() oracle level 3: release everything, then every frame
//                   must be free again.
//
//   actor_loop()    the one actor loop: gate, a batch of ops from an op
//                   source, leave, audits; a program or a generator.
//
// What stays with each runner: how actors are scheduled (fibers and a
// DecisionSource, OS threads, a TBB arena), its op source (a program, or a
// generator with a ring of recorded ops) and when audits fall due (per actor
// op count, or the whole run's), which the op source decides.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/atomic.hpp"
#include "core/sync.hpp"
#include "core/violation.hpp"
#include "harness/engine.hpp"
#include "harness/fiber.hpp"
#include "harness/world.hpp"

namespace refhammer::harness {

// Workers hold the gate (shared) while they run ops and leave it between
// them. An auditor closes it (exclusive): new entries wait, and it waits
// until every holder has left; then no actor is inside the model and the
// audit may read every ledger. Waiting is spinning on sync points
// (core::Atomic, core::cpu_relax), never blocking in the OS, so a scheduler
// or a perturbing hook sees the waits too; on OS threads an occasional yield
// lets oversubscribed workers run. It never needs to know how many actors
// exist, so one that starts late or finishes early cannot deadlock it.
class QuiesceGate {
 public:
  void enter() noexcept {
    unsigned spins = 0;
    for (;;) {
      // relaxed: only seeds the CAS below.
      uint32_t s = state_.load(std::memory_order_relaxed);
      // acquire: pairs with the release in reopen(), so this actor sees
      // whatever the auditor did while the world was stopped.
      if ((s & kWriter) == 0 &&
          state_.compare_exchange(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      backoff(spins);
    }
  }
  void leave() noexcept {
    // release: pairs with the acquire load in close(): the auditor sees every
    // model access and ledger update this actor made before leaving.
    state_.fetch_sub(1, std::memory_order_release);
  }
  // Closes the gate and waits for holders to leave. The caller must not hold
  // the gate. False if another auditor has it closed already.
  bool close() noexcept {
    // relaxed: only seeds the CAS below.
    uint32_t s = state_.load(std::memory_order_relaxed);
    do {
      if (s & kWriter) return false;
      // relaxed on success too: the acquire load in the wait loop orders us.
    } while (!state_.compare_exchange(s, s | kWriter, std::memory_order_relaxed, std::memory_order_relaxed));
    unsigned spins = 0;
    // acquire: pairs with the release in leave().
    while ((state_.load(std::memory_order_acquire) & ~kWriter) != 0) backoff(spins);
    return true;
  }
  void reopen() noexcept {
    // release: pairs with the acquire CAS in enter().
    state_.fetch_and(~kWriter, std::memory_order_release);
  }

 private:
  static void backoff(unsigned& spins) noexcept {
    core::cpu_relax();
    if (++spins % 64 == 0 && !Fiber::in_fiber()) std::this_thread::yield();
  }
  static constexpr uint32_t kWriter = 1u << 31;
  alignas(64) core::Atomic<uint32_t> state_{0};
};

// Keeps the first violation, names the op it happened in, and stops the run.
// A core report carries current_actor(): it comes from that actor's thread
// or fiber, so reading that actor's op in progress is safe.
class FirstViolation final : public core::ViolationSink {
 public:
  using Clock = std::chrono::steady_clock;

  // The world whose actors name the ops. Set at quiescence only.
  void set_world(World* w) noexcept { w_ = w; }
  // What a report names when no actor is inside an op ("teardown" while
  // teardown_world() releases everything; nullptr: "unknown"). Set at
  // quiescence only, single-threaded.
  void set_phase(const char* phase) noexcept { phase_ = phase; }
  void report(const core::Violation& v) override { record(v, "", -1); }
  // `op` overrides the op name (audit, teardown); `actor` names the auditor.
  void record(const core::Violation& v, const char* op, int actor);
  // acquire: pairs with the release in record().
  bool stopped() const noexcept { return stop_.load(std::memory_order_acquire); }
  bool has() const {
    std::lock_guard<std::mutex> g(mu_);
    return has_;
  }
  Report take() const {
    std::lock_guard<std::mutex> g(mu_);
    return r_;
  }
  // When the first violation was recorded.
  Clock::time_point when() const {
    std::lock_guard<std::mutex> g(mu_);
    return when_;
  }

 private:
  World* w_ = nullptr;
  const char* phase_ = nullptr;
  mutable std::mutex mu_;
  bool has_ = false;
  Report r_;
  Clock::time_point when_{};
  std::atomic<bool> stop_{false};
};

// The actor loop every runner shares: the deterministic engine's fibers,
// free and perturbed OS threads (harness/engine.cpp) and the TBB stress
// workers (stress/stress.cpp). Until the run stops or the source has no more:
// enter the gate, run up to batch() ops, leave it, and let the source count
// them and audit. Its sync points are the gate's enter and leave around the
// ops' own: recorded schedules depend on that order, so keep it.
//
// An op source (a program's ops, or a generator's until the time is up):
//   bool more()          another batch may start (outside the gate)
//   bool prepare()       outside the gate, before entering it; false: look
//                        again (the stress source starts a fresh world here)
//   void begin()         inside the gate, before the batch's first op
//   uint32_t batch()     ops per gate hold
//   bool next()          runs one op inside the gate; false: none now
//   void end(uint32_t n) outside the gate after a batch of n >= 0 ops:
//                        counters, audits that fall due
template <class OpSource>
void actor_loop(QuiesceGate& gate, const FirstViolation& sink, OpSource& ops) {
  while (!sink.stopped() && ops.more()) {
    if (!ops.prepare()) continue;
    gate.enter();
    ops.begin();
    uint32_t n = 0;
    while (n < ops.batch() && !sink.stopped() && ops.next()) ++n;
    gate.leave();
    ops.end(n);
  }
}

// Oracle level 2 at quiescence (no actor inside an op): audits the model
// against the actors' ledgers; the first finding goes to `sink` as the
// auditor's. It adds no sync points (the audit reads with peek()).
void audit_world(World& w, FirstViolation& sink, int auditor);

// Oracle level 3, single-threaded: every actor releases what it holds, the
// structures are emptied, and every buddy frame must be free again. False
// when a violation stopped it (already in `sink`).
bool teardown_world(World& w, FirstViolation& sink);

}  // namespace refhammer::harness
