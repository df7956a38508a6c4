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
// re-arms it to a random gap (it sees a sample). on_sync() must re-arm
// countdown to >= 1.
//
// An idle hook (installed with countdown == kIdleCountdown) only names the
// actor for frame histories and never wants on_sync(): ScopedSyncHook then
// leaves the sync-point pointer null, so an idle hook costs what no hook
// costs (a decrement per sync point made the order-0 alloc+free path 1.5x
// slower; bench/core_bench). To make an idle hook active, reinstall it with a
// finite countdown; a hook re-armed to kIdleCountdown from on_sync() stays
// active and counts down.
#pragma once

#include <atomic>
#include <cstdint>

namespace core {

// What kind of access a sync point precedes. Spin marks a busy-wait iteration:
// a deterministic scheduler must switch away, or the spinner never sees
// progress.
enum class SyncOp : uint8_t { Load, Store, Rmw, Cas, Spin };

// What a write told a weak-memory hook (SyncHook::on_weak_write): a store, a
// read-modify-write (a successful CAS included), or a failed CAS (a load of
// the newest value with the failure order).
enum class WeakWrite : uint8_t { Store, Rmw, CasFail };

inline constexpr uint8_t kNoActor = 0xff;

struct SyncHook {
  // Sync points left before on_sync() runs. Owned by the thread the hook is
  // installed on; never shared, so a plain field.
  uint64_t countdown = 1;
  // Actor (logical thread of the harness) now running on this OS thread;
  // recorded in frame histories. Updated by the scheduler on each switch.
  uint8_t actor = kNoActor;

  // A hook that needs to know when the access it was called for is done
  // sets this (from on_sync or before installing): the access then calls
  // on_sync_done() right after it. The sync-point recorder holds the
  // location's order from on_sync until the access is done.
  bool wants_done = false;

  virtual void on_sync(SyncOp op, const void* addr) = 0;
  virtual void on_sync_done() {}
  // After a load (a load is side-effect free, so it may be repeated): false
  // asks for the load to be done again, e.g. because the recorder saw a
  // writer of the location overlap it and cannot tell which came first.
  virtual bool on_load_done() {
    on_sync_done();
    return true;
  }

  // Weak memory (harness/weak.hpp). A hook that sets weak_memory (and
  // wants_done) hears, after each access, its values as bits (the
  // location's T, zero-extended): a load may return an older store of the
  // location than the newest one (`latest`), as the C++ memory model
  // permits for its order; a write reports the value before and after it.
  // The location itself always holds the newest store (its modification
  // order's last), which is what RMWs, peek() and audits read.
  bool weak_memory = false;
  virtual uint64_t on_weak_load(const void* /*addr*/, uint64_t latest, std::memory_order /*mo*/) { return latest; }
  virtual void on_weak_write(const void* /*addr*/, uint64_t /*before*/, uint64_t /*after*/, std::memory_order /*mo*/,
                             WeakWrite /*kind*/) {}

  SyncHook() = default;
  SyncHook(const SyncHook&) = delete;
  SyncHook& operator=(const SyncHook&) = delete;
  virtual ~SyncHook() = default;
};

inline constexpr uint64_t kIdleCountdown = UINT64_MAX;

// The current thread's hooks, the only thread-locals in core/: the one that
// sees sync points (null when none is installed or it is idle) and the one
// that names the actor (any installed hook). constinit keeps access a plain
// TLS load, with no initialisation guard.
constinit inline thread_local SyncHook* tls_sync_hook = nullptr;
constinit inline thread_local SyncHook* tls_actor_hook = nullptr;

// The hook's call, out of line: the inlined sync_point() stays a TLS load,
// a test and a decrement at every access.
[[gnu::noinline]] inline bool sync_point_call(SyncHook* h, SyncOp op, const void* addr) noexcept {
  h->on_sync(op, addr);
  return h->wants_done;
}

// True when the hook wants sync_done() after the access.
[[gnu::always_inline]] inline bool sync_point(SyncOp op, const void* addr) noexcept {
  SyncHook* h = tls_sync_hook;
  if (h == nullptr) [[likely]]
    return false;
  if (--h->countdown != 0) [[likely]]
    return false;
  return sync_point_call(h, op, addr);
}

// After the access of a sync point whose sync_point() returned true.
inline void sync_done() noexcept {
  SyncHook* h = tls_sync_hook;
  if (h != nullptr) h->on_sync_done();
}
// After the load of a sync point whose sync_point() returned true: false
// means "load again" (see SyncHook::on_load_done).
inline bool sync_load_done() noexcept {
  SyncHook* h = tls_sync_hook;
  return h == nullptr || h->on_load_done();
}

// The current thread's hook when it models weak memory, else null (after an
// access whose sync_point() returned true).
inline SyncHook* sync_weak_hook() noexcept {
  SyncHook* h = tls_sync_hook;
  return h != nullptr && h->weak_memory ? h : nullptr;
}

inline uint8_t current_actor() noexcept {
  SyncHook* h = tls_actor_hook;
  return h == nullptr ? kNoActor : h->actor;
}

// One iteration of a busy-wait (cpu_relax() in the kernel). A sync point, so
// that waiting in core/ never blocks in the OS and a fiber scheduler can run
// whoever the spinner is waiting for.
inline void cpu_relax() noexcept {
  if (sync_point(SyncOp::Spin, nullptr)) sync_done();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Installs a hook on the current thread for the lifetime of the guard. A
// hook whose countdown is kIdleCountdown at this point is installed idle.
class ScopedSyncHook {
 public:
  explicit ScopedSyncHook(SyncHook* h) noexcept : prev_(tls_sync_hook), prev_actor_(tls_actor_hook) {
    tls_actor_hook = h;
    tls_sync_hook = (h != nullptr && h->countdown == kIdleCountdown) ? nullptr : h;
  }
  ~ScopedSyncHook() {
    tls_sync_hook = prev_;
    tls_actor_hook = prev_actor_;
  }
  ScopedSyncHook(const ScopedSyncHook&) = delete;
  ScopedSyncHook& operator=(const ScopedSyncHook&) = delete;

 private:
  SyncHook* prev_;
  SyncHook* prev_actor_;
};

}  // namespace core
