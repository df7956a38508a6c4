// refhammer — the command-line front end. Each subcommand lives in its own
// cmd_*.cpp (see commands.hpp).
#include <utility>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace refhammer::cli;
  CLI::App app{"refhammer: a fuzzing and stress-test harness for page-allocator refcount protocols"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("refhammer 0.1"));

  std::vector<std::pair<CLI::App*, Runner>> cmds;
  auto add = [&](Runner (*f)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    Runner r = f(app);
    cmds.emplace_back(app.get_subcommands({})[before], std::move(r));
  };
  add(add_stress);
  add(add_replay);
  add(add_explore);
  add(add_bugs);
  add(add_corpus);
  add(add_minimize);
  add(add_campaign);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitClean : kExitUsage;
  }
  for (auto& [cmd, run] : cmds)
    if (cmd->parsed()) return run();
  return kExitUsage;
}
