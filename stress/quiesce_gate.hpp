// refhammer::stress::QuiesceGate — stop-the-world for quiescent audits.
//
// Workers hold the gate (shared) while they run a batch of ops and leave it
// between batches. An auditor closes it (exclusive): new entries wait, and it
// waits until every holder has left; then no worker is inside the model and
// the audit may read every ledger. Waiting is spinning on sync points
// (core::Atomic, core::cpu_relax), never blocking in the OS, so a perturbing
// hook sees the waits too; an occasional yield lets oversubscribed workers
// run. It never needs to know how many workers exist, so a worker that starts
// late or finishes early cannot deadlock it.
#pragma once

#include <cstdint>
#include <thread>

#include "core/atomic.hpp"
#include "core/sync.hpp"

namespace refhammer::stress {

class QuiesceGate {
 public:
  void enter() noexcept {
    unsigned spins = 0;
    for (;;) {
      // relaxed: only seeds the CAS below.
      uint32_t s = state_.load(std::memory_order_relaxed);
      // acquire: pairs with the release in reopen(), so this worker sees
      // whatever the auditor did while the world was stopped.
      if ((s & kWriter) == 0 &&
          state_.compare_exchange(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      backoff(spins);
    }
  }
  void leave() noexcept {
    // release: pairs with the acquire load in close(): the auditor sees every
    // model access and ledger update this worker made before leaving.
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
  // True while an auditor has the gate closed (a hint for spinning callers).
  bool closed() const noexcept {
    // relaxed: a hint; enter() and close() do the ordering.
    return (state_.load(std::memory_order_relaxed) & kWriter) != 0;
  }

 private:
  static void backoff(unsigned& spins) noexcept {
    core::cpu_relax();
    if (++spins % 64 == 0) std::this_thread::yield();
  }
  static constexpr uint32_t kWriter = 1u << 31;
  alignas(64) core::Atomic<uint32_t> state_{0};
};

}  // namespace refhammer::stress
