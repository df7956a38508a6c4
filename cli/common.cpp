// cli/common — options shared by the subcommands.
#include "cli/commands.hpp"

#include <filesystem>

#include "harness/fuzz_input.hpp"
#include "harness/trace.hpp"

namespace refhammer::cli {

void add_variant_options(CLI::App* cmd, VariantArgs& v) {
  cmd->add_option("--design", v.design,
                  "design variant KEY=VALUE, repeatable: " + harness::design_variants_help() +
                      " (defaults: the new designs)")
      ->allow_extra_args(false);
  cmd->add_option("--model", v.model, "model field NAME=VALUE as in a trace's model line, repeatable (e.g. refcount_limit=3000)")
      ->allow_extra_args(false);
  cmd->add_option("--bug", v.bugs, "switch on a catalog bug by name, repeatable (see `refhammer bugs`)")
      ->allow_extra_args(false);
}

std::string apply_variants(const VariantArgs& v, core::ModelConfig& cfg) {
  for (const std::string& d : v.design) {
    const std::string e = harness::parse_design_variant(d, cfg.design);
    if (!e.empty()) return "--design " + d + ": " + e;
  }
  for (const std::string& f : v.model) {
    const std::string e = harness::parse_model_field(f, cfg);
    if (!e.empty()) return "--model " + f + ": " + e;
  }
  for (const std::string& b : v.bugs) {
    uint64_t bits = 0;
    const std::string e = harness::parse_bugs(b, bits);
    if (!e.empty()) return "--bug " + b + ": " + e;
    cfg.bugs |= bits;
  }
  return {};
}

void add_input_options(CLI::App* cmd, InputArgs& in) {
  std::string names;
  for (const auto& t : harness::fuzz_targets()) names += (names.empty() ? "" : " | ") + std::string(t.name);
  cmd->add_option("--target", in.target, "raw fuzzer input: the fuzz target that made it (" + names + ")");
  add_variant_options(cmd, in.variants);
}

namespace {

// A text trace starts with its magic line, after optional '#' comments and
// blank lines.
bool looks_like_trace(const std::vector<uint8_t>& b) {
  size_t i = 0;
  while (i < b.size()) {
    if (b[i] == '\n' || b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
      ++i;
    } else if (b[i] == '#') {
      while (i < b.size() && b[i] != '\n') ++i;
    } else {
      static constexpr char kMagic[] = "refhammer-trace";
      return b.size() - i >= sizeof kMagic - 1 && std::equal(kMagic, kMagic + sizeof kMagic - 1, b.begin() + i);
    }
  }
  return false;
}

}  // namespace

std::string load_input(const std::string& path, const InputArgs& in, harness::Trace& out, bool* raw) {
  std::vector<uint8_t> bytes;
  std::string err = harness::read_file_bytes(path, bytes);
  if (!err.empty()) return err;
  const bool is_raw = !in.target.empty() || !looks_like_trace(bytes);
  if (raw != nullptr) *raw = is_raw;
  if (!is_raw) {
    err = harness::parse_trace(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path, out);
    if (!err.empty()) return err;
    if (!in.variants.design.empty() || !in.variants.bugs.empty() || !in.variants.model.empty()) {
      err = apply_variants(in.variants, out.model);
      if (!err.empty()) return path + ": " + err;
    }
    return {};
  }
  const harness::FuzzTargetSpec* t = nullptr;
  if (!in.target.empty()) {
    t = harness::fuzz_target(in.target);
    if (t == nullptr) return path + ": unknown fuzz target '" + in.target + "'";
  } else {
    for (const auto& part : std::filesystem::path(path))
      if (const auto* c = harness::fuzz_target(part.string())) t = c;
    if (t == nullptr)
      return path + ": not a text trace (no 'refhammer-trace' line) and no fuzz target named: give --target";
  }
  core::ModelConfig cfg;
  err = harness::fuzz_model_from_env(cfg);
  if (!err.empty()) return path + ": " + err;
  err = apply_variants(in.variants, cfg);
  if (!err.empty()) return path + ": " + err;
  const harness::FuzzCase c = harness::decode_fuzz_input(*t, bytes.data(), bytes.size(), cfg);
  if (c.program.total_ops() == 0) return path + ": decodes to an empty program for " + t->name;
  const harness::RunResult r = harness::run_fuzz_case(*t, c, cfg);
  out = harness::fuzz_case_trace(*t, c, cfg, r);
  out.comments.push_back("decoded from raw " + std::string(t->name) + " input " +
                         std::filesystem::path(path).filename().string() + " (" + std::to_string(bytes.size()) +
                         " bytes)");
  return {};
}

}  // namespace refhammer::cli
