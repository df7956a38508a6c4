// harness::Trace — the versioned text trace: configuration, programs,
// schedule and expected verdict of one run. docs/trace-format.md documents
// the format; parse_trace() never crashes and reports `file:line: what`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"
#include "harness/sched.hpp"

namespace refhammer::harness {

inline constexpr int kTraceVersion = 1;

enum class SchedulerKind { Deterministic, Free, Perturb };
const char* scheduler_name(SchedulerKind k);

struct Trace {
  std::vector<std::string> comments;  // leading '#' lines (without '# '), kept on rewrite
  core::ModelConfig model;
  uint64_t seed = 0;
  SchedulerKind scheduler = SchedulerKind::Deterministic;
  std::string source;                 // how the schedule was chosen ("pct d=2 k=200 seed=95"): informational
  uint32_t audit_every = 0;
  bool expect_clean = true;
  std::string expect_signature;       // when !expect_clean
  Program program;
  bool has_schedule = false;
  Schedule schedule;
  // The sync-point order of a recorded real-thread run (harness/record.hpp):
  // one entry per sync point inside an op. Replay follows it on the
  // deterministic scheduler; it does not count the harness's own steps, so
  // it stays valid when the engine's gate or audits change.
  bool has_order = false;
  Schedule order;
  // Weak memory (harness/weak.hpp), `memory weak`: loads may read older
  // stores; `stale` names the loads that do. Absent: `memory sc`.
  bool weak_memory = false;
  StaleScript stale;
};

std::string write_trace(const Trace& t);
// Empty string on success; otherwise "file:line: what is wrong".
std::string parse_trace(std::string_view text, const std::string& filename, Trace& out);
// Reads and parses a file; same error convention (also for I/O errors).
std::string load_trace(const std::string& path, Trace& out);
// Writes `text` to `path` atomically (temp file in the same directory, then
// rename). Refuses to overwrite an existing file unless `overwrite`.
std::string write_file_atomic(const std::string& path, const std::string& text, bool overwrite);

// Runs a trace: a recorded sync-point order is followed on the
// deterministic scheduler (whatever the scheduler line says); otherwise
// deterministic traces replay their schedule (or, with none, the random
// source seeded by `seed`) and free/perturb traces run on threads.
RunResult run_trace(const Trace& t, unsigned repeat_index = 0);
// The options a trace's run takes (audits, seed, weak memory and its stale
// reads), for callers that run it their own way.
RunOptions trace_options(const Trace& t, unsigned repeat_index = 0);
// True when the result matches the trace's expected verdict.
bool verdict_matches(const Trace& t, const RunResult& r);

// Names for the design variants and catalog bugs in trace headers.
std::string format_bugs(uint64_t bugs);
std::string parse_bugs(std::string_view list, uint64_t& out);
std::string format_faults(const core::FaultConfig& f);
// One design variant "key=value" as in a trace's `design` line (and the
// CLI's --design): empty on success, else what is wrong and what is allowed.
std::string parse_design_variant(std::string_view kv, core::DesignConfig& d);
std::string format_design(const core::DesignConfig& d);
// "free_dispatch=owner-hook|per-type-checks, ...": every axis and its values
// (core/config.hpp's REFHAMMER_DESIGN_AXES), for help and error texts.
std::string design_variants_help();
// The "key=value" items of `d` that differ from `base` (defaults: the new
// designs), in axis order.
std::vector<std::string> design_diff(const core::DesignConfig& d, const core::DesignConfig& base = {});
// Every "key=value" a design line may hold (fuzz dictionaries).
std::vector<std::string> design_variant_words();
// One model field "name=value" as in a trace's `model` line (and the CLI's
// --model, REFHAMMER_MODEL): empty on success; the result must validate.
std::string parse_model_field(std::string_view kv, core::ModelConfig& m);
// The command-line options that turn model `base` into `cfg`: " --design
// k=v" per design axis, " --model f=v" per model field and " --bug name" per
// catalog bug that differ ("" when none). Repeat lines use it, so that they
// carry every setting that changes what runs.
std::string variant_options(const core::ModelConfig& cfg, const core::ModelConfig& base);
// A model written as a trace's model line ("normal=64 movable=64 ..."): the
// defaults with those fields set. For constants in code; a bad field throws
// std::invalid_argument naming it.
core::ModelConfig model_from_fields(std::string_view fields);
std::string parse_faults(std::string_view text, core::FaultConfig& out);

}  // namespace refhammer::harness
