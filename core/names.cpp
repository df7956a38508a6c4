// core names — printable names of the model's enums, and the frame history.
#include <algorithm>

#include "core/frame.hpp"
#include "core/probe.hpp"
#include "core/types.hpp"
#include "core/violation.hpp"

namespace core {

const char* zone_name(ZoneType z) noexcept {
  switch (z) {
    case ZoneType::Normal: return "Normal";
    case ZoneType::Movable: return "Movable";
    case ZoneType::Device: return "Device";
  }
  return "?";
}

const char* migratetype_name(MigrateType mt) noexcept {
  switch (mt) {
    case MigrateType::Unmovable: return "Unmovable";
    case MigrateType::Movable: return "Movable";
    case MigrateType::Isolate: return "Isolate";
  }
  return "?";
}

const char* page_type_name(PageType t) noexcept {
  switch (t) {
    case PageType::None: return "none";
    case PageType::Buddy: return "buddy";
    case PageType::Offline: return "offline";
    case PageType::Hugetlb: return "hugetlb";
    case PageType::Guestmem: return "guestmem";
  }
  return "?";
}

const char* owner_name(OwnerId o) noexcept {
  switch (o) {
    case OwnerId::Buddy: return "buddy";
    case OwnerId::Hugetlb: return "hugetlb";
    case OwnerId::DevicePgmap: return "device-pgmap";
    case OwnerId::Offline: return "offline";
    case OwnerId::Guestmem: return "guest_memfd";
  }
  return "?";
}

const char* ref_event_name(RefEvent e) noexcept {
  switch (e) {
    case RefEvent::Alloc: return "alloc";
    case RefEvent::AllocFrozen: return "alloc_frozen";
    case RefEvent::SetRefcounted: return "set_refcounted";
    case RefEvent::Get: return "get";
    case RefEvent::TryGet: return "try_get";
    case RefEvent::TryGetFail: return "try_get_fail";
    case RefEvent::Add: return "add";
    case RefEvent::Put: return "put";
    case RefEvent::PutLast: return "put_last";
    case RefEvent::Freeze: return "freeze";
    case RefEvent::FreezeFail: return "freeze_fail";
    case RefEvent::Unfreeze: return "unfreeze";
    case RefEvent::Free: return "free";
    case RefEvent::Split: return "split";
    case RefEvent::Violation: return "VIOLATION";
    case RefEvent::OwnerFree: return "owner_free";
    case RefEvent::SetCount: return "set_count";
  }
  return "?";
}

const char* violation_kind_name(ViolationKind k) noexcept {
  switch (k) {
    case ViolationKind::RefcountUnderflow: return "refcount-underflow";
    case ViolationKind::RefcountOverflow: return "refcount-overflow";
    case ViolationKind::GetOnFree: return "get-on-free";
    case ViolationKind::GetOnFrozen: return "get-on-frozen";
    case ViolationKind::GetOnTail: return "get-on-tail";
    case ViolationKind::BadUnfreeze: return "bad-unfreeze";
    case ViolationKind::BadSetRefcounted: return "bad-set-refcounted";
    case ViolationKind::BadPageFree: return "bad-page-free";
    case ViolationKind::DoubleFree: return "double-free";
    case ViolationKind::Leak: return "leak";
    case ViolationKind::RefcountDeficit: return "refcount-deficit";
    case ViolationKind::HeldButFree: return "held-but-free";
    case ViolationKind::LostFrame: return "lost-frame";
    case ViolationKind::DoubleOwner: return "double-owner";
    case ViolationKind::BuddyCorrupt: return "buddy-corrupt";
    case ViolationKind::TailCorrupt: return "tail-corrupt";
    case ViolationKind::MapcountMismatch: return "mapcount-mismatch";
    case ViolationKind::PincountMismatch: return "pincount-mismatch";
    case ViolationKind::UseAfterFree: return "use-after-free";
    case ViolationKind::DataLoss: return "data-loss";
    case ViolationKind::Security: return "security";
    case ViolationKind::MappingCorrupt: return "mapping-corrupt";
    case ViolationKind::Deadlock: return "deadlock";
    case ViolationKind::FreeCallback: return "free-callback";
    case ViolationKind::LongtermPinMovable: return "longterm-pin-movable";
  }
  return "?";
}

const char* probe_name(Probe p) noexcept {
  switch (p) {
    case Probe::TryGetSawZero: return "try_get saw zero (remover B before lookup 2)";
    case Probe::TryGetRefusedAtLimit: return "get refused at the refcount limit";
    case Probe::PutWasLast: return "put reached zero";
    case Probe::PutLastByOwnerHook: return "zero transition went to a non-buddy owner";
    case Probe::FreezeFailed: return "freeze found another reference (lookup 2 before remover B)";
    case Probe::FreezeSucceeded: return "freeze succeeded";
    case Probe::BuddyMerged: return "buddy merged";
    case Probe::BuddySplit: return "buddy block split";
    case Probe::AllocFellBack: return "MOVABLE allocation fell back to NORMAL";
    case Probe::AllocFailed: return "allocation failed";
    case Probe::FreeToIsolated: return "free landed on an ISOLATE list";
    case Probe::IsolateBusy: return "pageblock already isolated";
    case Probe::SplitRefused: return "split refused (extra refs or pins)";
    case Probe::MapRaceTruncate: return "map found the file folio truncated";
    case Probe::CacheLookupRetry: return "page-cache lookup retried (try_get failed or slot changed)";
    case Probe::CacheLookupPutLast: return "page-cache lookup's backing-out put freed the folio";
    case Probe::RcuWaitedForReader: return "synchronize_rcu waited for a reader";
    case Probe::TruncateRetry: return "truncate found the folio moved and retried";
    case Probe::GupFastNotPresent: return "GUP-fast found no present PTE";
    case Probe::GupFastBackedOut: return "GUP-fast PTE re-check failed, grab undone";
    case Probe::GupFastHeadChanged: return "GUP-fast folio re-check failed (split race)";
    case Probe::GupRefusedOverflow: return "GUP grab refused at the refcount limit";
    case Probe::LongtermMigrated: return "FOLL_LONGTERM migrated a folio out of ZONE_MOVABLE";
    case Probe::MigrateFreedUnderUs: return "migration found the folio freed under it";
    case Probe::MigrateExtraRefs: return "migration freeze failed: extra references or pins";
    case Probe::MigrateLocked: return "migration could not lock the folio";
    case Probe::MigrateSucceeded: return "migration succeeded";
    case Probe::GmemConvertWaited: return "guest_memfd conversion waited for transient references";
    case Probe::GmemConvertBusy: return "guest_memfd conversion busy (-EAGAIN)";
    case Probe::GmemLongtermRefused: return "long-term pin on shared guest_memfd page refused (a)";
    case Probe::HugetlbFreezeFailed: return "fresh huge folio: freeze(1) lost to a speculative reference";
    case Probe::HugetlbDissolveRaceWindow: return "dissolve hit the free race window (refcount 0, !hugetlb_freed), retried";
    case Probe::HugetlbDissolved: return "free huge folio dissolved to the buddy";
    case Probe::HugetlbDemoted: return "free huge folio demoted";
    case Probe::DevicePageFree: return "ZONE_DEVICE page_free ran";
    case Probe::PgmapTeardownWaited: return "memunmap_pages waited for a referenced device folio";
    case Probe::PgmapTeardownBusy: return "memunmap_pages gave up (-EBUSY)";
    case Probe::OfflineGoingOfflineReferenced: return "GOING_OFFLINE: fake-offline page referenced (dec did not reach 0)";
    case Probe::OfflineStrayPutKept: return "stray last put on a PageOffline page kept by the driver's hook";
    case Probe::OfflinePassRetry: return "offlining pass found a busy page, retried";
    case Probe::OfflineBusy: return "offlining gave up (-EBUSY)";
    case Probe::OfflineSucceeded: return "memory block offlined";
    case Probe::ReportIsolated: return "page reporting isolated a free block";
    case Probe::ReportMarked: return "reported block put back and marked PageReported";
    case Probe::ReportPutbackMerged: return "reported block merged or moved on putback: unmarked";
  }
  return "?";
}

std::vector<PageRefRecord> PageRefHistory::snapshot() const {
  std::vector<PageRefRecord> out;
  for (const auto& slot : ring_) {
    // relaxed: diagnostic ring (see record()).
    uint64_t w = slot.load(std::memory_order_relaxed);
    if ((w >> 63) == 0) continue;
    PageRefRecord r;
    r.event = static_cast<RefEvent>((w >> 48) & 0xff);
    r.actor = static_cast<uint8_t>((w >> 40) & 0xff);
    r.seq = static_cast<uint16_t>((w >> 24) & 0xffff);
    uint32_t c = static_cast<uint32_t>(w & 0xffffff);
    if (c & 0x800000u) c |= 0xff000000u;  // sign-extend the 24-bit count
    r.count = static_cast<int32_t>(c);
    out.push_back(r);
  }
  // Order by sequence, oldest first, allowing for the 16-bit wrap: the newest
  // sequence number is the reference point.
  if (!out.empty()) {
    uint16_t newest = out[0].seq;
    for (const auto& r : out)
      if (static_cast<uint16_t>(r.seq - newest) < 0x8000) newest = r.seq;
    std::sort(out.begin(), out.end(), [newest](const PageRefRecord& a, const PageRefRecord& b) {
      return static_cast<uint16_t>(newest - a.seq) > static_cast<uint16_t>(newest - b.seq);
    });
  }
  return out;
}

void PageRefHistory::clear() noexcept {
  next_.store(0, std::memory_order_relaxed);  // relaxed: diagnostic ring
  for (auto& s : ring_) s.store(0, std::memory_order_relaxed);  // relaxed: diagnostic ring
}

}  // namespace core
