// harness ops — the op table: every action the core offers, defined once.
#include <algorithm>
#include <charconv>

#include "core/folio.hpp"
#include "core/guest_memfd.hpp"
#include "core/gup.hpp"
#include "core/hugetlb.hpp"
#include "core/migrate.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "core/reporting.hpp"
#include "core/zone_device.hpp"
#include "harness/op.hpp"
#include "harness/world.hpp"

namespace refhammer::harness {
namespace {

using core::kNoPfn;
using core::Pfn;

core::ZoneType zone_arg(uint32_t v) { return v == 0 ? core::ZoneType::Normal : core::ZoneType::Movable; }

Hold* held(Actor& a, uint32_t slot, HoldKind kind) {
  Hold& h = a.slots[slot % kActorSlots];
  return h.kind == kind ? &h : nullptr;
}

// Generic ops that only make sense on buddy-owned folios (split, freeze,
// free_frozen, page cache): a special owner's folio is skipped, as the
// kernel never hands a hugetlb, device or PageOffline folio to them.
bool buddy_owned(World& w, Pfn head) {
  // relaxed: the actor holds a reference; the owner of a live folio is stable.
  return static_cast<core::OwnerId>(w.model().frame(head).owner.load(std::memory_order_relaxed)) == core::OwnerId::Buddy;
}

int put_into_free_slot(World& w, Actor& a, Hold h) {
  const int s = a.free_slot();
  if (s < 0) return -ENOSPC;
  a.slots[s] = h;
  w.note_recent(h.head);
  return 0;
}

// --- the refcount primitives -------------------------------------------------

int op_alloc(World& w, Actor& a, const Op& op) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn p = core::alloc_pages(w.model(), zone_arg(op.a[0]), op.a[1]);
  if (p == kNoPfn) return -ENOMEM;
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, p, p, 1, false, /*owned=*/true});
}

int op_alloc_frozen(World& w, Actor& a, const Op& op) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn p = core::alloc_frozen_pages(w.model(), zone_arg(op.a[0]), op.a[1]);
  if (p == kNoPfn) return -ENOMEM;
  return put_into_free_slot(w, a, Hold{HoldKind::Frozen, p, p, 1});
}

int op_get(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr || h->count >= 16) return kSkipped;
  core::folio_get(w.model(), h->head);
  h->count++;
  return 0;
}

int op_put(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr) return kSkipped;
  const Pfn head = h->head;
  if (--h->count == 0) *h = Hold{};
  core::put_page(w.model(), head);  // folio_put, or the legacy devmap path
  return 0;
}

// Speculative get on an arbitrary pfn that keeps the reference when the
// re-check passes (a pfn walker that goes on to use the folio).
int op_try_get(World& w, Actor& a, const Op& op) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn head = core::pfn_walk_get(w.model(), op.a[0]);
  if (head == kNoPfn) return -EAGAIN;
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, head, head, 1});
}

// A pfn walker that backs out: get, re-check, put (maybe the last put).
int op_pfn_walk(World& w, Actor&, const Op& op) {
  const Pfn head = core::pfn_walk_get(w.model(), op.a[0]);
  if (head == kNoPfn) return -EAGAIN;
  core::put_page(w.model(), head);  // folio_put, or the legacy devmap path
  return 0;
}

// Freezes a folio to the references this actor holds: succeeds only if
// nobody else holds one.
int op_freeze(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr || !buddy_owned(w, h->head)) return kSkipped;
  if (!core::folio_ref_freeze(w.model(), h->head, h->count)) return -EAGAIN;
  h->kind = HoldKind::Frozen;
  return 0;
}

int op_unfreeze(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Frozen);
  if (h == nullptr) return kSkipped;
  core::folio_ref_unfreeze(w.model(), h->head, h->count);
  h->kind = HoldKind::Ref;
  return 0;
}

int op_free_frozen(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Frozen);
  if (h == nullptr) return kSkipped;
  const Pfn head = h->head;
  *h = Hold{};
  // relaxed: we hold the folio frozen, its order is stable.
  core::free_frozen_pages(w.model(), head, w.model().frame(head).order.load(std::memory_order_relaxed));
  return 0;
}

int op_split(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr || h->count != 1 || !buddy_owned(w, h->head)) return kSkipped;
  const uint32_t nr = core::folio_nr_pages(w.model(), h->head);
  unsigned free = 0;
  for (const Hold& s : a.slots) free += s.kind == HoldKind::Empty;
  if (nr == 1 || free + 1 < nr) return kSkipped;
  const Pfn head = h->head;
  const bool owned = h->owned;
  if (!core::split_folio(w.model(), head)) return -EAGAIN;
  for (Pfn p = head + 1; p < head + nr; ++p) put_into_free_slot(w, a, Hold{HoldKind::Ref, p, p, 1, false, owned});
  return 0;
}

int op_isolate(World& w, Actor& a, const Op& op) {
  const uint32_t pb = w.model().frames().pageblock_frames();
  const Pfn start = op.a[0] & ~(pb - 1);
  if (w.model().frames().zone_of(start) == core::ZoneType::Device) return kSkipped;
  if (!w.model().buddy().start_isolate_page_range(start, start + pb)) return -EBUSY;
  a.isolated.push_back(start);
  return 0;
}

int op_unisolate(World& w, Actor& a, const Op&) {
  if (a.isolated.empty()) return kSkipped;
  const Pfn start = a.isolated.back();
  a.isolated.pop_back();
  w.model().buddy().undo_isolate_page_range(start, start + w.model().frames().pageblock_frames());
  return 0;
}

// --- mappings, user accesses, GUP, migration ---------------------------------

int op_map(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr) return kSkipped;
  const Pfn page = h->head + op.a[3] % core::folio_nr_pages(w.model(), h->head);
  w.note_recent(h->head);
  return core::map_page(w.model(), w.model().mm(op.a[1]), op.a[2], page);
}

int op_unmap(World& w, Actor&, const Op& op) {
  return core::unmap_slot(w.model(), w.model().mm(op.a[0]), op.a[1]) ? 0 : -ENOENT;
}

int op_write(World& w, Actor& a, const Op& op) {
  return core::mm_write(w.model(), w.model().mm(op.a[0]), op.a[1], core::user_write_value(a.id, ++a.writes));
}

int op_read(World& w, Actor&, const Op& op) {
  uint64_t v;
  return core::mm_read(w.model(), w.model().mm(op.a[0]), op.a[1], v);
}

}  // namespace

void check_longterm_pin(World& w, const Actor& a, Pfn head, const char* site) {
  core::Model& m = w.model();
  const core::ZoneType z = m.frames().zone_of(head);  // a pfn's zone is fixed: no sync point
  const uint32_t pb = m.frames().pageblock_frames();
  const Pfn block = head & ~(pb - 1);
  const bool isolated = std::find(a.isolated.begin(), a.isolated.end(), block) != a.isolated.end();
  if (z != core::ZoneType::Movable && z != core::ZoneType::Device && !isolated) return;
  m.report(core::ViolationKind::LongtermPinMovable, head, site,
           std::string("GUP returned a FOLL_LONGTERM pin on a folio ") +
               (isolated ? "in a pageblock this actor holds isolated" : z == core::ZoneType::Movable ? "in ZONE_MOVABLE" : "in ZONE_DEVICE"));
}

namespace {

// Fast: GUP-fast first, and, as gup_fast_fallback() does, the slow path when
// it backs out (-EAGAIN): a FOLL_LONGTERM folio that is not pinnable is
// migrated there.
int gup_into_slot(World& w, Actor& a, const Op& op, bool fast, unsigned flags) {
  if (a.free_slot() < 0) return kSkipped;
  core::Mm& mm = w.model().mm(op.a[0]);
  core::GupResult r =
      fast ? core::get_user_page_fast(w.model(), mm, op.a[1], flags) : core::get_user_page(w.model(), mm, op.a[1], flags);
  const bool fell_back = fast && (flags & core::foll::longterm) && r.err == -EAGAIN;
  if (fell_back) r = core::get_user_page(w.model(), mm, op.a[1], flags);
  if (r.err != 0) return r.err;
  if (flags & core::foll::longterm)
    check_longterm_pin(w, a, r.head, !fast ? "pin_user_pages" : fell_back ? "pin_user_pages_fast:slow" : "pin_user_pages_fast");
  if (flags & core::foll::pin)
    return put_into_free_slot(w, a, Hold{HoldKind::Pin, r.head, r.page, 1, (flags & core::foll::longterm) != 0});
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, r.head, r.head, 1});
}

int op_get_user(World& w, Actor& a, const Op& op) { return gup_into_slot(w, a, op, false, core::foll::get); }
int op_gup_fast(World& w, Actor& a, const Op& op) { return gup_into_slot(w, a, op, true, core::foll::pin); }
int op_pin(World& w, Actor& a, const Op& op) { return gup_into_slot(w, a, op, false, core::foll::pin); }
int op_pin_longterm(World& w, Actor& a, const Op& op) {
  return gup_into_slot(w, a, op, false, core::foll::pin | core::foll::longterm);
}
int op_pin_fast_longterm(World& w, Actor& a, const Op& op) {
  return gup_into_slot(w, a, op, true, core::foll::pin | core::foll::longterm);
}

int op_unpin(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Pin);
  if (h == nullptr) return kSkipped;
  const Pfn page = h->page;
  *h = Hold{};
  core::unpin_user_page(w.model(), page);
  return 0;
}

int op_migrate(World& w, Actor&, const Op& op) {
  const Pfn head = core::pfn_walk_get(w.model(), op.a[0]);
  if (head == kNoPfn) return -EAGAIN;
  return core::migrate_folio(w.model(), head, zone_arg(op.a[1]));
}

// The pageblock scan of alloc_contig_range/compaction (core::compact_pageblock).
int op_compact(World& w, Actor&, const Op& op) {
  core::compact_pageblock(w.model(), op.a[0]);
  return 0;
}

// The *_recent ops: `Base` on the pfn of the folio touched n-th most
// recently (World::recent), so that arguments meet other actors' folios.
template <ExecFn Base>
int op_recent(World& w, Actor& a, const Op& op) {
  const Pfn p = w.recent(op.a[0]);
  if (p == kNoPfn) return kSkipped;
  Op o = op;
  o.a[0] = p;
  return Base(w, a, o);
}

// --- page cache ----------------------------------------------------------------

int op_cache_insert(World& w, Actor& a, const Op& op) {
  Hold* h = held(a, op.a[0], HoldKind::Ref);
  if (h == nullptr || !h->owned || !buddy_owned(w, h->head)) return kSkipped;  // see Hold::owned
  const uint32_t nr = core::folio_nr_pages(w.model(), h->head);
  return core::filemap_add_folio(w.model(), w.model().file(), h->head, op.a[1] & ~(nr - 1));
}

int op_cache_lookup(World& w, Actor& a, const Op& op) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn head = core::filemap_get_folio(w.model(), w.model().file(), op.a[0]);
  if (head == kNoPfn) return -ENOENT;
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, head, head, 1});
}

int op_cache_truncate(World& w, Actor&, const Op& op) {
  return core::truncate_folio(w.model(), w.model().file(), op.a[0]);
}

// --- guest_memfd ---------------------------------------------------------------

int op_gmem_populate(World& w, Actor&, const Op& op) { return w.model().gmem().populate(op.a[0]); }
int op_gmem_map(World& w, Actor&, const Op& op) {
  return w.model().gmem().fault_map(w.model().mm(op.a[1]), op.a[2], op.a[0]);
}
int op_gmem_convert(World& w, Actor&, const Op& op) {
  auto& g = w.model().gmem();
  // Count arguments are stored 0..3 and mean 1..4 (op.cpp).
  const uint32_t n = std::min<uint32_t>(op.a[1] + 1, g.size() - op.a[0]);
  return g.convert(op.a[0], n, op.a[2] != 0);
}
int op_gmem_punch(World& w, Actor&, const Op& op) { return w.model().gmem().punch_hole(op.a[0]); }

// --- hugetlb, ZONE_DEVICE, PageOffline and hotplug, free page reporting ------

int op_huge_alloc(World& w, Actor& a, const Op&) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn head = w.model().hugetlb().alloc_hugetlb_folio();
  if (head == kNoPfn) return -ENOMEM;
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, head, head, 1});
}
int op_huge_dissolve(World& w, Actor&, const Op& op) {
  const Pfn head = w.model().hugetlb().free_folio_at(op.a[0]);
  return head == kNoPfn ? -ENOENT : w.model().hugetlb().dissolve_free_hugetlb_folio(head);
}
// dissolve_free_hugetlb_folio() on the folio of an arbitrary pfn, as memory
// offlining, memory-failure and alloc_contig_range do: it may find a folio
// that is not (yet) on the pool's free list.
int op_huge_dissolve_pfn(World& w, Actor&, const Op& op) {
  return w.model().hugetlb().dissolve_free_hugetlb_folio(op.a[0]);
}
int op_huge_demote(World& w, Actor&, const Op& op) {
  const Pfn head = w.model().hugetlb().free_folio_at(op.a[0]);
  return head == kNoPfn ? -ENOENT : w.model().hugetlb().demote_free_hugetlb_folio(head);
}
int op_dev_alloc(World& w, Actor& a, const Op&) {
  if (a.free_slot() < 0) return kSkipped;
  const Pfn head = w.model().pgmap().dev_alloc();
  if (head == kNoPfn) return -ENOMEM;
  return put_into_free_slot(w, a, Hold{HoldKind::Ref, head, head, 1});
}
int op_pgmap_teardown(World& w, Actor&, const Op&) { return w.model().pgmap().memunmap_pages(); }
int op_pgmap_map(World& w, Actor&, const Op&) { return w.model().pgmap().memremap_pages(); }
int op_offline_alloc(World& w, Actor&, const Op& op) {
  const Pfn p = w.model().offline_driver().offline_alloc(zone_arg(op.a[0]));
  if (p == kNoPfn) return -ENOMEM;
  w.note_recent(p);  // the page walkers and offlining race on (seed 000)
  return 0;
}
int op_offline_free(World& w, Actor&, const Op& op) { return w.model().offline_driver().offline_free(op.a[0]); }
int op_block_offline(World& w, Actor&, const Op& op) {
  return w.model().hotplug().offline_pages(w.model().frames().block_of(op.a[0]));
}
int op_block_online(World& w, Actor&, const Op& op) {
  return w.model().hotplug().online_pages(w.model().frames().block_of(op.a[0]), op.a[1]);
}
int op_report_cycle(World& w, Actor&, const Op&) { return w.model().reporting().report_cycle() > 0 ? 0 : -ENOENT; }

constexpr ArgSpec kSlot{"slot", ArgKind::Slot};
constexpr ArgSpec kZone{"zone", ArgKind::Zone};
constexpr ArgSpec kOrder{"order", ArgKind::Order};
constexpr ArgSpec kPfn{"pfn", ArgKind::Pfn};
constexpr ArgSpec kMmA{"mm", ArgKind::Mm};
constexpr ArgSpec kPte{"pte", ArgKind::Pte};
constexpr ArgSpec kNone{nullptr, ArgKind::Slot};
constexpr ArgSpec kPage{"page", ArgKind::SubPage};
constexpr ArgSpec kFileIdx{"index", ArgKind::FileIndex};
constexpr ArgSpec kGmemIdx{"index", ArgKind::GmemIndex};
constexpr ArgSpec kCount{"count", ArgKind::Count};
constexpr ArgSpec kPrivate{"private", ArgKind::Bool};
constexpr ArgSpec kNth{"nth", ArgKind::Count};
constexpr ArgSpec kWithhold{"withhold", ArgKind::Count};
constexpr ArgSpec kRecent{"recent", ArgKind::Slot};  // 0 .. World::kRecent-1: newest first

constexpr std::array<ArgSpec, kMaxArgs> A(ArgSpec a = kNone, ArgSpec b = kNone, ArgSpec c = kNone, ArgSpec d = kNone) {
  return {a, b, c, d};
}

}  // namespace

const std::vector<OpSpec>& op_table() {
  static const std::vector<OpSpec> table = {
      {"alloc", 2, A(kZone, kOrder), op_alloc, "allocate a folio (refcount 1) into a free slot"},
      {"alloc_frozen", 2, A(kZone, kOrder), op_alloc_frozen, "allocate a frozen folio (refcount 0)"},
      {"get", 1, A(kSlot), op_get, "folio_get on a held folio"},
      {"put", 1, A(kSlot), op_put, "folio_put on a held folio"},
      {"try_get", 1, A(kPfn), op_try_get, "speculative get on a pfn, kept if the re-check passes"},
      {"pfn_walk", 1, A(kPfn), op_pfn_walk, "speculative get on a pfn, re-check, put"},
      {"freeze", 1, A(kSlot), op_freeze, "folio_ref_freeze to the references held"},
      {"unfreeze", 1, A(kSlot), op_unfreeze, "folio_ref_unfreeze"},
      {"free_frozen", 1, A(kSlot), op_free_frozen, "free_frozen_pages"},
      {"split", 1, A(kSlot), op_split, "split_folio into order-0 folios"},
      {"isolate", 1, A(kPfn), op_isolate, "isolate the pageblock of a pfn"},
      {"unisolate", 0, A(), op_unisolate, "undo this actor's last isolation"},
      {"map", 4, A(kSlot, kMmA, kPte, kPage), op_map, "map a page of a held folio at mm/pte"},
      {"unmap", 2, A(kMmA, kPte), op_unmap, "zap the PTE at mm/pte"},
      {"write", 2, A(kMmA, kPte), op_write, "user write through mm/pte"},
      {"read", 2, A(kMmA, kPte), op_read, "user read through mm/pte"},
      {"get_user", 2, A(kMmA, kPte), op_get_user, "GUP FOLL_GET (slow path)"},
      {"gup_fast", 2, A(kMmA, kPte), op_gup_fast, "GUP-fast FOLL_PIN"},
      {"pin", 2, A(kMmA, kPte), op_pin, "GUP FOLL_PIN (slow path)"},
      {"pin_longterm", 2, A(kMmA, kPte), op_pin_longterm, "GUP FOLL_PIN|FOLL_LONGTERM"},
      {"unpin", 1, A(kSlot), op_unpin, "unpin_user_page"},
      {"migrate", 2, A(kPfn, kZone), op_migrate, "isolate the folio of a pfn and migrate it"},
      {"cache_insert", 2, A(kSlot, kFileIdx), op_cache_insert,
       "add a folio this actor allocated (alloc, split) to the file's page cache"},
      {"cache_lookup", 1, A(kFileIdx), op_cache_lookup,
       "speculative page-cache lookup into a slot"},
      {"cache_truncate", 1, A(kFileIdx), op_cache_truncate,
       "truncate the folio at an index"},
      {"gmem_populate", 1, A(kGmemIdx), op_gmem_populate,
       "allocate guest_memfd backing (shared)"},
      {"gmem_map", 3, A(kGmemIdx, kMmA, kPte), op_gmem_map, "host fault on a guest_memfd page"},
      {"gmem_convert", 3, A(kGmemIdx, kCount, kPrivate),
       op_gmem_convert, "convert guest_memfd pages shared<->private"},
      {"gmem_punch", 1, A(kGmemIdx), op_gmem_punch,
       "punch a hole in guest_memfd"},
      {"huge_alloc", 0, A(), op_huge_alloc, "alloc_hugetlb_folio from the pool (grown when empty) into a slot"},
      {"huge_dissolve", 1, A(kNth), op_huge_dissolve, "dissolve the nth free hugetlb folio to the buddy"},
      {"huge_demote", 1, A(kNth), op_huge_demote, "demote the nth free hugetlb folio into two halves"},
      {"dev_alloc", 0, A(), op_dev_alloc, "a driver allocates a ZONE_DEVICE folio into a slot"},
      {"pgmap_map", 0, A(), op_pgmap_map, "memremap_pages: populate the DEVICE zone's pgmap"},
      {"pgmap_teardown", 0, A(), op_pgmap_teardown, "memunmap_pages: wait for idle device folios"},
      {"offline_alloc", 1, A(kZone), op_offline_alloc, "fake-offline a page taken from the buddy (PageOffline)"},
      {"offline_free", 1, A(kNth), op_offline_free, "give the nth PageOffline page back to the buddy"},
      {"block_offline", 1, A(kPfn), op_block_offline, "offline_pages on the memory block of a pfn"},
      {"block_online", 2, A(kPfn, kWithhold), op_block_online,
       "online_pages on the memory block of a pfn, withholding pages as PageOffline"},
      {"report_cycle", 0, A(), op_report_cycle, "one free page reporting cycle"},
      // Appended, so that the codes of the ops above stay what they were.
      {"huge_dissolve_pfn", 1, A(kPfn), op_huge_dissolve_pfn,
       "dissolve_free_hugetlb_folio on the folio of a pfn (offlining, memory-failure)"},
      {"pin_fast_longterm", 2, A(kMmA, kPte), op_pin_fast_longterm,
       "pin_user_pages_fast FOLL_PIN|FOLL_LONGTERM (GUP-fast, the slow path when it backs out)"},
      {"compact", 1, A(kPfn), op_compact, "isolate the pageblock of a pfn and migrate what is movable out of it (alloc_contig_range's scan)"},
      {"try_get_recent", 1, A(kRecent), op_recent<op_try_get>, "try_get on the folio touched n-th most recently"},
      {"pfn_walk_recent", 1, A(kRecent), op_recent<op_pfn_walk>, "pfn_walk on the folio touched n-th most recently"},
      {"migrate_recent", 2, A(kRecent, kZone), op_recent<op_migrate>,
       "migrate the folio touched n-th most recently"},
      {"compact_recent", 1, A(kRecent), op_recent<op_compact>,
       "compact on the pageblock of the folio touched n-th most recently"},
      {"huge_dissolve_recent", 1, A(kRecent), op_recent<op_huge_dissolve_pfn>,
       "dissolve_free_hugetlb_folio on the folio touched n-th most recently"},
      {"block_offline_recent", 1, A(kRecent), op_recent<op_block_offline>,
       "offline_pages on the memory block of the folio touched n-th most recently"},
  };
  return table;
}

}  // namespace refhammer::harness
