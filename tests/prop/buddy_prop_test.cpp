// properties of core/buddy.hpp — random alloc/free (and isolate/undo)
// sequences on a small model keep the allocator consistent, and everything
// merges back at the end.
//
// The model is small_config(): 64 NORMAL + 64 MOVABLE frames in order-3
// pageblocks, so sequences of ~100 operations exhaust zones, fall back from
// MOVABLE to NORMAL and fragment.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/audit.hpp"
#include "core/buddy.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "tests/support/rc_support.hpp"
#include "tests/support/support.hpp"

namespace {

using core::MigrateType;
using namespace refhammer_test;

constexpr uint32_t kPageblocks = 3 * kZoneFrames / kPageblock;  // 24, the last 8 in DEVICE

struct Op {
  enum class Kind : uint8_t { Alloc, AllocFrozen, Free, Isolate, Undo };
  Kind kind = Kind::Alloc;
  ZoneType zone = ZoneType::Normal;
  unsigned order = 0;
  uint32_t a = 0;  // Free: which held folio; Isolate/Undo: first pageblock
  uint32_t b = 1;  // Isolate/Undo: number of pageblocks
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  switch (op.kind) {
    case Op::Kind::Alloc: return os << "alloc(" << core::zone_name(op.zone) << ", " << op.order << ")";
    case Op::Kind::AllocFrozen: return os << "alloc_frozen(" << core::zone_name(op.zone) << ", " << op.order << ")";
    case Op::Kind::Free: return os << "free(#" << op.a << ")";
    case Op::Kind::Isolate: return os << "isolate(pageblocks " << op.a << "+" << op.b << ")";
    case Op::Kind::Undo: return os << "undo(pageblocks " << op.a << "+" << op.b << ")";
  }
  return os;
}

rc::Gen<Op> gen_op(bool with_isolation) {
  using K = Op::Kind;
  auto kinds = with_isolation
                   ? rc::gen::weightedElement<K>({{5, K::Alloc}, {2, K::AllocFrozen}, {3, K::Free}, {2, K::Isolate},
                                                  {1, K::Undo}})
                   : rc::gen::weightedElement<K>({{5, K::Alloc}, {2, K::AllocFrozen}, {3, K::Free}});
  // resize: the fields are uniform whatever the test size (inRange scales
  // with it); the size only sets how many operations there are.
  constexpr int kFull = 100;
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, kinds),
      rc::gen::set(&Op::zone, rc::gen::element(ZoneType::Normal, ZoneType::Movable)),
      rc::gen::set(&Op::order, rc::gen::resize(kFull, rc::gen::inRange(0u, kMaxOrder + 1))),
      rc::gen::set(&Op::a, rc::gen::resize(kFull, rc::gen::inRange<uint32_t>(0, kPageblocks))),
      rc::gen::set(&Op::b, rc::gen::resize(kFull, rc::gen::inRange<uint32_t>(1, 4))));
}

struct Held {
  Pfn pfn;
  unsigned order;
  bool frozen;
};

// The model under test plus what the test holds, with the checks run after
// every operation.
class World {
 public:
  void run(const Op& op) {
    switch (op.kind) {
      case Op::Kind::Alloc: alloc(op.zone, op.order, false); break;
      case Op::Kind::AllocFrozen: alloc(op.zone, op.order, true); break;
      case Op::Kind::Free: free(op.a); break;
      case Op::Kind::Isolate: isolate(op.a, op.b); break;
      case Op::Kind::Undo: undo(op.a, op.b); break;
    }
    check();
  }

  // Undo every isolation, free every held folio: all memory merges back.
  void drain() {
    m_.buddy().undo_isolate_page_range(0, m_.frames().size());
    isolated_.assign(kPageblocks, false);
    while (!held_.empty()) free(0);
    check();
    rc_assert_fully_merged(m_);
  }

  uint32_t failed_allocs() const { return failed_allocs_; }

 private:
  bool pageblock_isolated(Pfn p) const { return isolated_[p / kPageblock]; }

  void alloc(ZoneType z, unsigned order, bool frozen) {
    const Pfn p = frozen ? core::alloc_frozen_pages(m_, z, order) : core::alloc_pages(m_, z, order);
    if (p == core::kNoPfn) {
      ++failed_allocs_;
      // Nothing fit: no free block of at least `order` on an allocatable list
      // of a zone the request may use.
      for (ZoneType zz : {z, ZoneType::Normal}) {
        const MigrateType mt = m_.buddy().zone(zz).default_mt;
        for (unsigned k = order; k <= kMaxOrder; ++k) RC_ASSERT(nr_free_blocks(m_, zz, k, mt) == 0u);
      }
      return;
    }
    RC_ASSERT(p % (1u << order) == 0u);
    const ZoneType got = m_.frames().zone_of(p);
    if (z == ZoneType::Normal) {
      RC_ASSERT(got == ZoneType::Normal);
    } else if (got != ZoneType::Movable) {
      // fell back: only when MOVABLE had nothing that fits
      RC_ASSERT(got == ZoneType::Normal);
      for (unsigned k = order; k <= kMaxOrder; ++k)
        RC_ASSERT(nr_free_blocks(m_, ZoneType::Movable, k, MigrateType::Movable) == 0u);
    }
    RC_ASSERT(!pageblock_isolated(p));
    RC_ASSERT(refcount(m_, p) == (frozen ? 0 : 1));
    RC_ASSERT(m_.frame(p).order.peek() == order);
    held_.push_back(Held{p, order, frozen});
  }

  void free(uint32_t pick) {
    if (held_.empty()) return;
    const size_t i = pick % held_.size();
    const Held h = held_[i];
    held_[i] = held_.back();
    held_.pop_back();
    const ZoneType z = m_.frames().zone_of(h.pfn);
    const uint32_t before = m_.buddy().nr_free_pages(z);
    if (!h.frozen) {
      core::folio_put(m_, h.pfn);  // 1 --put--> 0 => buddy
    } else if (pick & 1) {
      core::folio_ref_unfreeze(m_, h.pfn, 1);  // 0 --unfreeze(1)--> 1 --put--> 0 => buddy
      core::folio_put(m_, h.pfn);
    } else {
      core::free_frozen_pages(m_, h.pfn, h.order);
    }
    RC_ASSERT(m_.buddy().nr_free_pages(z) == before + (1u << h.order));
  }

  // [first, first + n) in pageblocks, clipped to the memmap.
  std::pair<uint32_t, uint32_t> range(uint32_t first, uint32_t n) const {
    return {first, std::min(first + n, kPageblocks)};
  }
  static bool is_device(uint32_t pb) { return pb * kPageblock >= kDeviceStart; }

  void isolate(uint32_t first, uint32_t n) {
    const auto [lo, hi] = range(first, n);
    bool busy = false;
    for (uint32_t b = lo; b < hi; ++b) busy |= isolated_[b];
    const bool ok = m_.buddy().start_isolate_page_range(lo * kPageblock, hi * kPageblock);
    RC_ASSERT(ok == !busy);
    if (ok)
      for (uint32_t b = lo; b < hi; ++b) isolated_[b] = !is_device(b);
  }

  void undo(uint32_t first, uint32_t n) {
    const auto [lo, hi] = range(first, n);
    m_.buddy().undo_isolate_page_range(lo * kPageblock, hi * kPageblock);
    for (uint32_t b = lo; b < hi; ++b) isolated_[b] = false;
  }

  void check() {
    if (m_.violation_count() != 0) RC_FAIL("violations:" + describe(m_.violations()));

    // Held folios are disjoint, aligned, and each inside one zone.
    std::vector<int> owner(m_.frames().size(), -1);
    uint32_t held_in[2] = {0, 0};
    for (size_t i = 0; i < held_.size(); ++i) {
      const Held& h = held_[i];
      RC_ASSERT(h.pfn % (1u << h.order) == 0u);
      const ZoneType z = m_.frames().zone_of(h.pfn);
      RC_ASSERT(z != ZoneType::Device);
      for (Pfn f = h.pfn; f < h.pfn + (1u << h.order); ++f) {
        RC_ASSERT(owner[f] == -1);
        owner[f] = static_cast<int>(i);
        RC_ASSERT(m_.frames().zone_of(f) == z);
      }
      held_in[z == ZoneType::Normal ? 0 : 1] += 1u << h.order;
    }
    // Every frame is free or held.
    RC_ASSERT(m_.buddy().nr_free_pages(ZoneType::Normal) + held_in[0] == kZoneFrames);
    RC_ASSERT(m_.buddy().nr_free_pages(ZoneType::Movable) + held_in[1] == kZoneFrames);

    // Pageblock migratetypes follow the isolations; an isolated pageblock
    // tests isolated exactly when nothing in it is held.
    for (uint32_t b = 0; b < kPageblocks; ++b) {
      const Pfn start = b * kPageblock;
      const MigrateType mt = m_.frames().pageblock_migratetype_quiescent(start);
      if (isolated_[b]) {
        RC_ASSERT(mt == MigrateType::Isolate);
        bool any_held = false;
        for (Pfn f = start; f < start + kPageblock; ++f) any_held |= owner[f] != -1;
        RC_ASSERT(m_.buddy().test_pages_isolated(start, start + kPageblock) == !any_held);
      } else {
        RC_ASSERT(mt != MigrateType::Isolate);
      }
    }

    // The audit agrees with what the test holds.
    core::HolderLedger ledger(m_.frames().size());
    for (const Held& h : held_) {
      if (h.frozen)
        ledger.add_frozen(h.pfn, "test");
      else
        ledger.add_ref(h.pfn);
    }
    const core::AuditReport r = rc_audit_clean(m_, ledger);
    RC_ASSERT(r.free_frames + held_in[0] + held_in[1] == 2 * kZoneFrames);
  }

  core::Model m_{small_config()};
  std::vector<Held> held_;
  std::vector<bool> isolated_ = std::vector<bool>(kPageblocks, false);
  uint32_t failed_allocs_ = 0;
};

// About 4 * size operations: at full size, sequences are long enough to
// exhaust both zones and free most of it again. (scale, rather than a length
// drawn first, so that shrinking drops single operations.)
std::vector<Op> gen_ops(bool with_isolation) {
  return *rc::gen::scale(4.0, rc::gen::container<std::vector<Op>>(gen_op(with_isolation)));
}

// Runs a generated sequence (World::run checks the allocator after each op),
// tags whether a zone ran out, and drains: everything merges back.
void run_ops(bool with_isolation) {
  const auto ops = gen_ops(with_isolation);
  World w;
  for (const Op& op : ops) w.run(op);
  RC_TAG(w.failed_allocs() > 0 ? "a zone ran out" : "no zone ran out");
  w.drain();
}

RC_GTEST_PROP(BuddyProps, AllocFreeKeepsTheAllocatorConsistent, ()) { run_ops(false); }

RC_GTEST_PROP(BuddyProps, IsolatedPageblocksAreNeverHandedOut, ()) { run_ops(true); }

}  // namespace
