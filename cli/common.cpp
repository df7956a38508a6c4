// cli/common — options shared by the subcommands.
#include "cli/commands.hpp"

#include "harness/trace.hpp"

namespace refhammer::cli {

void add_variant_options(CLI::App* cmd, VariantArgs& v) {
  cmd->add_option("--design", v.design,
                  "design variant KEY=VALUE, repeatable: free_dispatch=owner-hook|per-type-checks, "
                  "gmem_pin_policy=refuse-longterm|split-small-folios, zone_device=0-based|1-based, "
                  "offline=frozen|legacy (defaults: the new designs)");
  cmd->add_option("--bug", v.bugs, "switch on a catalog bug by name, repeatable (see `refhammer bugs`)");
}

std::string apply_variants(const VariantArgs& v, core::ModelConfig& cfg) {
  for (const std::string& d : v.design) {
    const std::string e = harness::parse_design_variant(d, cfg.design);
    if (!e.empty()) return "--design " + d + ": " + e;
  }
  for (const std::string& b : v.bugs) {
    uint64_t bits = 0;
    const std::string e = harness::parse_bugs(b, bits);
    if (!e.empty()) return "--bug " + b + ": " + e;
    cfg.bugs |= bits;
  }
  return {};
}

}  // namespace refhammer::cli
