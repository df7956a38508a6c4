// campaign::fuzz_runner — see fuzz_runner.hpp.
#include "campaign/fuzz_runner.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "campaign/process.hpp"

namespace refhammer::campaign {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The unsigned number after `key` in `line`, if the key is there.
bool number_after(std::string_view line, std::string_view key, uint64_t& out) {
  const size_t p = line.find(key);
  if (p == std::string_view::npos) return false;
  size_t i = p + key.size();
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size() || line[i] < '0' || line[i] > '9') return false;
  uint64_t v = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') v = v * 10 + static_cast<uint64_t>(line[i++] - '0');
  out = v;
  return true;
}

}  // namespace

double FuzzRun::exec_per_s() const {
  // The last status line's exec/s is the rate of its job; the run's average
  // is runs over time, which the report prefers.
  if (series.empty()) return 0;
  const FuzzSample& l = series.back();
  if (seconds > 0) return static_cast<double>(l.execs) / seconds;
  return static_cast<double>(l.exec_per_s);
}

bool parse_status_line(std::string_view line, FuzzSample& out) {
  if (line.size() < 2 || line[0] != '#' || line[1] < '0' || line[1] > '9') return false;
  FuzzSample s;
  size_t i = 1;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') s.execs = s.execs * 10 + static_cast<uint64_t>(line[i++] - '0');
  if (!number_after(line, "cov:", s.cov)) return false;
  number_after(line, "ft:", s.ft);
  number_after(line, "corp:", s.corpus);
  number_after(line, "exec/s:", s.exec_per_s) || number_after(line, "exec/s", s.exec_per_s);
  const size_t c = line.find("oom/timeout/crash:");
  if (c != std::string_view::npos) {
    uint64_t a = 0, b = 0, d = 0;
    std::string_view rest = line.substr(c + 18);
    number_after(rest, "", a);
    const size_t s1 = rest.find('/');
    if (s1 != std::string_view::npos) {
      rest = rest.substr(s1 + 1);
      number_after(rest, "", b);
      const size_t s2 = rest.find('/');
      if (s2 != std::string_view::npos) number_after(rest.substr(s2 + 1), "", d);
    }
    s.crashes = a + b + d;
  }
  out = s;
  return true;
}

std::vector<std::string> crash_files(const std::string& dir) {
  std::vector<std::pair<fs::file_time_type, std::string>> v;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("crash-", 0) == 0 || n.rfind("leak-", 0) == 0 || n.rfind("timeout-", 0) == 0 ||
        n.rfind("oom-", 0) == 0) {
      if (n.size() > 6 && (n.find('.') != std::string::npos)) continue;  // crash-x.trace, crash-x.replay
      v.emplace_back(fs::last_write_time(e.path(), ec), e.path().string());
    }
  }
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (auto& p : v) out.push_back(std::move(p.second));
  return out;
}

FuzzRun run_fuzzer(const FuzzRunOptions& o) {
  FuzzRun r;
  r.target = o.target;
  for (const auto& [k, v] : o.env)
    if (k == "REFHAMMER_DESIGN") r.design = v;
  std::error_code ec;
  const std::string work = o.dir + "/work", crashes = o.dir + "/crashes";
  fs::create_directories(work, ec);
  fs::create_directories(crashes, ec);
  r.log = o.dir + "/fuzz.log";
  std::ofstream log(r.log, std::ios::binary);
  const unsigned secs = static_cast<unsigned>(std::max(1.0, o.seconds + 0.5));
  std::vector<std::string> argv = {o.binary,
                                   "-fork=" + std::to_string(std::max(1u, o.jobs)),
                                   "-ignore_crashes=1",
                                   "-ignore_timeouts=1",
                                   "-ignore_ooms=1",
                                   "-max_total_time=" + std::to_string(secs),
                                   "-timeout=" + std::to_string(o.timeout),
                                   "-rss_limit_mb=" + std::to_string(o.rss_limit_mb),
                                   "-print_final_stats=1",
                                   "-artifact_prefix=" + crashes + "/"};
  if (!o.dict.empty()) argv.push_back("-dict=" + o.dict);
  argv.push_back(work);
  for (const auto& d : o.seed_dirs) argv.push_back(d);
  std::string err;
  const auto t0 = Clock::now();
  SpawnOptions so;
  so.env = o.env;
  Child c = spawn(argv, so, err);
  if (c.pid < 0) {
    r.error = err;
    r.exit_code = -1;
    return r;
  }
  std::string buf;
  size_t known_crashes = 0;
  auto last_tick = t0 - std::chrono::seconds(1);
  auto last_scan = t0;
  // The read buffer lives outside the lambda (g++ 12 flags an append from a
  // lambda-local array as a dangling pointer: a -Wdangling-pointer false
  // positive).
  std::vector<char> chunk(8192);
  auto drain = [&](int timeout_ms) {
    pollfd p{c.out, POLLIN, 0};
    if (c.out < 0 || poll(&p, 1, timeout_ms) <= 0) return;
    const ssize_t n = read(c.out, chunk.data(), chunk.size());
    if (n <= 0) {
      close(c.out);
      c.out = -1;
      return;
    }
    log.write(chunk.data(), n);
    buf.append(chunk.data(), static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      FuzzSample s;
      if (parse_status_line(std::string_view(buf.data(), nl), s)) {
        s.t = since(t0);
        r.series.push_back(s);
      }
      buf.erase(0, nl + 1);
    }
  };
  auto tick = [&] {
    drain(100);
    if (c.out < 0) usleep(100000);
    const auto now = Clock::now();
    if (now - last_scan > std::chrono::milliseconds(500)) {
      last_scan = now;
      const size_t n = crash_files(crashes).size();
      if (n > known_crashes && r.first_crash < 0) {
        r.first_crash = since(t0);
        r.execs_before_first_crash = r.execs();
      }
      known_crashes = n;
      r.crash_files = n;
    }
    if (o.on_tick && now - last_tick > std::chrono::milliseconds(500)) {
      last_tick = now;
      r.seconds = since(t0);
      o.on_tick(r);
    }
  };
  // libFuzzer stops itself at -max_total_time; a stuck one is killed 60 s later.
  WaitOptions w;
  w.deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(secs * 1000.0 + 60000));
  w.tick = tick;
  r.exit_code = wait_child(c.pid, w).status;
  while (c.out >= 0) drain(200);
  r.seconds = since(t0);
  const size_t n = crash_files(crashes).size();
  if (n > 0 && r.first_crash < 0) {
    r.first_crash = r.seconds;
    r.execs_before_first_crash = r.execs();
  }
  r.crash_files = n;
  return r;
}

std::string merge_corpus(const std::string& binary, const std::string& corpus, const std::string& work,
                         const std::string& log, unsigned rss_limit_mb, unsigned timeout, uint64_t& added) {
  added = 0;
  std::error_code ec;
  if (!fs::is_directory(corpus, ec)) return corpus + ": no such corpus directory";
  const fs::path parent = fs::path(corpus).parent_path();
  const std::string name = fs::path(corpus).filename().string();
  std::string tmpl = (parent / ("." + name + ".merge.XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return tmpl + ": " + std::strerror(errno);
  const std::string tmp = tmpl;
  // The copy keeps the files' times (as `cp -p`), and the directory gets
  // ordinary permissions (mkdtemp makes it 0700).
  fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec, ec);
  for (auto it = fs::recursive_directory_iterator(corpus, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path dst = fs::path(tmp) / fs::relative(it->path(), corpus);
    std::error_code e2;
    if (it->is_directory(e2)) {
      fs::create_directories(dst, e2);
    } else {
      fs::copy_file(it->path(), dst, e2);
      if (!e2) fs::last_write_time(dst, fs::last_write_time(it->path(), e2), e2);
    }
    if (e2) {
      ec = e2;
      break;
    }
  }
  if (ec) {
    fs::remove_all(tmp, ec);
    return "copying " + corpus + ": " + ec.message();
  }
  auto count = [](const std::string& d) {
    std::error_code e;
    size_t n = 0;
    for (auto it = fs::directory_iterator(d, e); !e && it != fs::directory_iterator(); it.increment(e)) ++n;
    return n;
  };
  const size_t before = count(tmp);
  std::string e;
  const int rc = run_command({binary, "-merge=1", "-timeout=" + std::to_string(timeout),
                              "-rss_limit_mb=" + std::to_string(rss_limit_mb), tmp, work},
                             {}, log, 600, &e);
  if (rc != 0) {
    fs::remove_all(tmp, ec);
    return "merge exited " + std::to_string(rc) + (e.empty() ? " (see " + log + ")" : ": " + e);
  }
  const size_t after = count(tmp);
  added = after > before ? after - before : 0;
  if (added == 0) {
    fs::remove_all(tmp, ec);
    return {};
  }
  const std::string old = (parent / ("." + name + ".old." + std::to_string(getpid()))).string();
  fs::rename(corpus, old, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return "rename " + corpus + ": " + ec.message();
  }
  fs::rename(tmp, corpus, ec);
  if (ec) {
    std::error_code e2;
    fs::rename(old, corpus, e2);
    return "rename " + tmp + ": " + ec.message();
  }
  fs::remove_all(old, ec);
  return {};
}

}  // namespace refhammer::campaign
