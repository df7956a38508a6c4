// core::PageReporting — see reporting.hpp.
#include "core/reporting.hpp"

#include <algorithm>
#include <string>

#include "core/audit.hpp"
#include "core/model.hpp"

namespace core {

void isolate_free_block_locked(Model& m, Zone& z, Pfn head, unsigned order, MigrateType mt) {
  // __isolate_free_page: the allocator's own del_page_from_free_list(); the
  // refcount stays 0, so speculative getters fail whatever they read.
  m.buddy().del_page_from_free_list(z, head, order, mt);
}

void prep_isolated_block(Model& m, Pfn head, unsigned order) {
  // relaxed (all): FREE_ISOLATED, refcount 0, only the isolator touches the
  // block; a pfn walker's add-unless-zero on the head fails whatever it reads.
  for (Pfn p = head + 1; p < head + (1u << order); ++p) {
    m.frame(p).head.store(head, std::memory_order_relaxed);
    m.frame(p).flags.store(pg::tail, std::memory_order_relaxed);
  }
  m.frame(head).head.store(head, std::memory_order_relaxed);
  m.frame(head).flags.store(order > 0 ? pg::head : 0u, std::memory_order_relaxed);
  m.frame(head).order.store(static_cast<uint8_t>(order), std::memory_order_relaxed);  // relaxed: see above
}

void putback_isolated_block(Model& m, Pfn head, unsigned order) { m.buddy().free(head, order); }

PageReporting::PageReporting(Model& m) : m_(m) {}

int PageReporting::report_cycle() {
  SpinGuard worker(worker_);
  const ModelConfig& cfg = m_.config();
  uint32_t budget = cfg.reporting_budget;
  int reported = 0;
  for (ZoneType zt : {ZoneType::Normal, ZoneType::Movable}) {
    if (m_.frames().zone(zt).size() == 0) continue;
    Zone& z = m_.buddy().zone(zt);
    const MigrateType mt = z.default_mt;  // never MIGRATE_ISOLATE
    const int min_order = std::min<int>(cfg.reporting_order, m_.buddy().max_page_order());
    for (int o = m_.buddy().max_page_order(); o >= min_order && budget > 0; --o) {
      while (budget > 0) {
        std::vector<InFlight> batch;
        {
          // 1.
          SpinGuard g(z.lock);
          for (Pfn p = z.free_area[o][static_cast<unsigned>(mt)].head;
               p != kNoPfn && batch.size() < cfg.reporting_capacity; p = m_.frame(p).lru_next)
            // relaxed: zone->lock held; PageReported is written under it.
            if (!(m_.frame(p).flags.load(std::memory_order_relaxed) & pg::reported))
              batch.push_back(InFlight{p, static_cast<uint8_t>(o), {}});
          for (InFlight& b : batch) {
            isolate_free_block_locked(m_, z, b.head, o, mt);
            prep_isolated_block(m_, b.head, o);
            for (Pfn q = b.head; q < b.head + (1u << o); ++q)
              // relaxed: zone->lock held; the allocator bumps it in
              // prep_new_page under the same discipline.
              b.generation.push_back(m_.frame(q).generation.load(std::memory_order_relaxed));
            m_.probe(Probe::ReportIsolated);
          }
        }
        if (batch.empty()) break;
        --budget;
        report_batch(batch);
        reported += static_cast<int>(batch.size());
      }
    }
  }
  // relaxed: a statistic.
  reported_total_.fetch_add(static_cast<uint64_t>(reported), std::memory_order_relaxed);
  return reported;
}

void PageReporting::report_batch(std::vector<InFlight>& batch) {
  // Bug::ReportingPutbackBeforeReport: page_reporting_drain() before the
  // report, so the allocator sees the blocks while they are being discarded.
  const bool drained_early = m_.bug_on(Bug::ReportingPutbackBeforeReport);
  if (drained_early)
    for (const InFlight& b : batch) putback_isolated_block(m_, b.head, b.order);
  else {
    SpinGuard g(inflight_lock_);
    for (const InFlight& b : batch) inflight_.push_back(b);
  }
  // 2. prdev->report(): the hypervisor discards the backing.
  for (const InFlight& b : batch) {
    for (Pfn q = b.head; q < b.head + (1u << b.order); ++q)
      // relaxed: FREE_ISOLATED, only the reporter touches the block.
      m_.frame(q).payload.store(kReportedPoison, std::memory_order_relaxed);
    if (hook_ != nullptr) hook_(m_, b.head, b.order, hook_ctx_);
  }
  cpu_relax();  // the report round trip: other actors may run meanwhile
  // 3.
  for (const InFlight& b : batch) {
    for (uint32_t i = 0; i < (1u << b.order); ++i) {
      // relaxed: a handout would have bumped it under zone->lock; a race the
      // model cannot order is already the finding.
      if (m_.frame(b.head + i).generation.load(std::memory_order_relaxed) != b.generation[i])
        m_.report(ViolationKind::DataLoss, b.head + i, "page_reporting_drain",
                  "page handed out while under report (the hypervisor discarded its backing)");
    }
  }
  if (drained_early) return;
  {
    SpinGuard g(inflight_lock_);
    inflight_.clear();
  }
  // 4.
  for (const InFlight& b : batch) {
    putback_isolated_block(m_, b.head, b.order);
    Zone& z = m_.buddy().zone(m_.frames().zone_of(b.head));
    SpinGuard g(z.lock);
    Frame& h = m_.frame(b.head);
    // relaxed (three): zone->lock held; only holders of it write these.
    if (m_.bug_on(Bug::ReportingMarksMergedBlock) ||
        (static_cast<PageType>(h.page_type.load(std::memory_order_relaxed)) == PageType::Buddy &&
         h.order.load(std::memory_order_relaxed) == b.order)) {
      h.flags.fetch_or(pg::reported, std::memory_order_relaxed);
      m_.probe(Probe::ReportMarked);
    } else {
      m_.probe(Probe::ReportPutbackMerged);
    }
  }
}

void PageReporting::audit_claims(const Model&, HolderLedger& ledger) const {
  SpinGuard g(inflight_lock_);
  for (const InFlight& b : inflight_) ledger.add_frozen(b.head, "page_reporting");
}

void PageReporting::audit_check(Model& m, const HolderLedger&, std::vector<Violation>& out) const {
  for (Pfn p = 0; p < m.frames().size(); ++p) {
    const Frame& f = m.frame(p);
    if (!(f.flags.peek() & pg::reported)) continue;
    const char* bad = nullptr;
    if (static_cast<PageType>(f.page_type.peek()) != PageType::Buddy) bad = "PageReported on a frame that is not a free block head";
    else
      for (Pfn q = p; q < p + (1u << f.order.peek()) && bad == nullptr; ++q)
        if (m.frame(q).payload.peek() != kReportedPoison) bad = "a reported free block holds data the host discarded";
    if (bad == nullptr) continue;
    out.push_back(m.frames().violation(ViolationKind::DataLoss, p, "audit:page_reporting", bad));
  }
}

}  // namespace core
