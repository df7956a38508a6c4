// core::bugs — the bug catalog: named, documented, run-time switchable
// mutants, each re-creating a real kernel refcount bug (or a documented bug
// class). Off by default; a clean core never reports. Switched on by name
// (`--bug NAME`, and in a trace's header); the mutated code paths test
// bug_on() at the exact place the kernel's fix went.
#pragma once

#include <cstdint>
#include <string_view>

namespace core {

enum class Bug : uint8_t {
  // Page-cache removal frees the folio without waiting for an RCU grace
  // period, while a lookup that read the slot before the removal may still
  // be between its slot read and folio_try_get (the rule in filemap.hpp; the
  // same class as bd225530a4c7, "mm/hugetlb_vmemmap: fix race with
  // speculative PFN walkers", which added synchronize_rcu() so that walkers'
  // add-unless-zero never touches freed/remapped struct pages).
  TruncateSkipsGracePeriod,
  // A pfn walker takes its reference with a plain folio_get() (atomic_inc)
  // instead of folio_try_get() (add unless zero), so a frame that is valid
  // but not refcounted — free, frozen, a tail — goes 0 -> 1 (f8be156be163,
  // "KVM: do not allow mapping valid but non-reference-counted pages",
  // CVE-2021-22543). Mutation: pfn_walk_get() in migrate.cpp.
  PfnWalkerPlainGet,
  // GUP-fast does not re-check after its speculative grab that the page still
  // belongs to the folio it grabbed (page_folio(page) == folio) nor that the
  // folio's size, which chose the pin accounting, is unchanged; a racing split
  // leaves the pin accounted on the wrong folio (c24d37322548, "mm/gup: fix
  // try_grab_compound_head() race with split_huge_page()"). Mutation:
  // get_user_page_fast() in gup.cpp.
  GupFastSkipsFolioRecheck,
  // GUP-fast does not re-check the PTE after pinning, so it keeps a pin on a
  // page that a refcount-checking unmapper (THP collapse in 70cbc3cc78a9, "mm:
  // gup: fix the fast GUP race against THP collapse"; here guest_memfd's
  // shared->private conversion) has meanwhile unmapped and taken over.
  // Mutation: get_user_page_fast() in gup.cpp.
  GupFastSkipsPteRecheck,
  // The slow GUP grab takes its references without the overflow guard
  // (CVE-2019-11487, merge 6b3a70773630: try_get_page() / try_grab_folio()
  // refuse a count that is not positive or close to overflow). Mutation:
  // try_grab_folio() in gup.cpp.
  GupPinOverflowUnchecked,
  // FOLL_LONGTERM's migrate-and-retry loop gives up after its last pass
  // without dropping the isolation reference it took on the unpinnable folio:
  // a reference leaked on an error path (the pin/ref-leak class of
  // __gup_longterm_locked / check_and_migrate_movable_pages error paths).
  // Mutation: get_user_page() in gup.cpp.
  GupLongtermLeaksIsolationRef,
  // Migration of an unmapped-cache folio freezes it at whatever count it has
  // instead of the expected one, ignoring the extra references of pins, then
  // unfreezes to the expected count: the pins' references vanish and the
  // folio is freed while pinned (kernel-semantics §3: "no window where a
  // pinned page is migrated"; the folio_ref_freeze(expected) that be9581ea8c05
  // made mandatory for !mapping folios). Mutation: migrate_folio() in migrate.cpp.
  MigrateFreezeIgnoresPins,
  // guest_memfd shared->private conversion skips the "refcount == expected"
  // safety check (kvm_gmem_is_safe_for_conversion in the in-place conversion
  // RFCs), so a page with a long-term pin still held turns private while the
  // host can DMA into it. Mutation: GuestMemfd::convert() in guest_memfd.cpp.
  GmemConvertIgnoresPins,
  // dissolve_free_hugetlb_folio() takes a hugetlb folio at refcount 0 for free
  // without checking hugetlb_freed, although free_huge_folio() has not yet
  // enqueued it: the folio goes to the buddy and then onto the pool's free
  // list (7ffddd499ba6, "mm: hugetlb: fix a race between freeing and
  // dissolving the page"). Mutation: Hugetlb::dissolve_free_hugetlb_folio().
  HugetlbDissolveSkipsFreedCheck,
  // A fresh huge folio's refcount is set to 0 (set_page_count) instead of
  // frozen with folio_ref_freeze(folio, 1), clobbering a speculative
  // reference a pfn walker took on the just-allocated head (7118fc2906e2,
  // "hugetlb: address ref count racing in prep_compound_gigantic_page").
  // Mutation: Hugetlb::alloc_fresh_hugetlb_folio().
  HugetlbFreshSkipsFreeze,
  // With 1-based ZONE_DEVICE refcounts, a generic put path does not route
  // device pages through put_devmap_managed_page(), so the put that makes a
  // device page idle (count 1) never calls page_free (c5d6c45e90c4,
  // "mm/swap: fix release_pages() when releasing devmap pages"). Mutation:
  // put_page() in zone_device.cpp.
  DevmapPutSkipsManagedPage,
  // memunmap_pages() does not wait for allocated device folios (no pgmap
  // reference per allocated page, 0dc45ca1ce18 "mm/memremap.c: take a pgmap
  // reference on page allocation"): the pgmap is torn down under a holder
  // whose last put then frees a ZONE_DEVICE frame generically. Mutation:
  // DevicePgmap::memunmap_pages().
  PgmapTeardownSkipsWait,
  // The zero transition of a PageOffline folio is routed to the buddy (as
  // mainline's __folio_put, which has no PageOffline case): with legacy
  // refcount-1 PageOffline, a speculative reference that outlives
  // MEM_GOING_OFFLINE's drop frees the fake-offline page into the allocator
  // (the virtio-mem race described by David Hildenbrand, Jan/May 2025).
  // Mutation: __folio_put() in owner.cpp.
  OfflinePutFreesToBuddy,
  // Free page reporting puts the isolated blocks back on the free lists
  // before prdev->report() has returned (page_reporting_drain too early): the
  // allocator can hand out a page the hypervisor is discarding
  // (kernel-semantics §6 must-never). Mutation: PageReporting::report_batch().
  ReportingPutbackBeforeReport,
  // page_reporting_drain() marks a block PageReported without checking that
  // it is still a free block of the reported order: after a merge, a frame
  // that is no longer a free-block head (or a block holding unreported data)
  // is marked (the PageBuddy && order check of 36e66c554b5c's
  // page_reporting_drain). Mutation: PageReporting::report_batch().
  ReportingMarksMergedBlock,
  // GUP-fast with FOLL_LONGTERM does not reject a folio that is not
  // long-term pinnable (ZONE_MOVABLE, an isolated or CMA pageblock), which
  // try_grab_folio_fast() does so that the slow path migrates it first
  // (kernel-semantics §2): the long-term pin stays on movable memory, and
  // offlining or a CMA allocation of that block can never succeed.
  // Mutation: get_user_page_fast() in gup.cpp.
  GupFastLongtermSkipsPinnableCheck,
  // Migration copies the folio's data before its PTEs become migration
  // entries (folio_migrate_copy before try_to_migrate), so a user write that
  // lands in between is left behind in the old folio (the ordering of
  // kernel-semantics §3: unmap, freeze, copy, remap). Mutation:
  // migrate_folio() in migrate.cpp.
  MigrateCopiesBeforeUnmap,
};
inline constexpr unsigned kNrBugs = 17;

struct BugInfo {
  Bug bug;
  const char* name;         // the switch: --bug NAME
  const char* kind;         // race, leak, underflow, overflow, use-after-free, lost data, security, unmovable pin
  const char* cite;         // commit / CVE / thread it re-creates
  const char* description;  // one paragraph
};

const BugInfo& bug_info(Bug b) noexcept;
// The bug named `name`, or false.
bool bug_by_name(std::string_view name, Bug& out) noexcept;

inline constexpr uint64_t bug_bit(Bug b) noexcept { return uint64_t{1} << static_cast<unsigned>(b); }

}  // namespace core
