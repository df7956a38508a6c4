// core::bugs — the catalog's descriptions.
#include "core/bugs.hpp"
#include "core/faults.hpp"

namespace core {
namespace {
constexpr BugInfo kCatalog[kNrBugs] = {
    {Bug::TruncateSkipsGracePeriod, "truncate-skips-grace-period", "use-after-free",
     "bd225530a4c7 (mm/hugetlb_vmemmap: fix race with speculative PFN walkers); rule of mm/filemap.c RCU lookups",
     "truncate_folio() drops the page cache's references right after removing the folio, without "
     "synchronize_rcu(). A lookup that read the slot just before the removal is still inside its RCU read "
     "section, about to call folio_try_get() on a folio that has meanwhile been freed (and may be reused): the "
     "free path finds an RCU reader older than the removal still running and reports a use-after-free."},
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
