// core::bugs — the catalog's descriptions.
#include "core/bugs.hpp"
#include "core/faults.hpp"

namespace core {
namespace {
constexpr BugInfo kCatalog[kNrBugs] = {
#define REFHAMMER_BUG_INFO(e, name, kind, subsystem, cite, where, description) \
  {Bug::e, name, kind, subsystem, cite, where, description},
    REFHAMMER_BUG_CATALOG(REFHAMMER_BUG_INFO)
#undef REFHAMMER_BUG_INFO
};
}  // namespace

const BugInfo& bug_info(Bug b) noexcept { return kCatalog[static_cast<unsigned>(b)]; }

bool bug_by_name(std::string_view name, Bug& out) noexcept {
  for (const BugInfo& i : kCatalog)
    if (name == i.name) {
      out = i.bug;
      return true;
    }
  return false;
}

}  // namespace core

namespace core {

const char* fault_site_name(FaultSite s) noexcept {
  switch (s) {
    case FaultSite::AllocFail: return "alloc-fail";
    case FaultSite::SpuriousCas: return "spurious-cas";
    case FaultSite::DelayedGracePeriod: return "delayed-grace-period";
    case FaultSite::LatePinDrop: return "late-pin-drop";
  }
  return "?";
}

bool FaultInjector::fire_slow(FaultSite s) noexcept {
  // relaxed: injection bookkeeping (see faults.hpp).
  const uint64_t n = counters_[static_cast<unsigned>(s)].fetch_add(1, std::memory_order_relaxed);
  uint64_t z = c_.seed ^ (uint64_t(static_cast<unsigned>(s) + 1) << 56) ^ (n * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const bool hit = c_.rate <= 1 || z % c_.rate == 0;
  if (hit) fired_[static_cast<unsigned>(s)].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistic
  return hit;
}

bool fault_site_by_name(std::string_view name, FaultSite& out) noexcept {
  for (unsigned i = 0; i < kNrFaultSites; ++i)
    if (name == fault_site_name(static_cast<FaultSite>(i))) {
      out = static_cast<FaultSite>(i);
      return true;
    }
  return false;
}

}  // namespace core
