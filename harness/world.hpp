// harness::World and harness::Actor — one run's model and the actors that
// drive it, with the ledgers the oracle audits against.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "harness/op.hpp"

namespace refhammer::harness {

// What an actor holds in one ledger slot.
enum class HoldKind : uint8_t { Empty, Ref, Frozen, Pin };

struct Hold {
  HoldKind kind = HoldKind::Empty;
  core::Pfn head = core::kNoPfn;  // the folio
  core::Pfn page = core::kNoPfn;  // the pinned page (Pin)
  int32_t count = 0;              // references (Ref), the frozen count (Frozen), pins (Pin)
  bool longterm = false;          // a Pin taken with FOLL_LONGTERM
  // A Ref this actor allocated (alloc, and the pieces of a split of one), as
  // opposed to one taken on somebody else's folio (try_get, GUP, lookups).
  // Only a folio's owner adds it to a page cache: a kernel pfn walker never
  // does, and the folio it grabbed may be a migration's new folio, which
  // migration installs in the cache itself.
  bool owned = false;
};

// An actor: one logical thread of the harness. Its ledger (slots, isolated
// pageblocks) is written only by the actor itself while it runs an op, and
// read by the auditor when the world is stopped.
class Actor {
 public:
  uint8_t id = 0;
  std::vector<Op> program;
  size_t pc = 0;                      // ops completed
  int current = -1;                   // op in progress, -1 between ops
  std::array<Hold, kActorSlots> slots{};
  std::vector<core::Pfn> isolated;    // pageblocks this actor isolated
  std::vector<int> results;           // result of each completed op
  uint64_t writes = 0;
  // Open-ended drivers (stress) run ops that are not in `program`
  // (World::exec): the op in progress is `running`, with current ==
  // kOutsideProgram; `executed` counts them. Program-driven runs leave these
  // alone.
  Op running{};
  uint64_t executed = 0;

  int free_slot() const;
  bool done() const { return pc >= program.size(); }
};

inline constexpr int kOutsideProgram = -2;  // Actor::current while World::exec runs an op

class World {
 public:
  World(const core::ModelConfig& cfg, const Program& p);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  core::Model& model() { return *model_; }
  std::vector<Actor>& actors() { return actors_; }
  const core::ModelConfig& config() const { return cfg_; }

  // Runs the actor's next op; records its result. Precondition: !a.done().
  int step(Actor& a);
  // Runs `op` for the actor outside its program (open-ended drivers): the
  // result is returned, not recorded in `results`.
  int exec(Actor& a, const Op& op);
  // The union of the actors' ledgers (call only at quiescence).
  core::HolderLedger ledger() const;
  // Teardown (oracle level 3), step 1: the actor releases everything it holds.
  void release_all(Actor& a);
  // Teardown step 2: unmap every PTE, truncate the file, punch guest_memfd.
  void teardown_structures();
  // Teardown steps 1 and 2 for every actor.
  void teardown_all();
  // Teardown step 3, after teardown_all(): the audit with an empty ledger,
  // and every buddy frame must be free. The first finding, if any.
  std::optional<core::Violation> final_audit();

  // Folios the actors touched last (each hold taken, each mapping), newest
  // first: the `*_recent` ops name a frame by its age here, so that a fuzzer
  // mutating one byte makes two actors meet on the same folio (issue #16).
  // Harness bookkeeping, not model state: relaxed std::atomic, no sync
  // point, so existing schedules stay valid. Deterministic under the
  // deterministic engine (fuzzing, replay); the stress profiles do not use
  // the *_recent ops (under free threads the ring's order is timing).
  static constexpr uint32_t kRecent = 8;
  void note_recent(core::Pfn head) noexcept;
  // The n-th most recent (0: newest), or kNoPfn when fewer were noted.
  core::Pfn recent(uint32_t n) const noexcept;

 private:
  core::ModelConfig cfg_;
  std::unique_ptr<core::Model> model_;
  std::vector<Actor> actors_;
  std::array<std::atomic<core::Pfn>, kRecent> recent_{};
  std::atomic<uint32_t> recent_count_{0};
};

}  // namespace refhammer::harness
