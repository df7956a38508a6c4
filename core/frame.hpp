// core::Frame — the model's struct page, and its page_ref event history.
//
// Frame state machine (refcount column is Frame::refcount; see page_ref.hpp
// for the primitives that move between states):
//
// | state         | refcount | identity                                   | who may touch           |
// |---------------|----------|--------------------------------------------|-------------------------|
// | FREE_BUDDY    | 0        | PageBuddy head on a zone free list         | allocator, zone->lock   |
// | FREE_ISOLATED | 0        | off all lists (report, alloc_contig)       | the isolator            |
// | ALLOCATED     | n >= 1   | owner id, generation                       | any holder of a ref     |
// | PINNED        | n >= BIAS| ALLOCATED with pins (small folios)         | as ALLOCATED            |
// | FROZEN        | 0        | allocated, refcount-less (freeze, frozen   | the freezer only        |
// |               |          | alloc, hugetlb pool, PageOffline)          |                         |
// | FREEING       | 0        | owner's free path running                  | the last putter         |
// | TAIL          | 0 always | compound tail, Frame::head names the head  | nobody writes refcount  |
//
// Transitions: FREE->ALLOCATED by alloc (set_page_refcounted) or FREE->FROZEN
// by alloc_frozen_pages; ALLOCATED->FROZEN by folio_ref_freeze(expected);
// FROZEN->ALLOCATED by folio_ref_unfreeze(n); ALLOCATED->FREEING by the put
// that reaches zero; FREEING->FREE (or an owner's pool) in __folio_put.
// A refcount of 0 is ambiguous, so speculative getters use add-unless-zero
// and then re-check identity (generation, head, owner).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/atomic.hpp"
#include "core/types.hpp"

namespace core {

// Events recorded per frame, like the page_ref tracepoints of
// mm/debug_page_ref.c plus the allocator's own steps.
enum class RefEvent : uint8_t {
  Alloc, AllocFrozen, SetRefcounted, Get, TryGet, TryGetFail, Add, Put, PutLast,
  Freeze, FreezeFail, Unfreeze, Free, Split, Violation, OwnerFree, SetCount,
};
const char* ref_event_name(RefEvent e) noexcept;

struct PageRefRecord {
  RefEvent event;
  uint8_t actor;   // kNoActor when no harness actor ran it
  uint16_t seq;    // per-frame sequence number (wraps)
  int32_t count;   // refcount after the event (or the value involved)
};

// A small per-frame ring of recent events. Diagnostic only: it is not model
// state, so its atomics are plain std::atomic and are NOT sync points (they
// must not change the interleavings a scheduler explores). Writers use a
// relaxed load+store of the index rather than an RMW, to stay cheap enough
// for every build; under contention two writers may share a slot and one
// event is lost, as with an overrun trace buffer.
class PageRefHistory {
 public:
  static constexpr unsigned kSize = 8;

  void record(RefEvent ev, uint8_t actor, int32_t count) noexcept {
    if (!enabled_) return;
    // relaxed (all three): diagnostic ring, no reader relies on ordering;
    // snapshots sort by seq and tolerate a lost or torn-between-slots event.
    uint32_t i = next_.load(std::memory_order_relaxed);
    next_.store(i + 1, std::memory_order_relaxed);
    ring_[i % kSize].store(pack(ev, actor, static_cast<uint16_t>(i), count), std::memory_order_relaxed);
  }
  // Oldest first.
  std::vector<PageRefRecord> snapshot() const;
  void clear() noexcept;
  // Set once, before the frame is shared (ModelConfig::page_ref_history).
  void set_enabled(bool on) noexcept { enabled_ = on; }
  bool enabled() const noexcept { return enabled_; }

 private:
  bool enabled_ = true;
  static uint64_t pack(RefEvent ev, uint8_t actor, uint16_t seq, int32_t count) noexcept {
    return (uint64_t{1} << 63) | (uint64_t(ev) << 48) | (uint64_t(actor) << 40) |
           (uint64_t(seq) << 24) | (uint64_t(static_cast<uint32_t>(count)) & 0xffffffu);
  }
  std::atomic<uint32_t> next_{0};
  std::array<std::atomic<uint64_t>, kSize> ring_{};
};

struct Frame {
  // _refcount. For large folios only the head counts; tails stay 0.
  Atomic<int32_t> refcount;
  // Page-table mappings of this folio (head only). 0-based: the kernel's
  // _mapcount starts at -1; the model leaves that encoding out.
  Atomic<int32_t> mapcount;
  // _pincount: FOLL_PIN count on large folios (head only).
  Atomic<int32_t> pincount;
  // pg:: bits.
  Atomic<uint32_t> flags;
  // PageType. Written under the lock of the structure the frame enters
  // (zone lock for Buddy, pool locks for the others).
  Atomic<uint8_t> page_type;
  // Folio order on heads of allocated folios; buddy order on free heads.
  Atomic<uint8_t> order;
  // OwnerId: who frees this folio when its refcount reaches zero.
  Atomic<uint8_t> owner;
  // compound_head: the head's pfn; a head or small folio names itself.
  Atomic<Pfn> head;
  // Bumped on every allocation: lets speculative getters and the harness
  // tell "the same frame" from "the same folio".
  Atomic<uint32_t> generation;
  // A little data a holder writes and reads back, so lost data and
  // use-after-free are observable.
  Atomic<uint64_t> payload;
  // Page-cache membership (folio->mapping, folio->index): the file id
  // (0 = none) and the index in it. Written under that file's xa_lock with
  // the folio locked; read speculatively by migration and truncate, which
  // re-check under the lock.
  Atomic<uint16_t> mapping;
  Atomic<uint32_t> index;
  // RCU: a folio removed from a page cache may still be touched, without a
  // reference, by lookups that read the slot before the removal. It must not
  // be freed until grace period `rcu_free_after` has completed (0: no such
  // constraint). Checked on the free path.
  Atomic<uint64_t> rcu_free_after;

  // List links (buddy free list, pool free lists). Plain fields: only read
  // or written under the lock of the list the frame is on.
  Pfn lru_next = kNoPfn;
  Pfn lru_prev = kNoPfn;

  PageRefHistory history;

  void record(RefEvent ev, int32_t count) noexcept {
    if (history.enabled()) history.record(ev, current_actor(), count);  // no TLS read when off
  }
};

// A copy of a frame's fields, taken with peek() for dumps and reports.
struct FrameSnapshot {
  Pfn pfn = kNoPfn;
  int32_t refcount = 0, mapcount = 0, pincount = 0;
  uint32_t flags = 0, generation = 0;
  PageType page_type = PageType::None;
  uint8_t order = 0;
  OwnerId owner = OwnerId::Buddy;
  Pfn head = kNoPfn;
  ZoneType zone = ZoneType::Normal;
  std::vector<PageRefRecord> history;
};

}  // namespace core
