// core::Probe — counters that prove a named interleaving was reached.
//
// A probe marks a rare path inside a protocol ("try_get saw zero", "freeze
// found an extra reference"). Runs print which probes were hit; a smoke run
// that never reaches a protocol's named interleaving fails (the harness
// decides which probes are required). Counters are diagnostic, not model
// state: plain std::atomic, not sync points.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace core {

enum class Probe : uint8_t {
  TryGetSawZero,        // speculative get lost to a free/freeze (lookup step 2 vs remover A)
  TryGetRefusedAtLimit, // add-unless refused: the count would pass refcount_limit
  PutWasLast,           // a put reached zero and ran the owner's free path
  PutLastByOwnerHook,   // ... and the owner was not the buddy
  FreezeFailed,         // folio_ref_freeze found another reference
  FreezeSucceeded,
  BuddyMerged,          // __free_one_page merged with its buddy
  BuddySplit,           // expand() split a larger block
  AllocFellBack,        // MOVABLE request served from NORMAL
  AllocFailed,          // no free block of the order in any allowed zone
  FreeToIsolated,       // a free landed on an ISOLATE list
  IsolateBusy,          // start_isolate_page_range found the block already isolated
  SplitRefused,         // split_folio found extra refs or pins
  MapRaceTruncate,      // map_page found the file folio truncated under the folio lock
  CacheLookupRetry,     // filemap_get_folio: try_get failed or the slot changed (step 3), retried
  CacheLookupPutLast,   // ... and the backing-out put was the last one
  RcuWaitedForReader,   // synchronize_rcu waited for a reader that started before it
  TruncateRetry,        // truncate found the folio moved (migration) and retried
  GupFastNotPresent,    // GUP-fast found no present PTE (or a migration entry)
  GupFastBackedOut,     // GUP-fast's PTE re-check failed: the grab was undone
  GupFastHeadChanged,   // GUP-fast's folio re-check failed (split race, c24d37322548)
  GupRefusedOverflow,   // a grab refused: the count would pass the limit (CVE-2019-11487)
  LongtermMigrated,     // FOLL_LONGTERM migrated a folio out of ZONE_MOVABLE first
  MigrateFreedUnderUs,  // migration found only its own reference left
  MigrateExtraRefs,     // migration's freeze failed: extra references or pins
  MigrateLocked,        // migration could not take the folio lock
  MigrateSucceeded,
  GmemConvertWaited,    // shared->private conversion waited for transient references
  GmemConvertBusy,      // ... and gave up (-EAGAIN)
  GmemLongtermRefused,  // policy (a): a long-term pin on a shared guest_memfd page refused
  HugetlbFreezeFailed,  // fresh huge folio: a speculative ref on the head beat folio_ref_freeze(1)
  HugetlbDissolveRaceWindow,  // dissolve saw refcount 0 without hugetlb_freed: free in progress, retried (7ffddd499ba6)
  HugetlbDissolved,     // a free huge folio went back to the buddy
  HugetlbDemoted,       // a free huge folio was split into two smaller pool folios
  DevicePageFree,       // pgmap->ops->page_free ran
  PgmapTeardownWaited,  // memunmap_pages waited for a referenced device folio
  PgmapTeardownBusy,    // ... and gave up (-EBUSY)
  OfflineGoingOfflineReferenced,  // legacy GOING_OFFLINE: dec did not reach 0 (WARN "fake-offline page referenced")
  OfflineStrayPutKept,  // a stray reference's last put on a PageOffline page reached the driver's hook
  OfflinePassRetry,     // offlining: a scan/migrate/test pass found a busy page, retried
  OfflineBusy,          // offlining gave up (-EBUSY) and cancelled
  OfflineSucceeded,     // a memory block went offline
  ReportIsolated,       // page reporting took a free block off its list
  ReportMarked,         // ... put it back unmerged and marked it PageReported
  ReportPutbackMerged,  // ... put it back, but it merged or moved: left unreported
};
inline constexpr unsigned kNrProbes = 45;
const char* probe_name(Probe p) noexcept;

class ProbeCounters {
 public:
  void hit(Probe p) noexcept {
    // relaxed: a statistic; nobody orders anything on it.
    counts_[static_cast<unsigned>(p)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count(Probe p) const noexcept {
    // relaxed: read for reports only.
    return counts_[static_cast<unsigned>(p)].load(std::memory_order_relaxed);
  }
  void reset() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);  // relaxed: statistic
  }

 private:
  std::array<std::atomic<uint64_t>, kNrProbes> counts_{};
};

}  // namespace core
