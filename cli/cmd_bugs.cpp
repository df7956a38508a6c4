// refhammer bugs — list the bug catalog.
#include <cstdio>

#include "cli/commands.hpp"
#include "core/bugs.hpp"

namespace refhammer::cli {

Runner add_bugs(CLI::App& app) {
  app.add_subcommand("bugs", "List the bug catalog: mutants that re-create real kernel refcount bugs");
  return [] {
    for (unsigned b = 0; b < core::kNrBugs; ++b) {
      const core::BugInfo& i = core::bug_info(static_cast<core::Bug>(b));
      std::printf("%s  [%s]\n  re-creates: %s\n  %s\n\n", i.name, i.kind, i.cite, i.description);
    }
    return kExitClean;
  };
}

}  // namespace refhammer::cli
