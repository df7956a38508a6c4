// core::Model — one instance of the modelled page allocator.
//
// The Model owns the frame table, the buddy allocator, the owner registry,
// its configuration (sizes, design variants) and what it has reported. No
// hidden globals: two Models can live in one process, and everything reaches
// the model through a reference.
//
// What the model does not capture (stated loudly, as Shuttle does):
//  - It follows the C++ memory model, not the LKMM: kernel barriers appear as
//    acquire/release/acq_rel orders on the atomic they guard, and a weak-memory
//    reordering the C++ model allows but x86 does not will not show up on the
//    test machine. The deterministic scheduler runs every access as SeqCst.
//  - RCU is simplified; there are no interrupts, no per-CPU state, no
//    preemption-disabled regions: a "CPU" is an actor.
//  - Page tables, the LRU, memcg, reclaim and the page cache's xarray are
//    reduced to what the refcount protocols need.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/atomic.hpp"
#include "core/buddy.hpp"
#include "core/bugs.hpp"
#include "core/config.hpp"
#include "core/filemap.hpp"
#include "core/frame_table.hpp"
#include "core/mm.hpp"
#include "core/owner.hpp"
#include "core/probe.hpp"
#include "core/rcu.hpp"
#include "core/violation.hpp"

namespace core {

class GuestMemfd;
class Hugetlb;
class DevicePgmap;
class OfflineDriver;
class MemoryHotplug;
class PageReporting;
class FrameClaimant;

// Page-cache ids (folio->mapping values); 0 means "not in a page cache".
inline constexpr uint16_t kFileMapping = 1;
inline constexpr uint16_t kGmemMapping = 2;

class Model {
 public:
  // Throws std::invalid_argument when cfg.validate() is not empty.
  explicit Model(const ModelConfig& cfg);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  const ModelConfig& config() const noexcept { return cfg_; }
  FrameTable& frames() noexcept { return table_; }
  const FrameTable& frames() const noexcept { return table_; }
  Frame& frame(Pfn p) noexcept { return table_.frame(p); }
  Buddy& buddy() noexcept { return buddy_; }
  const Buddy& buddy() const noexcept { return buddy_; }
  int32_t refcount_limit() const noexcept { return cfg_.refcount_limit; }
  // True when catalog bug `b` is switched on (bugs.hpp).
#ifdef REFHAMMER_REINTRODUCE_BUG
  // Test builds only (preset `reintroduce`, CMake REFHAMMER_REINTRODUCE_BUG):
  // the code of one catalog bug is compiled in as if a developer had written
  // it — on with every switch off, in every design. The campaign must call
  // what it finds a REGRESSION (tests/campaign/reintroduced_bug.sh).
  bool bug_on(Bug b) const noexcept {
    return b == Bug::REFHAMMER_REINTRODUCE_BUG || (cfg_.bugs & bug_bit(b)) != 0;
  }
#else
  bool bug_on(Bug b) const noexcept { return (cfg_.bugs & bug_bit(b)) != 0; }
#endif

  // Process address spaces, the regular file's page cache, guest_memfd, RCU.
  uint32_t nr_mms() const noexcept { return static_cast<uint32_t>(mms_.size()); }
  Mm& mm(uint32_t i) noexcept { return *mms_[i]; }
  const Mm& mm(uint32_t i) const noexcept { return *mms_[i]; }
  PageCache& file() noexcept { return *file_; }
  const PageCache& file() const noexcept { return *file_; }
  GuestMemfd& gmem() noexcept { return *gmem_; }
  const GuestMemfd& gmem() const noexcept { return *gmem_; }
  // The page cache a folio->mapping value names.
  PageCache& page_cache(uint16_t mapping_id) noexcept;
  Rcu& rcu() noexcept { return rcu_; }
  // The special owners (issue 4): hugetlb pool, ZONE_DEVICE pgmap, the
  // PageOffline driver, memory hotplug, free page reporting.
  Hugetlb& hugetlb() noexcept { return *hugetlb_; }
  DevicePgmap& pgmap() noexcept { return *pgmap_; }
  OfflineDriver& offline_driver() noexcept { return *offline_driver_; }
  MemoryHotplug& hotplug() noexcept { return *hotplug_; }
  PageReporting& reporting() noexcept { return *reporting_; }
  // Structures that hold frames without owning folios (audit).
  const std::vector<FrameClaimant*>& claimants() const noexcept { return claimants_; }

  // Owner registry (seed 000). The buddy is registered at construction.
  void register_owner(OwnerId id, FolioOwnerOps* ops);
  FolioOwnerOps* owner_ops(OwnerId id) const noexcept { return owners_[static_cast<unsigned>(id)]; }

  // Violations. report() snapshots the frame and records a Violation event
  // in its history, then hands it to the sink (or keeps it).
  void report(ViolationKind kind, Pfn pfn, const char* site, std::string detail);
  void report(Violation v);
  void set_violation_sink(ViolationSink* sink) noexcept;
  uint64_t violation_count() const noexcept;
  // Kept violations (the first kMaxKept), when no sink is installed.
  std::vector<Violation> violations() const;
  void clear_violations();
  static constexpr size_t kMaxKept = 64;

  FaultInjector& faults() noexcept { return faults_; }
  bool fault(FaultSite s) noexcept { return faults_.fire(s); }

  ProbeCounters& probes() noexcept { return probes_; }
  void probe(Probe p) noexcept { probes_.hit(p); }

 private:
  ModelConfig cfg_;
  FrameTable table_;
  Buddy buddy_;
  std::unique_ptr<FolioOwnerOps> buddy_owner_;
  std::array<FolioOwnerOps*, kNrOwners> owners_{};
  Rcu rcu_;
  std::vector<std::unique_ptr<Mm>> mms_;
  std::unique_ptr<PageCache> file_;
  std::unique_ptr<GuestMemfd> gmem_;
  std::unique_ptr<Hugetlb> hugetlb_;
  std::unique_ptr<DevicePgmap> pgmap_;
  std::unique_ptr<OfflineDriver> offline_driver_;
  std::unique_ptr<MemoryHotplug> hotplug_;
  std::unique_ptr<PageReporting> reporting_;
  std::vector<FrameClaimant*> claimants_;

  ProbeCounters probes_;
  FaultInjector faults_;
  // Violation bookkeeping is diagnostics, not model state: the count is a
  // plain std::atomic; the kept list is under a SpinLock (reports are rare).
  std::atomic<uint64_t> nr_violations_{0};
  std::atomic<ViolationSink*> sink_{nullptr};
  mutable SpinLock violations_lock_;
  std::vector<Violation> kept_;  // protected by violations_lock_
};

}  // namespace core
