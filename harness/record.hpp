// harness::record — the sync-point order of a run on real threads, recorded
// so that the deterministic scheduler can follow it exactly.
//
// Every access core/ makes to shared state is a sync point (core/sync.hpp),
// so the order of the sync points inside ops is the whole interleaving of
// the model. Recording it on free or perturbed threads:
//
//  - Per-location sequence numbers, not a global ticket. A location is a
//    stripe: the 64-byte line of the accessed address, hashed into
//    StripeTable::kStripes slots. Each stripe has a word: 2 * (writes so
//    far) + locked.
//    Writes (store, RMW, CAS, failed or not) lock the stripe (a CAS from
//    even v to v+1; sequence number v/2), do the access, and unlock
//    (SyncHook::wants_done: core::Atomic calls on_sync_done() right after
//    the access). Writes of one stripe are thus totally ordered.
//    Loads do not lock (a spinner's loads would otherwise write the stripe
//    word as fast as it spins and bounce it away from the thread it waits
//    for): as a seqlock reader, the load waits for an even word v1, loads,
//    and re-reads the word; unchanged, the load happened after write v1/2-1
//    and before write v1/2 of its stripe, and is logged at position v1/2.
//    Changed, a writer overlapped it and the order is unknown: on_load_done()
//    returns false and core::Atomic loads again (a load has no side effect).
//    A thread holds at most one stripe and never waits while holding one, so
//    stripes cannot deadlock.
//  - Why not one global ticket: fetch_add on one counter before the access
//    does not order the access itself (the thread may be preempted between
//    ticket and access, and two racing accesses then log the opposite order),
//    and a global lock around every access serializes all threads. Stripe
//    locks serialize only accesses to the same line, which contend on the
//    hardware anyway (bench/stress_bench measures the cost).
//  - Exactness: each stripe's writes are totally ordered in real time, each
//    load lies between two consecutive writes of its stripe, and each
//    thread's accesses are in program order in real time, so program order
//    plus these stripe constraints is acyclic. Any linearization of it
//    (merge_sync_order) gives every load and RMW the value it read on the
//    real threads: the writes to its location before it are exactly those
//    before it on the threads. The deterministic scheduler following that order
//    (make_order_source) therefore re-executes the run sync point for sync
//    point, and reaches the same violation.
//  - Sync points outside ops (the harness's gate, the sink) are not
//    recorded: they read and write no model state. Spin sync points
//    (cpu_relax) inside ops are logged without a stripe: they keep the
//    actor's step count, not an order.
//
// Addresses are only compared within one recording run, never across runs,
// so the model's memory may sit anywhere in the replaying process.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/sync.hpp"
#include "harness/rng.hpp"
#include "harness/sched.hpp"

namespace refhammer::harness {

struct SyncAccess {
  uint32_t seq;     // writes: the stripe's sequence number; loads: the writes of the stripe before it
  uint16_t stripe;  // kNoStripe: a spin sync point (no order)
  uint8_t op;       // core::SyncOp
  uint8_t pad = 0;
};
static_assert(sizeof(SyncAccess) == 8);
inline constexpr uint16_t kNoStripe = 0xffff;
// A SyncAccess built in one register: field by field, the compiler writes it
// to the stack in four stores and reloads it as one 8-byte word to append
// it, which stalls store forwarding (about half the recording hook's time).
inline SyncAccess make_sync_access(uint32_t seq, uint16_t stripe, uint8_t op) noexcept {
  static_assert(std::endian::native == std::endian::little, "the packing below is little-endian");
  return std::bit_cast<SyncAccess>(uint64_t{seq} | uint64_t{stripe} << 32 | uint64_t{op} << 48);
}

class StripeTable {
 public:
  static constexpr unsigned kStripes = 1024;
  StripeTable() : s_(std::make_unique<Stripe[]>(kStripes)) {}
  static uint16_t index(const void* addr) noexcept {
    const uint64_t line = reinterpret_cast<uintptr_t>(addr) >> 6;
    return static_cast<uint16_t>((line * 0x9e3779b97f4a7c15ull) >> 54);  // top 10 bits: kStripes = 1024
  }
  // Takes stripe i for a write; returns its sequence number.
  uint32_t lock(uint16_t i) noexcept;
  void unlock(uint16_t i) noexcept;
  // A load: waits until no write holds the stripe, returns the word
  // (acquire), and validate() tells whether it is unchanged after the load.
  uint64_t read_begin(uint16_t i) const noexcept;
  bool validate(uint16_t i, uint64_t word) const noexcept;
  // Every stripe back to sequence 0. Only when no thread records (quiescence).
  void reset() noexcept;

 private:
  struct alignas(64) Stripe {
    std::atomic<uint64_t> word{0};  // 2 * sequence + locked
  };
  std::unique_ptr<Stripe[]> s_;
};

// The hook of a recorded free or perturbed thread: records every sync point
// of the actor's ops into `log` (see above) and, with `perturb`, yields or
// spins at sampled sync points as harness::make_thread_hook does.
class RecordingHook final : public core::SyncHook {
 public:
  // preempt_pauses > 0: one perturbation in 8 spins that many pauses instead,
  // as if the thread had been preempted (what a loaded machine does to a
  // thread at arbitrary points; on an idle one the threads run side by side
  // and a wide race window is rarely crossed).
  RecordingHook(StripeTable& t, std::vector<SyncAccess>* log, bool perturb, uint64_t seed, uint32_t gap,
                uint32_t preempt_pauses = 0);
  ~RecordingHook() override { release(); }
  // The actor's Actor::current: the hook records while it is not -1. Set by
  // the driver whenever the actor object changes (a fresh world).
  void watch(const int* current) noexcept { current_ = current; }
  void set_log(std::vector<SyncAccess>* log) noexcept { log_ = log; }
  void on_sync(core::SyncOp op, const void* addr) override;
  void on_sync_done() override { release(); }
  bool on_load_done() override;
  // Releases the stripe of the access in progress, if any.
  void release() noexcept;

 private:
  void perturb_now();
  StripeTable& t_;
  std::vector<SyncAccess>* log_;
  const int* current_ = nullptr;
  uint16_t held_ = kNoStripe;       // a write's stripe, locked
  uint16_t reading_ = kNoStripe;    // a load's stripe, and the word it began at
  uint64_t read_word_ = 0;
  uint8_t read_op_ = 0;
  bool perturb_;
  uint32_t gap_;
  uint32_t preempt_pauses_;
  uint64_t until_perturb_ = 1;
  Rng rng_;
};

// One order of every logged sync point, consistent with each actor's program
// order and every stripe's sequence, as run lengths of actors (the `order`
// line of a trace). Prefers to keep the current actor running, so the order
// switches only where the recording forces it. Empty on success; otherwise
// why no such order exists (a log was cut).
std::string merge_sync_order(const std::vector<std::vector<SyncAccess>>& logs, Schedule& order);

}  // namespace refhammer::harness
