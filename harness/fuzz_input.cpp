// harness::fuzz_input — see fuzz_input.hpp.
#include "harness/fuzz_input.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "harness/rng.hpp"
#include "harness/sched.hpp"

namespace refhammer::harness {
namespace {

std::vector<uint8_t> codes(std::initializer_list<const char*> names) {
  std::vector<uint8_t> out;
  for (const char* n : names) {
    const int c = op_code(n);
    if (c < 0) {
      // A renamed op is a programming error in this table: fail loudly at
      // start-up rather than fuzz a silently narrower op set.
      std::fprintf(stderr, "fuzz_input: the op table has no op '%s'\n", n);
      std::abort();
    }
    out.push_back(static_cast<uint8_t>(c));
  }
  return out;
}

std::vector<FuzzTargetSpec> make_targets() {
  std::vector<FuzzTargetSpec> t;
  t.push_back({"fuzz_program", "one actor, sequential programs over the whole op language", 1, 1, FuzzSched::None, 256, 0, {}});
  t.push_back({"fuzz_schedule", "2-4 actors, the whole op language, PCT priorities and change points from the bytes", 2, 4,
               FuzzSched::Pct, 24, 0, {}});
  t.push_back({"fuzz_schedule_raw", "2-4 actors, the whole op language, one byte per scheduling decision", 2, 4,
               FuzzSched::Raw, 24, 0, {}});
  t.push_back({"fuzz_schedule_switch", "2-4 actors, the whole op language, context switches (step, actor) from the bytes",
               2, 4, FuzzSched::Switch, 24, 0, {}});
  // Weak memory (issue #17): the ordering mutants need one preemption and
  // one stale read on 2-3 actors, so short programs; PCT bytes, whose
  // change points are scaled into the run (a switch target's 16-bit step
  // deltas mostly land past its end).
  t.push_back({"fuzz_weak", "2-3 actors under weak memory: refcounts, mappings, GUP, page cache, guest_memfd; PCT priorities and change points (scaled into the run, so a mutation moves a preemption) and stale reads from the bytes",
               2, 3, FuzzSched::Pct, 8, 0,
               codes({"alloc", "map", "unmap", "put", "get", "try_get", "pfn_walk", "split", "get_user", "gup_fast",
                      "pin", "unpin", "cache_insert", "cache_lookup", "cache_truncate", "gmem_populate", "gmem_map",
                      "gmem_punch", "gmem_convert", "try_get_recent", "pfn_walk_recent", "migrate_recent"}),
               true});
  // Focused targets: one subsystem's ops plus the generic references and
  // pfn walkers that race with them.
  t.push_back({"fuzz_offline", "PageOffline and memory offlining against speculative references and migration", 2, 3,
               FuzzSched::Anchor, 12, 0,
               codes({"offline_alloc", "offline_free", "block_offline", "block_online", "try_get", "pfn_walk", "put",
                      "get", "alloc", "map", "unmap", "migrate", "try_get_recent", "pfn_walk_recent", "compact_recent",
                      "block_offline_recent"})});
  t.push_back({"fuzz_device", "ZONE_DEVICE folios: get/put, mappings, pins, pgmap teardown", 2, 3, FuzzSched::Anchor, 12, 0,
               codes({"dev_alloc", "pgmap_map", "pgmap_teardown", "get", "put", "try_get", "pfn_walk", "map", "get_user",
                      "gup_fast", "pin", "unpin", "unmap", "try_get_recent", "pfn_walk_recent"})});
  t.push_back({"fuzz_hugetlb", "hugetlb pool: alloc, dissolve, demote against speculative gets on heads and tails", 2, 3,
               FuzzSched::Anchor, 12, 0,
               codes({"huge_alloc", "huge_dissolve", "huge_dissolve_pfn", "huge_demote", "try_get", "pfn_walk", "get",
                      "put", "map", "unmap", "pin", "unpin", "migrate", "huge_dissolve_recent", "try_get_recent",
                      "pfn_walk_recent", "compact_recent"})});
  t.push_back({"fuzz_reporting", "free page reporting against allocation, writes and speculative references", 2, 3,
               FuzzSched::Anchor, 12, 0,
               codes({"report_cycle", "alloc", "put", "write", "read", "map", "unmap", "get", "try_get", "pfn_walk",
                      "split", "try_get_recent", "pfn_walk_recent", "compact_recent"})});
  t.push_back({"fuzz_gmem", "guest_memfd: populate, map, convert, punch against (long-term) pins", 2, 3, FuzzSched::Anchor,
               12, 0,
               codes({"gmem_populate", "gmem_map", "gmem_convert", "gmem_punch", "pin", "pin_longterm", "unpin",
                      "get_user", "gup_fast", "put", "unmap", "write"})});
  t.push_back({"fuzz_gup", "GUP pins and fast-GUP against unmap, migration and freezing", 2, 3, FuzzSched::Anchor, 12, 0,
               codes({"alloc", "map", "unmap", "write", "read", "get_user", "gup_fast", "pin", "pin_longterm", "unpin",
                      "migrate", "freeze", "unfreeze", "put", "try_get", "split", "pin_fast_longterm", "isolate",
                      "unisolate", "try_get_recent", "migrate_recent", "compact_recent"})});
  t.push_back({"fuzz_filemap", "page cache: insert, RCU lookup, truncate against references", 2, 3, FuzzSched::Anchor, 12, 0,
               codes({"alloc", "cache_insert", "cache_lookup", "cache_truncate", "put", "get", "try_get", "map",
                      "unmap", "pfn_walk", "try_get_recent", "pfn_walk_recent", "migrate_recent"})});
  return t;
}

uint64_t k_estimate(const Program& p) { return 24 * std::max<size_t>(1, p.total_ops()); }

}  // namespace

const std::vector<FuzzTargetSpec>& fuzz_targets() {
  static const std::vector<FuzzTargetSpec> t = make_targets();
  return t;
}

const FuzzTargetSpec* fuzz_target(std::string_view name) {
  for (const FuzzTargetSpec& t : fuzz_targets())
    if (name == t.name) return &t;
  return nullptr;
}

core::ModelConfig fuzz_model() {
  // Two memory blocks per zone, order-3 pageblocks: every pfn argument has
  // 80 values, so a walker or an offlining op lands on a page another op
  // just used often enough for races between them to be reachable.
  return model_from_fields("normal=32 movable=32 device=16 block=16 max_order=3 file_pages=8 gmem_pages=8 mm_slots=8");
}

std::string fuzz_model_from_env(core::ModelConfig& out) {
  out = fuzz_model();
  if (const char* d = std::getenv("REFHAMMER_DESIGN")) {
    std::string s(d);
    for (char& ch : s)
      if (ch == ',') ch = ' ';
    std::istringstream in(s);
    std::string w;
    while (in >> w) {
      const std::string e = parse_design_variant(w, out.design);
      if (!e.empty()) return "REFHAMMER_DESIGN: " + e;
    }
  }
  if (const char* mdl = std::getenv("REFHAMMER_MODEL")) {
    std::istringstream in(mdl);
    std::string w;
    while (in >> w) {
      const std::string e = parse_model_field(w, out);
      if (!e.empty()) return "REFHAMMER_MODEL: " + e;
    }
  }
  if (const char* b = std::getenv("REFHAMMER_BUGS")) {
    const std::string e = parse_bugs(b, out.bugs);
    if (!e.empty()) return "REFHAMMER_BUGS: " + e;
  }
  return out.validate();
}

FuzzCase decode_fuzz_input(const FuzzTargetSpec& t, const uint8_t* data, size_t size, const core::ModelConfig& cfg) {
  FuzzCase c;
  if (t.sched == FuzzSched::None) {
    c.program = decode_program(data, size, 1, cfg, t.ops, t.max_ops_per_actor);
    return c;
  }
  size_t i = 0;
  const unsigned span = t.max_actors - t.min_actors + 1u;
  const unsigned n = t.min_actors + (size > 0 ? data[i++] % span : 0);
  size_t len = 0;
  if (i < size) len = data[i++];
  if (i < size) len |= size_t{data[i++]} << 8;
  len = std::min(len, size - i);
  c.program = decode_program(data + i, len, n, cfg, t.ops, t.max_ops_per_actor);
  i += len;
  if (t.weak && i < size && data[i] >= 0x80) {
    ++i;
    if (i + 1 < size) {
      c.stale_random.per_mille = static_cast<uint16_t>(1 + data[i] % 128);
      c.stale_random.seed = data[i + 1];
    }
    i = std::min(i + 2, size);
  } else if (t.weak && i < size) {
    const unsigned k = data[i++] % 4;
    uint32_t load = 0;
    for (unsigned s = 0; s < k && i + 1 < size; ++s, i += 2) {
      load += data[i] + (s > 0 ? 1u : 0u);  // strictly ascending
      c.stale.push_back(StaleRead{load, static_cast<uint8_t>(1 + data[i + 1] % 3)});
    }
  }
  c.sched.assign(data + i, data + size);
  return c;
}

std::string encode_fuzz_input(const FuzzTargetSpec& t, const Program& p, const std::vector<uint8_t>& sched,
                              const core::ModelConfig& cfg, std::vector<uint8_t>& out, const StaleScript& stale) {
  const size_t n = p.actors.size();
  if (n < t.min_actors || n > t.max_actors)
    return std::string(t.name) + " takes " + std::to_string(t.min_actors) + ".." + std::to_string(t.max_actors) +
           " actors, the program has " + std::to_string(n);
  for (const auto& a : p.actors)
    if (a.size() > t.max_ops_per_actor)
      return std::string(t.name) + " runs at most " + std::to_string(t.max_ops_per_actor) + " ops per actor";
  std::vector<uint8_t> prog;
  if (!encode_program(p, cfg, t.ops, prog)) return std::string(t.name) + " cannot express an op of the program";
  out.clear();
  if (t.sched == FuzzSched::None) {
    out = std::move(prog);
    return {};
  }
  if (prog.size() > 0xffff) return "program too long";
  out.push_back(static_cast<uint8_t>(n - t.min_actors));
  out.push_back(static_cast<uint8_t>(prog.size()));
  out.push_back(static_cast<uint8_t>(prog.size() >> 8));
  out.insert(out.end(), prog.begin(), prog.end());
  if (t.weak) {
    if (stale.size() > 3) return std::string(t.name) + " takes at most 3 stale reads";
    out.push_back(static_cast<uint8_t>(stale.size()));
    uint32_t prev = 0;
    for (size_t s = 0; s < stale.size(); ++s) {
      const uint32_t gap = stale[s].load - prev - (s > 0 ? 1u : 0u);
      if ((s > 0 && stale[s].load <= prev) || gap > 255 || stale[s].back < 1 || stale[s].back > 3)
        return std::string(t.name) + " cannot express stale read " + std::to_string(stale[s].load) + ":" +
               std::to_string(stale[s].back) + " (ascending loads at most 255 apart, 1-3 back)";
      out.push_back(static_cast<uint8_t>(gap));
      out.push_back(static_cast<uint8_t>(stale[s].back - 1));
      prev = stale[s].load;
    }
  } else if (!stale.empty()) {
    return std::string(t.name) + " does not run weak memory";
  }
  out.insert(out.end(), sched.begin(), sched.end());
  return {};
}

namespace {

std::unique_ptr<DecisionSource> make_source(const FuzzTargetSpec& t, const FuzzCase& c) {
  const unsigned n = static_cast<unsigned>(c.program.actors.size());
  switch (t.sched) {
    case FuzzSched::Raw: return make_bytes_source(c.sched.data(), c.sched.size());
    case FuzzSched::Pct: return make_pct_bytes_source(c.sched.data(), c.sched.size(), n, k_estimate(c.program));
    case FuzzSched::Switch: return make_switch_bytes_source(c.sched.data(), c.sched.size());
    case FuzzSched::Anchor: {
      std::vector<size_t> ops;
      for (const auto& a : c.program.actors) ops.push_back(a.size());
      return make_anchor_bytes_source(c.sched.data(), c.sched.size(), ops);
    }
    case FuzzSched::None: break;
  }
  return make_bytes_source(nullptr, 0);  // one actor: the schedule is trivial
}

}  // namespace

RunResult run_fuzz_case(const FuzzTargetSpec& t, const FuzzCase& c, const core::ModelConfig& cfg,
                        InterleavingCoverage* icov) {
  RunOptions o;
  o.audit_every = t.audit_every;
  // One actor has no interleavings to count.
  if (c.program.actors.size() > 1) o.interleaving = icov;
  if (t.sched == FuzzSched::None) o.solo_batch = 256;
  o.weak_memory = t.weak;
  o.stale = c.stale;
  o.stale_random = c.stale_random;
  auto src = make_source(t, c);
  return run_deterministic(cfg, c.program, *src, o);
}

Trace fuzz_case_trace(const FuzzTargetSpec& t, const FuzzCase& c, const core::ModelConfig& cfg, const RunResult& r) {
  Trace tr;
  tr.model = cfg;
  tr.scheduler = SchedulerKind::Deterministic;
  tr.source = std::string(t.name) + (t.sched == FuzzSched::Pct      ? " pct-bytes"
                                     : t.sched == FuzzSched::Raw    ? " raw-bytes"
                                     : t.sched == FuzzSched::Switch ? " switch-bytes"
                                     : t.sched == FuzzSched::Anchor ? " anchor-bytes"
                                                                    : "");
  if (t.sched == FuzzSched::Pct) tr.source += " d=" + std::to_string(r.d);
  tr.audit_every = t.audit_every;
  tr.expect_clean = r.clean();
  if (!r.clean()) tr.expect_signature = r.report.signature;
  tr.program = c.program;
  tr.has_schedule = true;
  tr.schedule = r.schedule;
  tr.weak_memory = r.weak_memory;
  tr.stale = r.stale;  // the stale reads the run took
  return tr;
}

// --- structure-aware mutation ----------------------------------------------------

namespace {

// A random op of the target's op set (code fixed when `code` >= 0), with
// arguments uniform in their ranges: decoded from random bytes, so it is
// exactly what the byte encoding can express.
bool random_op(const FuzzTargetSpec& t, const core::ModelConfig& cfg, Rng& rng, int code, Op& out) {
  const size_t nops = t.ops.empty() ? op_table().size() : t.ops.size();
  uint8_t bytes[16];
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.below(256));
  if (code >= 0) {
    size_t sel = static_cast<size_t>(code);
    if (!t.ops.empty()) {
      const auto it = std::find(t.ops.begin(), t.ops.end(), static_cast<uint8_t>(code));
      if (it == t.ops.end()) return false;
      sel = static_cast<size_t>(it - t.ops.begin());
    }
    bytes[0] = static_cast<uint8_t>(sel);
  } else {
    bytes[0] = static_cast<uint8_t>(rng.below(static_cast<uint32_t>(nops)));
  }
  const Program p = decode_program(bytes, sizeof bytes, 1, cfg, t.ops, 1);
  if (p.actors[0].empty()) return false;
  out = p.actors[0][0];
  return true;
}

// Arguments that name a shared object: the same value in two actors' ops
// makes them meet. (Slots are an actor's own ledger; zones and orders are
// not objects.)
bool meets(ArgKind k) {
  return k == ArgKind::Pfn || k == ArgKind::Mm || k == ArgKind::Pte || k == ArgKind::FileIndex ||
         k == ArgKind::GmemIndex;
}

struct ArgRef {
  unsigned actor;
  size_t op;
  unsigned arg;
};

std::vector<ArgRef> meeting_args(const Program& p) {
  std::vector<ArgRef> out;
  for (unsigned a = 0; a < p.actors.size(); ++a)
    for (size_t i = 0; i < p.actors[a].size(); ++i) {
      const OpSpec& s = op_spec(p.actors[a][i].code);
      for (unsigned k = 0; k < s.nargs; ++k)
        if (meets(s.args[k].kind)) out.push_back({a, i, k});
    }
  return out;
}

ArgKind kind_of(const Program& p, const ArgRef& r) {
  return op_spec(p.actors[r.actor][r.op].code).args[r.arg].kind;
}

// Gives one shared-object argument the value of another op's argument of
// the same kind, preferring another actor's.
bool meet_args(Program& p, Rng& rng) {
  const std::vector<ArgRef> args = meeting_args(p);
  if (args.size() < 2) return false;
  const ArgRef to = args[rng.below(static_cast<uint32_t>(args.size()))];
  std::vector<ArgRef> from, other;
  for (const ArgRef& r : args) {
    if ((r.actor == to.actor && r.op == to.op) || kind_of(p, r) != kind_of(p, to)) continue;
    (r.actor != to.actor ? other : from).push_back(r);
  }
  const std::vector<ArgRef>& pool = !other.empty() ? other : from;
  if (pool.empty()) return false;
  const ArgRef f = pool[rng.below(static_cast<uint32_t>(pool.size()))];
  uint32_t& v = p.actors[to.actor][to.op].a[to.arg];
  const uint32_t nv = p.actors[f.actor][f.op].a[f.arg];
  if (v == nv) return false;
  v = nv;
  return true;
}

}  // namespace

bool structured_mutation_applies(const FuzzTargetSpec& t) { return t.sched != FuzzSched::None && !t.weak; }

bool mutate_fuzz_case(const FuzzTargetSpec& t, const core::ModelConfig& cfg, FuzzCase& c, uint64_t seed) {
  if (!structured_mutation_applies(t)) return false;
  Rng rng(seed);
  Program& p = c.program;
  const unsigned n = static_cast<unsigned>(p.actors.size());
  if (n == 0) return false;
  const bool anchors = t.sched == FuzzSched::Anchor;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const unsigned a = rng.below(n);
    std::vector<Op>& ops = p.actors[a];
    switch (rng.below(anchors ? 9 : 6)) {
      case 0: {  // insert a random op
        Op op;
        if (ops.size() >= t.max_ops_per_actor || !random_op(t, cfg, rng, -1, op)) break;
        ops.insert(ops.begin() + rng.below(static_cast<uint32_t>(ops.size() + 1)), op);
        if (rng.chance(1, 2)) meet_args(p, rng);
        return true;
      }
      case 1:  // delete an op
        if (ops.empty() || p.total_ops() < 2) break;
        ops.erase(ops.begin() + rng.below(static_cast<uint32_t>(ops.size())));
        return true;
      case 2:  // two shared-object arguments meet
        if (meet_args(p, rng)) return true;
        break;
      case 3: {  // copy an op to another actor
        if (ops.empty() || n < 2) break;
        const unsigned b = (a + 1 + rng.below(n - 1)) % n;
        if (p.actors[b].size() >= t.max_ops_per_actor) break;
        const Op op = ops[rng.below(static_cast<uint32_t>(ops.size()))];
        p.actors[b].insert(p.actors[b].begin() + rng.below(static_cast<uint32_t>(p.actors[b].size() + 1)), op);
        return true;
      }
      case 4: {  // move an op within its actor
        if (ops.size() < 2) break;
        const uint32_t from = rng.below(static_cast<uint32_t>(ops.size()));
        const Op op = ops[from];
        ops.erase(ops.begin() + from);
        ops.insert(ops.begin() + rng.below(static_cast<uint32_t>(ops.size() + 1)), op);
        return true;
      }
      case 5: {  // new arguments for one op (same code)
        if (ops.empty()) break;
        Op& op = ops[rng.below(static_cast<uint32_t>(ops.size()))];
        Op fresh;
        if (op_spec(op.code).nargs == 0 || !random_op(t, cfg, rng, op.code, fresh)) break;
        op = fresh;
        return true;
      }
      case 6:
      case 7: {  // add an anchored switch: early sync points of an op are the usual windows
        if (c.sched.size() >= 64) break;
        const uint8_t j = static_cast<uint8_t>(rng.chance(3, 4) ? rng.below(12) : rng.below(64));
        const uint8_t add[4] = {static_cast<uint8_t>(a), static_cast<uint8_t>(rng.below(t.max_ops_per_actor)), j,
                                static_cast<uint8_t>(rng.below(256))};
        const size_t at = 4 * rng.below(static_cast<uint32_t>(c.sched.size() / 4 + 1));
        c.sched.resize(c.sched.size() / 4 * 4);  // whole switches only
        c.sched.insert(c.sched.begin() + static_cast<std::ptrdiff_t>(std::min(at, c.sched.size())), add, add + 4);
        return true;
      }
      case 8: {  // drop an anchored switch, or move one by a few sync points
        const size_t nsw = c.sched.size() / 4;
        if (nsw == 0) break;
        const size_t i = 4 * rng.below(static_cast<uint32_t>(nsw));
        if (rng.chance(1, 3)) {
          c.sched.erase(c.sched.begin() + static_cast<std::ptrdiff_t>(i),
                        c.sched.begin() + static_cast<std::ptrdiff_t>(i + 4));
        } else {
          const int delta = static_cast<int>(rng.below(5)) - 2;
          c.sched[i + 2] = static_cast<uint8_t>((c.sched[i + 2] % 64 + 64 + delta) % 64);
        }
        return true;
      }
    }
  }
  return false;
}

bool cross_fuzz_cases(const FuzzTargetSpec& t, const FuzzCase& a, const FuzzCase& b, FuzzCase& out, uint64_t seed) {
  if (!structured_mutation_applies(t)) return false;
  Rng rng(seed);
  const size_t n = std::max(a.program.actors.size(), b.program.actors.size());
  if (n < 2) return false;
  out = FuzzCase{};
  out.program.actors.resize(n);
  bool from_a = false, from_b = false;
  for (size_t i = 0; i < n; ++i) {
    const bool take_a = i >= b.program.actors.size() || (i < a.program.actors.size() && rng.chance(1, 2));
    out.program.actors[i] = take_a ? a.program.actors[i] : b.program.actors[i];
    (take_a ? from_a : from_b) = true;
  }
  if (!from_a || !from_b) {  // all from one parent: take one actor from the other
    const size_t i = rng.below(static_cast<uint32_t>(std::min(a.program.actors.size(), b.program.actors.size())));
    out.program.actors[i] = from_a ? b.program.actors[i] : a.program.actors[i];
  }
  out.sched = rng.chance(1, 2) ? a.sched : b.sched;
  return out.program.total_ops() > 0;
}

std::string read_file_bytes(const std::string& path, std::vector<uint8_t>& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return path + ": cannot open";
  out.clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  return bad ? path + ": read error" : std::string();
}

}  // namespace refhammer::harness
