// tests/support, the rapidcheck part (header-only, for the properties): a
// handle for a command, and the checks every stateful property runs after
// each command.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <type_traits>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/types.hpp"
#include "tests/support/support.hpp"

namespace refhammer_test {

// A key of `m` whose value satisfies `ok(value)` (or `ok(key, value)`);
// discards the command (RC_PRE) when there is none.
template <class Map, class Pred>
typename Map::key_type pick(const Map& m, Pred ok) {
  std::vector<typename Map::key_type> keys;
  for (const auto& [k, v] : m) {
    if constexpr (std::is_invocable_v<Pred, const typename Map::key_type&, const typename Map::mapped_type&>) {
      if (ok(k, v)) keys.push_back(k);
    } else {
      if (ok(v)) keys.push_back(k);
    }
  }
  RC_PRE(!keys.empty());
  return *rc::gen::elementOf(keys);
}

// core::audit against `ledger` is clean, or the property fails with the
// audit's summary and violations. The report, for its frame counts.
inline core::AuditReport rc_audit_clean(core::Model& m, const core::HolderLedger& ledger) {
  const core::AuditReport r = core::audit(m, ledger, /*report=*/false);
  if (!r.clean()) RC_FAIL(r.summary() + describe(r.violations));
  return r;
}

// Everything came back to the buddy and merged (fully_merged), or the
// property fails saying what did not.
inline void rc_assert_fully_merged(core::Model& m) {
  const auto merged = fully_merged(m);
  if (!merged) RC_FAIL(std::string("not merged back: ") + merged.message());
}

// Every tail of the folio of `nr` frames at `head`: refcount 0, PG_tail and
// no other flag, its head link, owned by `owner`.
inline void rc_assert_tails(core::Model& m, Pfn head, uint32_t nr, core::OwnerId owner) {
  for (Pfn q = head + 1; q < head + nr; ++q) {
    const core::Frame& t = m.frame(q);
    RC_ASSERT(t.refcount.peek() == 0);
    RC_ASSERT(t.flags.peek() == core::pg::tail);
    RC_ASSERT(t.head.peek() == head);
    RC_ASSERT(static_cast<core::OwnerId>(t.owner.peek()) == owner);
  }
}

}  // namespace refhammer_test
