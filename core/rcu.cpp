// core::Rcu — see rcu.hpp.
#include "core/rcu.hpp"

namespace core {

Rcu::Rcu(uint32_t nr_readers, ProbeCounters* probes)
    : nr_(nr_readers), probes_(probes), readers_(std::make_unique<Atomic<uint64_t>[]>(nr_readers)) {}

// The reader/updater handshake is Dekker's: the reader writes its slot then
// reads gp_seq_; the updater increments gp_seq_ then reads the slots. All four
// accesses are seq_cst, so either the updater sees the reader (and waits for
// it), or the reader sees the new grace period — and with it, through the
// increment's release, the unpublish that preceded it.
uint32_t Rcu::rcu_read_lock() noexcept {
  for (;;) {
    for (uint32_t i = 0; i < nr_; ++i) {
      uint64_t expected = 0;
      // seq_cst: the reader half of the handshake above (value 1 = "entered
      // before any grace period": waited for until the store below refines it).
      if (!readers_[i].compare_exchange(expected, 1, std::memory_order_seq_cst, std::memory_order_relaxed)) continue;
      // seq_cst: pairs with the seq_cst increment in start_grace_period().
      const uint64_t seen = gp_seq_.load(std::memory_order_seq_cst);
      // seq_cst: refines the entry for the updater's seq_cst scan.
      readers_[i].store(seen + 1, std::memory_order_seq_cst);
      return i;
    }
    cpu_relax();  // all reader slots busy: wait for one
  }
}

void Rcu::rcu_read_unlock(uint32_t slot) noexcept {
  // release: pairs with the acquire scan in synchronize_rcu(): the updater
  // sees that this reader's section (and its accesses) ended.
  readers_[slot].store(0, std::memory_order_release);
}

uint64_t Rcu::start_grace_period() noexcept {
  // seq_cst: the updater half of the handshake (see rcu_read_lock()); its
  // release part makes a reader that sees the new sequence see the unpublish.
  return gp_seq_.fetch_add(1, std::memory_order_seq_cst) + 1;
}

void Rcu::synchronize_rcu(uint64_t seq) noexcept {
  if (faults_ != nullptr && faults_->fire(FaultSite::DelayedGracePeriod))
    for (uint32_t i = 0; i < delay_spins_; ++i) cpu_relax();
  bool waited = false;
  for (uint32_t i = 0; i < nr_; ++i) {
    for (;;) {
      // seq_cst: the updater's scan in the handshake; also acquire for the
      // release in rcu_read_unlock().
      uint64_t r = readers_[i].load(std::memory_order_seq_cst);
      // Free, or entered at/after this grace period started: not waited for.
      if (r == 0 || r - 1 >= seq) break;
      // relaxed (inside ProbeCounters): a statistic.
      if (!waited && probes_ != nullptr) probes_->hit(Probe::RcuWaitedForReader);
      waited = true;
      cpu_relax();
    }
  }
  // relaxed load: only seeds the CAS; acq_rel CAS: release publishes the
  // completion to completed()'s acquire readers on the free path.
  uint64_t c = completed_.load(std::memory_order_relaxed);
  while (c < seq && !completed_.compare_exchange(c, seq, std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
}

bool Rcu::reader_before(uint64_t seq) const noexcept {
  for (uint32_t i = 0; i < nr_; ++i) {
    // seq_cst: the same handshake as synchronize_rcu()'s scan.
    const uint64_t r = readers_[i].load(std::memory_order_seq_cst);
    if (r != 0 && r - 1 < seq) return true;
  }
  return false;
}

uint64_t Rcu::completed() const noexcept {
  // acquire: pairs with the release in synchronize_rcu().
  return completed_.load(std::memory_order_acquire);
}

}  // namespace core
