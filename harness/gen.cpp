// harness::gen — see gen.hpp. The op-mix profiles live here, as data.
#include "harness/gen.hpp"

#include <algorithm>

namespace refhammer::harness {

const std::vector<Profile>& profiles() {
  // Weights are relative within a profile. Each subsystem profile keeps the
  // holders (alloc/put) and the speculative getters (pfn_walk, try_get) that
  // race its protocol, so the races the seeds argue about are reachable.
  //
  // After the weights (and wants_device), the probes the profile must reach
  // (Profile::reaches): chosen by measurement with
  // tests/stress/profile_probes_test.cpp (fixed seeds, 100 programs of 3 x 100
  // ops on the stress model), each hit by at least ~5% of the runs, most by
  // far more. Relevant paths the runs do not reach robustly, so not listed:
  //  - GupFastBackedOut (gup, migrate, gmem: in 1-3% of the runs): GUP-fast
  //    loses its PTE re-check only when an unmap or migration of the same slot
  //    lands inside the short window; GupFastHeadChanged, GupRefusedOverflow:
  //    never;
  //  - CacheLookupRetry (filemap: 1-4% of the runs), CacheLookupPutLast: never;
  //  - MigrateFreedUnderUs (~1%); HugetlbDissolveRaceWindow (1-5%),
  //    HugetlbFreezeFailed (~0);
  //  - OfflineStrayPutKept: never (offline); OfflineGoingOfflineReferenced
  //    is a legacy-design path;
  //  - in "all": LongtermMigrated (4-9%), TruncateRetry and the page cache
  //    races (~1%).
  using enum core::Probe;
  static const std::vector<Profile> table = {
      {"refcount", "the refcount primitives: alloc, get/put, speculative gets, freeze, split, isolation",
       {{"alloc", 16}, {"alloc_frozen", 3}, {"get", 10}, {"put", 22}, {"try_get", 8}, {"pfn_walk", 10},
        {"freeze", 5}, {"unfreeze", 3}, {"free_frozen", 2}, {"split", 2}, {"isolate", 1}, {"unisolate", 1}},
       false, {TryGetSawZero, PutWasLast, FreezeFailed, FreezeSucceeded, BuddyMerged, BuddySplit, FreeToIsolated,
        IsolateBusy}},
      {"gup", "mappings and GUP: FOLL_GET, FOLL_PIN, GUP-fast, FOLL_LONGTERM, user accesses",
       {{"alloc", 12}, {"get", 3}, {"put", 14}, {"map", 12}, {"unmap", 6}, {"write", 3}, {"read", 3},
        {"get_user", 6}, {"gup_fast", 8}, {"pin", 6}, {"pin_longterm", 4}, {"pin_fast_longterm", 4}, {"unpin", 12},
        {"pfn_walk", 3}, {"migrate", 2}, {"split", 2}},
       false, {PutWasLast, GupFastNotPresent, LongtermMigrated, MigrateSucceeded, MigrateExtraRefs, SplitRefused,
        TryGetSawZero}},
      {"filemap", "the page cache: insert, RCU lookup with re-check, truncate",
       {{"alloc", 12}, {"get", 3}, {"put", 14}, {"cache_insert", 10}, {"cache_lookup", 12},
        {"cache_truncate", 6}, {"map", 4}, {"unmap", 3}, {"pfn_walk", 3}, {"try_get", 2}},
       false, {PutWasLast, TryGetSawZero, RcuWaitedForReader, TruncateRetry, MapRaceTruncate}},
      {"migrate", "migration against mappings, pins and the page cache",
       {{"alloc", 12}, {"get", 3}, {"put", 14}, {"map", 8}, {"unmap", 4}, {"migrate", 10}, {"pin", 4},
        {"pin_longterm", 3}, {"pin_fast_longterm", 2}, {"gup_fast", 4}, {"unpin", 6}, {"pfn_walk", 4},
        {"try_get", 2}, {"cache_insert", 3}, {"cache_lookup", 3}, {"cache_truncate", 2}, {"isolate", 1},
        {"unisolate", 1}, {"write", 3}, {"read", 3}},
       false, {MigrateSucceeded, MigrateExtraRefs, MigrateLocked, LongtermMigrated, GupFastNotPresent, TryGetSawZero,
        FreeToIsolated}},
      {"gmem", "guest_memfd: populate, host faults, shared<->private conversion, punch, pins",
       {{"gmem_populate", 8}, {"gmem_map", 10}, {"gmem_convert", 12}, {"gmem_punch", 4}, {"pin", 4},
        {"pin_longterm", 4}, {"gup_fast", 4}, {"get_user", 3}, {"unpin", 10}, {"put", 6}, {"unmap", 5},
        {"write", 2}, {"pfn_walk", 3}, {"migrate", 2}},
       false, {GmemConvertWaited, GmemConvertBusy, GmemLongtermRefused, PutLastByOwnerHook, GupFastNotPresent,
        TryGetSawZero}},
      {"hugetlb", "the hugetlb pool: alloc through the owner hook, dissolve, demote, against pfn walkers",
       {{"huge_alloc", 10}, {"huge_dissolve", 6}, {"huge_demote", 4}, {"alloc", 6}, {"get", 3}, {"put", 12},
        {"map", 4}, {"unmap", 3}, {"pfn_walk", 8}, {"try_get", 3}, {"migrate", 3}},
       false, {HugetlbDissolved, HugetlbDemoted, PutLastByOwnerHook, FreezeSucceeded, AllocFailed, MigrateExtraRefs,
        TryGetSawZero}},
      {"device", "ZONE_DEVICE: pgmap populate and teardown, device folios, GUP and pfn walkers",
       {{"pgmap_map", 2}, {"pgmap_teardown", 2}, {"dev_alloc", 12}, {"alloc", 4}, {"get", 4}, {"put", 14},
        {"map", 4}, {"unmap", 3}, {"gup_fast", 3}, {"pin", 2}, {"unpin", 5}, {"pfn_walk", 8}, {"try_get", 3},
        {"migrate", 2}},
       true, {DevicePageFree, PgmapTeardownWaited, PgmapTeardownBusy, PutWasLast, GupFastNotPresent, TryGetSawZero}},
      {"offline", "PageOffline and memory offlining/onlining, against pfn walkers and migration",
       {{"offline_alloc", 10}, {"offline_free", 6}, {"block_offline", 5}, {"block_online", 5}, {"pfn_walk", 12},
        {"try_get", 6}, {"put", 10}, {"alloc", 8}, {"migrate", 3}, {"isolate", 1}, {"unisolate", 1}},
       false, {OfflineSucceeded, OfflinePassRetry, OfflineBusy, FreeToIsolated, IsolateBusy, MigrateExtraRefs,
        TryGetSawZero}},
      {"reporting", "free page reporting against allocation, freeing and pfn walkers",
       {{"report_cycle", 8}, {"alloc", 14}, {"alloc_frozen", 2}, {"free_frozen", 2}, {"get", 3}, {"put", 16},
        {"split", 2}, {"pfn_walk", 6}, {"try_get", 3}, {"isolate", 1}, {"unisolate", 1}},
       false, {ReportIsolated, ReportMarked, ReportPutbackMerged, BuddyMerged, BuddySplit, FreeToIsolated,
        TryGetSawZero}},
      {"special", "the special owners together: hugetlb, ZONE_DEVICE, PageOffline and offlining, reporting",
       {{"alloc", 10}, {"get", 4}, {"put", 16}, {"pfn_walk", 10}, {"try_get", 4}, {"migrate", 4}, {"map", 3},
        {"unmap", 3}, {"huge_alloc", 5}, {"huge_dissolve", 3}, {"huge_demote", 2}, {"pgmap_map", 1},
        {"pgmap_teardown", 1}, {"dev_alloc", 5}, {"offline_alloc", 5}, {"offline_free", 3}, {"block_offline", 2},
        {"block_online", 2}, {"report_cycle", 3}, {"isolate", 1}, {"unisolate", 1}},
       true, {HugetlbDissolved, HugetlbDemoted, DevicePageFree, PgmapTeardownWaited, OfflinePassRetry,
        OfflineSucceeded, ReportIsolated, ReportMarked}},
      {"all", "every op of the table",
       {{"alloc", 14}, {"alloc_frozen", 2}, {"get", 5}, {"put", 20}, {"try_get", 4}, {"pfn_walk", 6},
        {"freeze", 2}, {"unfreeze", 2}, {"free_frozen", 1}, {"split", 1}, {"isolate", 1}, {"unisolate", 1},
        {"map", 6}, {"unmap", 5}, {"write", 2}, {"read", 2}, {"get_user", 2}, {"gup_fast", 3}, {"pin", 2},
        {"pin_longterm", 2}, {"unpin", 6}, {"migrate", 3}, {"cache_insert", 3}, {"cache_lookup", 3},
        {"cache_truncate", 2}, {"gmem_populate", 2}, {"gmem_map", 2}, {"gmem_convert", 2}, {"gmem_punch", 1},
        {"huge_alloc", 2}, {"huge_dissolve", 1}, {"huge_demote", 1}, {"dev_alloc", 2}, {"pgmap_map", 1},
        {"pgmap_teardown", 1}, {"offline_alloc", 2}, {"offline_free", 1}, {"block_offline", 1},
        {"block_online", 1}, {"report_cycle", 1}, {"huge_dissolve_pfn", 1}, {"pin_fast_longterm", 1}},
       true, {TryGetSawZero, FreezeFailed, MigrateSucceeded, GmemConvertWaited, HugetlbDissolved, DevicePageFree,
        OfflineSucceeded, ReportMarked}},
  };
  return table;
}

const Profile* find_profile(std::string_view name) {
  for (const Profile& p : profiles())
    if (name == p.name) return &p;
  return nullptr;
}

std::string profile_names() {
  std::string s;
  for (const Profile& p : profiles()) {
    if (!s.empty()) s += '|';
    s += p.name;
  }
  return s;
}

std::vector<std::string> unknown_ops(const Profile& p) {
  std::vector<std::string> out;
  for (const OpWeight& w : p.weights)
    if (op_code(w.op) < 0) out.emplace_back(w.op);
  return out;
}

Generator::Generator(const Profile& p, const core::ModelConfig& cfg) : profile_(&p), cfg_(cfg) {
  for (const OpWeight& w : p.weights) {
    const int code = op_code(w.op);
    if (code < 0) continue;
    table_.insert(table_.end(), w.weight, static_cast<uint8_t>(code));
  }
  if (table_.empty()) table_.push_back(0);
}

Op Generator::next(Rng& rng) const {
  Op op;
  op.code = table_[rng.below(static_cast<uint32_t>(table_.size()))];
  const OpSpec& s = op_spec(op.code);
  for (unsigned i = 0; i < s.nargs; ++i) {
    const ArgKind k = s.args[i].kind;
    const uint32_t range = arg_range(k, cfg_);
    uint32_t v;
    switch (k) {
      case ArgKind::Slot:
        // Holdings fill the lowest free slot first: favour low slots.
        v = std::min(rng.below(range), rng.below(range));
        break;
      case ArgKind::Order:
        // Mostly order 0, as allocations are.
        v = rng.chance(3, 5) ? 0 : rng.below(range);
        break;
      default: v = rng.below(range); break;
    }
    op.a[i] = v;
  }
  return op;
}

Program random_program(Rng& rng, const core::ModelConfig& cfg, const Profile& p, unsigned actors, size_t ops_per_actor) {
  const Generator g(p, cfg);
  Program prog;
  prog.actors.resize(actors);
  for (auto& a : prog.actors) {
    a.reserve(ops_per_actor);
    for (size_t i = 0; i < ops_per_actor; ++i) a.push_back(g.next(rng));
  }
  return prog;
}

}  // namespace refhammer::harness
