// core::Rcu — read-side critical sections and grace periods, simplified.
//
// The model's RCU is just enough for the page cache's rule: a folio removed
// from the cache must not be freed while a lookup that read the slot before
// the removal may still touch it without a reference.
//
//   reader: rcu_read_lock() -> slot = the grace-period sequence it started in
//           ... read pointers, folio_try_get() ...
//           rcu_read_unlock(slot)
//   updater: unpublish; seq = start_grace_period(); ...; synchronize_rcu(seq)
//           waits until every reader that started before `seq` has left.
//
// Readers occupy one of ModelConfig::rcu_readers slots (a real kernel needs
// none: it counts per CPU). Waiting spins on sync points. Left out: callbacks
// (call_rcu), expedited grace periods, nesting across slots.
#pragma once

#include <cstdint>
#include <memory>

#include "core/atomic.hpp"
#include "core/faults.hpp"
#include "core/probe.hpp"

namespace core {

class Rcu {
 public:
  // probes (optional): the Model's counters, for Probe::RcuWaitedForReader.
  explicit Rcu(uint32_t nr_readers, ProbeCounters* probes = nullptr);

  // Enters a read-side section; returns the reader slot to pass to unlock.
  uint32_t rcu_read_lock() noexcept;
  void rcu_read_unlock(uint32_t slot) noexcept;

  // Starts a grace period; returns its sequence number.
  uint64_t start_grace_period() noexcept;
  // Waits (spinning) until every reader that entered before grace period
  // `seq` started has left, then marks it completed.
  void synchronize_rcu(uint64_t seq) noexcept;
  void synchronize_rcu() noexcept { synchronize_rcu(start_grace_period()); }
  // Highest grace period known to be completed.
  uint64_t completed() const noexcept;
  // True while a reader that entered before grace period `seq` started is
  // still inside its read-side section (the check on the free path).
  bool reader_before(uint64_t seq) const noexcept;

  // Fault site DelayedGracePeriod: when it fires, synchronize_rcu spins
  // through `spins` extra sync points before it checks readers.
  void set_fault_injector(FaultInjector* f, uint32_t spins) noexcept {
    faults_ = f;
    delay_spins_ = spins;
  }

 private:
  uint32_t nr_;
  ProbeCounters* probes_;
  FaultInjector* faults_ = nullptr;  // set before threads start; read-only afterwards
  uint32_t delay_spins_ = 0;         // likewise
  // Grace-period sequence: the next one to start is gp_seq_ + 1.
  Atomic<uint64_t> gp_seq_{0};
  Atomic<uint64_t> completed_{0};
  // Per reader slot: 0 when free, else the gp_seq_ value seen at lock time + 1.
  std::unique_ptr<Atomic<uint64_t>[]> readers_;
};

}  // namespace core
