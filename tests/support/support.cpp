#include "tests/support/support.hpp"

#include <unistd.h>

#include <stdexcept>

#include "core/buddy.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"

namespace refhammer_test {

core::ModelConfig small_config() {
  core::ModelConfig c;
  c.normal_frames = kZoneFrames;
  c.movable_frames = kZoneFrames;
  c.device_frames = kZoneFrames;
  c.block_frames = 32;
  c.max_page_order = kMaxOrder;
  c.refcount_limit = kLimit;
  return c;
}

core::ModelConfig with(core::ModelConfig c, core::OfflineRefcount o, core::FreeDispatch d) {
  c.design.offline = o;
  c.design.free_dispatch = d;
  return c;
}

uint32_t nr_free(Model& m, ZoneType z) { return m.buddy().nr_free_pages(z); }
uint32_t nr_free(Model& m) { return nr_free(m, ZoneType::Normal) + nr_free(m, ZoneType::Movable); }

Pfn must(Pfn p) {
  if (p == kNoPfn) throw std::runtime_error("allocation failed in test setup");
  return p;
}
Pfn alloc(Model& m, unsigned order, ZoneType z) { return must(core::alloc_pages(m, z, order)); }
Pfn alloc_frozen(Model& m, unsigned order, ZoneType z) { return must(core::alloc_frozen_pages(m, z, order)); }

Pfn offline_alloc_pfn(const core::ModelConfig& cfg) {
  Model scratch(cfg);
  return scratch.offline_driver().offline_alloc(ZoneType::Movable);
}

HolderLedger ledger_of(Model& m, std::initializer_list<std::pair<Pfn, int64_t>> refs,
                       std::initializer_list<std::pair<Pfn, int64_t>> pins) {
  HolderLedger l(m.frames().size());
  for (const auto& [p, n] : refs) l.add_ref(p, n);
  for (const auto& [p, n] : pins) l.add_pin(p, n);
  return l;
}

HolderLedger ledger_of(Model& m, Pfn head, int64_t refs, int64_t pins) {
  HolderLedger l(m.frames().size());
  if (head != kNoPfn) {
    l.add_ref(head, refs);
    l.add_pin(head, pins);
  }
  return l;
}

std::string describe(const std::vector<core::Violation>& vs) {
  std::string s;
  for (const auto& v : vs) s += "\n  " + core::format_violation(v);
  return s.empty() ? "\n  (none)" : s;
}

::testing::AssertionResult only_violation(const std::vector<core::Violation>& vs, ViolationKind kind, Pfn pfn,
                                          std::string_view site, std::string_view detail) {
  if (vs.size() == 1 && vs[0].kind == kind && vs[0].pfn == pfn && std::string_view(vs[0].site) == site &&
      vs[0].detail.find(detail) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want exactly: " << core::violation_kind_name(kind) << " pfn " << pfn
                                       << " at " << site << " with detail containing '" << detail << "'"
                                       << "\ngot:" << describe(vs);
}

::testing::AssertionResult only_violation(const Model& m, ViolationKind kind, Pfn pfn, std::string_view site,
                                          std::string_view detail) {
  return only_violation(m.violations(), kind, pfn, site, detail);
}

::testing::AssertionResult no_violations(const Model& m) {
  if (m.violation_count() == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << m.violation_count() << " violation(s):" << describe(m.violations());
}

::testing::AssertionResult audit_clean(Model& m, const HolderLedger& ledger) {
  const core::AuditReport r = core::audit(m, ledger, /*report=*/false);
  if (r.clean()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.summary() << describe(r.violations);
}

::testing::AssertionResult all_clean(Model& m, const HolderLedger& ledger) {
  const ::testing::AssertionResult audit = audit_clean(m, ledger);
  const ::testing::AssertionResult quiet = no_violations(m);
  if (audit && quiet) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  if (!audit) r << "audit: " << audit.message() << "\n";
  if (!quiet) r << quiet.message();
  return r;
}
::testing::AssertionResult all_clean(Model& m) { return all_clean(m, HolderLedger(m.frames().size())); }

std::string audit_text(Model& m, const HolderLedger& l) {
  const core::AuditReport r = core::audit(m, l, /*report=*/false);
  std::string s;
  for (const core::Violation& v : r.violations) s += core::format_violation(v) + "\n";
  return s;
}
std::string audit_text(Model& m) { return audit_text(m, HolderLedger(m.frames().size())); }

bool has_kind(Model& m, const HolderLedger& l, ViolationKind k) {
  for (const core::Violation& v : core::audit(m, l, /*report=*/false).violations)
    if (v.kind == k) return true;
  return false;
}

::testing::AssertionResult fully_merged(Model& m) {
  for (ZoneType z : {ZoneType::Normal, ZoneType::Movable}) {
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

void SyncScript::on_sync(SyncOp op, const void* addr) {
  countdown = 1;
  if (busy_) return;
  ++seen;
  if (op == SyncOp::Spin) ++spins;
  if (next_ == steps_.size()) return;
  Step& s = steps_[next_];
  if ((s.op && op != *s.op) || (s.addr != nullptr && addr != s.addr) || ++matched_ < s.nth) return;
  matched_ = 0;
  ++next_;
  busy_ = true;
  countdown = uint64_t{1} << 62;  // parked: the action's own sync points do not re-enter
  s.action();
  busy_ = false;
  countdown = 1;
}

std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("refhammer-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

}  // namespace refhammer_test
