// harness::Op — the op language: one action of one actor.
//
// Every action the core offers is one entry of the op table (ops.cpp): its
// name, its arguments (each a kind with a range that depends on the model's
// configuration), and its executor. Text and binary encodings, parsing,
// printing and argument clamping are generic over the table, so adding an op
// is one table entry.
//
// Text form (one line): `t1 pin_longterm mm=0 pte=3` — actor, name, args.
// Binary form (fuzzer bytes): per op one byte for the actor (multi-actor
// programs) and one for the op (each taken modulo its range), then one byte
// per argument, modulo the argument's range. Every byte string decodes to a
// valid program: a truncated op is dropped.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/types.hpp"

namespace refhammer::harness {

inline constexpr unsigned kMaxArgs = 4;
inline constexpr unsigned kActorSlots = 8;  // ledger slots per actor
inline constexpr unsigned kMaxActors = 8;

enum class ArgKind : uint8_t {
  Slot,       // an actor's ledger slot, 0 .. kActorSlots-1
  Zone,       // normal | movable
  Order,      // 0 .. max_page_order
  Pfn,        // any frame
  Mm,         // 0 .. nr_mms-1
  Pte,        // 0 .. mm_slots-1
  FileIndex,  // 0 .. file_pages-1
  GmemIndex,  // 0 .. gmem_pages-1
  Count,      // 1 .. 4
  Bool,       // 0 | 1
  SubPage,    // page offset within a folio, 0 .. 2^max_page_order - 1 (taken modulo the folio's size)
};

uint32_t arg_range(ArgKind k, const core::ModelConfig& cfg);
const char* arg_kind_name(ArgKind k);

struct ArgSpec {
  const char* name;
  ArgKind kind;
};

struct Op {
  uint8_t code = 0;                   // index into the op table
  std::array<uint32_t, kMaxArgs> a{};  // argument values, in range
  bool operator==(const Op&) const = default;
};

// A program: each actor's ops, in program order.
struct Program {
  std::vector<std::vector<Op>> actors;
  size_t total_ops() const;
  // The ops of the actor with the most.
  size_t longest() const;
  // Each actor's last n ops (all of them when it has fewer).
  Program suffix(size_t n) const;
  bool operator==(const Program&) const = default;
};

class World;
class Actor;
// Runs one op for one actor. Returns 0, a negative errno, or kSkipped.
using ExecFn = int (*)(World& w, Actor& a, const Op& op);
inline constexpr int kSkipped = 1;  // the op named a slot the actor does not hold

struct OpSpec {
  const char* name;
  uint8_t nargs;
  std::array<ArgSpec, kMaxArgs> args;
  ExecFn exec;
  const char* help;
};

// The table (ops.cpp).
const std::vector<OpSpec>& op_table();
// The oracle's check after GUP returned a FOLL_LONGTERM pin on `head` to
// actor `a` (both GUP paths): the folio is not in ZONE_MOVABLE or
// ZONE_DEVICE, nor in a pageblock `a` holds isolated (which stays isolated
// while `a` runs the op). Reports longterm-pin-movable at `site`.
void check_longterm_pin(World& w, const Actor& a, core::Pfn head, const char* site);
const OpSpec& op_spec(uint8_t code);
// Code of the op named `name`, or -1.
int op_code(std::string_view name);

// "pin_longterm mm=0 pte=3" (no actor prefix).
std::string format_op(const Op& op);
// Parses "pin_longterm mm=0 pte=3". Empty error on success.
std::string parse_op(std::string_view text, const core::ModelConfig& cfg, Op& out);
// Clamps every argument into its range (after a configuration change).
Op clamp_op(const Op& op, const core::ModelConfig& cfg);

// Binary encoding. `nactors` is fixed by the caller (the fuzz target's first
// byte, or the trace); decode never fails.
//
// `ops` narrows the op byte to a subset of the table (focused fuzz targets):
// the byte selects ops[byte % ops.size()]; empty means the whole table.
// Encoding a program with an op outside `ops` fails (returns false).
// Ops beyond `max_ops_per_actor` for an actor are dropped when decoding.
std::vector<uint8_t> encode_program(const Program& p, const core::ModelConfig& cfg);
bool encode_program(const Program& p, const core::ModelConfig& cfg, const std::vector<uint8_t>& ops,
                    std::vector<uint8_t>& out);
Program decode_program(const uint8_t* data, size_t size, unsigned nactors, const core::ModelConfig& cfg);
Program decode_program(const uint8_t* data, size_t size, unsigned nactors, const core::ModelConfig& cfg,
                       const std::vector<uint8_t>& ops, uint32_t max_ops_per_actor);

}  // namespace refhammer::harness
