// harness::Op — generic encodings over the op table.
#include "harness/op.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace refhammer::harness {

uint32_t arg_range(ArgKind k, const core::ModelConfig& cfg) {
  switch (k) {
    case ArgKind::Slot: return kActorSlots;
    case ArgKind::Zone: return 2;
    case ArgKind::Order: return cfg.max_page_order + 1u;
    case ArgKind::Pfn: return cfg.total_frames();
    case ArgKind::Mm: return cfg.nr_mms;
    case ArgKind::Pte: return cfg.mm_slots;
    case ArgKind::FileIndex: return cfg.file_pages == 0 ? 1 : cfg.file_pages;
    case ArgKind::GmemIndex: return cfg.gmem_pages == 0 ? 1 : cfg.gmem_pages;
    case ArgKind::Count: return 4;
    case ArgKind::Bool: return 2;
    case ArgKind::SubPage: return 1u << cfg.max_page_order;
  }
  return 1;
}

const char* arg_kind_name(ArgKind k) {
  switch (k) {
    case ArgKind::Slot: return "slot";
    case ArgKind::Zone: return "zone";
    case ArgKind::Order: return "order";
    case ArgKind::Pfn: return "pfn";
    case ArgKind::Mm: return "mm";
    case ArgKind::Pte: return "pte";
    case ArgKind::FileIndex: return "file index";
    case ArgKind::GmemIndex: return "guest_memfd index";
    case ArgKind::Count: return "count";
    case ArgKind::Bool: return "bool";
    case ArgKind::SubPage: return "page offset";
  }
  return "?";
}

size_t Program::total_ops() const {
  size_t n = 0;
  for (const auto& a : actors) n += a.size();
  return n;
}

size_t Program::longest() const {
  size_t n = 0;
  for (const auto& a : actors) n = std::max(n, a.size());
  return n;
}

Program Program::suffix(size_t n) const {
  Program out;
  out.actors.resize(actors.size());
  for (size_t a = 0; a < actors.size(); ++a) {
    const auto& ops = actors[a];
    out.actors[a].assign(ops.end() - static_cast<std::ptrdiff_t>(std::min(n, ops.size())), ops.end());
  }
  return out;
}

const OpSpec& op_spec(uint8_t code) { return op_table()[code % op_table().size()]; }

int op_code(std::string_view name) {
  const auto& t = op_table();
  for (size_t i = 0; i < t.size(); ++i)
    if (name == t[i].name) return static_cast<int>(i);
  return -1;
}

namespace {
// Count arguments are 1-based in text and semantics: stored 0..3, shown 1..4.
uint32_t shown(ArgKind k, uint32_t v) { return k == ArgKind::Count ? v + 1 : v; }
}  // namespace

std::string format_op(const Op& op) {
  const OpSpec& s = op_spec(op.code);
  std::string out = s.name;
  for (unsigned i = 0; i < s.nargs; ++i) {
    out += ' ';
    out += s.args[i].name;
    out += '=';
    if (s.args[i].kind == ArgKind::Zone) out += op.a[i] == 0 ? "normal" : "movable";
    else out += std::to_string(shown(s.args[i].kind, op.a[i]));
  }
  return out;
}

std::string parse_op(std::string_view text, const core::ModelConfig& cfg, Op& out) {
  out = Op{};
  size_t pos = 0;
  auto next_word = [&]() -> std::string_view {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') ++pos;
    return text.substr(start, pos - start);
  };
  const std::string_view name = next_word();
  if (name.empty()) return "missing op name";
  const int code = op_code(name);
  if (code < 0) return "unknown op '" + std::string(name) + "'";
  out.code = static_cast<uint8_t>(code);
  const OpSpec& s = op_spec(out.code);
  bool seen[kMaxArgs] = {};
  for (std::string_view w = next_word(); !w.empty(); w = next_word()) {
    const size_t eq = w.find('=');
    if (eq == std::string_view::npos) return "argument '" + std::string(w) + "' is not name=value";
    const std::string_view key = w.substr(0, eq), val = w.substr(eq + 1);
    unsigned i = 0;
    while (i < s.nargs && key != s.args[i].name) ++i;
    if (i == s.nargs) return std::string(s.name) + " has no argument '" + std::string(key) + "'";
    if (seen[i]) return "argument '" + std::string(key) + "' given twice";
    seen[i] = true;
    const ArgKind k = s.args[i].kind;
    uint32_t v = 0;
    if (k == ArgKind::Zone && (val == "normal" || val == "movable")) {
      v = val == "normal" ? 0 : 1;
    } else {
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
      if (ec != std::errc() || p != val.data() + val.size())
        return "argument " + std::string(key) + "='" + std::string(val) + "' is not a number";
      if (k == ArgKind::Count) {
        if (v == 0) return "argument " + std::string(key) + " must be at least 1";
        v -= 1;
      }
    }
    const uint32_t range = arg_range(k, cfg);
    if (v >= range)
      return "argument " + std::string(key) + "=" + std::string(val) + " is out of range (" + arg_kind_name(k) +
             " must be below " + std::to_string(shown(k, range)) + ")";
    out.a[i] = v;
  }
  for (unsigned i = 0; i < s.nargs; ++i)
    if (!seen[i]) return std::string(s.name) + " needs argument '" + s.args[i].name + "'";
  return {};
}

Op clamp_op(const Op& op, const core::ModelConfig& cfg) {
  Op o = op;
  const OpSpec& s = op_spec(o.code);
  for (unsigned i = 0; i < kMaxArgs; ++i) o.a[i] = i < s.nargs ? o.a[i] % arg_range(s.args[i].kind, cfg) : 0;
  return o;
}

// Binary: [actor byte if nactors > 1] [op byte] [arg bytes, little-endian:
// arg_bytes() per arg]. The program's actor count is not encoded; the
// caller supplies it.
namespace {
// One byte for small ranges; two for pfns (always, so that one encoding
// serves every table of up to 65536 frames) and ranges above 256; three
// when the range exceeds 65536 (the pfns of a larger model).
unsigned arg_bytes(ArgKind k, const core::ModelConfig& cfg) {
  const uint32_t range = arg_range(k, cfg);
  if (range > 65536) return 3;
  return k == ArgKind::Pfn || range > 256 ? 2 : 1;
}
}  // namespace
bool encode_program(const Program& p, const core::ModelConfig& cfg, const std::vector<uint8_t>& ops,
                    std::vector<uint8_t>& out) {
  // Interleave round-robin so that decode (which appends by the actor byte)
  // rebuilds the same per-actor order.
  out.clear();
  const unsigned n = static_cast<unsigned>(p.actors.size());
  std::vector<size_t> idx(n, 0);
  for (bool more = true; more;) {
    more = false;
    for (unsigned a = 0; a < n; ++a) {
      if (idx[a] >= p.actors[a].size()) continue;
      more = true;
      const Op& op = p.actors[a][idx[a]++];
      if (n > 1) out.push_back(static_cast<uint8_t>(a));
      if (ops.empty()) {
        out.push_back(op.code);
      } else {
        const auto it = std::find(ops.begin(), ops.end(), op.code);
        if (it == ops.end()) return false;
        out.push_back(static_cast<uint8_t>(it - ops.begin()));
      }
      const OpSpec& s = op_spec(op.code);
      for (unsigned i = 0; i < s.nargs; ++i) {
        const unsigned nb = arg_bytes(s.args[i].kind, cfg);
        for (unsigned b = 0; b < nb; ++b) out.push_back(static_cast<uint8_t>(op.a[i] >> (8 * b)));
      }
    }
  }
  return true;
}

std::vector<uint8_t> encode_program(const Program& p, const core::ModelConfig& cfg) {
  std::vector<uint8_t> out;
  encode_program(p, cfg, {}, out);
  return out;
}

Program decode_program(const uint8_t* data, size_t size, unsigned nactors, const core::ModelConfig& cfg,
                       const std::vector<uint8_t>& ops, uint32_t max_ops_per_actor) {
  Program p;
  if (nactors == 0) nactors = 1;
  p.actors.resize(nactors);
  const size_t nops = ops.empty() ? op_table().size() : ops.size();
  size_t i = 0;
  while (i < size) {
    unsigned actor = 0;
    if (nactors > 1) actor = data[i++] % nactors;
    if (i >= size) break;
    Op op;
    const size_t sel = data[i++] % nops;
    op.code = static_cast<uint8_t>(ops.empty() ? sel : ops[sel]);
    const OpSpec& s = op_spec(op.code);
    bool complete = true;
    for (unsigned k = 0; k < s.nargs; ++k) {
      const uint32_t range = arg_range(s.args[k].kind, cfg);
      const unsigned nb = arg_bytes(s.args[k].kind, cfg);
      if (i + nb > size) {
        complete = false;
        break;
      }
      uint32_t v = 0;
      for (unsigned b = 0; b < nb; ++b) v |= uint32_t(data[i++]) << (8 * b);
      op.a[k] = v % range;
    }
    if (!complete) break;
    if (p.actors[actor].size() < max_ops_per_actor) p.actors[actor].push_back(op);
  }
  return p;
}

Program decode_program(const uint8_t* data, size_t size, unsigned nactors, const core::ModelConfig& cfg) {
  return decode_program(data, size, nactors, cfg, {}, UINT32_MAX);
}

}  // namespace refhammer::harness
