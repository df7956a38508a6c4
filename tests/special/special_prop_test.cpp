// Properties of the special owners: random op sequences per subsystem (and
// mixed), run one op at a time on a World with one actor, audited against
// the actor's ledger after every op, then torn down to an all-free buddy;
// plus reference counts each subsystem must agree with.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "core/hugetlb.hpp"
#include "core/offline.hpp"
#include "core/zone_device.hpp"
#include "harness/world.hpp"
#include "tests/support/harness_support.hpp"

namespace {

using namespace refhammer::harness;

core::ModelConfig prop_config(bool legacy_offline_hook) {
  core::ModelConfig c = refhammer_test::special_config();
  if (legacy_offline_hook) c.design.offline = core::OfflineRefcount::Legacy;  // safe with the owner hook
  return c;
}

// Generates one op among `names`, arguments in range.
rc::Gen<Op> gen_op(const core::ModelConfig& cfg, std::vector<std::string> names) {
  return rc::gen::exec([cfg, names] {
    const std::string& n = *rc::gen::elementOf(names);
    Op op;
    op.code = static_cast<uint8_t>(op_code(n));
    const OpSpec& s = op_spec(op.code);
    for (unsigned i = 0; i < s.nargs; ++i)
      op.a[i] = *rc::gen::inRange<uint32_t>(0, arg_range(s.args[i].kind, cfg));
    return op;
  });
}

void run_sequence(const core::ModelConfig& cfg, const std::vector<Op>& ops) {
  Program p;
  p.actors.push_back(ops);
  World w(cfg, p);
  Actor& a = w.actors()[0];
  core::ScopedSyncHook none(nullptr);
  while (!a.done()) {
    const std::string text = format_op(a.program[a.pc]);
    w.step(a);
    RC_ASSERT(w.model().violation_count() == 0u);
    const core::AuditReport r = core::audit(w.model(), w.ledger(), false);
    if (!r.clean()) RC_FAIL("after '" + text + "': " + core::format_violation(r.violations.front()));
  }
  w.release_all(a);
  w.teardown_structures();
  const core::AuditReport r = core::audit(w.model(), core::HolderLedger(w.model().frames().size()), false);
  RC_ASSERT(r.clean());
  RC_ASSERT(r.free_frames == cfg.normal_frames + cfg.movable_frames);
  RC_ASSERT(w.model().violation_count() == 0u);
}

const std::vector<std::string> kHuge = {"huge_alloc", "put", "huge_dissolve", "huge_demote", "try_get", "pfn_walk", "map", "unmap"};
const std::vector<std::string> kDevice = {"pgmap_map", "dev_alloc", "put", "pgmap_teardown", "try_get", "pfn_walk", "get"};
const std::vector<std::string> kOffline = {"offline_alloc", "offline_free", "block_offline", "block_online", "alloc",
                                           "put", "map", "unmap", "try_get", "pfn_walk", "huge_alloc", "huge_dissolve"};
const std::vector<std::string> kReport = {"report_cycle", "alloc", "put", "isolate", "unisolate", "block_offline",
                                          "block_online", "pfn_walk"};

RC_GTEST_PROP(SpecialProps, HugetlbPoolSequencesStayAudited, ()) {
  const auto cfg = prop_config(false);
  run_sequence(cfg, *rc::gen::container<std::vector<Op>>(gen_op(cfg, kHuge)));
}

RC_GTEST_PROP(SpecialProps, PgmapSequencesStayAuditedInBothDesigns, (bool legacy)) {
  auto cfg = prop_config(false);
  // Legacy only through put_page (the op's put): generic paths stay out.
  if (legacy) cfg.design.zone_device = core::ZoneDeviceRefcount::LegacyOneBased;
  std::vector<std::string> names = kDevice;
  if (legacy) names = {"pgmap_map", "dev_alloc", "put", "pgmap_teardown", "get"};
  run_sequence(cfg, *rc::gen::container<std::vector<Op>>(gen_op(cfg, names)));
}

RC_GTEST_PROP(SpecialProps, OfflineSequencesStayAuditedInBothDesigns, (bool legacy)) {
  const auto cfg = prop_config(legacy);
  run_sequence(cfg, *rc::gen::container<std::vector<Op>>(gen_op(cfg, kOffline)));
}

RC_GTEST_PROP(SpecialProps, ReportingSequencesStayAudited, ()) {
  const auto cfg = prop_config(false);
  run_sequence(cfg, *rc::gen::container<std::vector<Op>>(gen_op(cfg, kReport)));
}

RC_GTEST_PROP(SpecialProps, MixedSequencesStayAudited, ()) {
  const auto cfg = prop_config(false);
  std::vector<std::string> all;
  for (const auto* v : {&kHuge, &kDevice, &kOffline, &kReport}) all.insert(all.end(), v->begin(), v->end());
  run_sequence(cfg, *rc::gen::container<std::vector<Op>>(gen_op(cfg, all)));
}

// Reference model of the pool: every frame is in the buddy, the pool (free
// or in use) or nowhere else; page_free runs once per final put.
RC_GTEST_PROP(SpecialProps, PageFreeRunsOncePerFinalPut, ()) {
  core::Model m(prop_config(false));
  RC_ASSERT(m.pgmap().memremap_pages() == 0);
  std::vector<core::Pfn> held;
  uint64_t puts = 0;
  const int n = *rc::gen::inRange(1, 60);
  for (int i = 0; i < n; ++i) {
    if (*rc::gen::arbitrary<bool>() || held.empty()) {
      const core::Pfn h = m.pgmap().dev_alloc();
      if (h != core::kNoPfn) held.push_back(h);
    } else {
      const size_t k = *rc::gen::inRange<size_t>(0, held.size());
      core::put_page(m, held[k]);
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
      ++puts;
    }
  }
  uint64_t calls = 0;
  const core::Pfn start = m.frames().zone(core::ZoneType::Device).start;
  for (core::Pfn h = start; h < m.frames().size(); h += 2) calls += m.pgmap().page_free_calls(h);
  RC_ASSERT(calls == puts);
  RC_ASSERT(m.violation_count() == 0u);
}

}  // namespace
