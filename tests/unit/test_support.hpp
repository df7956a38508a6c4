// tests support — small models, violation matchers and buddy-state queries
// shared by the unit tests (tests/unit) and the properties (tests/prop).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/violation.hpp"

namespace refhammer_test {

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
inline constexpr core::Pfn kNormalStart = 0;
inline constexpr core::Pfn kMovableStart = 64;
inline constexpr core::Pfn kDeviceStart = 128;

inline core::ModelConfig small_config() {
  core::ModelConfig c;
  c.normal_frames = kZoneFrames;
  c.movable_frames = kZoneFrames;
  c.device_frames = kZoneFrames;
  c.block_frames = 32;
  c.max_page_order = kMaxOrder;
  c.refcount_limit = kLimit;
  return c;
}

// Frame fields, read without sync points (the tests are quiescent).
inline int32_t refcount(core::Model& m, core::Pfn p) { return m.frame(p).refcount.peek(); }
inline uint32_t flags(core::Model& m, core::Pfn p) { return m.frame(p).flags.peek(); }
inline core::PageType page_type(core::Model& m, core::Pfn p) {
  return static_cast<core::PageType>(m.frame(p).page_type.peek());
}

// Blocks on one free list.
inline uint32_t nr_free_blocks(core::Model& m, core::ZoneType z, unsigned order, core::MigrateType mt) {
  return m.buddy().zone(z).free_area[order][static_cast<unsigned>(mt)].nr_free;
}

// Every free frame of both buddy zones sits in a max-order block, and the
// zones are entirely free: what a model looks like after everything it
// handed out came back and merged.
inline ::testing::AssertionResult fully_merged(core::Model& m) {
  for (core::ZoneType z : {core::ZoneType::Normal, core::ZoneType::Movable}) {
    const core::Zone& zone = m.buddy().zone(z);
    if (zone.nr_free_pages != zone.span.size())
      return ::testing::AssertionFailure() << core::zone_name(z) << ": nr_free_pages " << zone.nr_free_pages
                                           << ", zone size " << zone.span.size();
    for (unsigned o = 0; o <= m.buddy().max_page_order(); ++o) {
      for (unsigned mt = 0; mt < core::kNrMigrateTypes; ++mt) {
        const uint32_t n = zone.free_area[o][mt].nr_free;
        const uint32_t want = (o == m.buddy().max_page_order() && mt == static_cast<unsigned>(zone.default_mt))
                                  ? zone.span.size() >> o
                                  : 0;
        if (n != want)
          return ::testing::AssertionFailure()
                 << core::zone_name(z) << " order " << o << " "
                 << core::migratetype_name(static_cast<core::MigrateType>(mt)) << ": " << n << " free blocks, want "
                 << want;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string describe(const std::vector<core::Violation>& vs) {
  std::string s;
  for (const auto& v : vs) s += "\n  " + core::format_violation(v);
  return s.empty() ? "\n  (none)" : s;
}

// Exactly one violation in `vs`, of `kind` on `pfn` at `site`, whose detail
// contains `detail` (when not empty).
inline ::testing::AssertionResult only_violation(const std::vector<core::Violation>& vs, core::ViolationKind kind,
                                                 core::Pfn pfn, std::string_view site,
                                                 std::string_view detail = {}) {
  if (vs.size() == 1 && vs[0].kind == kind && vs[0].pfn == pfn && std::string_view(vs[0].site) == site &&
      vs[0].detail.find(detail) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want exactly: " << core::violation_kind_name(kind) << " pfn " << pfn
                                       << " at " << site << " with detail containing '" << detail << "'"
                                       << "\ngot:" << describe(vs);
}

inline ::testing::AssertionResult only_violation(const core::Model& m, core::ViolationKind kind, core::Pfn pfn,
                                                 std::string_view site, std::string_view detail = {}) {
  return only_violation(m.violations(), kind, pfn, site, detail);
}

inline ::testing::AssertionResult no_violations(const core::Model& m) {
  if (m.violation_count() == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << m.violation_count() << " violation(s):" << describe(m.violations());
}

inline ::testing::AssertionResult audit_clean(core::Model& m, const core::HolderLedger& ledger) {
  const core::AuditReport r = core::audit(m, ledger, /*report=*/false);
  if (r.clean()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.summary() << describe(r.violations);
}

// A sink that keeps everything it is given.
class CollectingSink final : public core::ViolationSink {
 public:
  void report(const core::Violation& v) override { got.push_back(v); }
  std::vector<core::Violation> got;
};

}  // namespace refhammer_test
