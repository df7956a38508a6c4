// core::Atomic and core::SpinLock — the only ways core/ touches shared state.
//
// Atomic<T> is std::atomic<T> with two differences: every access is a sync
// point (see sync.hpp; a hook that asks for it also hears when the access is
// done), and there are no default memory orders, so each call
// site states its order and (by project rule) says in a comment what it pairs
// with. peek() and init() are the two non-sync accesses, for quiescent reads
// (audit, dumps) and for initialisation before the object is shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "core/sync.hpp"

namespace core {

template <class T>
class Atomic {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(std::atomic<T>::is_always_lock_free, "model atomics must be lock-free");
  static_assert(sizeof(T) <= sizeof(uint64_t), "a weak-memory hook keeps values as 64 bits");

 public:
  constexpr Atomic() noexcept : v_{} {}
  constexpr explicit Atomic(T v) noexcept : v_(v) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  // Each access is inlined at its call site with its constant memory order;
  // the hooked path (a scheduler, recorder or weak-memory hook is installed
  // on this thread and its countdown reached zero) is out of line, so the
  // fast path is the std::atomic access plus one thread-local test.
  [[gnu::always_inline]] T load(std::memory_order mo) const noexcept {
    if (sync_point(SyncOp::Load, &v_)) [[unlikely]]
      return load_hooked(mo);
    return v_.load(mo);
  }
  [[gnu::always_inline]] void store(T v, std::memory_order mo) noexcept {
    if (sync_point(SyncOp::Store, &v_)) [[unlikely]]
      return store_hooked(v, mo);
    v_.store(v, mo);
  }
  [[gnu::always_inline]] T exchange(T v, std::memory_order mo) noexcept {
    if (sync_point(SyncOp::Rmw, &v_)) [[unlikely]]
      return rmw_hooked(v_.exchange(v, mo), mo);
    return v_.exchange(v, mo);
  }
  // fetch_add, fetch_sub, fetch_or, fetch_and: std::atomic's, at one sync point.
#define REFHAMMER_ATOMIC_FETCH_OP(op)                                   \
  [[gnu::always_inline]] T op(T d, std::memory_order mo) noexcept       \
    requires std::is_integral_v<T>                                      \
  {                                                                     \
    if (sync_point(SyncOp::Rmw, &v_)) [[unlikely]]                      \
      return rmw_hooked(v_.op(d, mo), mo);                              \
    return v_.op(d, mo);                                                \
  }
  REFHAMMER_ATOMIC_FETCH_OP(fetch_add)
  REFHAMMER_ATOMIC_FETCH_OP(fetch_sub)
  REFHAMMER_ATOMIC_FETCH_OP(fetch_or)
  REFHAMMER_ATOMIC_FETCH_OP(fetch_and)
#undef REFHAMMER_ATOMIC_FETCH_OP

  // Strong only: a weak CAS's spurious failures would make the model's
  // behaviour depend on the hardware, not on the schedule. Spurious failures
  // are injected deliberately by fault sites instead (harness issue).
  [[gnu::always_inline]] bool compare_exchange(T& expected, T desired, std::memory_order success,
                                               std::memory_order failure) noexcept {
    if (sync_point(SyncOp::Cas, &v_)) [[unlikely]]
      return cas_hooked(expected, desired, success, failure);
    return v_.compare_exchange_strong(expected, desired, success, failure);
  }

  // Quiescent read: not a sync point. Legal where no other thread can write
  // (the audit at quiescence) or where a torn view is acceptable because the
  // value is only printed (violation dumps). relaxed: no ordering is needed
  // for either use; quiescence itself is ordered by the harness's barrier.
  T peek() const noexcept { return v_.load(std::memory_order_relaxed); }
  // Initialisation before the object is visible to any other thread (memmap
  // init). relaxed: publication of the whole table orders it.
  void init(T v) noexcept { v_.store(v, std::memory_order_relaxed); }

 private:
  // The hooked paths: the hook's on_sync() has run (sync_point() returned
  // true: it asked to hear when the access is done).
  [[gnu::noinline]] T load_hooked(std::memory_order mo) const noexcept {
    T r = v_.load(mo);
    while (!sync_load_done()) r = v_.load(mo);  // the hook asks for it again (a load has no side effect)
    if (SyncHook* h = sync_weak_hook()) r = from_bits(h->on_weak_load(&v_, to_bits(r), mo));
    return r;
  }
  [[gnu::noinline]] void store_hooked(T v, std::memory_order mo) noexcept {
    // relaxed: the value before, for a weak-memory hook's history only
    // (one OS thread runs the deterministic scheduler's actors).
    const T before = v_.load(std::memory_order_relaxed);
    v_.store(v, mo);
    sync_done();
    if (SyncHook* h = sync_weak_hook()) h->on_weak_write(&v_, to_bits(before), to_bits(v), mo, WeakWrite::Store);
  }
  // After a read-modify-write that returned r (the value before it).
  [[gnu::noinline]] T rmw_hooked(T r, std::memory_order mo) noexcept {
    sync_done();
    // relaxed: the value after, for a weak-memory hook's history only.
    if (SyncHook* h = sync_weak_hook())
      h->on_weak_write(&v_, to_bits(r), to_bits(v_.load(std::memory_order_relaxed)), mo, WeakWrite::Rmw);
    return r;
  }
  [[gnu::noinline]] bool cas_hooked(T& expected, T desired, std::memory_order success,
                                    std::memory_order failure) noexcept {
    const T want = expected;
    const bool ok = v_.compare_exchange_strong(expected, desired, success, failure);
    sync_done();
    if (SyncHook* h = sync_weak_hook())
      h->on_weak_write(&v_, to_bits(ok ? want : expected), to_bits(ok ? desired : expected), ok ? success : failure,
                       ok ? WeakWrite::Rmw : WeakWrite::CasFail);
    return ok;
  }

  // A value as the weak-memory hook keeps it: its bytes, zero-extended.
  static uint64_t to_bits(T v) noexcept {
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
  }
  static T from_bits(uint64_t b) noexcept {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
  }

  std::atomic<T> v_;
};

// A test-and-test-and-set spinlock (the kernel's spinlock_t, minus fairness).
// Waiting spins on sync points; it never blocks in the OS.
class SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() noexcept {
    for (;;) {
      uint32_t expected = 0;
      // acquire: pairs with the release store in unlock(), so the critical
      // section sees everything the previous holder wrote.
      if (locked_.compare_exchange(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      // relaxed: only a hint to retry the CAS, which does the ordering.
      while (locked_.load(std::memory_order_relaxed) != 0) cpu_relax();
    }
  }
  bool try_lock() noexcept {
    uint32_t expected = 0;
    // acquire: pairs with the release store in unlock().
    return locked_.compare_exchange(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // release: pairs with the acquire CAS in lock()/try_lock().
    locked_.store(0, std::memory_order_release);
  }
  bool is_locked_quiescent() const noexcept { return locked_.peek() != 0; }

 private:
  Atomic<uint32_t> locked_{0};
};

// A fixed array of atomics, one per slot, made before any other thread sees
// it: an xarray's entries, a page table's PTEs. Every slot starts at `init`
// (its init(): relaxed, published with the whole object).
template <class T>
class AtomicSlots {
 public:
  AtomicSlots(uint32_t n, T init) : n_(n), v_(std::make_unique<Atomic<T>[]>(n)) {
    for (uint32_t i = 0; i < n; ++i) v_[i].init(init);
  }
  uint32_t size() const noexcept { return n_; }
  Atomic<T>& operator[](uint32_t i) noexcept { return v_[i]; }
  const Atomic<T>& operator[](uint32_t i) const noexcept { return v_[i]; }

 private:
  uint32_t n_;
  std::unique_ptr<Atomic<T>[]> v_;
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& l) noexcept : l_(l) { l_.lock(); }
  ~SpinGuard() { l_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& l_;
};

}  // namespace core
