// harness::WeakMemory — the C++ memory model's outcomes of core::Atomic for
// the deterministic scheduler: a load may read an older store than the
// newest, where the model permits it, so a memory_order that is too weak
// becomes a finding.
//
// The approach is loom's and CDSChecker's (Norris and Demsky, OOPSLA 2013),
// on the sequentially consistent interleavings the scheduler already runs:
//  - Per location, a modification order (mo): the stores in the order the
//    interleaving made them (the last is what the location holds). The last
//    kHistory stores are kept; older ones can no longer be read.
//  - Per actor, a vector clock; per store, the writer, its clock entry at
//    the store, and the clock a reader acquires from it (its release clock).
//  - A load by actor a may read any store S of the location no older than
//    (i) the newest store that happens-before the load (write-read
//    coherence: S.writer's clock entry <= a's clock for that writer) and
//    (ii) the newest store a has already read or written there (read-read
//    and read-write coherence). Which of those it reads is a scheduler
//    decision (below); by default the newest.
//  - acquire (acquire, acq_rel, seq_cst) loads and RMWs that read a store
//    join its release clock. A release store's release clock is the
//    writer's clock; a relaxed store's is empty; an RMW continues the
//    release sequence of the store it read (C++20: RMWs only) and adds the
//    writer's clock when it is a release.
//  - RMWs (successful CASes included) read the newest store (atomicity); a
//    failed CAS also reads the newest, with its failure order.
//
// Not modelled (each only removes outcomes, so the model never reports an
// execution the C++ model forbids, though it can miss some it allows):
//  - seq_cst loads read the newest store (stronger than C++ for mixes of
//    seq_cst and weaker accesses on one location); the total order S and
//    seq_cst fences' full semantics are not built (core/ has no fences);
//  - stores join mo at the end, in interleaving order (a store cannot be
//    placed before a store that ran earlier; loom makes the same choice);
//  - load buffering and out-of-thin-air values: a load reads only stores
//    that already ran;
//  - a failed CAS reading an older value.
//
// Stale reads as decisions. A load with more than one store it may read is
// an eligible load; eligible loads are numbered from 0 in the run. A stale
// read is (eligible load L, back B): L reads the store B places before the
// newest it may read (B clamps to the oldest permitted). A run follows a
// script of stale reads (a trace's `stale` line, a bounded or random
// search's choice, fuzzer bytes) and records the ones it took, so the run
// replays exactly: the scheduler is deterministic, so the same program,
// schedule and script number the eligible loads the same way.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/sync.hpp"
#include "harness/op.hpp"
#include "harness/rng.hpp"

namespace refhammer::harness {

struct StaleRead {
  uint32_t load = 0;  // eligible load, numbered from 0 in the run
  uint8_t back = 1;   // stores before the newest permitted one (>= 1)
  bool operator==(const StaleRead&) const = default;
};
using StaleScript = std::vector<StaleRead>;

// Random stale reads (fuzzing, random search): every eligible load that the
// script does not name reads an older store with probability per_mille/1000
// (how far back: uniform over what it may read), from a PRNG seeded with
// `seed`. The run records what it took as a script, so its trace replays
// without the PRNG. per_mille 0: off.
struct StaleRandom {
  uint16_t per_mille = 0;
  uint64_t seed = 0;
};

// "12:1 40:2" (load:back, ascending loads).
std::string format_stale(const StaleScript& s);
// Empty error on success.
std::string parse_stale(const std::string& text, StaleScript& out);

class WeakMemory {
 public:
  static constexpr size_t kHistory = 8;  // stores kept per location
  static constexpr uint8_t kMaxBack = kHistory - 1;

  // `script`: the stale reads to take, ascending by load (replay, search).
  WeakMemory(unsigned actors, StaleScript script, StaleRandom random = {});

  // Actor `a`'s load of `addr`, whose location holds `latest`: the value it reads.
  uint64_t load(unsigned a, const void* addr, uint64_t latest, std::memory_order mo);
  // Actor `a`'s write (or failed CAS) of `addr`: `before` -> `after`.
  void write(unsigned a, const void* addr, uint64_t before, uint64_t after, std::memory_order mo, core::WeakWrite kind);

  // What the run did.
  const StaleScript& taken() const { return taken_; }
  uint32_t eligible_loads() const { return eligible_; }
  // Per eligible load: how many stores it could have read (>= 2), for a
  // search that enumerates single stale reads (kept for the first
  // kMaxChoices eligible loads).
  static constexpr size_t kMaxChoices = 4096;
  const std::vector<uint8_t>& choices() const { return choices_; }

 private:
  using Clock = std::array<uint32_t, kMaxActors>;
  static constexpr uint8_t kInit = 0xff;  // the store a location held when first seen: before everything
  struct Store {
    uint64_t bits;
    uint8_t writer;
    uint32_t stamp;  // writer's own clock entry at the store
    Clock release;   // what an acquire reading it joins
  };
  // The last kHistory stores of a location, oldest first, kept in place (a
  // ring: no allocation per location or per store).
  struct History {
    std::array<Store, kHistory> ring;
    uint8_t head = 0, count = 0;  // ring[head] is the oldest
    bool empty() const { return count == 0; }
    size_t size() const { return count; }
    const Store& operator[](size_t i) const { return ring[(head + i) % kHistory]; }
    const Store& back() const { return (*this)[count - 1u]; }
    void reset(const Store& s) {
      ring[0] = s;
      head = 0;
      count = 1;
    }
    // Appends; true when the oldest store made room for it.
    bool push(const Store& s) {
      if (count < kHistory) {
        ring[(head + count++) % kHistory] = s;
        return false;
      }
      ring[head] = s;
      head = static_cast<uint8_t>((head + 1) % kHistory);
      return true;
    }
  };
  struct Loc {
    History mo;             // the last kHistory stores, oldest first
    uint64_t base = 0;      // mo index of mo[0]
    std::array<uint64_t, kMaxActors> seen{};  // per actor: newest mo index it read or wrote
  };

  Loc& location(const void* addr, uint64_t latest);
  bool happens_before(const Store& s, unsigned a) const;
  static bool is_acquire(std::memory_order mo);
  static bool is_release(std::memory_order mo);
  void acquire(unsigned a, const Store& s);

  unsigned n_;
  std::vector<Clock> clocks_;
  std::unordered_map<const void*, Loc> locs_;
  StaleScript script_;
  size_t next_ = 0;  // next script entry
  StaleRandom random_;
  Rng rng_;
  StaleScript taken_;
  uint32_t eligible_ = 0;
  std::vector<uint8_t> choices_;
};

}  // namespace refhammer::harness
