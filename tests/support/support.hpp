// tests/support — what the tests share: the small model of the core unit
// tests, frame accessors, allocation and ledger helpers, violation and audit
// matchers, a collecting ViolationSink, a SyncHook that acts at chosen sync
// points, and scratch directories. Core-level only (refhammer_test_support
// links refhammer_core and gtest); harness_support.hpp adds what needs the
// harness (models in the trace's model-line syntax, programs, the racy
// trace), rc_support.hpp what needs rapidcheck.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/audit.hpp"
#include "core/config.hpp"
#include "core/model.hpp"
#include "core/sync.hpp"
#include "core/violation.hpp"

namespace refhammer_test {

// The names most tests use: `using namespace refhammer_test;` brings them.
using core::HolderLedger;
using core::kNoPfn;
using core::Model;
using core::Pfn;
using core::Probe;
using core::SyncOp;
using core::ViolationKind;
using core::ZoneType;

// --- the core unit tests' model ------------------------------------------------

// A model small enough that tests exhaust memory and make blocks collide:
//
//   pfn  0 .. 63   NORMAL   8 pageblocks of 8 frames (max_page_order 3)
//   pfn 64 .. 127  MOVABLE  8 pageblocks
//   pfn 128 .. 191 DEVICE   never in the buddy
//
// refcount_limit 4096 makes overflow reachable with one folio_ref_add.
inline constexpr uint32_t kZoneFrames = 64;
inline constexpr unsigned kMaxOrder = 3;
inline constexpr uint32_t kPageblock = 1u << kMaxOrder;
inline constexpr int32_t kLimit = 4096;
inline constexpr Pfn kNormalStart = 0;
inline constexpr Pfn kMovableStart = 64;
inline constexpr Pfn kDeviceStart = 128;

core::ModelConfig small_config();

// `c` with the PageOffline design `o` and the free dispatch `d`.
core::ModelConfig with(core::ModelConfig c, core::OfflineRefcount o,
                       core::FreeDispatch d = core::FreeDispatch::OwnerHook);

// --- frames, read without sync points (the tests are quiescent) ------------------

inline int32_t refcount(Model& m, Pfn p) { return m.frame(p).refcount.peek(); }
inline uint32_t flags(Model& m, Pfn p) { return m.frame(p).flags.peek(); }
inline core::PageType page_type(Model& m, Pfn p) { return static_cast<core::PageType>(m.frame(p).page_type.peek()); }
inline int32_t mapcount(Model& m, Pfn p) { return m.frame(p).mapcount.peek(); }
inline int32_t pincount(Model& m, Pfn p) { return m.frame(p).pincount.peek(); }
// The PTE of mm `mm`'s slot `slot`.
inline uint64_t pte(Model& m, uint32_t mm, uint32_t slot) { return m.mm(mm).pte(slot).peek(); }

// Blocks on one free list.
inline uint32_t nr_free_blocks(Model& m, ZoneType z, unsigned order, core::MigrateType mt) {
  return m.buddy().zone(z).free_area[order][static_cast<unsigned>(mt)].nr_free;
}
// Free frames of one buddy zone, and of both (NORMAL + MOVABLE).
uint32_t nr_free(Model& m, ZoneType z);
uint32_t nr_free(Model& m);

// --- allocation ------------------------------------------------------------------

// `p`, or an exception (the test fails) when an allocation in its setup failed.
Pfn must(Pfn p);
Pfn alloc(Model& m, unsigned order = 0, ZoneType z = ZoneType::Normal);
Pfn alloc_frozen(Model& m, unsigned order = 0, ZoneType z = ZoneType::Normal);

// The page offline_alloc() will take on a fresh model of `cfg`: the same
// allocation on a scratch model.
Pfn offline_alloc_pfn(const core::ModelConfig& cfg);

// --- ledgers ---------------------------------------------------------------------

// `refs` references and `pins` pins per head, nothing else.
HolderLedger ledger_of(Model& m, std::initializer_list<std::pair<Pfn, int64_t>> refs,
                       std::initializer_list<std::pair<Pfn, int64_t>> pins = {});
// `refs` references and `pins` pins on `head` (kNoPfn: an empty ledger).
HolderLedger ledger_of(Model& m, Pfn head, int64_t refs, int64_t pins = 0);

// --- violations and audits -------------------------------------------------------

// The violations, one per line, for a failure message.
std::string describe(const std::vector<core::Violation>& vs);

// Exactly one violation in `vs`, of `kind` on `pfn` at `site`, whose detail
// contains `detail` (when not empty).
::testing::AssertionResult only_violation(const std::vector<core::Violation>& vs, ViolationKind kind, Pfn pfn,
                                          std::string_view site, std::string_view detail = {});
::testing::AssertionResult only_violation(const Model& m, ViolationKind kind, Pfn pfn, std::string_view site,
                                          std::string_view detail = {});
::testing::AssertionResult no_violations(const Model& m);

// core::audit against `ledger` is clean.
::testing::AssertionResult audit_clean(Model& m, const HolderLedger& ledger);
// Both of the above: the audit against `ledger` (without one: nothing held)
// is clean, and the model reported no violation.
::testing::AssertionResult all_clean(Model& m, const HolderLedger& ledger);
::testing::AssertionResult all_clean(Model& m);
// The audit's verdict, as text: "" when clean (without a ledger: nothing held).
std::string audit_text(Model& m, const HolderLedger& l);
std::string audit_text(Model& m);
// The audit against `l` reports a violation of kind `k`.
bool has_kind(Model& m, const HolderLedger& l, ViolationKind k);

// Every free frame of both buddy zones sits in a max-order block, and the
// zones are entirely free: what a model looks like after everything it
// handed out came back and merged.
::testing::AssertionResult fully_merged(Model& m);

// Each of `kinds` is the `kind` of some row of `rows`: a table-driven test
// covers them all.
template <class Kinds, class Rows>
void expect_each_kind_has_a_row(const Kinds& kinds, const Rows& rows) {
  for (ViolationKind k : kinds) {
    bool found = false;
    for (const auto& row : rows) found |= row.kind == k;
    EXPECT_TRUE(found) << core::violation_kind_name(k);
  }
}

// A sink that keeps every violation it is given, for a test to check and print.
class CollectingSink final : public core::ViolationSink {
 public:
  void report(const core::Violation& v) override { got.push_back(v); }
  std::vector<core::Violation> got;
};

// --- acting at a sync point ---------------------------------------------------------

// Any kind of access, for SyncScript::Step::op.
inline constexpr std::optional<SyncOp> kAnyOp = std::nullopt;

// A SyncHook that runs actions at chosen sync points, on the thread that
// reaches them and before that access: each step once, at the nth sync point
// matching its op (kAnyOp: any) and address (nullptr: any) after the previous
// step ran. The actions' own sync points are not seen (they run with the
// countdown parked). Counts every sync point it sees, and the Spin ones;
// without steps it only counts.
class SyncScript final : public core::SyncHook {
 public:
  struct Step {
    std::optional<SyncOp> op;
    const void* addr;
    uint64_t nth;
    std::function<void()> action;
  };
  SyncScript() = default;
  explicit SyncScript(std::vector<Step> steps) : steps_(std::move(steps)) {}
  // One step.
  SyncScript(std::optional<SyncOp> op, const void* addr, uint64_t nth, std::function<void()> action)
      : steps_{Step{op, addr, nth, std::move(action)}} {}

  void on_sync(SyncOp op, const void* addr) override;
  // Steps that ran; fired(): all of them (at least one).
  size_t done() const { return next_; }
  bool fired() const { return !steps_.empty() && next_ == steps_.size(); }

  uint64_t seen = 0;   // sync points, outside the actions
  uint64_t spins = 0;  // the Spin ones among them

 private:
  std::vector<Step> steps_;
  size_t next_ = 0;
  uint64_t matched_ = 0;  // points matching the next step so far
  bool busy_ = false;
};

// --- files -------------------------------------------------------------------------

// A fresh (removed, not created) per-process directory under the system's
// temporary directory: TMP/refhammer-NAME-PID.
std::filesystem::path scratch_dir(const std::string& name);

}  // namespace refhammer_test
