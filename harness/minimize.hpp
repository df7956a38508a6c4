// harness::minimize — shrink a failing trace to the smallest trace that
// still fails with the same signature (delta debugging, Zeller and
// Hildebrandt, TSE 2002, over ops and over the schedule).
//
// Passes, iterated to a fixed point:
//  1. actors: drop a whole actor;
//  2. ops: ddmin over every op of every actor;
//  3. arguments: each argument towards 0 (smaller slots, pfns, orders, ...);
//  4. schedule: drop context switches (a slice of steps joins its actor's
//     previous or next slice), so fewer preemptions remain to read;
//  5. preemptions: a program of at most explore_max_ops ops whose schedule
//     still has more than 3 preemptions is explored with bounds 0, 1, 2, 3
//     (iterative context bounding, as CHESS does); the first bound that
//     fails the same way replaces the schedule.
// Then a last sweep checks 1-minimality: no single op and no single context
// switch can go.
//
// A candidate runs on the deterministic scheduler. Its schedule is the
// current one *projected*: the steps the removed ops (or actor) ran are cut
// out, every other op keeps its place in the interleaving. When the
// projection no longer fails (the race moved by a few steps) and the program
// is small, a bounded exploration with the current preemption bound looks
// for a schedule that does. A candidate that hangs (deadlock, step budget) or
// fails with another signature counts as "does not fail". Every accepted
// candidate's trace records the schedule that actually ran, so the result
// replays step for step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/trace.hpp"

namespace refhammer::harness {

struct MinimizeOptions {
  double seconds = 30;             // time budget (the result so far is kept)
  uint64_t max_candidates = 1'000'000;
  uint64_t explore_runs = 1500;    // bounded exploration per candidate that the projection misses
  size_t explore_max_ops = 10;     // ... only for programs this small
  uint64_t fewest_preemptions_runs = 20'000;  // per bound, the search for the fewest preemptions of a small program
  size_t sample_max_ops = 40;      // longer ones up to this: random schedules with 1-3 switches instead
  uint32_t sample_runs = 120;      // ... per switch count
  // Real-thread delta debugging of long programs with many preemptions (a
  // race recorded on real threads): a candidate is run on real threads,
  // recorded, up to `thread_attempts` times; a run that fails the same way
  // is kept once the deterministic engine, following its recorded order,
  // fails the same way too. At most `threads_share` of the budget; off with
  // thread_attempts = 0. (The result is then not the same on every run, but
  // it always replays: only deterministic failures are kept.)
  uint32_t thread_attempts = 48;
  double threads_share = 0.6;
  size_t threads_min_ops = 10;     // programs at most this long skip it
  std::function<void(uint64_t candidates, size_t ops, uint64_t preemptions, const char* pass)> progress;
};

struct MinimizeResult {
  bool ok = false;                 // the input failed deterministically and was minimized
  std::string error;               // why not, when !ok
  Trace trace;                     // the minimized trace (expects the signature)
  std::string signature;
  size_t actors_before = 0, actors_after = 0;
  size_t ops_before = 0, ops_after = 0;
  uint64_t preemptions_before = 0, preemptions_after = 0;
  uint64_t steps_before = 0, steps_after = 0;
  uint64_t candidates = 0;         // runs tried
  uint64_t accepted = 0;           // of which kept
  double seconds = 0;
  // A whole round of passes ran inside the budget and changed nothing: the
  // trace is a fixed point and 1-minimal (no single op or context switch can
  // go). False: the budget ran out first.
  bool fixed_point = false;
};

// `failing` must fail deterministically with its recorded schedule (or, with
// no schedule, with the round-robin default); a free/perturb trace first
// needs a deterministic schedule (find_deterministic_schedule).
MinimizeResult minimize_trace(const Trace& failing, const MinimizeOptions& o = {});

// For a trace from free-running threads: search schedules of its program on
// the deterministic scheduler (PCT with depth 1, 2, 3, then random) for its
// expected signature, within `seconds`. On success `out` is a deterministic
// trace with that schedule. Returns the number of runs tried.
uint64_t find_deterministic_schedule(const Trace& t, double seconds, Trace& out, bool& found);

// Delta debugging over a set (complement removal, Zeller and Hildebrandt's
// ddmin): `items` must fail; returns a subset that still fails and from
// which no single element can be removed (1-minimal), unless `stop` said
// so first. `fails` sees subsets in the items' order; it may keep state
// (a subset it accepts becomes the current set).
std::vector<size_t> ddmin(std::vector<size_t> items, const std::function<bool(const std::vector<size_t>&)>& fails,
                          const std::function<bool()>& stop = {});

// Replays `t` `n` times and counts the runs that give its expected verdict.
uint32_t reproduction_count(const Trace& t, uint32_t n);

}  // namespace refhammer::harness
