// core::Model — construction, owner registry, violation bookkeeping.
#include "core/model.hpp"

#include <stdexcept>

#include "core/guest_memfd.hpp"
#include "core/hugetlb.hpp"
#include "core/offline.hpp"
#include "core/reporting.hpp"
#include "core/zone_device.hpp"

namespace core {
namespace {

class BuddyOwner final : public FolioOwnerOps {
 public:
  const char* name() const noexcept override { return "buddy"; }
  void free_folio(Model& m, Pfn head) override { free_folio_to_buddy(m, head); }
};

const ModelConfig& checked(const ModelConfig& cfg) {
  std::string err = cfg.validate();
  if (!err.empty()) throw std::invalid_argument("model config: " + err);
  return cfg;
}

}  // namespace

Model::Model(const ModelConfig& cfg)
    : cfg_(checked(cfg)), table_(cfg_), buddy_(*this, table_, cfg_.max_page_order),
      buddy_owner_(std::make_unique<BuddyOwner>()), rcu_(cfg_.rcu_readers, &probes_),
      file_(std::make_unique<PageCache>(kFileMapping, cfg_.file_pages)),
      gmem_(std::make_unique<GuestMemfd>(*this, kGmemMapping, cfg_.gmem_pages, cfg_.gmem_huge_order)),
      faults_(cfg_.faults) {
  rcu_.set_fault_injector(&faults_, 64);
  owners_[static_cast<unsigned>(OwnerId::Buddy)] = buddy_owner_.get();
  owners_[static_cast<unsigned>(OwnerId::Guestmem)] = gmem_.get();
  for (uint32_t i = 0; i < cfg_.nr_mms; ++i) mms_.push_back(std::make_unique<Mm>(i, cfg_.mm_slots));
  buddy_.init_free_all();
  // The special owners register their free paths with the owner hook.
  hugetlb_ = std::make_unique<Hugetlb>(*this);
  pgmap_ = std::make_unique<DevicePgmap>(*this);
  offline_driver_ = std::make_unique<OfflineDriver>(*this);
  hotplug_ = std::make_unique<MemoryHotplug>(*this);
  reporting_ = std::make_unique<PageReporting>(*this);
  register_owner(OwnerId::Hugetlb, hugetlb_.get());
  register_owner(OwnerId::DevicePgmap, pgmap_.get());
  register_owner(OwnerId::Offline, offline_driver_.get());
  claimants_ = {hotplug_.get(), reporting_.get()};
  // The pgmap starts unmapped: device frames are unpopulated until
  // memremap_pages().
}

PageCache& Model::page_cache(uint16_t mapping_id) noexcept {
  MODEL_BUG_ON(mapping_id != kFileMapping && mapping_id != kGmemMapping);
  return mapping_id == kGmemMapping ? gmem_->cache() : *file_;
}

Model::~Model() = default;

void Model::register_owner(OwnerId id, FolioOwnerOps* ops) { owners_[static_cast<unsigned>(id)] = ops; }

void Model::report(ViolationKind kind, Pfn pfn, const char* site, std::string detail) {
  Violation v;
  v.kind = kind;
  v.pfn = pfn;
  v.site = site;
  v.detail = std::move(detail);
  report(std::move(v));
}

void Model::report(Violation v) {
  v.actor = current_actor();
  if (table_.pfn_valid(v.pfn)) {
    table_.frame(v.pfn).record(RefEvent::Violation, table_.frame(v.pfn).refcount.peek());
    if (v.frame.pfn == kNoPfn) v.frame = table_.snapshot(v.pfn);
  }
  // relaxed: a statistic; the sink (or the kept list's lock) orders the report itself.
  nr_violations_.fetch_add(1, std::memory_order_relaxed);
  // acquire: pairs with the release in set_violation_sink(), so the sink
  // object is fully constructed when we call it.
  if (ViolationSink* s = sink_.load(std::memory_order_acquire)) {
    s->report(v);
    return;
  }
  SpinGuard g(violations_lock_);
  if (kept_.size() < kMaxKept) kept_.push_back(std::move(v));
}

void Model::set_violation_sink(ViolationSink* sink) noexcept {
  // release: pairs with the acquire in report().
  sink_.store(sink, std::memory_order_release);
}

uint64_t Model::violation_count() const noexcept {
  // relaxed: read for a yes/no after the fact; callers synchronise with the
  // reporting thread by other means (joins, barriers, the fiber scheduler).
  return nr_violations_.load(std::memory_order_relaxed);
}

std::vector<Violation> Model::violations() const {
  SpinGuard g(violations_lock_);
  return kept_;
}

void Model::clear_violations() {
  SpinGuard g(violations_lock_);
  kept_.clear();
  nr_violations_.store(0, std::memory_order_relaxed);  // relaxed: statistic
}

}  // namespace core
