// Helpers shared by the special-owner tests (hugetlb, ZONE_DEVICE,
// PageOffline and hotplug, free page reporting).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/config.hpp"
#include "core/model.hpp"
#include "core/offline.hpp"
#include "core/violation.hpp"
#include "harness/trace.hpp"

namespace special_test {

// Small enough that bound-2 exploration of a 2-4 op race is exhaustive in
// seconds: 16 NORMAL + 16 MOVABLE frames, one block each, order-2 pageblocks.
inline core::ModelConfig race_config(core::OfflineRefcount o, core::FreeDispatch d) {
  core::ModelConfig c;
  c.normal_frames = 16;
  c.movable_frames = 16;
  c.device_frames = 0;
  c.max_page_order = 2;
  c.block_frames = 16;
  c.nr_mms = 1;
  c.mm_slots = 2;
  c.file_pages = 4;
  c.gmem_pages = 4;
  c.gmem_huge_order = 2;
  c.rcu_readers = 2;
  c.offline_passes = 2;
  c.design.offline = o;
  c.design.free_dispatch = d;
  return c;
}

// The page offline_alloc() will take on a fresh model of `cfg`: the same
// allocation on a scratch model.
inline core::Pfn offline_alloc_pfn(const core::ModelConfig& cfg) {
  core::Model scratch(cfg);
  return scratch.offline_driver().offline_alloc(core::ZoneType::Movable);
}

// Every violation a model reported, for a test to check and print.
struct CollectSink final : core::ViolationSink {
  std::vector<core::Violation> got;
  void report(const core::Violation& v) override { got.push_back(v); }
};

// The violations, one per line, for a failure message.
inline std::string describe(const std::vector<core::Violation>& vs) {
  std::string s;
  for (const auto& v : vs) s += "\n  " + core::format_violation(v);
  return s;
}

// 128 NORMAL + 128 MOVABLE + 64 DEVICE frames, order-4 pageblocks, 64-frame
// memory blocks, order-3 hugetlb folios, order-1 device folios.
inline core::ModelConfig small_config() {
  core::ModelConfig c;
  c.normal_frames = 128;
  c.movable_frames = 128;
  c.device_frames = 64;
  c.max_page_order = 4;
  c.block_frames = 64;
  c.hugetlb_order = 3;
  c.device_folio_order = 1;
  c.pgmap_teardown_spins = 16;
  c.hugetlb_dissolve_retries = 8;
  c.offline_passes = 3;
  return c;
}

inline core::ModelConfig with(core::ModelConfig c, core::OfflineRefcount o,
                              core::FreeDispatch d = core::FreeDispatch::OwnerHook) {
  c.design.offline = o;
  c.design.free_dispatch = d;
  return c;
}

// Catalog bugs named in REFHAMMER_BUGS ("name,name"; unset or empty: none),
// for the stateful tests' models: bench/bugbench runs them against each
// mutant. A bad name aborts the test binary rather than test the clean core.
inline uint64_t bugs_from_env() {
  const char* b = std::getenv("REFHAMMER_BUGS");
  if (b == nullptr || *b == '\0') return 0;
  uint64_t bits = 0;
  const std::string e = refhammer::harness::parse_bugs(b, bits);
  if (!e.empty()) {
    std::fprintf(stderr, "REFHAMMER_BUGS: %s\n", e.c_str());
    std::abort();
  }
  return bits;
}

// The audit's verdict, as text: "" when clean.
inline std::string audit_text(core::Model& m, const core::HolderLedger& l) {
  const core::AuditReport r = core::audit(m, l, false);
  std::string s;
  for (const core::Violation& v : r.violations) s += core::format_violation(v) + "\n";
  return s;
}
inline std::string audit_text(core::Model& m) { return audit_text(m, core::HolderLedger(m.frames().size())); }

inline bool has_kind(core::Model& m, const core::HolderLedger& l, core::ViolationKind k) {
  for (const core::Violation& v : core::audit(m, l, false).violations)
    if (v.kind == k) return true;
  return false;
}

inline uint32_t buddy_free(core::Model& m) {
  return m.buddy().nr_free_pages(core::ZoneType::Normal) + m.buddy().nr_free_pages(core::ZoneType::Movable);
}

}  // namespace special_test
