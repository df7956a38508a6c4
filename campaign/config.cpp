// campaign::Config — embedded defaults and the JSON override, validated.
#include "campaign/config.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "harness/fuzz_input.hpp"
#include "harness/gen.hpp"
#include "harness/trace.hpp"

namespace refhammer::campaign {

std::vector<ComparePair> CompareConfig::default_pairs() {
  return {
      {"offline",
       "PageOffline: legacy (refcount 1) vs frozen (refcount 0), with mainline's per-type free checks",
       {"free_dispatch=per-type-checks"},
       {"legacy", {"offline=legacy"}},
       {"frozen", {"offline=frozen"}},
       "fuzz_offline",
       "offline"},
      {"zone_device",
       "ZONE_DEVICE: 1-based (<= 5.18) vs 0-based (6.2+) refcounts",
       {},
       {"1-based", {"zone_device=1-based"}},
       {"0-based", {"zone_device=0-based"}},
       "fuzz_device",
       "device"},
      {"guest_memfd",
       "guest_memfd and long-term pins: (a) refuse FOLL_LONGTERM on shared pages vs (b) split into 4 KiB folios",
       {},
       {"(a) refuse-longterm", {"gmem_pin_policy=refuse-longterm"}},
       {"(b) split-small-folios", {"gmem_pin_policy=split-small-folios"}},
       "fuzz_gmem",
       "gmem"},
      {"free_dispatch",
       "the zero transition: mainline's per-type free checks vs the generic owner hook (legacy PageOffline)",
       {"offline=legacy"},
       {"per-type checks", {"free_dispatch=per-type-checks"}},
       {"owner hook", {"free_dispatch=owner-hook"}},
       "fuzz_offline",
       "offline"},
  };
}

namespace {

using nlohmann::json;

struct Ctx {
  std::string file;
  std::vector<std::string> errors;
  void error(const std::string& key, const std::string& what) { errors.push_back(file + ": " + key + ": " + what); }
};

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "something else";
  }
}

// Every key of `o` must be in `allowed`.
bool check_keys(Ctx& c, const std::string& where, const json& o, std::initializer_list<const char*> allowed) {
  if (!o.is_object()) {
    c.error(where.empty() ? "(top level)" : where, std::string("must be an object, not ") + type_name(o));
    return false;
  }
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      ok = ok || it.key() == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok) c.error((where.empty() ? "" : where + ".") + it.key(), "unknown key (allowed: " + list + ")");
  }
  return true;
}

std::string path(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

void get_bool(Ctx& c, const json& o, const std::string& where, const char* key, bool& out) {
  if (!o.contains(key)) return;
  const json& v = o[key];
  if (!v.is_boolean()) return c.error(path(where, key), std::string("must be true or false, not ") + type_name(v));
  out = v.get<bool>();
}

void get_num(Ctx& c, const json& o, const std::string& where, const char* key, double& out, double lo, double hi) {
  if (!o.contains(key)) return;
  const json& v = o[key];
  if (!v.is_number()) return c.error(path(where, key), std::string("must be a number, not ") + type_name(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    std::ostringstream s;
    s << "must be between " << lo << " and " << hi << ", not " << v.dump();
    return c.error(path(where, key), s.str());
  }
  out = d;
}

template <class U>
void get_uint(Ctx& c, const json& o, const std::string& where, const char* key, U& out, uint64_t lo, uint64_t hi) {
  if (!o.contains(key)) return;
  const json& v = o[key];
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
    return c.error(path(where, key), std::string("must be a non-negative integer, not ") +
                                         (v.is_number() ? v.dump() : type_name(v)));
  }
  const uint64_t u = v.get<uint64_t>();
  if (u < lo || u > hi) {
    return c.error(path(where, key),
                   "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " + v.dump());
  }
  out = static_cast<U>(u);
}

void get_string(Ctx& c, const json& o, const std::string& where, const char* key, std::string& out) {
  if (!o.contains(key)) return;
  const json& v = o[key];
  if (!v.is_string()) return c.error(path(where, key), std::string("must be a string, not ") + type_name(v));
  out = v.get<std::string>();
}

void get_strings(Ctx& c, const json& o, const std::string& where, const char* key, std::vector<std::string>& out) {
  if (!o.contains(key)) return;
  const json& v = o[key];
  if (!v.is_array()) return c.error(path(where, key), std::string("must be an array of strings, not ") + type_name(v));
  std::vector<std::string> r;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      c.error(path(where, key) + "[" + std::to_string(i) + "]", std::string("must be a string, not ") + type_name(v[i]));
      return;
    }
    r.push_back(v[i].get<std::string>());
  }
  out = std::move(r);
}

void get_variant(Ctx& c, const json& o, const std::string& where, const char* key, Variant& out) {
  if (!o.contains(key)) return;
  const std::string w = path(where, key);
  if (!check_keys(c, w, o[key], {"label", "design"})) return;
  get_string(c, o[key], w, "label", out.label);
  get_strings(c, o[key], w, "design", out.design);
}

}  // namespace

std::string apply_config_json(const std::string& text, const std::string& filename, Config& out) {
  // All or nothing: `out` changes only when the whole file is valid.
  Config cfg = out;
  Ctx c{filename, {}};
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    std::string w = e.what();
    const size_t p = w.find("] ");
    return filename + ": not valid JSON: " + (p == std::string::npos ? w : w.substr(p + 2));
  }
  if (!check_keys(c, "", j,
                  {"seconds", "minutes", "seed", "out", "regressions", "bugbench", "bench_dir", "shares", "fuzz",
                   "stress", "minimize", "compare"}))
    return c.errors.front();
  if (j.contains("seconds") && j.contains("minutes")) c.error("minutes", "give seconds or minutes, not both");
  get_num(c, j, "", "seconds", cfg.seconds, 1, 1e7);
  if (j.contains("minutes")) {
    double m = cfg.seconds / 60;
    get_num(c, j, "", "minutes", m, 1.0 / 60, 1e7 / 60);
    cfg.seconds = m * 60;
  }
  get_uint(c, j, "", "seed", cfg.seed, 0, UINT64_MAX);
  get_string(c, j, "", "out", cfg.out_dir);
  get_string(c, j, "", "regressions", cfg.regressions_dir);
  get_string(c, j, "", "bugbench", cfg.bugbench);
  get_string(c, j, "", "bench_dir", cfg.bench_dir);
  if (j.contains("shares") && check_keys(c, "shares", j["shares"], {"fuzz", "stress", "compare", "minimize"})) {
    const json& s = j["shares"];
    get_num(c, s, "shares", "fuzz", cfg.shares.fuzz, 0, 1);
    get_num(c, s, "shares", "stress", cfg.shares.stress, 0, 1);
    get_num(c, s, "shares", "compare", cfg.shares.compare, 0, 1);
    get_num(c, s, "shares", "minimize", cfg.shares.minimize, 0, 1);
  }
  if (j.contains("fuzz") &&
      check_keys(c, "fuzz", j["fuzz"],
                 {"enabled", "targets", "bin_dir", "asan_bin_dir", "corpora_dir", "corpus_dir", "update_corpora", "jobs",
                  "rss_limit_mb", "timeout", "merge", "min_seconds", "explore_share", "max_crash_files"})) {
    const json& f = j["fuzz"];
    auto& o = cfg.fuzz;
    get_bool(c, f, "fuzz", "enabled", o.enabled);
    get_strings(c, f, "fuzz", "targets", o.targets);
    get_string(c, f, "fuzz", "bin_dir", o.bin_dir);
    get_string(c, f, "fuzz", "asan_bin_dir", o.asan_bin_dir);
    get_string(c, f, "fuzz", "corpora_dir", o.corpora_dir);
    get_string(c, f, "fuzz", "corpus_dir", o.corpus_dir);
    get_bool(c, f, "fuzz", "update_corpora", o.update_corpora);
    get_uint(c, f, "fuzz", "jobs", o.jobs, 0, 256);
    get_uint(c, f, "fuzz", "rss_limit_mb", o.rss_limit_mb, 64, 1u << 20);
    get_uint(c, f, "fuzz", "timeout", o.timeout, 1, 3600);
    get_bool(c, f, "fuzz", "merge", o.merge);
    get_num(c, f, "fuzz", "min_seconds", o.min_seconds, 1, 1e6);
    get_num(c, f, "fuzz", "explore_share", o.explore_share, 0.05, 1);
    get_uint(c, f, "fuzz", "max_crash_files", o.max_crash_files, 1, 100000);
  }
  if (j.contains("stress") &&
      check_keys(c, "stress", j["stress"],
                 {"enabled", "profiles", "schedulers", "threads", "frames", "repro_seconds", "min_seconds"})) {
    const json& s = j["stress"];
    auto& o = cfg.stress;
    get_bool(c, s, "stress", "enabled", o.enabled);
    get_strings(c, s, "stress", "profiles", o.profiles);
    get_strings(c, s, "stress", "schedulers", o.schedulers);
    get_uint(c, s, "stress", "threads", o.threads, 0, 8);
    get_uint(c, s, "stress", "frames", o.frames, 64, 1u << 20);
    get_num(c, s, "stress", "repro_seconds", o.repro_seconds, 0, 1e6);
    get_num(c, s, "stress", "min_seconds", o.min_seconds, 0.1, 1e6);
  }
  if (j.contains("minimize") &&
      check_keys(c, "minimize", j["minimize"], {"enabled", "seconds_per_finding", "min_seconds"})) {
    const json& m = j["minimize"];
    get_bool(c, m, "minimize", "enabled", cfg.minimize.enabled);
    get_num(c, m, "minimize", "seconds_per_finding", cfg.minimize.seconds_per_finding, 0.1, 1e6);
    get_num(c, m, "minimize", "min_seconds", cfg.minimize.min_seconds, 0.1, 1e6);
  }
  if (j.contains("compare") &&
      check_keys(c, "compare", j["compare"], {"enabled", "scheduler", "freepath_iters", "pairs"})) {
    const json& m = j["compare"];
    auto& o = cfg.compare;
    get_bool(c, m, "compare", "enabled", o.enabled);
    get_string(c, m, "compare", "scheduler", o.scheduler);
    get_uint(c, m, "compare", "freepath_iters", o.freepath_iters, 0, 100'000'000);
    if (m.contains("pairs")) {
      const json& ps = m["pairs"];
      if (!ps.is_array()) {
        c.error("compare.pairs", std::string("must be an array of objects, not ") + type_name(ps));
      } else {
        std::vector<ComparePair> pairs;
        for (size_t i = 0; i < ps.size(); ++i) {
          const std::string w = "compare.pairs[" + std::to_string(i) + "]";
          if (!check_keys(c, w, ps[i], {"name", "title", "base", "a", "b", "target", "profile"})) continue;
          ComparePair p;
          get_string(c, ps[i], w, "name", p.name);
          get_string(c, ps[i], w, "title", p.title);
          get_strings(c, ps[i], w, "base", p.base);
          get_variant(c, ps[i], w, "a", p.a);
          get_variant(c, ps[i], w, "b", p.b);
          get_string(c, ps[i], w, "target", p.target);
          get_string(c, ps[i], w, "profile", p.profile);
          if (p.name.empty()) c.error(w + ".name", "missing (every pair needs a name)");
          if (!ps[i].contains("a") || !ps[i].contains("b")) c.error(w, "needs both variants, a and b");
          pairs.push_back(std::move(p));
        }
        o.pairs = std::move(pairs);
      }
    }
  }
  if (c.errors.empty()) {
    const std::string e = validate(cfg);
    if (!e.empty()) return filename + ": " + e;
    out = std::move(cfg);
    return {};
  }
  std::string all;
  for (const auto& e : c.errors) all += (all.empty() ? "" : "\n") + e;
  return all;
}

std::string load_config_file(const std::string& path, Config& cfg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ": cannot read";
  std::ostringstream s;
  s << in.rdbuf();
  return apply_config_json(s.str(), path, cfg);
}

std::string validate(const Config& cfg) {
  const double sum = cfg.shares.fuzz + cfg.shares.stress + cfg.shares.compare + cfg.shares.minimize;
  if (sum <= 0) return "shares: at least one phase needs a share above 0";
  if (cfg.fuzz.update_corpora && !cfg.fuzz.corpus_dir.empty())
    return "fuzz: corpus_dir and update_corpora name two places to merge into; give one";
  if (cfg.fuzz.update_corpora && !cfg.fuzz.merge) return "fuzz: update_corpora needs merge on";
  for (const auto& t : cfg.fuzz.targets)
    if (harness::fuzz_target(t) == nullptr && t != "fuzz_trace") return "fuzz.targets: unknown fuzz target '" + t + "'";
  for (const auto& p : cfg.stress.profiles)
    if (harness::find_profile(p) == nullptr)
      return "stress.profiles: unknown profile '" + p + "' (allowed: " + harness::profile_names() + ")";
  for (const auto& s : cfg.stress.schedulers)
    if (s != "free" && s != "perturb") return "stress.schedulers: unknown scheduler '" + s + "' (allowed: free, perturb)";
  if (cfg.compare.scheduler != "free" && cfg.compare.scheduler != "perturb")
    return "compare.scheduler: unknown scheduler '" + cfg.compare.scheduler + "' (allowed: free, perturb)";
  std::set<std::string> names;
  for (size_t i = 0; i < cfg.compare.pairs.size(); ++i) {
    const auto& p = cfg.compare.pairs[i];
    const std::string w = "compare.pairs[" + std::to_string(i) + "]";
    if (!names.insert(p.name).second) return w + ".name: '" + p.name + "' appears twice";
    if (p.a.label.empty() || p.b.label.empty()) return w + ": both variants need a label";
    if (p.a.label == p.b.label) return w + ": the two variants have the same label '" + p.a.label + "'";
    if (!p.target.empty() && harness::fuzz_target(p.target) == nullptr)
      return w + ".target: unknown fuzz target '" + p.target + "'";
    if (!p.profile.empty() && harness::find_profile(p.profile) == nullptr)
      return w + ".profile: unknown profile '" + p.profile + "' (allowed: " + harness::profile_names() + ")";
    if (p.target.empty() && p.profile.empty()) return w + ": give a target, a profile or both";
    auto check = [&](const std::vector<std::string>& items, const std::string& key) -> std::string {
      core::DesignConfig d;
      for (const auto& kv : items) {
        const std::string e = harness::parse_design_variant(kv, d);
        if (!e.empty()) return w + "." + key + ": '" + kv + "': " + e;
      }
      return {};
    };
    for (const auto& [items, key] : {std::pair{&p.base, "base"}, std::pair{&p.a.design, "a.design"},
                                     std::pair{&p.b.design, "b.design"}}) {
      const std::string e = check(*items, key);
      if (!e.empty()) return e;
    }
  }
  return {};
}

}  // namespace refhammer::campaign
