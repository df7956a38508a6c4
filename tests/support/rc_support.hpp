// tests/support, the rapidcheck part (header-only, for the properties): a
// handle for a command, commands that run one refcount op on a handle's
// folio, the checks every stateful property runs after each command, and
// the end of a property: its probes classified, the SUT drained and checked.
#pragma once

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/probe.hpp"
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

// --- commands on one handle's folio -------------------------------------------------

// A stateful property's command that runs one refcount op on the folio of
// handle `h` (the SUT's `pfn.at(h)`, on its model `m`) and then checks the
// SUT against the next state (`sut.check`). show() prints `name(#h)`, with
// `space` before the '#' when the handle is not a plain folio's ("offline ").
// The derived command picks `h` and has its own checkPreconditions and apply.
template <class State, class Sut>
struct FolioOpCmd : rc::state::Command<State, Sut> {
  using Op = void (*)(core::Model&, Pfn);
  FolioOpCmd(const char* name, Op op, uint32_t handle, const char* space = "")
      : h(handle), name_(name), op_(op), space_(space) {}
  void run(const State& s, Sut& sut) const override {
    op_(sut.m, sut.pfn.at(h));
    sut.check(this->nextState(s));
  }
  void show(std::ostream& os) const override { os << name_ << "(" << space_ << "#" << h << ")"; }

  uint32_t h;

 private:
  const char* name_;
  Op op_;
  const char* space_;
};

// The same for an op that takes a count `k` (folio_ref_add, folio_ref_unfreeze),
// which the derived command draws: show() prints `name(#h, k)`.
template <class State, class Sut>
struct FolioCountCmd : rc::state::Command<State, Sut> {
  using Op = void (*)(core::Model&, Pfn, int32_t);
  FolioCountCmd(const char* name, Op op, uint32_t handle) : h(handle), name_(name), op_(op) {}
  void run(const State& s, Sut& sut) const override {
    op_(sut.m, sut.pfn.at(h), k);
    sut.check(this->nextState(s));
  }
  void show(std::ostream& os) const override { os << name_ << "(#" << h << ", " << k << ")"; }

  uint32_t h;
  int32_t k = 0;

 private:
  const char* name_;
  Op op_;
};

// --- the end of a property -------------------------------------------------------------

// A probe, and the label under which a property's distribution counts the
// runs that hit it.
struct ProbeLabel {
  core::Probe probe;
  const char* label;
};

// Classifies the run (RC_CLASSIFY) under the label of each probe it hit.
inline void rc_classify_probes(const core::ProbeCounters& p, std::initializer_list<ProbeLabel> labels) {
  for (const ProbeLabel& l : labels) RC_CLASSIFY(p.count(l.probe) > 0, l.label);
}

// Drains the SUT (`sut.drain()` gives back whatever is still held): everything
// merged back into the buddy and the model reported no violation.
template <class Sut>
void rc_drain_fully_merged(Sut& sut) {
  sut.drain();
  rc_assert_fully_merged(sut.m);
  RC_ASSERT(sut.m.violation_count() == 0u);
}

// Drains the SUT: its violation sink (`sut.sink`) got nothing, and the audit
// with nothing held is clean. The audit's report, for its frame counts.
template <class Sut>
core::AuditReport rc_drain_audit_clean(Sut& sut) {
  sut.drain();
  if (!sut.sink.got.empty()) RC_FAIL("violations at drain:" + describe(sut.sink.got));
  return rc_audit_clean(sut.m, core::HolderLedger(sut.m.frames().size()));
}

}  // namespace refhammer_test
