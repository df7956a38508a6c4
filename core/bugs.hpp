// core::bugs — the bug catalog: named, documented, run-time switchable
// mutants, each re-creating a real kernel refcount bug (or a documented bug
// class). Off by default; a clean core never reports. Switched on by name
// (`--bug NAME`, and in a trace's header); the mutated code paths test
// bug_on() at the exact place the kernel's fix went.
//
// One row per mutant, here and nowhere else: REFHAMMER_BUG_CATALOG below
// gives the enumerator, the switch name, the kind, the subsystem, what it
// re-creates (commit / CVE / thread), where the mutation sits and a
// paragraph on what goes wrong. Everything else is derived: the enum, the
// table bug_info() reads, `refhammer bugs`, the generated catalog table in
// docs/bug-catalog.md. A mutant's other two pieces are its bug_on() in the
// mutated function and its regression trace corpora/regressions/NAME.trace,
// which the catalog test explores (tests/bugs/bug_catalog_test.cpp) and
// bugbench runs every driver against.
#pragma once

#include <cstdint>
#include <string_view>

namespace core {

// X(Enumerator, "name", "kind", "subsystem", "cite", "where", "description")
#define REFHAMMER_BUG_CATALOG(X) \
  X(TruncateSkipsGracePeriod, "truncate-skips-grace-period", "use-after-free", "page cache / RCU", \
    "bd225530a4c7 (mm/hugetlb_vmemmap: fix race with speculative PFN walkers); rule of mm/filemap.c RCU lookups", \
    "truncate_folio() (filemap.cpp): skips synchronize_rcu()", \
    "truncate_folio() drops the page cache's references right after removing the folio, without synchronize_rcu(). " \
    "A lookup that read the slot just before the removal is still inside its RCU read section, about to call " \
    "folio_try_get() on a folio that has meanwhile been freed (and may be reused): the free path finds an RCU " \
    "reader older than the removal still running and reports a use-after-free.") \
  X(PfnWalkerPlainGet, "pfn-walker-plain-get", "use-after-free", "page_ref / pfn walkers", \
    "f8be156be163 (KVM: do not allow mapping valid but non-reference-counted pages), CVE-2021-22543", \
    "pfn_walk_get() (migrate.cpp): folio_get() instead of folio_try_get()", \
    "pfn_walk_get() takes its reference with folio_get() (a plain atomic_inc) instead of folio_try_get(), as KVM " \
    "did with get_page() on pages that are valid but not refcounted. On a free or frozen frame the count goes 0 -> " \
    "1: the walker now holds a reference on memory that belongs to the allocator or to a frozen owner, and its put " \
    "would free it under that owner. Reported at once as a get on a free / frozen frame.") \
  X(GupFastSkipsFolioRecheck, "gup-fast-skips-folio-recheck", "underflow", "GUP-fast / THP split", \
    "c24d37322548 (mm/gup: fix try_grab_compound_head() race with split_huge_page())", \
    "get_user_page_fast() (gup.cpp): no page_folio(page) == folio and size re-check after the grab", \
    "get_user_page_fast() computes the folio of the page it read from the PTE, then grabs it, but does not re-check " \
    "that the page still belongs to that folio and that its size is unchanged. A split between the two makes the " \
    "grab land on the old head, now a small folio, with large-folio accounting (one reference, no pin bias); the " \
    "later unpin of the page drops a pin bias the folio never received: a refcount deficit on the head and an " \
    "underflow on the page's own folio.") \
  X(GupFastSkipsPteRecheck, "gup-fast-skips-pte-recheck", "security", "GUP-fast / guest_memfd", \
    "70cbc3cc78a9 (mm: gup: fix the fast GUP race against THP collapse), kernel-semantics.md §2 (PTE re-check)", \
    "get_user_page_fast() (gup.cpp): no PTE re-check after the pin", \
    "get_user_page_fast() skips the re-check of the PTE after taking its pin. An unmapper that checks the refcount " \
    "after zapping the PTE (THP collapse in the kernel; here guest_memfd's shared->private conversion) can then " \
    "miss the pin: it saw no extra reference, converted the page to private, and GUP-fast still returns a pin on " \
    "it. The host now holds a DMA pin on private guest memory.") \
  X(GupPinOverflowUnchecked, "gup-pin-overflow-unchecked", "overflow", "GUP", \
    "CVE-2019-11487 (merge 6b3a70773630: mm: prevent get_user_pages() from overflowing page refcount)", \
    "try_grab_folio() (gup.cpp): plain folio_ref_add(), no overflow guard", \
    "try_grab_folio() adds its references (1024 per pin on a small folio) with a plain folio_ref_add(), without the " \
    "refusal of a count that is not positive or close to overflow. Repeated pins of one page push its refcount past " \
    "the limit (the model's refcount_limit; INT32_MAX in the kernel, where the count wraps and a later put frees a " \
    "page still referenced).") \
  X(GupLongtermLeaksIsolationRef, "gup-longterm-leaks-isolation-ref", "leak", "GUP FOLL_LONGTERM", \
    "error-path ref/pin leak class of __gup_longterm_locked / check_and_migrate_movable_pages (kernel-semantics.md " \
    "§2)", \
    "get_user_page() (gup.cpp): the last failed pass returns without folio_put()", \
    "When FOLL_LONGTERM cannot migrate an unpinnable (ZONE_MOVABLE) folio within its passes, get_user_page() " \
    "returns -EAGAIN without dropping the isolation reference it took on the folio for the migration attempt. " \
    "Nobody can name that reference: the quiescent audit reports a leak, and the folio can never be freed or " \
    "offlined.") \
  X(MigrateFreezeIgnoresPins, "migrate-freeze-ignores-pins", "use-after-free", "migration", \
    "kernel-semantics.md §3 (pins block migration through folio_ref_freeze(expected)); be9581ea8c05 made the freeze " \
    "mandatory for !mapping folios", \
    "migrate_folio() (migrate.cpp), anonymous path: freezes at the actual count", \
    "migrate_folio() freezes an anonymous folio at the count it finds instead of the expected count, so the " \
    "references of a pin do not make the freeze fail, then unfreezes to the expected count. The pin's 1024 " \
    "references are gone: migration's final put frees the source folio while the pin holder still does DMA to it.") \
  X(GmemConvertIgnoresPins, "gmem-convert-ignores-pins", "security", "guest_memfd", \
    "guest_memfd in-place conversion RFC v2 (Ackerley Tng, Feb 2026): kvm_gmem_is_safe_for_conversion()", \
    "GuestMemfd::convert() (guest_memfd.cpp): no wait for the expected refcount", \
    "GuestMemfd::convert() turns shared pages private without waiting for the refcount to fall to the expected " \
    "value (page-cache references only). A FOLL_LONGTERM pin taken while the page was shared survives the " \
    "conversion: the host keeps a pin on private guest memory (audit: private page still pinned).") \
  X(HugetlbDissolveSkipsFreedCheck, "hugetlb-dissolve-skips-freed-check", "race", "hugetlb", \
    "7ffddd499ba6 (mm: hugetlb: fix a race between freeing and dissolving the page)", \
    "Hugetlb::dissolve_free_hugetlb_folio(): no hugetlb_freed check", \
    "dissolve_free_hugetlb_folio() treats a hugetlb folio at refcount 0 as pool-free without checking " \
    "hugetlb_freed. The last put has reached zero but free_huge_folio() has not enqueued it yet: dissolve gives it " \
    "to the buddy, then free_huge_folio() puts it on the pool's free list. The frame is in the buddy and in the " \
    "hugetlb pool at once.") \
  X(HugetlbFreshSkipsFreeze, "hugetlb-fresh-skips-freeze", "underflow", "hugetlb", \
    "7118fc2906e2 (hugetlb: address ref count racing in prep_compound_gigantic_page) [id from memory]", \
    "Hugetlb::alloc_fresh_hugetlb_folio(): set_page_count(0) instead of folio_ref_freeze(1)", \
    "alloc_fresh_hugetlb_folio() sets the new folio's refcount to 0 (set_page_count) instead of " \
    "folio_ref_freeze(folio, 1). A pfn walker that took a speculative reference on the just-allocated head loses " \
    "it: the folio enters the pool and is handed out at refcount 1 while the walker still holds a reference it will " \
    "put, dropping the owner's count to zero under it (deficit, then underflow).") \
  X(DevmapPutSkipsManagedPage, "devmap-put-skips-managed-page", "leak", "ZONE_DEVICE (1-based)", \
    "c5d6c45e90c4 (mm/swap: fix release_pages() when releasing devmap pages)", \
    "put_page() (zone_device.cpp): does not route through put_devmap_managed_page()", \
    "With 1-based ZONE_DEVICE refcounts (zone_device=1-based), put_page() does not route device pages through " \
    "put_devmap_managed_page(), as release_pages() did for fsdax/private/P2PDMA pages. The put that brings a device " \
    "page back to its idle count of 1 takes the generic path: page_free never runs, the driver never gets the page " \
    "back (audit: device folio idle but page_free never ran).") \
  X(PgmapTeardownSkipsWait, "pgmap-teardown-skips-wait", "use-after-free", "ZONE_DEVICE", \
    "0dc45ca1ce18 (mm/memremap.c: take a pgmap reference on page allocation)", \
    "DevicePgmap::memunmap_pages(): no wait_idle()", \
    "memunmap_pages() tears the pgmap down without waiting for allocated device folios (no pgmap reference per " \
    "allocated page). A driver still holds a device folio; its last put then runs after the pgmap is gone and the " \
    "frame is freed through the generic path (a ZONE_DEVICE frame freed to the buddy).") \
  X(OfflinePutFreesToBuddy, "offline-put-frees-to-buddy", "lost data", "PageOffline / owner hook", \
    "virtio-mem fake-offline GOING_OFFLINE race (David Hildenbrand, Jan 2025; [PATCH v1 1/2] mm/memory_hotplug: " \
    "PG_offline_skippable, May 2025)", \
    "__folio_put() (owner.cpp): the owner hook sends PageOffline folios to the buddy", \
    "With legacy refcount-1 PageOffline pages, the owner hook routes a PageOffline folio's zero transition to the " \
    "buddy, as mainline's __folio_put does (it has no PageOffline case). A pfn walker's reference taken before " \
    "MEM_GOING_OFFLINE makes that notifier's decrement leave 1; the walker's put then frees the fake-offline page " \
    "into the buddy although virtio-mem still owns it (possibly unplugged memory in the allocator).") \
  X(ReportingPutbackBeforeReport, "reporting-putback-before-report", "lost data", "free page reporting", \
    "free page reporting invariant (kernel-semantics.md §6: never hand out a page in the report sg list); " \
    "36e66c554b5c (mm: Introduce Reported pages)", \
    "PageReporting::report_batch(): drains the batch back to the free lists before the report", \
    "report_batch() returns the isolated blocks to the free lists before prdev->report() has completed. The " \
    "allocator can hand out a page while the hypervisor is discarding its backing: the holder's data is lost (page " \
    "handed out while under report).") \
  X(ReportingMarksMergedBlock, "reporting-marks-merged-block", "lost data", "free page reporting", \
    "page_reporting_drain()'s PageBuddy && buddy_order == order check, 36e66c554b5c (mm: Introduce Reported pages)", \
    "PageReporting::report_batch(), step 4: marks PageReported without the check", \
    "After putting a reported block back, report_batch() marks it PageReported without checking that it is still a " \
    "free block head of the reported order. If it merged with a buddy freed during the report, the mark lands on a " \
    "frame inside a larger free block (or on a block whose other half still holds data): the allocator and the " \
    "hypervisor disagree about which memory was discarded.") \
  X(GupFastLongtermSkipsPinnableCheck, "gup-fast-longterm-skips-pinnable-check", "unmovable pin", "GUP-fast FOLL_LONGTERM", \
    "try_grab_folio_fast()'s FOLL_LONGTERM check (kernel-semantics.md §2: GUP-fast rejects " \
    "!folio_is_longterm_pinnable so the slow path can migrate)", \
    "get_user_page_fast() (gup.cpp): no pinnable check for FOLL_LONGTERM", \
    "get_user_page_fast() with FOLL_LONGTERM does not back out on a folio that is not long-term pinnable " \
    "(ZONE_MOVABLE, ZONE_DEVICE, an isolated pageblock), so the slow path never migrates it: pin_user_pages_fast() " \
    "returns a long-term pin on movable memory. Offlining that memory block, or a CMA allocation, then fails for as " \
    "long as the pin lives. The oracle's check after GUP returns reports it (longterm-pin-movable).") \
  X(MigrateCopiesBeforeUnmap, "migrate-copies-before-unmap", "lost data", "migration", \
    "the order of migrate_pages (kernel-semantics.md §3): try_to_migrate() installs migration entries before " \
    "folio_migrate_copy()", \
    "migrate_folio() (migrate.cpp): allocates dst and copies before the PTEs become migration entries", \
    "migrate_folio() allocates the new folio and copies the data while the old folio is still mapped, and only then " \
    "replaces the PTEs with migration entries. A user write that lands between the copy and the unmap goes to the " \
    "old folio, which is freed; the new folio is mapped with the data from before the write. The user-write shadow " \
    "reports it at the next read through that mapping (data-loss/mm_read) or at the audit.") \
  X(PutDecrementRelaxed, "put-decrement-relaxed", "ordering", "page_ref (put)", \
    "47b8f3ab9c49 (refcount_t: Add ACQUIRE ordering on success for dec(sub)_and_test() variants); " \
    "atomic_dec_and_test() is fully ordered (Documentation/atomic_t.txt)", \
    "folio_ref_sub_return() (page_ref.hpp): fetch_sub relaxed instead of acq_rel", \
    "Every put's decrement is relaxed instead of acq_rel. A holder's last accesses (an unmapper's mapcount " \
    "decrement under the PTL) are no longer released by its put, and the put that reaches zero no longer acquires " \
    "them: the freer can read the mapcount from before the unmap and free a folio it believes still mapped " \
    "(bad-page-free). Found only with weak memory: under sequential consistency every store is visible.") \
  X(TryGetRelaxed, "try-get-relaxed", "ordering", "page_ref (speculative get)", \
    "folio_try_get()/page_cache_get_speculative(): atomic_add_unless() is fully ordered, and the re-check after " \
    "the speculative get relies on it (kernel-semantics.md §1; the page_folio() re-check of c24d37322548)", \
    "folio_ref_add_unless() (page_ref.hpp): the CAS is relaxed on success instead of acq_rel", \
    "The speculative get's CAS no longer acquires the release that published the folio (set_page_refcounted, " \
    "folio_ref_unfreeze). The getter's re-check and what it does next may read the identity from before the " \
    "publication: a pfn walker that got a split or freshly allocated folio maps a page through a stale head " \
    "(mapcount accounted on the wrong folio, or a get on a tail). Found only with weak memory.") \
  X(SetRefcountedRelaxed, "set-refcounted-relaxed", "ordering", "page allocator / speculative get", \
    "the publication a speculative getter relies on: prep_new_page()'s writes are visible once folio_try_get() " \
    "succeeds (kernel-semantics.md §1; the model's set_page_refcounted() is a release store)", \
    "set_page_refcounted() (page_ref.cpp): a relaxed store instead of a release store", \
    "set_page_refcounted() makes a freshly allocated folio's count 1 with a relaxed store. A pfn walker whose " \
    "speculative get succeeds on it no longer sees what prep_new_page() wrote before (the tails' head, the " \
    "order): mapping the folio's second page it takes the page for a folio of its own and takes a reference on a " \
    "tail (get-on-tail). Found only with weak memory.") \
  X(GmemConvertPrivateRelaxed, "gmem-convert-private-relaxed", "ordering", "guest_memfd", \
    "guest_memfd in-place conversion RFC v2 (Ackerley Tng, Feb 2026): the shareability state is published with " \
    "release after the unmap and truncation it depends on", \
    "GuestMemfd::convert() (guest_memfd.cpp): the Private state store is relaxed instead of release", \
    "convert() stores the Private state relaxed instead of with release. A host path that reads Private (GUP " \
    "after it dropped the PTL) no longer also sees the hole punch and unmap that came before the conversion: its " \
    "entry re-check can still find the folio the punch removed, so the state no longer proves which page is " \
    "private and the host's access counts as one to private guest memory (security). Found only with weak " \
    "memory.")

enum class Bug : uint8_t {
#define REFHAMMER_BUG_ENUM(e, ...) e,
  REFHAMMER_BUG_CATALOG(REFHAMMER_BUG_ENUM)
#undef REFHAMMER_BUG_ENUM
};
#define REFHAMMER_BUG_COUNT(...) +1
inline constexpr unsigned kNrBugs = 0 REFHAMMER_BUG_CATALOG(REFHAMMER_BUG_COUNT);
#undef REFHAMMER_BUG_COUNT
static_assert(kNrBugs <= 64, "bugs are a uint64_t bitset");

struct BugInfo {
  Bug bug;
  const char* name;         // the switch: --bug NAME
  const char* kind;         // race, leak, underflow, overflow, use-after-free, lost data, security, unmovable pin,
                            // ordering (a weakened memory order: found with weak memory only)
  const char* subsystem;    // where in the kernel: "GUP-fast / THP split", "hugetlb", ...
  const char* cite;         // commit / CVE / thread it re-creates
  const char* where;        // the mutated function and what the mutation does
  const char* description;  // one paragraph
};

const BugInfo& bug_info(Bug b) noexcept;
// The bug named `name`, or false.
bool bug_by_name(std::string_view name, Bug& out) noexcept;

inline constexpr uint64_t bug_bit(Bug b) noexcept { return uint64_t{1} << static_cast<unsigned>(b); }

}  // namespace core
