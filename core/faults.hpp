// core::faults — BUGGIFY-style fault sites: rare but legal events, injected
// on purpose so that a run exercises the paths that handle them. A correct
// core survives every fault without a violation.
//
// Each site is switched on per run (FaultConfig::sites, recorded in a trace's
// header; drivers pick a random subset per run: swarm testing). An enabled
// site fires with probability 1/rate, decided by a hash of (seed, site, the
// site's own counter): deterministic for a given order of events, so the
// deterministic scheduler replays faults exactly.
//
// The counters are injection bookkeeping, not model state: plain std::atomic,
// not sync points (a fault decision must not add scheduling points).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace core {

enum class FaultSite : uint8_t {
  AllocFail,          // the buddy allocator fails an allocation (as under memory pressure)
  SpuriousCas,        // a try-style primitive (add-unless-zero, freeze) fails as if it had lost a race
  DelayedGracePeriod, // synchronize_rcu() waits longer before it checks readers
  LatePinDrop,        // unpin_user_page() dawdles before it drops the pin
};
inline constexpr unsigned kNrFaultSites = 4;
const char* fault_site_name(FaultSite s) noexcept;
bool fault_site_by_name(std::string_view name, FaultSite& out) noexcept;
inline constexpr uint32_t fault_bit(FaultSite s) noexcept { return 1u << static_cast<unsigned>(s); }

struct FaultConfig {
  uint32_t sites = 0;   // bit per FaultSite; 0 = no fault injection
  uint64_t seed = 0;
  uint32_t rate = 8;    // an enabled site fires once in `rate` visits on average
};

class FaultInjector {
 public:
  explicit FaultInjector(const FaultConfig& c) : c_(c) {}
  bool enabled(FaultSite s) const noexcept { return (c_.sites & fault_bit(s)) != 0; }
  // The fast path (site off) is one load and a branch, inlined; the
  // decision itself is out of line so that it does not crowd the hot loops
  // of the primitives that ask (it cost 5 ns on try_get+put when inlined).
  bool fire(FaultSite s) noexcept {
    if ((c_.sites & fault_bit(s)) == 0) [[likely]]
      return false;
    return fire_slow(s);
  }
  uint64_t fired(FaultSite s) const noexcept {
    return fired_[static_cast<unsigned>(s)].load(std::memory_order_relaxed);  // relaxed: statistic
  }
  const FaultConfig& config() const noexcept { return c_; }

 private:
  [[gnu::noinline]] bool fire_slow(FaultSite s) noexcept;
  FaultConfig c_;
  std::array<std::atomic<uint64_t>, kNrFaultSites> counters_{};
  std::array<std::atomic<uint64_t>, kNrFaultSites> fired_{};
};

}  // namespace core
