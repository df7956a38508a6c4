// fuzz/fuzz_trace — the trace parser and replay on arbitrary text. It must
// never crash, hang or leak: malformed text gets an error string, a parsed
// trace is replayed on the deterministic scheduler (whatever scheduler its
// header names, so no threads), within limits that keep one input fast.
// A violation the trace asks for is its verdict, not a finding: this target
// tests the tools, not the core.
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/engine.hpp"
#include "harness/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace refhammer::harness;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Trace t;
  const std::string err = parse_trace(text, "fuzz.trace", t);
  if (!err.empty()) {
    // The error names the file and line (parse_trace's contract).
    if (err.rfind("fuzz.trace:", 0) != 0) __builtin_trap();
    return 0;
  }
  // A valid trace round-trips through the writer.
  Trace again;
  if (!parse_trace(write_trace(t), "again.trace", again).empty()) __builtin_trap();
  if (!(again.program == t.program) || again.schedule != t.schedule) __builtin_trap();
  const uint64_t frames = uint64_t{t.model.normal_frames} + t.model.movable_frames + t.model.device_frames;
  if (frames > 4096 || t.program.total_ops() > 256 || schedule_steps(t.schedule) > 1'000'000) return 0;
  RunOptions o;
  o.audit_every = t.audit_every;
  o.max_steps = 2'000'000;
  o.livelock_steps = 50'000;
  auto src = t.has_schedule ? make_recorded_source(t.schedule) : make_random_source(t.seed);
  (void)run_deterministic(t.model, t.program, *src, o);
  return 0;
}
