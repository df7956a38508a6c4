// harness::Trace — writer, parser, replay.
#include "harness/trace.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "core/bugs.hpp"

namespace refhammer::harness {

namespace {

// Indexed by SchedulerKind: the writer's names are the parser's.
constexpr const char* kSchedulerNames[] = {"deterministic", "free", "perturb"};
static_assert(std::size(kSchedulerNames) == static_cast<size_t>(SchedulerKind::Perturb) + 1);

// Each name in `word`, a comma list ("a,b,c"; empty names skipped), through
// `take`, which returns "" or an error: the first error, or "".
template <class Take>
std::string take_comma_list(std::string_view word, Take take) {
  while (!word.empty()) {
    const size_t comma = word.find(',');
    const std::string name(word.substr(0, comma));
    if (!name.empty()) {
      std::string e = take(name);
      if (!e.empty()) return e;
    }
    word = comma == std::string_view::npos ? std::string_view() : word.substr(comma + 1);
  }
  return {};
}

}  // namespace

const char* scheduler_name(SchedulerKind k) {
  const auto i = static_cast<size_t>(k);
  return i < std::size(kSchedulerNames) ? kSchedulerNames[i] : "?";
}

std::string format_bugs(uint64_t bugs) {
  std::string s;
  for (unsigned b = 0; b < core::kNrBugs; ++b)
    if (bugs & core::bug_bit(static_cast<core::Bug>(b))) {
      if (!s.empty()) s += ' ';
      s += core::bug_info(static_cast<core::Bug>(b)).name;
    }
  return s.empty() ? "none" : s;
}

std::string parse_bugs(std::string_view list, uint64_t& out) {
  out = 0;
  std::istringstream in{std::string(list)};
  std::string w;
  while (in >> w) {
    if (w == "none") continue;
    const std::string e = take_comma_list(w, [&out](const std::string& name) -> std::string {
      core::Bug b;
      if (!core::bug_by_name(name, b)) return "unknown bug '" + name + "' (see `refhammer bugs`)";
      out |= core::bug_bit(b);
      return {};
    });
    if (!e.empty()) return e;
  }
  return {};
}

std::string design_variants_help() {
  std::string s;
  for (unsigned a = 0; a < core::kNrDesignAxes; ++a) {
    const core::DesignAxis& x = core::design_axis(a);
    s += std::string(a ? ", " : "") + x.key + "=" + x.values[0] + "|" + x.values[1];
  }
  return s;
}

std::vector<std::string> design_variant_words() {
  std::vector<std::string> w;
  for (unsigned a = 0; a < core::kNrDesignAxes; ++a)
    for (const char* v : core::design_axis(a).values) w.push_back(std::string(core::design_axis(a).key) + "=" + v);
  return w;
}

std::vector<std::string> design_diff(const core::DesignConfig& d, const core::DesignConfig& base) {
  std::vector<std::string> out;
  for (unsigned a = 0; a < core::kNrDesignAxes; ++a)
    if (core::design_value(d, a) != core::design_value(base, a))
      out.push_back(std::string(core::design_axis(a).key) + "=" + core::design_axis(a).values[core::design_value(d, a)]);
  return out;
}

std::string parse_design_variant(std::string_view kv, core::DesignConfig& d) {
  const size_t eq = kv.find('=');
  for (unsigned a = 0; a < core::kNrDesignAxes && eq != std::string_view::npos; ++a) {
    const core::DesignAxis& x = core::design_axis(a);
    if (kv.substr(0, eq) != x.key) continue;
    for (uint8_t v = 0; v < 2; ++v)
      if (kv.substr(eq + 1) == x.values[v]) {
        core::set_design_value(d, a, v);
        return {};
      }
  }
  return "unknown design variant '" + std::string(kv) + "' (" + design_variants_help() + ")";
}

std::string format_design(const core::DesignConfig& d) {
  std::string s;
  for (unsigned a = 0; a < core::kNrDesignAxes; ++a) {
    const core::DesignAxis& x = core::design_axis(a);
    s += std::string(a ? " " : "") + x.key + "=" + x.values[core::design_value(d, a)];
  }
  return s;
}

std::string format_faults(const core::FaultConfig& f) {
  std::string s;
  for (unsigned i = 0; i < core::kNrFaultSites; ++i)
    if (f.sites & core::fault_bit(static_cast<core::FaultSite>(i))) {
      if (!s.empty()) s += ',';
      s += core::fault_site_name(static_cast<core::FaultSite>(i));
    }
  if (s.empty()) return "none";
  return s + " seed=" + std::to_string(f.seed) + " rate=" + std::to_string(f.rate);
}

std::string parse_faults(std::string_view text, core::FaultConfig& out) {
  out = core::FaultConfig{};
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) {
    if (w == "none") continue;
    if (w.rfind("seed=", 0) == 0 || w.rfind("rate=", 0) == 0) {
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(w.data() + 5, w.data() + w.size(), v);
      if (ec != std::errc() || p != w.data() + w.size()) return "fault option '" + w + "' is not a number";
      if (w[0] == 's') out.seed = v;
      else if (v == 0 || v > 1'000'000) return "fault rate must be 1..1000000";
      else out.rate = static_cast<uint32_t>(v);
      continue;
    }
    const std::string e = take_comma_list(w, [&out](const std::string& name) -> std::string {
      core::FaultSite f;
      if (!core::fault_site_by_name(name, f))
        return "unknown fault site '" + name + "' (alloc-fail, spurious-cas, delayed-grace-period, late-pin-drop)";
      out.sites |= core::fault_bit(f);
      return {};
    });
    if (!e.empty()) return e;
  }
  return {};
}

namespace {

// The model line's fields: name, getter, setter — one table for writer and parser.
struct ModelField {
  const char* name;
  uint64_t (*get)(const core::ModelConfig&);
  void (*set)(core::ModelConfig&, uint64_t);
  uint64_t max;
};

#define RH_FIELD(NAME, MEMBER, MAX)                                                   \
  ModelField {                                                                        \
    NAME, [](const core::ModelConfig& c) -> uint64_t { return uint64_t(c.MEMBER); },  \
        [](core::ModelConfig& c, uint64_t v) { c.MEMBER = static_cast<decltype(c.MEMBER)>(v); }, MAX \
  }

const ModelField kModelFields[] = {
    RH_FIELD("normal", normal_frames, 1u << 20),     RH_FIELD("movable", movable_frames, 1u << 20),
    RH_FIELD("device", device_frames, 1u << 20),     RH_FIELD("block", block_frames, 1u << 20),
    RH_FIELD("max_order", max_page_order, 10),       RH_FIELD("refcount_limit", refcount_limit, 2147483647u),
    RH_FIELD("mms", nr_mms, 64),                     RH_FIELD("mm_slots", mm_slots, 4096),
    RH_FIELD("file_pages", file_pages, 4096),        RH_FIELD("gmem_pages", gmem_pages, 4096),
    RH_FIELD("gmem_huge_order", gmem_huge_order, 10), RH_FIELD("gmem_convert_spins", gmem_convert_spins, 1u << 24),
    RH_FIELD("rcu_readers", rcu_readers, 1024),      RH_FIELD("migrate_passes", migrate_passes, 1000),
    RH_FIELD("hugetlb_order", hugetlb_order, 10),    RH_FIELD("hugetlb_dissolve_retries", hugetlb_dissolve_retries, 1u << 24),
    RH_FIELD("device_folio_order", device_folio_order, 10), RH_FIELD("pgmap_teardown_spins", pgmap_teardown_spins, 1u << 24),
    RH_FIELD("offline_passes", offline_passes, 1000), RH_FIELD("reporting_order", reporting_order, 10),
    RH_FIELD("reporting_capacity", reporting_capacity, 1024), RH_FIELD("reporting_budget", reporting_budget, 1024),
};
#undef RH_FIELD

bool parse_u64(std::string_view s, uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::string parse_model_field(std::string_view kv, core::ModelConfig& m) {
  const size_t eq = kv.find('=');
  if (eq == std::string_view::npos) return "model field '" + std::string(kv) + "' is not NAME=VALUE";
  const std::string_view name = kv.substr(0, eq);
  uint64_t v = 0;
  if (!parse_u64(kv.substr(eq + 1), v)) return "model field " + std::string(name) + " is not a number";
  for (const ModelField& f : kModelFields)
    if (name == f.name) {
      if (v > f.max) return "model field " + std::string(name) + "=" + std::to_string(v) + " is above " + std::to_string(f.max);
      core::ModelConfig c = m;
      f.set(c, v);
      const std::string bad = c.validate();
      if (!bad.empty()) return "model: " + bad;
      m = c;
      return {};
    }
  return "unknown model field '" + std::string(name) + "'";
}

std::string variant_options(const core::ModelConfig& cfg, const core::ModelConfig& base) {
  std::string s;
  for (const std::string& kv : design_diff(cfg.design, base.design)) s += " --design " + kv;
  for (const ModelField& f : kModelFields)
    if (f.get(cfg) != f.get(base)) s += std::string(" --model ") + f.name + "=" + std::to_string(f.get(cfg));
  for (unsigned b = 0; b < core::kNrBugs; ++b)
    if ((cfg.bugs & core::bug_bit(static_cast<core::Bug>(b))) && !(base.bugs & core::bug_bit(static_cast<core::Bug>(b))))
      s += std::string(" --bug ") + core::bug_info(static_cast<core::Bug>(b)).name;
  return s;
}

core::ModelConfig model_from_fields(std::string_view fields) {
  core::ModelConfig m;
  // Every field first, then one validation: the fields may come in any order
  // (normal= before block= would not validate on its own).
  for (std::string_view kv : words(fields)) {
    const size_t eq = kv.find('=');
    uint64_t v = 0;
    const ModelField* f = nullptr;
    for (const ModelField& mf : kModelFields)
      if (eq != std::string_view::npos && kv.substr(0, eq) == mf.name) f = &mf;
    if (f == nullptr || !parse_u64(kv.substr(eq + 1), v) || v > f->max)
      throw std::invalid_argument("model_from_fields: bad field '" + std::string(kv) + "'");
    f->set(m, v);
  }
  if (std::string bad = m.validate(); !bad.empty()) throw std::invalid_argument("model_from_fields: " + bad);
  return m;
}

std::string write_trace(const Trace& t) {
  std::ostringstream o;
  for (const std::string& c : t.comments) o << "# " << c << "\n";
  o << "refhammer-trace " << kTraceVersion << "\n";
  o << "model";
  for (const ModelField& f : kModelFields) o << " " << f.name << "=" << f.get(t.model);
  o << "\n";
  o << "design " << format_design(t.model.design) << "\n";
  o << "bugs " << format_bugs(t.model.bugs) << "\n";
  o << "faults " << format_faults(t.model.faults) << "\n";
  o << "seed " << t.seed << "\n";
  o << "scheduler " << scheduler_name(t.scheduler);
  if (!t.source.empty()) o << " source=" << t.source;
  o << "\n";
  o << "audit_every " << t.audit_every << "\n";
  if (t.weak_memory) o << "memory weak\n";
  if (t.expect_clean) o << "expect clean\n";
  else o << "expect violation " << t.expect_signature << "\n";
  o << "actors " << t.program.actors.size() << "\n";
  for (size_t a = 0; a < t.program.actors.size(); ++a)
    for (const Op& op : t.program.actors[a]) o << "t" << a << " " << format_op(op) << "\n";
  if (t.has_schedule) o << "schedule " << format_schedule(t.schedule) << "\n";
  if (t.has_order) o << "order " << format_schedule(t.order) << "\n";
  if (t.weak_memory && !t.stale.empty()) o << "stale " << format_stale(t.stale) << "\n";
  return o.str();
}

std::string parse_trace(std::string_view text, const std::string& filename, Trace& out) {
  out = Trace{};
  size_t lineno = 0, pos = 0;
  bool seen_version = false, seen_model = false, seen_actors = false;
  std::vector<std::pair<size_t, std::string>> op_lines;  // (line, text), parsed once the model is known
  auto err = [&](const std::string& what) { return filename + ":" + std::to_string(lineno) + ": " + what; };
  std::vector<std::string> seen_keys;
  size_t schedule_line = 0, order_line = 0, memory_line = 0, stale_line = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) return err("NUL byte in a text trace");
    const auto w = words(line);
    if (w.empty()) {
      if (nl == text.size()) break;
      continue;
    }
    if (w[0][0] == '#') {
      if (!seen_version) {
        std::string_view c = line.substr(line.find('#') + 1);
        if (!c.empty() && c[0] == ' ') c.remove_prefix(1);
        out.comments.emplace_back(c);
      }
      continue;
    }
    const std::string_view key = w[0];
    if (!seen_version) {
      if (key != "refhammer-trace") return err("expected 'refhammer-trace 1' first, found '" + std::string(key) + "'");
      uint64_t v;
      if (w.size() != 2 || !parse_u64(w[1], v)) return err("'refhammer-trace' needs one version number");
      if (v != kTraceVersion) return err("trace format version " + std::string(w[1]) + " is not supported (this build reads 1)");
      seen_version = true;
      continue;
    }
    if (key.size() >= 2 && key[0] == 't' && key[1] >= '0' && key[1] <= '9') {
      op_lines.emplace_back(lineno, std::string(line));
      continue;
    }
    for (const auto& k : seen_keys)
      if (k == key) return err("'" + std::string(key) + "' given twice");
    seen_keys.emplace_back(key);
    if (key == "model") {
      seen_model = true;
      for (size_t i = 1; i < w.size(); ++i) {
        const size_t eq = w[i].find('=');
        if (eq == std::string_view::npos) return err("model field '" + std::string(w[i]) + "' is not name=value");
        const std::string_view name = w[i].substr(0, eq);
        uint64_t v;
        if (!parse_u64(w[i].substr(eq + 1), v)) return err("model field " + std::string(name) + " is not a number");
        const ModelField* f = nullptr;
        for (const ModelField& m : kModelFields)
          if (name == m.name) f = &m;
        if (f == nullptr) return err("unknown model field '" + std::string(name) + "'");
        if (v > f->max) return err("model field " + std::string(name) + "=" + std::to_string(v) + " is above " + std::to_string(f->max));
        f->set(out.model, v);
      }
      const std::string bad = out.model.validate();
      if (!bad.empty()) return err("model: " + bad);
    } else if (key == "design") {
      for (size_t i = 1; i < w.size(); ++i) {
        const std::string e = parse_design_variant(w[i], out.model.design);
        if (!e.empty()) return err(e);
      }
    } else if (key == "bugs") {
      const std::string e = parse_bugs(line.substr(line.find("bugs") + 4), out.model.bugs);
      if (!e.empty()) return err(e);
    } else if (key == "faults") {
      const std::string e = parse_faults(line.substr(line.find("faults") + 6), out.model.faults);
      if (!e.empty()) return err(e);
    } else if (key == "seed") {
      if (w.size() != 2 || !parse_u64(w[1], out.seed)) return err("'seed' needs one number");
    } else if (key == "scheduler") {
      if (w.size() < 2) return err("'scheduler' needs deterministic, free or perturb");
      const auto* k = std::find(std::begin(kSchedulerNames), std::end(kSchedulerNames), w[1]);
      if (k == std::end(kSchedulerNames)) return err("unknown scheduler '" + std::string(w[1]) + "'");
      out.scheduler = static_cast<SchedulerKind>(k - std::begin(kSchedulerNames));
      const size_t src = line.find("source=");
      if (src != std::string_view::npos) out.source = std::string(line.substr(src + 7));
    } else if (key == "audit_every") {
      uint64_t v;
      if (w.size() != 2 || !parse_u64(w[1], v) || v > 1'000'000) return err("'audit_every' needs a number up to 1000000");
      out.audit_every = static_cast<uint32_t>(v);
    } else if (key == "expect") {
      if (w.size() == 2 && w[1] == "clean") out.expect_clean = true;
      else if (w.size() == 3 && w[1] == "violation") {
        out.expect_clean = false;
        out.expect_signature = std::string(w[2]);
      } else return err("'expect' needs 'clean' or 'violation SIGNATURE'");
    } else if (key == "actors") {
      uint64_t n;
      if (w.size() != 2 || !parse_u64(w[1], n) || n == 0 || n > kMaxActors)
        return err("'actors' needs a number from 1 to " + std::to_string(kMaxActors));
      out.program.actors.resize(n);
      seen_actors = true;
    } else if (key == "schedule") {
      const std::string e = parse_schedule(std::string(line.substr(line.find("schedule") + 8)), out.schedule);
      if (!e.empty()) return err(e);
      out.has_schedule = true;
      schedule_line = lineno;
    } else if (key == "order") {
      const std::string e = parse_schedule(std::string(line.substr(line.find("order") + 5)), out.order);
      if (!e.empty()) return err("order: " + e);
      out.has_order = true;
      order_line = lineno;
    } else if (key == "memory") {
      if (w.size() != 2 || (w[1] != "weak" && w[1] != "sc")) return err("'memory' needs 'weak' or 'sc'");
      out.weak_memory = w[1] == "weak";
      memory_line = lineno;
    } else if (key == "stale") {
      const std::string e = parse_stale(std::string(line.substr(line.find("stale") + 5)), out.stale);
      if (!e.empty()) return err(e);
      stale_line = lineno;
    } else {
      return err("unknown line '" + std::string(key) + "'");
    }
  }
  if (stale_line != 0 && !out.weak_memory) {
    lineno = stale_line;
    return err("'stale' reads need 'memory weak'" + std::string(memory_line != 0 ? " (the trace says 'memory sc')" : ""));
  }
  if (out.weak_memory && out.scheduler != SchedulerKind::Deterministic) {
    // Real threads run the hardware's memory model; only the deterministic
    // scheduler's weak-memory hook lets a load read an older store.
    lineno = memory_line;
    return err("'memory weak' needs 'scheduler deterministic': free and perturbed threads run the hardware's memory model");
  }
  lineno = 0;
  if (!seen_version) return err("empty trace: no 'refhammer-trace 1' line");
  if (!seen_model) return err("no 'model' line");
  if (!seen_actors) return err("no 'actors' line");
  for (const auto& [ln, text_line] : op_lines) {
    lineno = ln;
    std::string_view l = text_line;
    while (!l.empty() && (l[0] == ' ' || l[0] == '\t')) l.remove_prefix(1);
    size_t sp = l.find_first_of(" \t");
    uint64_t actor;
    if (!parse_u64(l.substr(1, sp == std::string_view::npos ? l.size() - 1 : sp - 1), actor))
      return err("bad actor prefix in '" + text_line + "'");
    if (actor >= out.program.actors.size())
      return err("actor t" + std::to_string(actor) + " but the trace has " + std::to_string(out.program.actors.size()) + " actor(s)");
    if (sp == std::string_view::npos) return err("op line without an op");
    Op op;
    const std::string e = parse_op(l.substr(sp + 1), out.model, op);
    if (!e.empty()) return err(e);
    out.program.actors[actor].push_back(op);
  }
  for (const Slice& s : out.schedule)
    if (s.actor >= out.program.actors.size()) {
      lineno = schedule_line;
      return err("schedule names actor " + std::to_string(s.actor) + ", beyond the trace's actors");
    }
  for (const Slice& s : out.order)
    if (s.actor >= out.program.actors.size()) {
      lineno = order_line;
      return err("order names actor " + std::to_string(s.actor) + ", beyond the trace's actors");
    }
  return {};
}

std::string load_trace(const std::string& path, Trace& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ":0: cannot open: " + std::strerror(errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return path + ":0: read error";
  const std::string text = ss.str();
  if (text.size() > (64u << 20)) return path + ":0: larger than 64 MiB, not a trace";
  return parse_trace(text, path, out);
}

std::string write_file_atomic(const std::string& path, const std::string& text, bool overwrite) {
  if (!overwrite && access(path.c_str(), F_OK) == 0) return path + ": exists; not overwriting it";
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return tmp + ": cannot create: " + std::strerror(errno);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return tmp + ": write failed";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = std::strerror(errno);
    std::remove(tmp.c_str());
    return path + ": rename failed: " + e;
  }
  return {};
}

RunOptions trace_options(const Trace& t, unsigned repeat_index) {
  RunOptions o;
  o.audit_every = t.audit_every;
  o.seed = t.seed + repeat_index;
  o.weak_memory = t.weak_memory;
  o.stale = t.stale;
  return o;
}

RunResult run_trace(const Trace& t, unsigned repeat_index) {
  RunOptions o = trace_options(t, repeat_index);
  if (t.has_order) {
    // A long recording must not hit the step budget before it ends.
    o.max_steps += schedule_steps(t.order);
    auto src = make_order_source(t.order);
    return run_deterministic(t.model, t.program, *src, o);
  }
  if (t.scheduler == SchedulerKind::Deterministic) {
    // Without a recorded schedule: the seeded random source (recorded as
    // `source=` only for information).
    if (t.has_schedule) o.max_steps += schedule_steps(t.schedule);
    auto src = t.has_schedule ? make_recorded_source(t.schedule) : make_random_source(t.seed);
    return run_deterministic(t.model, t.program, *src, o);
  }
  return run_threads(t.model, t.program, t.scheduler == SchedulerKind::Perturb, o);
}

bool verdict_matches(const Trace& t, const RunResult& r) {
  if (t.expect_clean) return r.clean();
  return !r.clean() && r.report.signature == t.expect_signature;
}

}  // namespace refhammer::harness
