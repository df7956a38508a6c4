// core::bugs — the bug catalog: named, documented, run-time switchable
// mutants, each re-creating a real kernel refcount bug (or a documented bug
// class). Off by default; a clean core never reports. Switched on by name
// (`--bug NAME`, and in a trace's header); the mutated code paths test
// bug_on() at the exact place the kernel's fix went.
#pragma once

#include <cstdint>
#include <string_view>

namespace core {

enum class Bug : uint8_t {
  // Page-cache removal frees the folio without waiting for an RCU grace
  // period, while a lookup that read the slot before the removal may still
  // be between its slot read and folio_try_get (the rule in filemap.hpp; the
  // same class as bd225530a4c7, "mm/hugetlb_vmemmap: fix race with
  // speculative PFN walkers", which added synchronize_rcu() so that walkers'
  // add-unless-zero never touches freed/remapped struct pages).
  TruncateSkipsGracePeriod,
};
inline constexpr unsigned kNrBugs = 1;

struct BugInfo {
  Bug bug;
  const char* name;         // the switch: --bug NAME
  const char* kind;         // race, leak, underflow, overflow, use-after-free, lost data, security
  const char* cite;         // commit / CVE / thread it re-creates
  const char* description;  // one paragraph
};

const BugInfo& bug_info(Bug b) noexcept;
// The bug named `name`, or false.
bool bug_by_name(std::string_view name, Bug& out) noexcept;

inline constexpr uint64_t bug_bit(Bug b) noexcept { return uint64_t{1} << static_cast<unsigned>(b); }

}  // namespace core
