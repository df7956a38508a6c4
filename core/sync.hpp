// core::sync — the one seam between the model and whoever schedules it.
//
// Every access to shared model state goes through core::Atomic (atomic.hpp),
// and every such access first calls sync_point(). With no hook installed on
// the calling thread this costs one thread-local load and one predictable
// branch. A scheduler (free threads, perturbation, the deterministic fiber
// scheduler in harness/) installs a SyncHook on each thread it runs model
// code on; the hook decides, at that point, whether to yield, spin, or switch
// to another actor. Nothing in core/ knows which scheduler is in charge.
//
// The hook is armed with a countdown: sync_point() decrements it inline and
// calls the virtual on_sync() only when it reaches zero. The deterministic
// scheduler re-arms it to 1 (it sees every sync point); a perturbing scheduler
// re-arms it to a random gap (it sees a sample); an "idle" hook keeps a huge
// countdown and costs a decrement. on_sync() must re-arm countdown to >= 1.
#pragma once

#include <cstdint>

namespace core {

// What kind of access a sync point precedes. Spin marks a busy-wait iteration:
// a deterministic scheduler must switch away, or the spinner never sees
// progress.
enum class SyncOp : uint8_t { Load, Store, Rmw, Cas, Spin };

inline constexpr uint8_t kNoActor = 0xff;

struct SyncHook {
  // Sync points left before on_sync() runs. Owned by the thread the hook is
  // installed on; never shared, so a plain field.
  uint64_t countdown = 1;
  // Actor (logical thread of the harness) now running on this OS thread;
  // recorded in frame histories. Updated by the scheduler on each switch.
  uint8_t actor = kNoActor;

  virtual void on_sync(SyncOp op, const void* addr) = 0;

  SyncHook() = default;
  SyncHook(const SyncHook&) = delete;
  SyncHook& operator=(const SyncHook&) = delete;
  virtual ~SyncHook() = default;
};

// The current thread's hook: the only thread-local in core/. constinit keeps
// access a plain TLS load, with no initialisation guard.
constinit inline thread_local SyncHook* tls_sync_hook = nullptr;

inline void sync_point(SyncOp op, const void* addr) noexcept {
  SyncHook* h = tls_sync_hook;
  if (h == nullptr) [[likely]]
    return;
  if (--h->countdown != 0) [[likely]]
    return;
  h->on_sync(op, addr);
}

inline uint8_t current_actor() noexcept {
  SyncHook* h = tls_sync_hook;
  return h == nullptr ? kNoActor : h->actor;
}

// One iteration of a busy-wait (cpu_relax() in the kernel). A sync point, so
// that waiting in core/ never blocks in the OS and a fiber scheduler can run
// whoever the spinner is waiting for.
inline void cpu_relax() noexcept {
  sync_point(SyncOp::Spin, nullptr);
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Installs a hook on the current thread for the lifetime of the guard.
class ScopedSyncHook {
 public:
  explicit ScopedSyncHook(SyncHook* h) noexcept : prev_(tls_sync_hook) { tls_sync_hook = h; }
  ~ScopedSyncHook() { tls_sync_hook = prev_; }
  ScopedSyncHook(const ScopedSyncHook&) = delete;
  ScopedSyncHook& operator=(const ScopedSyncHook&) = delete;

 private:
  SyncHook* prev_;
};

}  // namespace core
