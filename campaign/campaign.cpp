// campaign::run_campaign — see campaign.hpp.
#include "campaign/campaign.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <thread>
#include <tuple>

#include "campaign/dedup.hpp"
#include "campaign/fuzz_runner.hpp"
#include "campaign/process.hpp"
#include "core/buddy.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "harness/fuzz_input.hpp"
#include "harness/gen.hpp"
#include "harness/minimize.hpp"
#include "stress/stress.hpp"

namespace refhammer::campaign {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double file_mtime(const std::string& p) {
  struct stat st {};
  if (stat(p.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9;
}

std::string utc_stamp(bool compact) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Progress: one rewritten status line on a TTY, plain lines otherwise.
class Progress {
 public:
  Progress(std::ostream* o, bool tty) : o_(o), tty_(tty) {}
  void status(const std::string& s) {
    if (o_ == nullptr || !tty_) return;
    *o_ << "\r\033[K" << s.substr(0, 150) << std::flush;
    dirty_ = true;
  }
  void line(const std::string& s) {
    if (o_ == nullptr) return;
    if (dirty_) *o_ << "\r\033[K";
    dirty_ = false;
    *o_ << s << "\n" << std::flush;
  }

 private:
  std::ostream* o_;
  bool tty_;
  bool dirty_ = false;
};

// A finding waiting for minimization: its index and deterministic trace.
struct Pending {
  size_t index;
  harness::Trace trace;
  bool deterministic = true;  // false: a free/perturb stress trace (written, not minimized)
};

class Campaign {
 public:
  Campaign(const Config& cfg, const Hooks& h, Report& rep)
      : cfg_(cfg), h_(h), rep_(rep), prog_(h.out, h.tty), dedup_({}) {}

  int run(std::string& error);

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  std::string rel(const std::string& p) const {
    std::error_code ec;
    const fs::path r = fs::relative(p, out_, ec);
    return ec || r.empty() ? p : r.string();
  }
  void phase_fuzz(double budget);
  // The corpus new inputs of `target` are merged into.
  std::string merge_target(const std::string& target) const {
    if (cfg_.fuzz.update_corpora) return cfg_.fuzz.corpora_dir + "/" + target;
    return (cfg_.fuzz.corpus_dir.empty() ? out_ + "/corpora" : cfg_.fuzz.corpus_dir) + "/" + target;
  }
  // Creates `corpus` from the checkout's seeds of `target` when it does not
  // exist yet (a copy; an interrupted copy is never left under its name).
  std::string seed_corpus(const std::string& target, const std::string& corpus) const;
  // Runs a crash file once under the ASan+UBSan build of its target
  // (fuzz.asan_bin_dir); what it said, for the finding's note.
  std::string asan_replay(const std::string& file, const std::string& target, const std::vector<std::string>& design,
                          const std::string& dir) const;
  void phase_stress(double budget);
  void phase_compare(double budget);
  void phase_minimize(double budget);
  FuzzRun fuzz_one(const std::string& target, const std::string& dir, double seconds,
                   const std::vector<std::string>& design, const std::string& label);
  StressRun stress_one(const std::string& profile, bool perturb, double seconds, const std::vector<std::string>& design,
                       const std::string& dir, const std::string& label, stress::StressResult& r,
                       core::ModelConfig& model);
  // Crash files of a fuzz run -> findings. Returns the keys found.
  std::vector<std::string> collect_crashes(const FuzzRun& run, const std::string& dir,
                                           const std::vector<std::string>& design, const std::string& phase,
                                           const std::string& source);
  std::vector<std::string> collect_stress(const StressRun& run, const stress::StressResult& r,
                                          const core::ModelConfig& model, const std::string& phase,
                                          const std::string& source);
  size_t add_finding(Finding f, harness::Trace* trace, bool deterministic = true);
  void bench_freepath();

  const Config& cfg_;
  const Hooks& h_;
  Report& rep_;
  Progress prog_;
  Dedup dedup_;
  std::string out_;
  std::vector<std::string> targets_;
  unsigned jobs_ = 1, threads_ = 1;
  Clock::time_point t0_;
  double wall0_ = 0;
  std::vector<Pending> pending_;
  std::string current_;  // the phase, for progress
  // Seconds a fuzz run costs beyond its slice (a running average).
  double fuzz_overhead_ = 1.5;
  void note_overhead(double o) { fuzz_overhead_ = std::clamp(0.7 * fuzz_overhead_ + 0.3 * o, 0.0, 30.0); }
};

size_t Campaign::add_finding(Finding f, harness::Trace* trace, bool deterministic) {
  bool first = false;
  const size_t i = dedup_.add(rep_.findings, std::move(f), first);
  const Finding& x = rep_.findings[i];
  if (first) {
    prog_.line("  finding [" + x.status + "] " + x.key + "  (" + x.source + ")" +
               (x.known_as.empty() ? "" : ", known: " + x.known_as));
    if (trace != nullptr) pending_.push_back({i, *trace, deterministic});
  }
  return i;
}

std::vector<std::string> Campaign::collect_crashes(const FuzzRun& run, const std::string& dir,
                                                   const std::vector<std::string>& design, const std::string& phase,
                                                   const std::string& source) {
  std::vector<std::string> keys;
  core::DesignConfig dc;
  for (const auto& d : design) harness::parse_design_variant(d, dc);
  const std::string dname = harness::format_design(dc);
  const auto files = crash_files(dir + "/crashes");
  size_t n = 0;
  for (const auto& file : files) {
    if (n++ >= cfg_.fuzz.max_crash_files) {
      prog_.line("  (" + std::to_string(files.size() - cfg_.fuzz.max_crash_files) + " more crash file(s) of " +
                 run.target + " not replayed: fuzz.max_crash_files)");
      break;
    }
    const std::string base = fs::path(file).filename().string();
    const std::string kind = base.substr(0, base.find('-'));
    Finding f;
    f.design = dname;
    f.phase = phase;
    f.source = source;
    f.input = rel(file);
    const double mt = file_mtime(file);
    f.t = mt > 0 ? std::max(0.0, mt - wall0_) : now();
    harness::Trace t;
    bool have = false;
    if (kind == "timeout" || kind == "oom") {
      f.signature = kind + "/" + run.target;
      f.note = "libFuzzer " + kind + " (not a model violation; not replayed)";
    } else if (run.target == "fuzz_trace") {
      f.signature = kind + "/fuzz_trace";
      f.note = "the trace parser/replayer crashed on this input: refhammer replay " + f.input;
    } else if (!h_.load_crash) {
      f.signature = kind + "/" + run.target;
      f.note = "no crash loader";
    } else {
      const std::string err = h_.load_crash(file, run.target, design, t);
      if (!err.empty()) {
        f.signature = kind + "/" + run.target;
        f.note = err;
      } else if (t.expect_clean) {
        f.signature = kind + "/" + run.target + "/clean-on-replay";
        f.note = "runs clean on the deterministic scheduler of this build (a sanitizer-only finding? see " +
                 rel(run.log) + ")";
      } else {
        f.signature = t.expect_signature;
        // The recorded schedule must give the same verdict again.
        const harness::RunResult again = harness::run_trace(t);
        f.reproduced = harness::verdict_matches(t, again);
        if (!f.reproduced) f.note = "the recorded schedule did not reproduce the verdict";
        have = true;
        // Beside the crash file, as ci/fuzz does.
        harness::write_file_atomic(file + ".trace", harness::write_trace(t), false);
      }
    }
    if (kind != "timeout" && kind != "oom") {
      const std::string a = asan_replay(file, run.target, design, dir);
      if (!a.empty()) f.note += (f.note.empty() ? "" : "; ") + a;
    }
    keys.push_back(rep_.findings[add_finding(std::move(f), have ? &t : nullptr)].key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::vector<std::string> Campaign::collect_stress(const StressRun& run, const stress::StressResult& r,
                                                  const core::ModelConfig& model, const std::string& phase,
                                                  const std::string& source) {
  if (!r.violation) return {};
  Finding f;
  f.signature = r.report.signature;
  f.design = harness::format_design(model.design);
  f.phase = phase;
  f.source = source;
  f.t = run.started + r.detect_seconds;
  f.input = run.trace;
  harness::Trace t;
  bool have = false;
  if (r.reproduced() && !r.repro_path.empty()) {
    const std::string e = harness::load_trace(r.repro_path, t);
    if (e.empty()) {
      f.reproduced = true;
      f.input = rel(r.repro_path);
      have = true;
    } else {
      f.note = e;
    }
  } else {
    f.note = r.repro_tried ? "not reproduced on the deterministic scheduler within the search budget (" +
                                 std::to_string(r.repro.schedules) + " schedules)"
                           : "no reproduction search";
    // The threads' trace is still a candidate: it reproduces by chance.
    if (!r.trace_path.empty() && harness::load_trace(r.trace_path, t).empty())
      return {rep_.findings[add_finding(std::move(f), &t, false)].key};
  }
  return {rep_.findings[add_finding(std::move(f), have ? &t : nullptr)].key};
}

std::string Campaign::asan_replay(const std::string& file, const std::string& target,
                                  const std::vector<std::string>& design, const std::string& dir) const {
  const std::string& ad = cfg_.fuzz.asan_bin_dir;
  if (ad.empty() || fs::path(ad).lexically_normal() == fs::path(cfg_.fuzz.bin_dir).lexically_normal()) return {};
  const std::string bin = ad + "/" + target;
  if (access(bin.c_str(), X_OK) != 0) return "no ASan+UBSan replay (" + bin + " is not built)";
  const std::string log = dir + "/crashes/" + fs::path(file).filename().string() + ".asan.log";
  std::string err;
  const int rc = run_command({bin, "-runs=1", "-rss_limit_mb=" + std::to_string(cfg_.fuzz.rss_limit_mb),
                              "-timeout=" + std::to_string(cfg_.fuzz.timeout), file},
                             {{"REFHAMMER_DESIGN", join(design, " ")}, {"REFHAMMER_BUGS", ""}}, log,
                             cfg_.fuzz.timeout + 60.0, &err);
  if (rc < 0) return "ASan+UBSan replay could not run: " + err;
  // The first sanitizer report line, else the harness's own verdict.
  std::ifstream in(log);
  std::string line, violation;
  while (std::getline(in, line)) {
    if (line.find("ERROR: AddressSanitizer") != std::string::npos ||
        line.find("ERROR: LeakSanitizer") != std::string::npos || line.find("runtime error:") != std::string::npos) {
      const size_t at = line.find("ERROR: ");
      return "ASan+UBSan replay: " + (at == std::string::npos ? line : line.substr(at + 7)) + " (" + rel(log) + ")";
    }
    if (violation.empty() && line.rfind("==refhammer== VIOLATION ", 0) == 0) violation = line.substr(24);
  }
  if (!violation.empty()) return "ASan+UBSan replay: the same oracle verdict (" + violation + "), no sanitizer report";
  return rc == 0 ? "ASan+UBSan replay: runs clean" : "ASan+UBSan replay: exit " + std::to_string(rc) + " (" + rel(log) + ")";
}

std::string Campaign::seed_corpus(const std::string& target, const std::string& corpus) const {
  std::error_code ec;
  if (fs::is_directory(corpus, ec)) return {};
  const fs::path dst(corpus);
  fs::create_directories(dst.parent_path(), ec);
  if (ec) return "mkdir " + dst.parent_path().string() + ": " + ec.message();
  const std::string tmp = corpus + ".seeding." + std::to_string(getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return "mkdir " + tmp + ": " + ec.message();
  const std::string seeds = cfg_.fuzz.corpora_dir + "/" + target;
  if (fs::is_directory(seeds, ec)) {
    fs::copy(seeds, tmp, fs::copy_options::recursive, ec);
    if (ec) {
      std::error_code e2;
      fs::remove_all(tmp, e2);
      return "copying " + seeds + ": " + ec.message();
    }
  }
  fs::rename(tmp, corpus, ec);
  if (ec) return "rename " + tmp + ": " + ec.message();
  return {};
}

FuzzRun Campaign::fuzz_one(const std::string& target, const std::string& dir, double seconds,
                           const std::vector<std::string>& design, const std::string& label) {
  FuzzRunOptions o;
  o.binary = cfg_.fuzz.bin_dir + "/" + target;
  o.target = target;
  o.dir = dir;
  const std::string seeds = cfg_.fuzz.corpora_dir + "/" + target;
  std::error_code ec;
  if (fs::is_directory(seeds, ec)) o.seed_dirs.push_back(seeds);
  // A named corpus from earlier runs seeds this one too.
  const std::string kept = merge_target(target);
  if (kept != seeds && fs::is_directory(kept, ec)) o.seed_dirs.push_back(kept);
  const std::string dict = cfg_.fuzz.corpora_dir + "/" + target + ".dict";
  if (fs::exists(dict, ec)) o.dict = dict;
  o.jobs = jobs_;
  o.seconds = seconds;
  o.rss_limit_mb = cfg_.fuzz.rss_limit_mb;
  o.timeout = cfg_.fuzz.timeout;
  // The children see exactly the design asked for (never the caller's).
  o.env = {{"REFHAMMER_DESIGN", join(design, " ")}, {"REFHAMMER_BUGS", ""}};
  o.on_tick = [&](const FuzzRun& r) {
    const FuzzSample s = r.series.empty() ? FuzzSample{} : r.series.back();
    prog_.status(current_ + " " + label + "  " + fmt("%.0f", r.seconds) + "/" + fmt("%.0f", seconds) + " s  execs " +
                 std::to_string(s.execs) + "  cov " + std::to_string(s.cov) + "  exec/s " +
                 std::to_string(s.exec_per_s) + "  crashes " + std::to_string(r.crash_files) + "  | findings " +
                 std::to_string(rep_.findings.size()) + "  | " + fmt("%.0f", now()) + " s");
  };
  const double started = now();
  FuzzRun r = run_fuzzer(o);
  r.started = started;
  r.log = rel(r.log);
  return r;
}

StressRun Campaign::stress_one(const std::string& profile, bool perturb, double seconds,
                               const std::vector<std::string>& design, const std::string& dir, const std::string& label,
                               stress::StressResult& r, core::ModelConfig& model) {
  stress::StressOptions st;
  st.profile = profile;
  st.threads = threads_;
  st.seconds = seconds;
  st.seed = rep_.seed;
  st.perturb = perturb;
  st.model = stress::StressOptions::stress_model(cfg_.stress.frames);
  for (const auto& d : design) harness::parse_design_variant(d, st.model.design);
  st.out_dir = dir;
  st.reproduce = cfg_.stress.repro_seconds > 0;
  // The search may take longer than the run, but not without bound.
  st.repro.seconds = std::min(cfg_.stress.repro_seconds, std::max(5.0, 2 * seconds));
  st.repro.seed = rep_.seed;
  StressRun run;
  run.profile = profile;
  run.scheduler = perturb ? "perturb" : "free";
  run.design = harness::format_design(st.model.design);
  run.threads = st.threads;
  run.started = now();
  const std::string err = stress::validate(st);
  if (!err.empty()) {
    prog_.line("  stress " + label + ": " + err);
    return run;
  }
  prog_.status(current_ + " " + label + "  " + fmt("%.1f", seconds) + " s, " + std::to_string(st.threads) +
               " thread(s)  | findings " + std::to_string(rep_.findings.size()) + "  | " + fmt("%.0f", now()) + " s");
  model = st.model;
  r = stress::run_stress(st, nullptr);
  run.seconds = r.seconds;
  run.ops = r.ops;
  run.audits = r.audits;
  run.worlds = r.worlds;
  run.violation = r.violation;
  run.signature = r.report.signature;
  run.detect_seconds = r.detect_seconds;
  run.reproduced = r.reproduced();
  run.trace = r.trace_path.empty() ? "" : rel(r.trace_path);
  run.repro_trace = r.repro_path.empty() ? "" : rel(r.repro_path);
  return run;
}

constexpr double kFindingBonus = 10;  // a finding is worth 10 new features per second

// The fuzz budget goes where the bugs are (a two-round bandit): round 1
// gives every target an even slice of fuzz.explore_share of the phase; each
// target then gets a score, its new features per second over the second half
// of its slice (libFuzzer's ft: coverage plus the interleaving pairs) plus
// kFindingBonus per distinct finding it produced; round 2 splits the rest of
// the phase in proportion to score + 1, highest first, and drops slices
// shorter than fuzz.min_seconds. The report shows each run's round and why it
// got its slice.
void Campaign::phase_fuzz(double budget) {
  if (targets_.empty()) return;
  const double start = now();
  const size_t n = targets_.size();
  const double explore = cfg_.fuzz.explore_share * budget;
  prog_.line("=== fuzz: " + std::to_string(n) + " target(s); round 1 about " +
             fmt("%.1f", std::max(cfg_.fuzz.min_seconds, explore / static_cast<double>(n))) +
             " s each, round 2 by yield; -fork=" + std::to_string(jobs_));
  struct Score {
    double ft_rate = 0;
    size_t findings = 0;
    double value() const { return ft_rate + kFindingBonus * static_cast<double>(findings); }
  };
  std::vector<Score> score(n);
  auto one = [&](size_t i, double per, const std::string& dir, int round, const std::string& why) {
    const std::string& t = targets_[i];
    const double t_run = now();
    FuzzRun r = fuzz_one(t, dir, per, {}, t);
    r.round = round;
    r.budget_note = why;
    note_overhead(now() - t_run - per);
    if (!r.error.empty()) {
      prog_.line("  " + t + ": " + r.error);
      rep_.fuzz.push_back(std::move(r));
      return;
    }
    const std::vector<std::string> keys = collect_crashes(r, dir, {}, "fuzz", "fuzz " + t);
    if (round == 1) {
      // Features gained in the second half of the slice, per second.
      const FuzzSample* mid = nullptr;
      for (const auto& x : r.series)
        if (x.t <= r.seconds / 2) mid = &x;
      const double half = r.seconds - (mid ? mid->t : 0.0);
      if (half > 0) score[i].ft_rate = static_cast<double>(r.ft() - (mid ? mid->ft : 0)) / half;
      score[i].findings = keys.size();
    }
    // New inputs go to the run's corpus (OUT/corpora/<t>, or the directory
    // the user named), never into the checkout unless update_corpora says so.
    const std::string corpus = merge_target(t);
    std::error_code ec;
    if (!cfg_.fuzz.merge) {
      r.merge_note = "skipped (merge off)";
    } else if (cfg_.fuzz.update_corpora && !fs::is_directory(corpus, ec)) {
      r.merge_note = "skipped (no " + corpus + ")";
    } else {
      std::string e = cfg_.fuzz.update_corpora ? std::string() : seed_corpus(t, corpus);
      if (e.empty())
        e = merge_corpus(cfg_.fuzz.bin_dir + "/" + t, corpus, dir + "/work", dir + "/merge.log",
                         cfg_.fuzz.rss_limit_mb, cfg_.fuzz.timeout, r.merged_new);
      r.merge_note = e.empty() ? "merged into " + rel(corpus) : "failed: " + e;
    }
    note_overhead(now() - t_run - per);
    char line[256];
    std::snprintf(line, sizeof line, "  %-18s r%d runs %-9llu exec/s %-7.0f cov %-6llu ft %-7llu crashes %-3llu merged +%llu",
                  t.c_str(), round, static_cast<unsigned long long>(r.execs()), r.exec_per_s(),
                  static_cast<unsigned long long>(r.cov()), static_cast<unsigned long long>(r.ft()),
                  static_cast<unsigned long long>(r.crash_files), static_cast<unsigned long long>(r.merged_new));
    prog_.line(line + (r.merge_note.rfind("failed", 0) == 0 ? "  (merge " + r.merge_note + ")" : std::string()));
    rep_.fuzz.push_back(std::move(r));
  };
  for (size_t i = 0; i < n; ++i) {
    current_ = "fuzz r1 [" + std::to_string(i + 1) + "/" + std::to_string(n) + "]";
    // What is left of the round, shared by the targets still to run, less
    // what a run costs beyond its -max_total_time (start-up, merge, replays).
    const double left = explore - (now() - start);
    const double per = std::max(cfg_.fuzz.min_seconds, left / static_cast<double>(n - i) - fuzz_overhead_);
    one(i, per, out_ + "/fuzz/" + targets_[i], 1, "round 1: an even slice of " + fmt("%.0f", 100 * cfg_.fuzz.explore_share) + "% of the phase");
  }
  if (cfg_.fuzz.explore_share >= 1) return;  // even slices only
  // Round 2: by score, highest first.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return score[a].value() != score[b].value() ? score[a].value() > score[b].value() : a < b;
  });
  double total = 0;
  for (size_t i : order) total += score[i].value() + 1;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = order[k];
    const double left = budget - (now() - start);
    if (left < cfg_.fuzz.min_seconds) break;
    const double w = score[i].value() + 1;
    const double per = left * w / total - fuzz_overhead_;
    total -= w;
    if (per < cfg_.fuzz.min_seconds) continue;  // its share goes to the targets after it
    current_ = "fuzz r2 [" + std::to_string(k + 1) + "/" + std::to_string(n) + "]";
    one(i, per, out_ + "/fuzz/" + targets_[i] + "-round2", 2,
        "round 2: score " + fmt("%.1f", score[i].value()) + " (" + fmt("%.1f", score[i].ft_rate) +
            " new features/s late in round 1, " + std::to_string(score[i].findings) + " finding(s))");
  }
}

void Campaign::phase_stress(double budget) {
  std::vector<std::string> profiles = cfg_.stress.profiles;
  if (profiles.empty())
    for (const auto& p : harness::profiles()) profiles.emplace_back(p.name);
  const size_t n = profiles.size() * cfg_.stress.schedulers.size();
  if (n == 0) return;
  const double start = now();
  const double per0 = std::max(cfg_.stress.min_seconds, budget / static_cast<double>(n));
  prog_.line("=== stress: " + std::to_string(profiles.size()) + " profile(s) x " + join(cfg_.stress.schedulers, "/") +
             ", about " + fmt("%.1f", per0) + " s each, " + std::to_string(threads_) + " thread(s)");
  size_t i = 0;
  for (const auto& p : profiles) {
    for (const auto& s : cfg_.stress.schedulers) {
      current_ = "stress [" + std::to_string(++i) + "/" + std::to_string(n) + "]";
      const double per = std::max(cfg_.stress.min_seconds,
                                  (budget - (now() - start)) / static_cast<double>(n - i + 1));
      stress::StressResult r;
      core::ModelConfig model;
      StressRun run = stress_one(p, s == "perturb", per, {}, out_ + "/stress", p + "/" + s, r, model);
      collect_stress(run, r, model, "stress", "stress " + p + "/" + s);
      char line[256];
      std::snprintf(line, sizeof line, "  %-10s %-8s ops %-10llu ops/s %-9.0f audits %-5llu %s", p.c_str(), s.c_str(),
                    static_cast<unsigned long long>(run.ops), run.ops_per_s(),
                    static_cast<unsigned long long>(run.audits),
                    run.violation ? ("VIOLATION " + run.signature + (run.reproduced ? " (reproduced)" : "")).c_str()
                                  : "clean");
      prog_.line(line);
      rep_.stress.push_back(std::move(run));
    }
  }
}

void Campaign::bench_freepath() {
  // bench/core_bench's own free-path numbers, for the pairs that differ in
  // the free path it measures (free_dispatch).
  const std::string bin = cfg_.bench_dir + "/core_bench";
  if (access(bin.c_str(), X_OK) != 0) {
    rep_.notes.push_back("free-path cost: " + bin + " not built; the table shows the in-process measurement only");
    return;
  }
  const std::string json_out = out_ + "/compare/core_bench.json";
  std::string err;
  // core_bench's own defaults: 15 repetitions, the fastest one counts.
  const int rc = run_command({bin, "--benchmark_filter=^BM_FreePath_(OwnerHook|PerTypeChecks)$",
                              "--benchmark_out=" + json_out, "--benchmark_out_format=json"},
                             {}, out_ + "/compare/core_bench.log", 300, &err);
  if (rc != 0) {
    rep_.notes.push_back("free-path cost: core_bench exited " + std::to_string(rc) + " " + err);
    return;
  }
  std::map<std::string, double> best;
  try {
    std::ifstream in(json_out);
    const nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& b : j.at("benchmarks")) {
      const std::string name = b.value("run_name", b.value("name", ""));
      const std::string agg = b.value("aggregate_name", "");
      if (!agg.empty() && agg != "min") continue;
      double ns = b.value("real_time", 0.0);
      const std::string unit = b.value("time_unit", "ns");
      if (unit == "us") ns *= 1e3;
      else if (unit == "ms") ns *= 1e6;
      if (ns <= 0) continue;
      auto it = best.find(name);
      if (it == best.end() || ns < it->second) best[name] = ns;
    }
  } catch (const std::exception& e) {
    rep_.notes.push_back(std::string("free-path cost: cannot read core_bench's JSON: ") + e.what());
    return;
  }
  for (auto& pr : rep_.compare) {
    core::DesignConfig da, db;
    for (const auto& d : pr.pair.base) harness::parse_design_variant(d, da), harness::parse_design_variant(d, db);
    for (const auto& d : pr.pair.a.design) harness::parse_design_variant(d, da);
    for (const auto& d : pr.pair.b.design) harness::parse_design_variant(d, db);
    if (da.free_dispatch == db.free_dispatch) continue;
    auto pick = [&](const core::DesignConfig& d) {
      const char* n = d.free_dispatch == core::FreeDispatch::OwnerHook ? "BM_FreePath_OwnerHook" : "BM_FreePath_PerTypeChecks";
      return best.count(n) ? best[n] : 0.0;
    };
    pr.a.bench_freepath_ns = pick(da);
    pr.b.bench_freepath_ns = pick(db);
  }
}

void Campaign::phase_compare(double budget) {
  const auto& pairs = cfg_.compare.pairs;
  if (pairs.empty()) return;
  const double each = budget / static_cast<double>(2 * pairs.size());
  prog_.line("=== compare: " + std::to_string(pairs.size()) + " design pair(s), " + fmt("%.1f", each) +
             " s per variant, stress scheduler " + cfg_.compare.scheduler);
  size_t k = 0;
  for (const auto& p : pairs) {
    PairResult pr;
    pr.pair = p;
    pr.seconds_each = each;
    for (int side = 0; side < 2; ++side) {
      const Variant& v = side == 0 ? p.a : p.b;
      VariantResult& vr = side == 0 ? pr.a : pr.b;
      current_ = "compare [" + std::to_string(++k) + "/" + std::to_string(2 * pairs.size()) + "]";
      std::vector<std::string> design = p.base;
      design.insert(design.end(), v.design.begin(), v.design.end());
      core::DesignConfig dc;
      for (const auto& d : design) harness::parse_design_variant(d, dc);
      vr.label = v.label;
      vr.design = harness::format_design(dc);
      const bool fuzz_ok = cfg_.fuzz.enabled && !p.target.empty() &&
                           std::find(targets_.begin(), targets_.end(), p.target) != targets_.end();
      vr.has_fuzz = fuzz_ok;
      vr.has_stress = !p.profile.empty();
      const double fs_ = vr.has_fuzz ? (vr.has_stress ? each / 2 : each) : 0;
      const double ss = vr.has_stress ? (vr.has_fuzz ? each / 2 : each) : 0;
      const std::string dir = out_ + "/compare/" + slug(p.name) + "/" + slug(v.label);
      const std::string label = p.name + "/" + v.label;
      std::vector<std::string> keys;
      if (vr.has_fuzz) {
        const double t_run = now();
        const double ask = std::max(2.0, fs_ - fuzz_overhead_);
        vr.fuzz = fuzz_one(p.target, dir + "/fuzz", ask, design, label + " fuzz");
        note_overhead(now() - t_run - ask);
        const auto kk = collect_crashes(vr.fuzz, dir + "/fuzz", design, "compare", "compare " + label + " (" + p.target + ")");
        keys.insert(keys.end(), kk.begin(), kk.end());
      }
      if (vr.has_stress) {
        stress::StressResult r;
        core::ModelConfig model;
        vr.stress = stress_one(p.profile, cfg_.compare.scheduler == "perturb", std::max(0.5, ss), design,
                               dir + "/stress", label + " stress", r, model);
        const auto kk = collect_stress(vr.stress, r, model, "compare",
                                       "compare " + label + " (stress " + p.profile + "/" + cfg_.compare.scheduler + ")");
        keys.insert(keys.end(), kk.begin(), kk.end());
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      vr.finding_keys = keys;
      std::string what = keys.empty() ? "nothing found" : std::to_string(keys.size()) + " finding(s): " + join(keys, ", ");
      prog_.line("  " + p.name + " / " + v.label + ": " + what +
                 (vr.has_fuzz ? "; fuzz " + std::to_string(vr.fuzz.execs()) + " inputs" : "") +
                 (vr.has_stress ? "; stress " + std::to_string(vr.stress.ops) + " ops" : ""));
    }
    if (cfg_.compare.freepath_iters > 0) {
      // Both sides in alternating rounds, so that a burst of load from
      // elsewhere slows both alike.
      std::vector<std::string> da = p.base, db = p.base;
      da.insert(da.end(), p.a.design.begin(), p.a.design.end());
      db.insert(db.end(), p.b.design.begin(), p.b.design.end());
      const auto ns = measure_freepath_ns({da, db}, cfg_.compare.freepath_iters);
      pr.a.freepath_ns = ns[0];
      pr.b.freepath_ns = ns[1];
      prog_.line("  " + p.name + ": free path " + fmt("%.1f", ns[0]) + " ns (" + p.a.label + ") vs " +
                 fmt("%.1f", ns[1]) + " ns (" + p.b.label + ")");
    }
    rep_.compare.push_back(std::move(pr));
  }
  if (cfg_.compare.freepath_iters > 0) bench_freepath();
}

void Campaign::phase_minimize(double budget) {
  // New findings and regressions first, then design-variant ones; known ones already have
  // their regression trace. Within a rank the shortest trace first: each finding's share is
  // what is left over the findings still to do, so the time a short one does not need goes to
  // the long ones after it (a 5-min campaign gave the 512-op PageOffline race 10 s of its
  // 30 s while two 4-op device findings took milliseconds).
  std::sort(pending_.begin(), pending_.end(), [&](const Pending& x, const Pending& y) {
    auto rank = [&](const Pending& p) {
      const std::string& s = rep_.findings[p.index].status;
      return s == "new" || s == "regression" ? 0 : s == "variant" ? 1 : 2;
    };
    return std::tuple(rank(x), x.trace.program.total_ops(), x.index) <
           std::tuple(rank(y), y.trace.program.total_ops(), y.index);
  });
  size_t todo = 0;
  for (const auto& p : pending_) todo += rep_.findings[p.index].status != "known";
  if (todo > 0)
    prog_.line("=== minimize: " + std::to_string(todo) + " finding(s), " + fmt("%.1f", budget) + " s");
  const auto start = now();
  size_t i = 0;
  for (auto& p : pending_) {
    Finding& f = rep_.findings[p.index];
    harness::Trace t = p.trace;
    if (f.status == "known") {
      f.note = "known: corpora/regressions/" + f.known_as + " (not minimized again)";
      continue;
    }
    ++i;
    f.ops_before = f.ops_after = t.program.total_ops();
    if (cfg_.minimize.enabled && p.deterministic) {
      const double left = budget - (now() - start);
      const double per = std::clamp(left / static_cast<double>(todo - i + 1), cfg_.minimize.min_seconds,
                                    cfg_.minimize.seconds_per_finding);
      harness::MinimizeOptions mo;
      mo.seconds = per;
      const std::string label = "minimize [" + std::to_string(i) + "/" + std::to_string(todo) + "] " + f.key;
      mo.progress = [&](uint64_t cand, size_t ops, uint64_t pre, const char* pass) {
        prog_.status(label + "  " + pass + "  candidates " + std::to_string(cand) + "  ops " + std::to_string(ops) +
                     "  preemptions " + std::to_string(pre));
      };
      const auto t1 = now();
      harness::MinimizeResult m = harness::minimize_trace(t, mo);
      f.minimize_seconds = now() - t1;
      if (m.ok) {
        t = m.trace;
        f.minimized = true;
        f.ops_before = m.ops_before;
        f.ops_after = m.ops_after;
        f.preemptions_before = m.preemptions_before;
        f.preemptions_after = m.preemptions_after;
        t.comments.clear();
        t.comments.push_back("minimized by `refhammer minimize` (campaign): " + std::to_string(m.ops_before) +
                             " -> " + std::to_string(m.ops_after) + " ops, " + std::to_string(m.preemptions_before) +
                             " -> " + std::to_string(m.preemptions_after) + " preemptions" +
                             (m.fixed_point ? "" : " (budget ran out before the fixed point)"));
      } else {
        f.note = "not minimized: " + m.error;
      }
    }
    std::vector<std::string> head = {"campaign finding [" + f.status + "]: " + f.key +
                                         (p.deterministic ? "" : " (NOT reproduced deterministically: the " +
                                                                     std::string(harness::scheduler_name(t.scheduler)) +
                                                                     " threads' trace, it fails by chance)"),
                                     "found by " + f.source + " at " + fmt("%.1f", f.t) + " s; input " + f.input,
                                     "signature: " + f.signature};
    t.comments.insert(t.comments.begin(), head.begin(), head.end());
    t.expect_clean = false;
    t.expect_signature = f.signature;
    const std::string text = harness::write_trace(t);
    std::string path = out_ + "/findings/" + slug(f.key) + ".trace";
    for (int n = 2; fs::exists(path); ++n) path = out_ + "/findings/" + slug(f.key) + "-" + std::to_string(n) + ".trace";
    const std::string e = harness::write_file_atomic(path, text, false);
    if (!e.empty()) {
      f.note += (f.note.empty() ? "" : "; ") + e;
    } else {
      f.trace_path = rel(path);
      f.trace_text = text;
    }
    prog_.line("  " + f.key + ": " + (f.minimized ? std::to_string(f.ops_before) + " -> " + std::to_string(f.ops_after) +
                                                        " ops, " + std::to_string(f.preemptions_after) + " preemption(s)"
                                                  : "not minimized") +
               " -> " + f.trace_path);
  }
}

int Campaign::run(std::string& error) {
  t0_ = Clock::now();
  wall0_ = wall_now();
  rep_.config = cfg_;
  rep_.started_utc = utc_stamp(false);
  rep_.seed = cfg_.seed != 0 ? cfg_.seed : static_cast<uint64_t>(std::time(nullptr));
  // The repeat line carries the seed even when the clock chose it.
  rep_.command = h_.command + (cfg_.seed == 0 && !h_.command.empty() ? " --seed " + std::to_string(rep_.seed) : "");
  rep_.cores = std::max(1u, std::thread::hardware_concurrency());
  jobs_ = cfg_.fuzz.jobs != 0 ? cfg_.fuzz.jobs : rep_.cores;
  threads_ = cfg_.stress.threads != 0 ? cfg_.stress.threads : std::clamp(rep_.cores, 2u, 8u);

  std::string e = validate(cfg_);
  if (!e.empty()) {
    error = e;
    return kUsage;
  }
  // Fuzz targets first: a missing build is a usage error before anything runs.
  if (cfg_.fuzz.enabled) {
    targets_ = cfg_.fuzz.targets.empty() ? discover_targets(cfg_.fuzz.bin_dir) : cfg_.fuzz.targets;
    if (targets_.empty()) {
      error = "no fuzz targets in " + cfg_.fuzz.bin_dir +
              " (build the fuzz-fast preset: cmake --preset fuzz-fast && cmake --build --preset fuzz-fast; or run with "
              "--no-fuzz)";
      return kUsage;
    }
    for (const auto& t : targets_) {
      const std::string b = cfg_.fuzz.bin_dir + "/" + t;
      if (access(b.c_str(), X_OK) != 0) {
        error = "fuzz target " + b + " is not an executable";
        return kUsage;
      }
    }
  } else {
    rep_.notes.push_back("fuzzing off (--no-fuzz): no fuzz phase, and the design comparison runs stress only");
  }
  const std::string out = cfg_.out_dir.empty() ? "refhammer-out/campaign-" + utc_stamp(true) : cfg_.out_dir;
  std::error_code ec;
  if (fs::exists(out, ec)) {
    error = out + " exists; refusing to overwrite an earlier run";
    return kUsage;
  }
  fs::create_directories(out + "/findings", ec);
  if (ec) {
    error = out + ": " + ec.message();
    return kUsage;
  }
  out_ = fs::absolute(out).lexically_normal().string();
  rep_.out_dir = out_;
  std::vector<std::string> regression_errors;
  dedup_ = Dedup(load_regression_keys(cfg_.regressions_dir, &regression_errors));
  for (const auto& re : regression_errors) rep_.notes.push_back("regression trace skipped: " + re);

  const double sf = cfg_.fuzz.enabled ? cfg_.shares.fuzz : 0;
  const double ss = cfg_.stress.enabled ? cfg_.shares.stress : 0;
  const double sc = cfg_.compare.enabled && !cfg_.compare.pairs.empty() ? cfg_.shares.compare : 0;
  const double sm = cfg_.shares.minimize;
  const double sum = sf + ss + sc + sm;
  if (sum <= 0) {
    error = "every phase is off or has a share of 0";
    return kUsage;
  }
  const double bf = cfg_.seconds * sf / sum, bs = cfg_.seconds * ss / sum, bc = cfg_.seconds * sc / sum,
               bm = cfg_.seconds * sm / sum;
  prog_.line("refhammer campaign: seed " + std::to_string(rep_.seed) + ", budget " + fmt("%.0f", cfg_.seconds) +
             " s (fuzz " + fmt("%.0f", bf) + ", stress " + fmt("%.0f", bs) + ", compare " + fmt("%.0f", bc) +
             ", minimize " + fmt("%.0f", bm) + "), " + std::to_string(targets_.size()) + " fuzz target(s) -fork=" +
             std::to_string(jobs_) + ", stress " + std::to_string(threads_) + " thread(s), " +
             std::to_string(dedup_.known().size()) + " known signature(s)\n  out: " + out_ +
             (rep_.command.empty() ? "" : "\n  repeat: " + rep_.command));
  auto phase = [&](const char* name, double budget, void (Campaign::*fn)(double)) {
    if (budget <= 0) return;
    PhaseTime p{name, now(), 0, budget};
    (this->*fn)(budget);
    p.seconds = now() - p.start;
    rep_.phases.push_back(p);
  };
  phase("fuzz", bf, &Campaign::phase_fuzz);
  phase("stress", bs, &Campaign::phase_stress);
  phase("compare", bc, &Campaign::phase_compare);
  phase("minimize", std::max(bm, 1.0), &Campaign::phase_minimize);

  if (!cfg_.bugbench.empty()) {
    std::ifstream in(cfg_.bugbench, std::ios::binary);
    rep_.bugbench_source = cfg_.bugbench;
    if (!in) {
      rep_.bugbench_error = cfg_.bugbench + ": cannot read";
    } else {
      std::ostringstream s;
      s << in.rdbuf();
      rep_.bugbench_error = parse_bugbench(s.str(), cfg_.bugbench, rep_.bugbench);
    }
    if (!rep_.bugbench_error.empty()) rep_.notes.push_back("bugbench: " + rep_.bugbench_error);
  }
  rep_.seconds = now();
  for (const auto& [name, text] : {std::pair<const char*, std::string>{"report.json", to_json(rep_)},
                                   {"report.md", to_markdown(rep_)},
                                   {"report.html", to_html(rep_)},
                                   {"junit.xml", to_junit(rep_)}}) {
    const std::string w = harness::write_file_atomic(out_ + "/" + name, text, false);
    if (!w.empty()) {
      error = w;
      return kUsage;
    }
  }
  return rep_.new_findings() > 0 ? kNewFindings : kClean;
}

}  // namespace

int run_campaign(const Config& cfg, const Hooks& hooks, Report& rep, std::string& error) {
  Campaign c(cfg, hooks, rep);
  return c.run(error);
}

std::vector<std::string> discover_targets(const std::string& bin_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(bin_dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("fuzz_", 0) != 0 || n.find('.') != std::string::npos) continue;
    if (!e.is_regular_file(ec) || access(e.path().c_str(), X_OK) != 0) continue;
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<double> measure_freepath_ns(const std::vector<std::vector<std::string>>& designs, uint32_t iters) {
  std::vector<std::unique_ptr<core::Model>> models;
  for (const auto& design : designs) {
    core::ModelConfig cfg;
    for (const auto& d : design) harness::parse_design_variant(d, cfg.design);
    models.push_back(std::make_unique<core::Model>(cfg));
  }
  std::vector<double> best(designs.size(), 0);
  for (int round = 0; round < 6; ++round) {
    for (size_t k = 0; k < models.size(); ++k) {
      core::Model& m = *models[k];
      const auto t0 = Clock::now();
      for (uint32_t i = 0; i < iters; ++i) {
        const core::Pfn p = core::alloc_pages(m, core::ZoneType::Normal, 0);
        if (p == core::kNoPfn) break;
        core::folio_put(m, p);
      }
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / std::max(1u, iters);
      if (round > 0 && (best[k] == 0 || ns < best[k])) best[k] = ns;  // round 0 warms up
    }
  }
  return best;
}

}  // namespace refhammer::campaign
