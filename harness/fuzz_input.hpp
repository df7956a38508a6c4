// harness::fuzz_input — how a fuzzer's bytes become a run: the fuzz targets
// as data (one table), the byte layout, decoding and encoding.
//
// Shared by the libFuzzer entry points (fuzz/), `refhammer replay` of raw
// crash files and `refhammer minimize`, so that a crash file means the same
// run everywhere.
//
// Byte layout:
//  - sequential targets (one actor): the whole input is the program
//    (harness::decode_program with the target's op set).
//  - concurrent targets: byte 0 picks the number of actors (min..max),
//    bytes 1-2 (little endian) the length L of the program part, then L
//    program bytes, then the schedule bytes:
//      sched=raw: one byte per step, candidates[byte % size] (Bytes source);
//      sched=pct: PCT's depth, priorities and change points (PctBytes
//      source), so that a mutation moves one preemption instead of
//      scrambling the whole schedule;
//      sched=switch: context switches (3 bytes each: step delta, actor),
//      the current actor running in between (SwitchBytes source).
//    A weak-memory target (weak): between the program and the schedule,
//    byte K (K % 4 stale reads), then K pairs (gap, back): the stale read's
//    eligible load is the previous one's plus the gap (the first: the gap),
//    and it reads 1 + back % 3 stores before the newest it may read. A load
//    number past the run's eligible loads is not taken. K >= 0x80 instead:
//    random stale reads (StaleRandom), 2 bytes: rate R (each eligible load
//    is stale with probability (1 + R % 128) / 1000) and the PRNG's seed.
//  Every byte string decodes to a valid case; ops past a target's per-actor
//  cap are dropped (that bounds a run's steps).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "harness/engine.hpp"
#include "harness/op.hpp"
#include "harness/trace.hpp"

namespace refhammer::harness {

enum class FuzzSched : uint8_t { None, Raw, Pct, Switch, Anchor };

struct FuzzTargetSpec {
  const char* name;              // "fuzz_schedule": the binary and corpora/<name>/
  const char* help;
  uint8_t min_actors, max_actors;
  FuzzSched sched;
  uint32_t max_ops_per_actor;
  uint32_t audit_every;          // quiescent audits (0: teardown only)
  std::vector<uint8_t> ops;      // op codes the op byte selects from (all ops when built from an empty list)
  bool weak = false;             // weak memory, stale reads from the bytes (RunOptions::weak_memory)
};

// Every target. fuzz_trace (text in, parser + replay) is not in this table:
// its input is a trace, not a program.
const std::vector<FuzzTargetSpec>& fuzz_targets();
const FuzzTargetSpec* fuzz_target(std::string_view name);

// The model the fuzzers run: small zones so random pfns land on live frames.
core::ModelConfig fuzz_model();

// The model plus the design variants and catalog bugs named in the
// environment: REFHAMMER_DESIGN="offline=legacy free_dispatch=per-type-checks",
// REFHAMMER_BUGS="name,name" and model fields REFHAMMER_MODEL="refcount_limit=3000"
// (as in a trace's model line). Empty error on success.
std::string fuzz_model_from_env(core::ModelConfig& out);

struct FuzzCase {
  Program program;
  std::vector<uint8_t> sched;  // schedule bytes (concurrent targets)
  StaleScript stale;           // weak-memory targets: the stale reads to try
  StaleRandom stale_random;    // weak-memory targets: or random ones
};

FuzzCase decode_fuzz_input(const FuzzTargetSpec& t, const uint8_t* data, size_t size, const core::ModelConfig& cfg);
// The inverse for programs the target can express (its op set, actor
// range): seeds written as text traces become corpus files.
// Empty error on success.
// `stale`: a weak-memory target's stale reads (ascending loads, at most 3).
std::string encode_fuzz_input(const FuzzTargetSpec& t, const Program& p, const std::vector<uint8_t>& sched,
                              const core::ModelConfig& cfg, std::vector<uint8_t>& out, const StaleScript& stale = {});

// Structure-aware mutation (docs/fuzzing.md, "Structured mutations"): one
// change at the level of the program and its anchored switches, which a
// byte mutation rarely makes: insert, delete, move or copy an op to another
// actor, give an argument the value another op has for the same kind of
// argument (so two actors meet on one frame, file index or PTE), or add,
// drop or move an anchored switch. For the concurrent targets without weak
// memory; false when the case has nothing to change (the caller then
// mutates the bytes). `seed` makes it deterministic.
bool mutate_fuzz_case(const FuzzTargetSpec& t, const core::ModelConfig& cfg, FuzzCase& c, uint64_t seed);
// Crossover by actors: each actor's ops from `a` or `b`, the schedule from
// one of them. False when the targets' shapes do not allow it.
bool cross_fuzz_cases(const FuzzTargetSpec& t, const FuzzCase& a, const FuzzCase& b, FuzzCase& out, uint64_t seed);
// Whether mutate_fuzz_case applies to the target.
bool structured_mutation_applies(const FuzzTargetSpec& t);

// `icov`: count interleaving pairs there (the fuzz targets' extra counters,
// see InterleavingCoverage); the verdict does not depend on it.
RunResult run_fuzz_case(const FuzzTargetSpec& t, const FuzzCase& c, const core::ModelConfig& cfg,
                        InterleavingCoverage* icov = nullptr);

// The run as a text trace with its recorded schedule and verdict, replayable
// with `refhammer replay`.
Trace fuzz_case_trace(const FuzzTargetSpec& t, const FuzzCase& c, const core::ModelConfig& cfg, const RunResult& r);

// Reads a whole file (raw input); empty error on success.
std::string read_file_bytes(const std::string& path, std::vector<uint8_t>& out);

}  // namespace refhammer::harness
