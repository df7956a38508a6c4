// campaign::process — child processes in a process group of their own:
// spawned with environment overrides, stdout+stderr to a log file or a pipe,
// waited for under a deadline at which the whole group gets SIGTERM and, a
// grace period later, SIGKILL. The campaign's libFuzzer runs, corpus merges
// and helper commands (fuzz_runner) and bench/bugbench's driver runs go
// through it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace refhammer::campaign {

using EnvOverrides = std::vector<std::pair<std::string, std::string>>;

struct SpawnOptions {
  EnvOverrides env;               // set in the child, replacing an inherited value
  std::vector<std::string> unset;  // inherited variables the child does not get (unless `env` sets them)
  int out_fd = -1;                // stdout+stderr; -1: a pipe, returned in Child::out
  bool null_stdin = false;        // stdin from /dev/null (else inherited)
};

struct Child {
  pid_t pid = -1;  // -1: it did not start (then `errnum`)
  int out = -1;    // read end of stdout+stderr (when piped)
  int errnum = 0;  // why it did not start (an errno value)
};

// Spawns argv (argv[0] a path, no PATH search) in its own process group.
// On failure pid is -1 and `err` says why.
Child spawn(const std::vector<std::string>& argv, const SpawnOptions& o, std::string& err);

struct WaitOptions {
  std::chrono::steady_clock::time_point deadline;  // SIGTERM to the group once passed
  std::chrono::milliseconds grace{10000};          // then SIGKILL this long after the SIGTERM
  // Runs between two polls of the child (and may block there briefly, e.g.
  // reading its pipe); empty: sleep `poll` instead.
  std::function<void()> tick;
  std::chrono::milliseconds poll{100};
  // When set and it turns true: SIGTERM at once, not counted as a timeout.
  const std::atomic<bool>* stop = nullptr;
  // SIGKILL the group once the child has exited (libFuzzer's fork-mode jobs
  // share its group: none may outlive it); false: only after a SIGTERM.
  bool kill_group_after_exit = true;
};

struct WaitResult {
  int status = -1;         // exit status, or 128+signal; -1 when waiting failed
  bool timed_out = false;  // signalled at the deadline
};

// Waits for `pid` (a process group leader from spawn()).
WaitResult wait_child(pid_t pid, const WaitOptions& o);

struct ProcessOptions {
  SpawnOptions spawn;  // out_fd is ignored: the output goes to the log
  std::chrono::milliseconds grace{10000};
  std::chrono::milliseconds poll{100};
  const std::atomic<bool>* stop = nullptr;
  bool kill_group_after_exit = true;
};

struct ProcessResult {
  bool started = false;
  int status = -1;         // exit status, or 128+signal; -1 when it did not start
  bool timed_out = false;
  double seconds = 0;      // from just before the spawn to the child's exit
  int errnum = 0;          // why it did not start (an errno value)
  std::string error;       // the same in words
};

// Runs argv with stdout+stderr to `log` (truncated) and waits, under the
// deadline `limit_s` seconds after the start.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& log, double limit_s,
                          const ProcessOptions& o);

// The campaign's form: the environment overrides, stdin inherited, a 10 s
// grace, the group killed after the exit. Returns the exit status (or
// 128+signal), -1 when it could not start (then `err`).
int run_command(const std::vector<std::string>& argv, const EnvOverrides& env, const std::string& log, double limit_s,
                std::string* err = nullptr);

}  // namespace refhammer::campaign
