// core::audit — structural and accounting checks at quiescence.
#include "core/audit.hpp"

#include <string>

#include "core/claimant.hpp"
#include "core/mm.hpp"
#include "core/model.hpp"

namespace core {

HolderLedger::HolderLedger(uint32_t nr_frames)
    : refs_(nr_frames, 0), pins_(nr_frames, 0), longterm_(nr_frames, 0), frozen_(nr_frames, nullptr) {}

void HolderLedger::add_longterm_pin(Pfn head, int64_t nr) {
  if (head < longterm_.size()) longterm_[head] += nr;
}

void HolderLedger::add_pin(Pfn head, int64_t nr) {
  if (head < pins_.size()) pins_[head] += nr;
}

void HolderLedger::add_ref(Pfn head, int64_t nr) {
  if (head < refs_.size()) refs_[head] += nr;
}

void HolderLedger::add_frozen(Pfn head, const char* holder) {
  if (head >= frozen_.size()) return;
  if (frozen_[head] != nullptr) double_frozen_.push_back(head);
  frozen_[head] = holder;
}

std::string AuditReport::summary() const {
  std::string s = clean() ? "clean" : std::to_string(violations.size()) + " violation(s)";
  s += ": " + std::to_string(free_frames) + " free frames, " + std::to_string(allocated_folios) +
       " allocated folios, " + std::to_string(frozen_folios) + " frozen folios, " + std::to_string(tail_frames) +
       " tail frames, " + std::to_string(unpopulated_frames) + " unpopulated device frames";
  return s;
}

namespace {

enum class Place : uint8_t { None, Buddy, Allocated, Tail, Frozen, Unpopulated };

struct Auditor {
  Model& m;
  const FrameTable& t;
  HolderLedger ledger;
  AuditReport r;
  std::vector<Place> place;

  Auditor(Model& model, const HolderLedger& in) : m(model), t(model.frames()), ledger(in), place(t.size(), Place::None) {}

  void add(ViolationKind k, Pfn p, const char* site, std::string detail) {
    r.violations.push_back(t.violation(k, p, site, std::move(detail)));
  }

  void check_free_lists() {
    const Buddy& b = m.buddy();
    for (ZoneType zt : {ZoneType::Normal, ZoneType::Movable}) {
      const Zone& z = b.zone(zt);
      uint32_t counted = 0;
      for (unsigned o = 0; o <= b.max_page_order(); ++o) {
        for (unsigned mti = 0; mti < kNrMigrateTypes; ++mti) {
          const auto mt = static_cast<MigrateType>(mti);
          const FreeArea& a = z.free_area[o][mti];
          uint32_t nr = 0;
          Pfn prev = kNoPfn;
          for (Pfn p = a.head; p != kNoPfn; p = t.frame(p).lru_next) {
            if (!z.span.contains(p)) {
              add(ViolationKind::BuddyCorrupt, t.pfn_valid(p) ? p : kNoPfn, "audit:free_list",
                  std::string("free list entry outside zone ") + zone_name(zt));
              break;
            }
            if (++nr > z.span.size()) {
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list", "cycle in a free list");
              break;
            }
            const Frame& f = t.frame(p);
            if (f.lru_prev != prev) add(ViolationKind::BuddyCorrupt, p, "audit:free_list", "broken back link");
            prev = p;
            if (static_cast<PageType>(f.page_type.peek()) != PageType::Buddy)
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list", "on a free list but not PageBuddy");
            if (f.order.peek() != o)
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list",
                  "on the order-" + std::to_string(o) + " list with order " + std::to_string(f.order.peek()));
            if ((p & ((1u << o) - 1)) != 0)
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list", "misaligned for order " + std::to_string(o));
            if (f.refcount.peek() != 0)
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list",
                  "free block head has refcount " + std::to_string(f.refcount.peek()));
            if (t.pageblock_migratetype_quiescent(p) != mt)
              add(ViolationKind::BuddyCorrupt, p, "audit:free_list",
                  std::string("on a ") + migratetype_name(mt) + " list in a " +
                      migratetype_name(t.pageblock_migratetype_quiescent(p)) + " pageblock");
            for (Pfn q = p; q < p + (1u << o) && q < z.span.end; ++q) {
              if (place[q] != Place::None)
                add(ViolationKind::DoubleOwner, q, "audit:free_list", "frame is in two free blocks");
              place[q] = Place::Buddy;
              if (q != p && t.frame(q).refcount.peek() != 0)
                add(ViolationKind::BuddyCorrupt, q, "audit:free_list",
                    "frame inside a free block has refcount " + std::to_string(t.frame(q).refcount.peek()));
            }
            counted += 1u << o;
          }
          if (nr != a.nr_free)
            add(ViolationKind::BuddyCorrupt, kNoPfn, "audit:free_list",
                std::string(zone_name(zt)) + " order " + std::to_string(o) + " " + migratetype_name(mt) +
                    ": nr_free " + std::to_string(a.nr_free) + " but " + std::to_string(nr) + " on the list");
        }
      }
      if (counted != z.nr_free_pages)
        add(ViolationKind::BuddyCorrupt, kNoPfn, "audit:free_list",
            std::string(zone_name(zt)) + ": nr_free_pages " + std::to_string(z.nr_free_pages) + " but " +
                std::to_string(counted) + " frames on its lists");
    }
  }

  std::vector<int64_t> mapped;  // present PTEs per folio head
  std::vector<int64_t> cached;  // page-cache references per folio head

  void check_structures() {
    mapped.assign(t.size(), 0);
    cached.assign(t.size(), 0);
    for (uint32_t i = 0; i < m.nr_mms(); ++i) {
      const Mm& mm = m.mm(i);
      for (uint32_t s = 0; s < mm.nr_slots(); ++s) {
        const uint64_t v = mm.pte(s).peek();
        if (v == 0) continue;
        const Pfn page = pte::pfn(v);
        if (!t.pfn_valid(page)) {
          add(ViolationKind::MappingCorrupt, kNoPfn, "audit:mm", "PTE names pfn " + std::to_string(page));
          continue;
        }
        if (pte::is_migration(v)) {
          add(ViolationKind::MappingCorrupt, page, "audit:mm",
              "migration entry left behind at mm " + std::to_string(i) + " slot " + std::to_string(s));
          continue;
        }
        mapped[t.frame(page).head.peek()]++;
        if (user_write_lost(mm.last_user_write(s), t.frame(page).payload.peek()))
          add(ViolationKind::DataLoss, page, "audit:mm",
              "mm " + std::to_string(i) + " slot " + std::to_string(s) + ": " +
                  describe_lost_write(mm.last_user_write(s), t.frame(page).payload.peek()));
      }
    }
    for (uint16_t id : {kFileMapping, kGmemMapping}) {
      const PageCache& pc = m.page_cache(id);
      for (uint32_t i = 0; i < pc.size(); ++i) {
        const Pfn h = pc.entry(i).peek();
        if (h == kNoPfn) continue;
        if (!t.pfn_valid(h)) {
          add(ViolationKind::MappingCorrupt, kNoPfn, "audit:page_cache", "entry names pfn " + std::to_string(h));
          continue;
        }
        const Frame& f = t.frame(h);
        const uint32_t nr = 1u << f.order.peek();
        if (f.mapping.peek() != id || i < f.index.peek() || i >= f.index.peek() + nr) {
          add(ViolationKind::MappingCorrupt, h, "audit:page_cache",
              "index " + std::to_string(i) + " names this folio, whose mapping/index are " +
                  std::to_string(f.mapping.peek()) + "/" + std::to_string(f.index.peek()));
          continue;
        }
        if (i == f.index.peek()) cached[h] += nr;
      }
    }
  }

  void check_frame(Pfn p) {
    const Frame& f = t.frame(p);
    const int32_t rc = f.refcount.peek();
    const int64_t pins = ledger.pins(p);
    const bool large = (f.flags.peek() & pg::head) != 0;
    const int64_t named = ledger.refs(p) + (large ? pins : pins * GUP_PIN_COUNTING_BIAS) + mapped[p] + cached[p];
    if (place[p] != Place::Buddy && !(f.flags.peek() & pg::tail)) {
      if (f.mapcount.peek() != mapped[p])
        add(ViolationKind::MapcountMismatch, p, "audit:accounting",
            "mapcount " + std::to_string(f.mapcount.peek()) + ", " + std::to_string(mapped[p]) + " PTE(s) map it");
      if (f.pincount.peek() != (large ? pins : 0))
        add(ViolationKind::PincountMismatch, p, "audit:accounting",
            "pincount " + std::to_string(f.pincount.peek()) + ", holders name " + std::to_string(pins) + " pin(s)");
      if (ledger.longterm_pins(p) > 0 && (t.zone_of(p) == ZoneType::Movable || t.zone_of(p) == ZoneType::Device))
        add(ViolationKind::LongtermPinMovable, p, "audit:accounting",
            std::to_string(ledger.longterm_pins(p)) + " FOLL_LONGTERM pin(s) on a folio in ZONE_" +
                (t.zone_of(p) == ZoneType::Movable ? "MOVABLE" : "DEVICE"));
      if (f.mapping.peek() != 0 && cached[p] == 0)
        add(ViolationKind::MappingCorrupt, p, "audit:page_cache",
            "folio->mapping is " + std::to_string(f.mapping.peek()) + " but no page-cache entry names it");
    }
    const char* frozen_by = ledger.frozen_holder(p);
    if (place[p] == Place::Buddy) {
      r.free_frames++;
      if (named != 0 || frozen_by != nullptr)
        add(ViolationKind::HeldButFree, p, "audit:accounting",
            frozen_by != nullptr ? std::string("free frame is held frozen by ") + frozen_by
                                 : "holders, PTEs or page caches name " + std::to_string(named) + " reference(s) on a free frame");
      return;
    }
    if (static_cast<PageType>(f.page_type.peek()) == PageType::Buddy) {
      add(ViolationKind::BuddyCorrupt, p, "audit:structure", "PageBuddy but on no free list");
      return;
    }
    if (f.flags.peek() & pg::tail) {
      r.tail_frames++;
      place[p] = Place::Tail;
      const Pfn h = f.head.peek();
      if (!t.pfn_valid(h) || h >= p || !(t.frame(h).flags.peek() & pg::head) ||
          h + (1u << t.frame(h).order.peek()) <= p)
        add(ViolationKind::TailCorrupt, p, "audit:structure",
            "tail names head " + std::to_string(h) + ", which does not cover it");
      if (rc != 0)
        add(ViolationKind::TailCorrupt, p, "audit:structure", "tail page has refcount " + std::to_string(rc));
      if (ledger.refs(p) != 0 || pins != 0 || frozen_by != nullptr || mapped[p] != 0 || cached[p] != 0)
        add(ViolationKind::TailCorrupt, p, "audit:accounting", "a holder names a tail page instead of its head");
      return;
    }
    if (rc > 0) {
      r.allocated_folios++;
      place[p] = Place::Allocated;
      if (frozen_by != nullptr)
        add(ViolationKind::DoubleOwner, p, "audit:accounting",
            std::string("held frozen by ") + frozen_by + " but refcount is " + std::to_string(rc));
      if (rc > named)
        add(ViolationKind::Leak, p, "audit:accounting",
            "refcount " + std::to_string(rc) + ", holders name " + std::to_string(named) + ": " +
                std::to_string(rc - named) + " reference(s) leaked");
      else if (rc < named)
        add(ViolationKind::RefcountDeficit, p, "audit:accounting",
            "refcount " + std::to_string(rc) + ", holders name " + std::to_string(named) + ": " +
                std::to_string(named - rc) + " reference(s) missing");
      return;
    }
    if (rc < 0) {
      add(ViolationKind::RefcountUnderflow, p, "audit:accounting", "negative refcount " + std::to_string(rc));
      return;
    }
    // rc == 0, not free, not a tail: frozen, or nowhere.
    if (frozen_by != nullptr) {
      r.frozen_folios++;
      place[p] = Place::Frozen;
      if (named != 0)
        add(ViolationKind::RefcountDeficit, p, "audit:accounting",
            std::string("frozen by ") + frozen_by + " yet holders name " + std::to_string(named) + " reference(s)");
      return;
    }
    if (named != 0) {
      add(ViolationKind::RefcountDeficit, p, "audit:accounting",
          "refcount 0, holders name " + std::to_string(named) + " reference(s)");
      return;
    }
    if (t.zone_of(p) == ZoneType::Device) {
      r.unpopulated_frames++;
      place[p] = Place::Unpopulated;
      return;
    }
    add(ViolationKind::LostFrame, p, "audit:structure",
        "refcount 0, not in the buddy, no holder: the frame is lost to the allocator");
  }

  void run() {
    for (unsigned o = 0; o < kNrOwners; ++o) {
      FolioOwnerOps* ops = m.owner_ops(static_cast<OwnerId>(o));
      if (ops != nullptr && o != static_cast<unsigned>(OwnerId::Buddy)) ops->audit_claims(m, ledger);
    }
    for (const FrameClaimant* c : m.claimants()) c->audit_claims(m, ledger);
    for (Pfn p : ledger.double_frozen())
      add(ViolationKind::DoubleOwner, p, "audit:accounting", "two holders own the same frozen folio");
    check_free_lists();
    check_structures();
    for (Pfn p = 0; p < t.size(); ++p) check_frame(p);
    for (unsigned o = 0; o < kNrOwners; ++o) {
      FolioOwnerOps* ops = m.owner_ops(static_cast<OwnerId>(o));
      if (ops != nullptr) ops->audit_check(m, ledger, r.violations);
    }
    for (const FrameClaimant* c : m.claimants()) c->audit_check(m, ledger, r.violations);
  }
};

}  // namespace

AuditReport audit(Model& m, const HolderLedger& ledger, bool report) {
  Auditor a(m, ledger);
  a.run();
  if (report)
    for (const Violation& v : a.r.violations) m.report(v);
  return std::move(a.r);
}

}  // namespace core
