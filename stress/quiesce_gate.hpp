// refhammer::stress::QuiesceGate — stop-the-world for quiescent audits.
//
// Workers hold the gate (shared) while inside the model and leave it between
// ops. An auditor closes it (exclusive): new entries wait, and it waits until
// every holder has left; then no thread is inside the model and the audit may
// read everything. It spins (with an occasional yield, for when there are
// more workers than cores) and never needs to know how many workers exist,
// so a worker that starts late or finishes early cannot deadlock it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace refhammer::stress {

class QuiesceGate {
 public:
  void enter() noexcept {
    unsigned spins = 0;
    for (;;) {
      // relaxed: only seeds the CAS below.
      uint32_t s = state_.load(std::memory_order_relaxed);
      if (s & kWriter) {
        backoff(spins);
        continue;
      }
      // acquire: pairs with the release in reopen(), so this worker sees
      // whatever the auditor did while the world was stopped.
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
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
    } while (!state_.compare_exchange_weak(s, s | kWriter, std::memory_order_relaxed, std::memory_order_relaxed));
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
    if (++spins % 64 == 0) std::this_thread::yield();
#if defined(__x86_64__) || defined(__i386__)
    else __builtin_ia32_pause();
#endif
  }
  static constexpr uint32_t kWriter = 1u << 31;
  std::atomic<uint32_t> state_{0};
};

}  // namespace refhammer::stress
