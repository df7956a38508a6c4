// refhammer::stress::run_core_stress — workers on real threads racing the
// core's refcount primitives on shared frames, with quiescent audits.
//
// Each worker runs a random mix of: alloc (normal, large, frozen), get, put,
// publish a held folio in a shared slot (the slot holds a reference, like a
// page-cache entry), unpublish, speculative lookup through a slot
// (try_get + re-check the slot, the pagemap.h protocol), pfn walks
// (speculative get on an arbitrary frame's head, re-check, put), freeze /
// unfreeze / free-while-frozen of folios it holds alone, split of large
// folios, and pageblock isolation. Every `audit_every` ops, one worker stops
// the world (a spinning reader/writer gate, no OS blocking) and audits the
// model against the union of the workers' ledgers and the slots. At the end
// every worker releases everything, and the model must be back to all-free.
//
// This is the foundation's stress; the harness's op language and `refhammer
// stress` (stress issue) supersede its op mix, not its structure.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/probe.hpp"
#include "core/violation.hpp"

namespace refhammer::stress {

struct CoreStressOptions {
  // Op mix: Refcount = the foundation's primitives only; All = with
  // mappings, GUP, migration, page cache and guest_memfd.
  // Special = hugetlb, ZONE_DEVICE, PageOffline/offlining and free page
  // reporting racing pfn walkers and migration.
  enum class Profile { Refcount, All, Special };
  Profile profile = Profile::All;
  unsigned threads = 2;        // workers (a TBB arena of this many threads)
  double seconds = 5.0;        // wall-clock budget
  uint64_t max_ops = 0;        // total op budget over all workers; 0 = no limit
  uint64_t seed = 1;           // worker w seeds its Rng with seed + w
  uint64_t audit_every = 20000;  // ops between quiescent audits (all workers)
  unsigned slots = 16;         // shared publication slots
  core::ModelConfig model = small_model();
  // Test knob: at this global op count a worker takes a reference it does not
  // record (a planted leak) — the audit must catch it. 0 = never.
  uint64_t plant_leak_at_op = 0;
  // Print a progress line this often (seconds) to the progress stream; 0 = never.
  double progress_every = 0;

  static core::ModelConfig small_model() {
    core::ModelConfig m;
    m.normal_frames = 128;
    m.movable_frames = 128;
    m.device_frames = 32;
    m.block_frames = 32;
    m.max_page_order = 3;
    m.nr_mms = 2;
    m.mm_slots = 16;
    m.file_pages = 16;
    m.gmem_pages = 16;
    m.gmem_huge_order = 2;
    return m;
  }
};

struct CoreStressResult {
  uint64_t ops = 0;
  uint64_t audits = 0;
  double seconds = 0;
  uint64_t violations = 0;
  std::vector<core::Violation> first_violations;  // the first few, in report order
  std::string final_audit;                        // the teardown audit's summary
  bool final_all_free = false;                    // every buddy frame back in the buddy
  uint64_t probes[core::kNrProbes] = {};
  unsigned threads = 0;
  bool clean() const { return violations == 0 && final_all_free; }
};

CoreStressResult run_core_stress(const CoreStressOptions& opt, std::ostream* progress = nullptr);

// A multi-line human summary: what ran, throughput, audits, probes, verdict.
std::string describe(const CoreStressOptions& opt, const CoreStressResult& r);

}  // namespace refhammer::stress
