// harness::gen — random programs in the op language, from named op-mix
// profiles.
//
// A profile is data: a name and a weight per op name (gen.cpp holds the one
// table). A Generator compiles a profile against a model configuration and
// draws ops from a caller's Rng: the op by weight, then each argument in its
// range (slots and orders biased low, where holdings and allocations are).
// The generator never looks at the world, so an actor's op sequence is a
// function of its seed alone: the stress driver regenerates nothing, it
// records the ops, but a fuzzer or bugbench can rebuild a program from
// (seed, profile, length).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/probe.hpp"
#include "harness/op.hpp"
#include "harness/rng.hpp"

namespace refhammer::harness {

struct OpWeight {
  const char* op;  // a name in the op table (ops.cpp)
  uint32_t weight;
};

struct Profile {
  const char* name;
  const char* help;
  std::vector<OpWeight> weights;
  bool wants_device = false;  // the profile drives ZONE_DEVICE: the model needs device frames
  // The probes a deterministic run of the profile must hit: they prove its
  // protocol paths are reached (checked by tests/stress/profile_probes_test.cpp,
  // which runs fixed seeds and fails when a listed probe is no longer hit).
  std::vector<core::Probe> reaches;
};

// Every profile, in the order `refhammer stress --help` lists them.
const std::vector<Profile>& profiles();
// The profile named `name`, or nullptr.
const Profile* find_profile(std::string_view name);
// "refcount|gup|...|all".
std::string profile_names();
// Op names a profile weights that the op table does not have (a test keeps
// this empty; the generator ignores them).
std::vector<std::string> unknown_ops(const Profile& p);

class Generator {
 public:
  Generator(const Profile& p, const core::ModelConfig& cfg);
  Op next(Rng& rng) const;
  const Profile& profile() const { return *profile_; }

 private:
  const Profile* profile_;
  core::ModelConfig cfg_;
  std::vector<uint8_t> table_;  // op codes, each repeated by its weight
};

// `actors` actors of `ops_per_actor` ops each, drawn from `p`.
Program random_program(Rng& rng, const core::ModelConfig& cfg, const Profile& p, unsigned actors, size_t ops_per_actor);

}  // namespace refhammer::harness
