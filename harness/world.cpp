// harness::World — see world.hpp.
#include "harness/world.hpp"

#include "core/filemap.hpp"
#include "core/guest_memfd.hpp"
#include "core/gup.hpp"
#include "core/hugetlb.hpp"
#include "core/offline.hpp"
#include "core/page_ref.hpp"
#include "core/zone_device.hpp"

namespace refhammer::harness {

int Actor::free_slot() const {
  for (unsigned i = 0; i < kActorSlots; ++i)
    if (slots[i].kind == HoldKind::Empty) return static_cast<int>(i);
  return -1;
}

World::World(const core::ModelConfig& cfg, const Program& p) : cfg_(cfg), model_(std::make_unique<core::Model>(cfg)) {
  actors_.resize(p.actors.size());
  for (size_t i = 0; i < p.actors.size(); ++i) {
    actors_[i].id = static_cast<uint8_t>(i);
    actors_[i].program = p.actors[i];
  }
}

void World::note_recent(core::Pfn head) noexcept {
  // relaxed (both): harness bookkeeping, see world.hpp; the slot may be
  // overwritten by a concurrent note under free threads, which only makes
  // the ring less exact.
  const uint32_t i = recent_count_.fetch_add(1, std::memory_order_relaxed);
  recent_[i % kRecent].store(head, std::memory_order_relaxed);
}

core::Pfn World::recent(uint32_t n) const noexcept {
  const uint32_t count = recent_count_.load(std::memory_order_relaxed);  // relaxed: see note_recent()
  if (n >= kRecent || n >= count) return core::kNoPfn;
  return recent_[(count - 1 - n) % kRecent].load(std::memory_order_relaxed);  // relaxed: see note_recent()
}

int World::step(Actor& a) {
  const Op& op = a.program[a.pc];
  a.current = static_cast<int>(a.pc);
  const int r = op_spec(op.code).exec(*this, a, op);
  a.results.push_back(r);
  a.current = -1;
  ++a.pc;
  return r;
}

int World::exec(Actor& a, const Op& op) {
  a.running = op;
  a.current = kOutsideProgram;
  const int r = op_spec(op.code).exec(*this, a, op);
  a.current = -1;
  ++a.executed;
  return r;
}

core::HolderLedger World::ledger() const {
  core::HolderLedger l(model_->frames().size());
  for (const Actor& a : actors_) {
    for (const Hold& h : a.slots) {
      switch (h.kind) {
        case HoldKind::Ref: l.add_ref(h.head, h.count); break;
        case HoldKind::Frozen: l.add_frozen(h.head, "actor"); break;
        case HoldKind::Pin:
          l.add_pin(h.head, h.count);
          if (h.longterm) l.add_longterm_pin(h.head, h.count);
          break;
        case HoldKind::Empty: break;
      }
    }
  }
  return l;
}

void World::release_all(Actor& a) {
  core::Model& m = *model_;
  for (Hold& h : a.slots) {
    switch (h.kind) {
      case HoldKind::Ref:
        for (int32_t i = 0; i < h.count; ++i) core::put_page(m, h.head);
        break;
      case HoldKind::Frozen:
        // relaxed: frozen by us, the order is stable.
        core::free_frozen_pages(m, h.head, m.frame(h.head).order.load(std::memory_order_relaxed));
        break;
      case HoldKind::Pin:
        for (int32_t i = 0; i < h.count; ++i) core::unpin_user_page(m, h.page);
        break;
      case HoldKind::Empty: break;
    }
    h = Hold{};
  }
  const uint32_t pb = m.frames().pageblock_frames();
  for (core::Pfn start : a.isolated) m.buddy().undo_isolate_page_range(start, start + pb);
  a.isolated.clear();
}

void World::teardown_structures() {
  core::Model& m = *model_;
  for (uint32_t i = 0; i < m.nr_mms(); ++i)
    for (uint32_t s = 0; s < m.mm(i).nr_slots(); ++s) core::unmap_slot(m, m.mm(i), s);
  for (uint32_t i = 0; i < m.file().size(); ++i) core::truncate_folio(m, m.file(), i);
  for (uint32_t i = 0; i < m.gmem().size(); i += m.gmem().huge_pages()) m.gmem().punch_hole(i);
  // The special owners give their frames back: offline blocks come online,
  // PageOffline pages and the free hugetlb pool return to the buddy.
  m.hotplug().online_all();
  m.offline_driver().free_all();
  m.hugetlb().dissolve_all_free();
}

}  // namespace refhammer::harness

namespace refhammer::harness {

void World::teardown_all() {
  for (Actor& a : actors_) {
    a.current = -1;
    release_all(a);
  }
  teardown_structures();
}

std::optional<core::Violation> World::final_audit() {
  core::HolderLedger nothing(model_->frames().size());
  core::AuditReport rep = core::audit(*model_, nothing, false);
  if (!rep.clean()) return rep.violations.front();
  const uint32_t buddy_frames = cfg_.normal_frames + cfg_.movable_frames;
  if (rep.free_frames != buddy_frames) {
    core::Violation v;
    v.kind = core::ViolationKind::LostFrame;
    v.site = "teardown";
    v.detail = std::to_string(buddy_frames - rep.free_frames) + " frame(s) not back in the buddy after teardown";
    return v;
  }
  return std::nullopt;
}

}  // namespace refhammer::harness
