// cli/commands — the subcommands of `refhammer`, one file each.
//
// Each add_*() adds its subcommand to the app, with its options bound to
// state it owns, and returns the function main() runs when that subcommand
// was given. Exit status everywhere: 0 clean, 1 a violation (or a new
// finding) was found, 2 usage or input error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "harness/trace.hpp"

namespace refhammer::cli {

inline constexpr int kExitClean = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitUsage = 2;

using Runner = std::function<int()>;

Runner add_stress(CLI::App& app);
Runner add_replay(CLI::App& app);
Runner add_explore(CLI::App& app);
Runner add_bugs(CLI::App& app);
Runner add_corpus(CLI::App& app);
Runner add_minimize(CLI::App& app);
Runner add_campaign(CLI::App& app);

// --design KEY=VALUE (repeatable) and --bug NAME (repeatable), applied to a
// model configuration by apply_variants(); "" or "cmd: what is wrong".
struct VariantArgs {
  std::vector<std::string> design;
  std::vector<std::string> bugs;
  std::vector<std::string> model;
};
void add_variant_options(CLI::App* cmd, VariantArgs& v);
std::string apply_variants(const VariantArgs& v, core::ModelConfig& cfg);

// Input files: a text trace, or a raw fuzzer input (a libFuzzer crash file
// or corpus entry) of a fuzz target. A raw input is decoded with the target
// (--target, or a path component named like a target, e.g.
// crashes/fuzz_offline/crash-...), the model of the fuzzers with
// REFHAMMER_DESIGN / REFHAMMER_BUGS from the environment and then --design /
// --bug, and run once to record its schedule: the result is a trace.
struct InputArgs {
  std::string target;
  VariantArgs variants;
};
void add_input_options(CLI::App* cmd, InputArgs& in);
// Empty on success, else "path: what is wrong". `raw` tells which kind it was.
std::string load_input(const std::string& path, const InputArgs& in, harness::Trace& out, bool* raw = nullptr);

}  // namespace refhammer::cli
