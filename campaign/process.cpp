// campaign::process — see process.hpp.
#include "campaign/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace refhammer::campaign {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> make_env(const SpawnOptions& o) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string s = *e;
    const std::string name = s.substr(0, s.find('='));
    bool dropped = std::find(o.unset.begin(), o.unset.end(), name) != o.unset.end();
    for (const auto& [k, v] : o.env) dropped = dropped || k == name;
    if (!dropped) env.push_back(s);
  }
  for (const auto& [k, v] : o.env) env.push_back(k + "=" + v);
  return env;
}

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

}  // namespace

Child spawn(const std::vector<std::string>& argv, const SpawnOptions& o, std::string& err) {
  Child c;
  int p[2] = {-1, -1};
  if (o.out_fd < 0 && pipe2(p, O_CLOEXEC) != 0) {
    c.errnum = errno;
    err = std::string("pipe: ") + std::strerror(c.errnum);
    return c;
  }
  const int w = o.out_fd >= 0 ? o.out_fd : p[1];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, w, 1);
  posix_spawn_file_actions_adddup2(&fa, w, 2);
  if (o.null_stdin) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&at, 0);
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  const std::vector<std::string> env = make_env(o);
  std::vector<char*> ev;
  for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  const int rc = posix_spawn(&c.pid, av[0], &fa, &at, av.data(), ev.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (p[1] >= 0) close(p[1]);
  if (rc != 0) {
    c.errnum = rc;
    err = argv[0] + ": cannot start: " + std::strerror(rc);
    if (p[0] >= 0) close(p[0]);
    c.pid = -1;
    return c;
  }
  c.out = p[0];
  return c;
}

WaitResult wait_child(pid_t pid, const WaitOptions& o) {
  WaitResult res;
  int st = 0;
  bool termed = false;
  Clock::time_point kill_at{};
  for (;;) {
    const pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return res;
    if (o.tick) o.tick();
    else std::this_thread::sleep_for(o.poll);
    const auto now = Clock::now();
    const bool stop = o.stop != nullptr && o.stop->load();
    if (!termed && (now > o.deadline || stop)) {
      res.timed_out = !stop;
      kill(-pid, SIGTERM);
      termed = true;
      kill_at = now + o.grace;
    } else if (termed && now > kill_at) {
      kill(-pid, SIGKILL);
    }
  }
  if (o.kill_group_after_exit || termed) kill(-pid, SIGKILL);  // stragglers of the group
  res.status = decode_status(st);
  return res;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& log, double limit_s,
                          const ProcessOptions& o) {
  ProcessResult res;
  const auto t0 = Clock::now();
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    res.errnum = errno;
    res.error = log + ": " + std::strerror(res.errnum);
    return res;
  }
  SpawnOptions so = o.spawn;
  so.out_fd = fd;
  Child c = spawn(argv, so, res.error);
  close(fd);
  if (c.pid < 0) {
    res.errnum = c.errnum;
    return res;
  }
  res.started = true;
  WaitOptions w;
  w.deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(limit_s * 1000));
  w.grace = o.grace;
  w.poll = o.poll;
  w.stop = o.stop;
  w.kill_group_after_exit = o.kill_group_after_exit;
  const WaitResult r = wait_child(c.pid, w);
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.status = r.status;
  res.timed_out = r.timed_out;
  return res;
}

int run_command(const std::vector<std::string>& argv, const EnvOverrides& env, const std::string& log, double limit_s,
                std::string* err) {
  ProcessOptions o;
  o.spawn.env = env;
  const ProcessResult r = run_process(argv, log, limit_s, o);
  if (!r.started) {
    if (err) *err = r.error;
    return -1;
  }
  return r.status;
}

}  // namespace refhammer::campaign
