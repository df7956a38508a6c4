// core::Probe — counters that prove a named interleaving was reached.
//
// A probe marks a rare path inside a protocol ("try_get saw zero", "freeze
// found an extra reference"). Runs print which probes were hit; a smoke run
// that never reaches a protocol's named interleaving fails (the harness
// decides which probes are required). Counters are diagnostic, not model
// state: plain std::atomic, not sync points.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace core {

enum class Probe : uint8_t {
  TryGetSawZero,        // speculative get lost to a free/freeze (lookup step 2 vs remover A)
  TryGetRefusedAtLimit, // add-unless refused: the count would pass refcount_limit
  PutWasLast,           // a put reached zero and ran the owner's free path
  PutLastByOwnerHook,   // ... and the owner was not the buddy
  FreezeFailed,         // folio_ref_freeze found another reference
  FreezeSucceeded,
  BuddyMerged,          // __free_one_page merged with its buddy
  BuddySplit,           // expand() split a larger block
  AllocFellBack,        // MOVABLE request served from NORMAL
  AllocFailed,          // no free block of the order in any allowed zone
  FreeToIsolated,       // a free landed on an ISOLATE list
  IsolateBusy,          // start_isolate_page_range found the block already isolated
  SplitRefused,         // split_folio found extra refs or pins
};
inline constexpr unsigned kNrProbes = 13;
const char* probe_name(Probe p) noexcept;

class ProbeCounters {
 public:
  void hit(Probe p) noexcept {
    // relaxed: a statistic; nobody orders anything on it.
    counts_[static_cast<unsigned>(p)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count(Probe p) const noexcept {
    // relaxed: read for reports only.
    return counts_[static_cast<unsigned>(p)].load(std::memory_order_relaxed);
  }
  void reset() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);  // relaxed: statistic
  }

 private:
  std::array<std::atomic<uint64_t>, kNrProbes> counts_{};
};

}  // namespace core
