// bench/bugbench — how fast each driver finds each catalog mutant.
//
// For every mutant of core/bugs.hpp and every driver, the time to first
// detection (median over seeds, capped), whether the finding replays and
// minimizes, and the minimized length; then the clean core (no mutant) under
// the same budget, where every driver must find nothing.
//
// Drivers (each run is a subprocess in its own process group, killed at its
// timeout, through campaign/process.hpp; at most --jobs run at once):
//   fuzz_program    build/fuzz/fuzz/fuzz_program  REFHAMMER_BUGS=M -seed=S
//   fuzz_schedule   build/fuzz/fuzz/fuzz_schedule   -max_total_time=CAP,
//   fuzz_weak       build/fuzz/fuzz/fuzz_weak       (weak memory: the
//                                                     ordering mutants)
//   fuzz_focused    the mutant's subsystem target     from a temp copy of
//                   (table below)                     corpora/<target>/, stops
//                                                     at the first crash; time:
//                                                     wall clock of the run
//   stress_free     refhammer stress --bug M --profile P --scheduler free|perturb
//   stress_perturb    --seconds CAP --seed S; time: the run's own "first
//                     violation after X s"
//   rc_state        build/release/tests/special/core_special_state_tests with
//                   REFHAMMER_BUGS=M, RC_PARAMS="seed=S max_success=100000",
//                   the mutant's subsystem's properties (--gtest_filter),
//                   killed at CAP; detection: the test fails; time: wall clock
//                   (includes rapidcheck's shrinking). Only the special owners
//                   have rc::state tests in tests/special: other mutants n/a.
// Design variants a mutant needs (offline=legacy, zone_device=1-based,
// gmem_pin_policy=split-small-folios) go to every driver (REFHAMMER_DESIGN /
// --design); the state tests pick their own design by test name.
//
// After the runs, the fastest finding of each (mutant, driver):
//  - replays: fuzz crash file -> `refhammer replay --target T CRASH
//    --emit-trace F --times 3` (same verdict every time); stress: the
//    `-repro.trace` replayed 3 times (no repro trace: does not replay);
//    rc_state: RC_PARAMS="reproduce=..." fails again;
//  - minimizes: `refhammer minimize F -o MIN --seconds MS` ("ops A -> B,
//    preemptions P -> Q"; a stress trace without a repro goes in as is, the
//    minimizer searches a deterministic schedule itself); rc_state: the
//    commands of rapidcheck's shrunk counterexample, 0 preemptions;
//  - fixed_clean: the minimized trace replayed with --no-bugs runs clean (the
//    finding is the mutant's, not the design variant's).
// Clean core: fuzz_program, fuzz_schedule, each focused target, stress
// free and perturb under each profile the mutants use, every state test;
// default designs (the legacy variants have races of their own).
//
// Output: OUT/bugbench.json, OUT/bugbench.md, OUT/work/ (logs, findings,
// minimized traces). Run from the repository root (ci/bugbench does).
// Exit: 0 the benchmark ran (whatever it measured), 2 usage or setup error.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "campaign/process.hpp"
#include "core/bugs.hpp"
#include "core/config.hpp"
#include "harness/fuzz_input.hpp"
#include "harness/gen.hpp"
#include "harness/op.hpp"
#include "harness/trace.hpp"

namespace {

namespace harness = refhammer::harness;
namespace campaign = refhammer::campaign;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;

// ---------------------------------------------------------------- the table

struct MutantSpec {
  std::string name;
  std::string design;   // REFHAMMER_DESIGN / --design, space separated ("" none)
  std::string profile;  // stress op-mix profile
  std::string focused;  // focused fuzz target
  std::string state;    // --gtest_filter of core_special_state_tests ("" n/a)
  std::string note;     // what a driver needs that the harness lacks ("" none)
  std::string model;    // REFHAMMER_MODEL / --model fields, space separated ("" none)
};

// What a mutant's regression trace cannot say: which rc::state tests cover
// its subsystem, and the known driver gaps. Everything else is derived from
// the trace (mutant_table below), so a new mutant needs no row here.
struct MutantExtra {
  const char* name;
  const char* state;
  const char* note;
};
constexpr MutantExtra kExtras[] = {
    {"gup-pin-overflow-unchecked", "",
     "runs with refcount_limit=3000 (REFHAMMER_MODEL / --model): 2^31 / 1024 = 2M pins of one page are out of "
     "reach of every driver at the kernel's limit"},
    {"hugetlb-dissolve-skips-freed-check", "HugetlbState.*",
     "the catalog's detection uses huge_dissolve_pfn (huge_dissolve only names pool-free folios): fuzz_hugetlb and "
     "the whole op language have it; the hugetlb stress profile does not"},
    {"hugetlb-fresh-skips-freeze", "HugetlbState.*", ""},
    {"devmap-put-skips-managed-page", "ZoneDeviceState.LegacyOneBased*", ""},
    {"pgmap-teardown-skips-wait", "ZoneDeviceState.*", ""},
    {"offline-put-frees-to-buddy", "OfflineState.Legacy*", ""},
    {"reporting-putback-before-report", "ReportingState.*", ""},
    {"reporting-marks-merged-block", "ReportingState.*", ""},
};

// Of `candidates` (op name -> weight in the candidate's mix), the one that
// holds the most of the trace's distinct ops; on a tie the one that puts the
// largest share of its weight on them (its runs spend the most time on the
// trace's ops), then the first.
size_t best_cover(const harness::Program& p, const std::vector<std::map<std::string, double>>& candidates) {
  std::set<std::string> want;
  for (const auto& ops : p.actors)
    for (const harness::Op& op : ops) want.insert(harness::op_spec(op.code).name);
  size_t best = 0, best_n = 0;
  double best_share = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    size_t n = 0;
    double on = 0, total = 0;
    for (const auto& [op, w] : candidates[i]) {
      total += w;
      if (want.count(op)) ++n, on += w;
    }
    const double share = total > 0 ? on / total : 0;
    if (n > best_n || (n == best_n && share > best_share)) best = i, best_n = n, best_share = share;
  }
  return best;
}

// One row per catalog mutant, from its regression trace
// (REGRESSIONS/NAME.trace): the design variants and the refcount limit it
// runs with; the stress profile and the focused fuzz target whose op sets
// hold the most of its ops (best_cover; the `all` and `special` profiles are
// not candidates).
std::string build_mutant_table(const std::string& regressions, std::vector<MutantSpec>& out);

const std::vector<std::string> kFocusedTargets = {"fuzz_offline", "fuzz_device", "fuzz_hugetlb", "fuzz_reporting",
                                                  "fuzz_gmem",    "fuzz_gup",    "fuzz_filemap"};

std::string build_mutant_table(const std::string& regressions, std::vector<MutantSpec>& out) {
  std::vector<std::string> profile_names;
  std::vector<std::map<std::string, double>> profile_ops;
  for (const harness::Profile& pr : harness::profiles()) {
    if (std::string_view(pr.name) == "all" || std::string_view(pr.name) == "special") continue;
    profile_names.push_back(pr.name);
    std::map<std::string, double> ops;
    for (const harness::OpWeight& w : pr.weights) ops[w.op] += w.weight;
    profile_ops.push_back(std::move(ops));
  }
  // A fuzz target's op byte picks uniformly from its ops: equal weights, so
  // a tie goes to the target whose list is mostly the trace's ops.
  std::vector<std::map<std::string, double>> target_ops;
  for (const std::string& t : kFocusedTargets) {
    const harness::FuzzTargetSpec* spec = harness::fuzz_target(t);
    if (spec == nullptr) return "no fuzz target " + t + " in harness/fuzz_input.cpp";
    std::map<std::string, double> ops;
    for (uint8_t c : spec->ops) ops[harness::op_spec(c).name] = 1;
    target_ops.push_back(std::move(ops));
  }
  const core::ModelConfig defaults;
  for (unsigned b = 0; b < core::kNrBugs; ++b) {
    MutantSpec m;
    m.name = core::bug_info(static_cast<core::Bug>(b)).name;
    const std::string path = regressions + "/" + m.name + ".trace";
    harness::Trace t;
    if (std::string err = harness::load_trace(path, t); !err.empty()) return err;
    for (const std::string& kv : harness::design_diff(t.model.design)) m.design += (m.design.empty() ? "" : " ") + kv;
    if (t.model.refcount_limit != defaults.refcount_limit) m.model = "refcount_limit=" + std::to_string(t.model.refcount_limit);
    m.profile = profile_names[best_cover(t.program, profile_ops)];
    m.focused = kFocusedTargets[best_cover(t.program, target_ops)];
    for (const MutantExtra& e : kExtras)
      if (m.name == e.name) {
        m.state = e.state;
        m.note = e.note;
      }
    out.push_back(std::move(m));
  }
  for (const MutantExtra& e : kExtras) {
    core::Bug bug;
    if (!core::bug_by_name(e.name, bug)) return std::string("kExtras names '") + e.name + "', which is not in the catalog";
  }
  return "";
}

std::vector<MutantSpec> g_mutants;
const std::vector<MutantSpec>& mutant_table() { return g_mutants; }

const std::vector<std::string> kAllDrivers = {"fuzz_program", "fuzz_schedule", "fuzz_weak", "fuzz_focused",
                                              "stress_free",  "stress_perturb", "rc_state"};
// The drivers that are one fuzz target of the same name (fuzz_focused picks
// the mutant's subsystem target instead).
bool is_target_driver(const std::string& d) { return d == "fuzz_program" || d == "fuzz_schedule" || d == "fuzz_weak"; }
// ------------------------------------------------------------------ options

struct Options {
  double cap = 120;
  unsigned seeds = 3;
  unsigned jobs = 2;
  double minimize_seconds = 30;
  std::vector<std::string> mutants;  // empty: all
  bool all_mutants = true;
  std::vector<std::string> drivers = kAllDrivers;
  bool clean = true;
  std::string out = "refhammer-out/bugbench";
  std::string refhammer = "build/release/cli/refhammer";
  std::string fuzz_dir = "build/fuzz/fuzz";
  std::string state_test = "build/release/tests/special/core_special_state_tests";
  std::string corpora = "corpora";  // the regression traces are in CORPORA/regressions
  bool list_table = false;          // print the derived mutant table and exit
  std::string command;  // how we were run, for the report
};

// ------------------------------------------------------------- subprocesses

std::atomic<bool> g_stop{false};
std::mutex g_print;

void on_signal(int) { g_stop = true; }

// started, status (exit status, or 128+signal), timed_out, seconds.
using ProcResult = campaign::ProcessResult;

// Runs argv with the environment plus `env` (KEY=VALUE; a key given here
// replaces the inherited one; the inherited REFHAMMER_BUGS, REFHAMMER_DESIGN,
// REFHAMMER_MODEL and RC_PARAMS never reach the child), stdin from
// /dev/null, stdout and stderr to `log`, in its own process group; SIGTERM
// then, 3 s later, SIGKILL to the group after `timeout` seconds or when
// bugbench is interrupted (g_stop: not a timeout).
ProcResult run_proc(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log,
                    double timeout) {
  campaign::ProcessOptions po;
  po.spawn.unset = {"REFHAMMER_BUGS", "REFHAMMER_DESIGN", "REFHAMMER_MODEL", "RC_PARAMS"};
  for (const auto& x : env) {
    const size_t eq = x.find('=');
    po.spawn.env.emplace_back(x.substr(0, eq), eq == std::string::npos ? "" : x.substr(eq + 1));
  }
  po.spawn.null_stdin = true;
  po.grace = std::chrono::seconds(3);
  po.poll = std::chrono::milliseconds(10);
  po.stop = &g_stop;
  po.kill_group_after_exit = false;  // only after a SIGTERM: the stragglers of the group
  const ProcResult r = campaign::run_process(argv, log, timeout, po);
  if (!r.started)
    std::ofstream(log, std::ios::app) << "bugbench: cannot start " << argv[0] << ": " << std::strerror(r.errnum) << "\n";
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::string> match1(const std::string& text, const std::string& re) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(re))) return m[1].str();
  return std::nullopt;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// ---------------------------------------------------------------- the runs

struct RunOut {
  bool detected = false;
  double seconds = 0;      // time to detection (meaningful when detected)
  std::string signature;
  std::string finding;     // crash file / stress trace
  std::string repro;       // stress: the -repro.trace
  std::string rc_reproduce;// rc_state: the reproduce string
  std::string target;      // fuzz target
  std::string other;       // not a detection but not clean either (fuzz timeout/oom/leak artifact, a crash, ...)
  std::string log;
};

struct Cell {
  const MutantSpec* m = nullptr;  // nullptr: clean core
  std::string driver;
  bool applicable = true;
  std::string na_reason;
  std::vector<RunOut> runs;       // per seed (clean focused: per target and seed)
  // post-processing of the fastest finding
  bool replays = false;
  bool minimizes = false;
  std::optional<long> ops_before, min_ops, min_pre, pre_before;
  std::string min_replays;        // "20/20"
  std::optional<bool> fixed_clean;
  std::string min_trace;
  std::string post_note;
};

struct Bench {
  Options o;
  fs::path work;
  std::vector<Cell> cells;  // mutants x drivers, then clean x drivers
  Clock::time_point t0 = Clock::now();

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0).count(); }

  void say(const std::string& s) {
    std::lock_guard<std::mutex> g(g_print);
    std::printf("[%7.1f s] %s\n", elapsed(), s.c_str());
    std::fflush(stdout);
  }

  std::vector<std::string> bug_env(const MutantSpec* m) const {
    std::vector<std::string> env;
    env.push_back(std::string("REFHAMMER_BUGS=") + (m ? m->name : ""));
    env.push_back(std::string("REFHAMMER_DESIGN=") + (m ? m->design : ""));
    env.push_back(std::string("REFHAMMER_MODEL=") + (m ? m->model : ""));
    return env;
  }

  // libFuzzer options of corpora/<target>.options (dict relative to corpora/).
  std::vector<std::string> fuzz_options(const std::string& target) const {
    std::vector<std::string> out;
    std::ifstream in(o.corpora + "/" + target + ".options");
    std::string line;
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (line.empty() || line[0] == '[' || line[0] == '#' || eq == std::string::npos) continue;
      auto trim = [](std::string s) {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
        return s;
      };
      const std::string k = trim(line.substr(0, eq));
      std::string v = trim(line.substr(eq + 1));
      if (k == "dict") v = o.corpora + "/" + v;
      out.push_back("-" + k + "=" + v);
    }
    return out;
  }

  RunOut run_fuzz(const MutantSpec* m, const std::string& target, unsigned seed, const fs::path& dir) {
    RunOut r;
    r.target = target;
    fs::create_directories(dir / "corpus");
    fs::create_directories(dir / "artifacts");
    std::error_code ec;
    if (fs::is_directory(o.corpora + "/" + target))
      fs::copy(o.corpora + "/" + target, dir / "corpus", fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    std::vector<std::string> argv = {o.fuzz_dir + "/" + target, "-seed=" + std::to_string(seed),
                                     "-max_total_time=" + std::to_string(static_cast<long>(std::ceil(o.cap))),
                                     "-artifact_prefix=" + (dir / "artifacts").string() + "/", "-print_final_stats=1"};
    for (auto& x : fuzz_options(target)) argv.push_back(x);
    argv.push_back((dir / "corpus").string());
    r.log = (dir / "log").string();
    const ProcResult p = run_proc(argv, bug_env(m), r.log, o.cap + 60);
    for (const auto& e : fs::directory_iterator(dir / "artifacts", ec)) {
      const std::string f = e.path().filename().string();
      if (f.rfind("crash-", 0) == 0) {
        r.detected = true;
        r.finding = e.path().string();
      } else {
        r.other += (r.other.empty() ? "" : ", ") + f.substr(0, f.find('-')) + " artifact";
      }
    }
    if (r.detected) {
      r.seconds = p.seconds;
      r.signature = match1(slurp(r.log), R"(==refhammer== VIOLATION (\S+))").value_or("?");
      r.other.clear();
    } else if (!p.started || (p.status != 0 && !p.timed_out && r.other.empty())) {
      r.other = "exit " + std::to_string(p.status);
    } else if (p.timed_out) {
      r.other += (r.other.empty() ? "" : ", ") + std::string("killed at the timeout");
    }
    fs::remove_all(dir / "corpus", ec);
    return r;
  }

  RunOut run_stress(const MutantSpec* m, bool perturb, unsigned seed, const fs::path& dir,
                    const std::string& clean_profile) {
    RunOut r;
    r.target = clean_profile;
    fs::create_directories(dir);
    std::vector<std::string> argv = {o.refhammer, "stress", "--profile", m ? m->profile : clean_profile, "--scheduler",
                                     perturb ? "perturb" : "free", "--seconds", std::to_string(o.cap), "--seed",
                                     std::to_string(seed), "--out", (dir / "traces").string(), "--progress", "0"};
    if (m != nullptr) {
      for (const auto& d : split_words(m->design)) argv.insert(argv.end(), {"--design", d});
      for (const auto& f : split_words(m->model)) argv.insert(argv.end(), {"--model", f});
      argv.insert(argv.end(), {"--bug", m->name});
    }
    r.log = (dir / "log").string();
    const ProcResult p = run_proc(argv, {}, r.log, o.cap + 120);
    const std::string text = slurp(r.log);
    if (p.status == 1) {
      r.detected = true;
      r.seconds = std::stod(match1(text, R"(first violation after ([0-9.]+) s)").value_or(std::to_string(p.seconds)));
      r.signature = match1(text, R"(verdict: VIOLATION (\S+))").value_or("?");
      r.finding = match1(text, R"(trace \(\d+ recorded ops\): (\S+))").value_or("");
      r.repro = match1(text, R"(deterministic trace: (\S+))").value_or("");
    } else if (p.status != 0) {
      r.other = p.timed_out ? "killed at the timeout" : "exit " + std::to_string(p.status);
    }
    return r;
  }

  RunOut run_state(const MutantSpec* m, unsigned seed, const fs::path& dir) {
    RunOut r;
    fs::create_directories(dir);
    std::vector<std::string> argv = {o.state_test};
    if (m != nullptr) argv.push_back(std::string("--gtest_filter=") + m->state);
    auto env = bug_env(m);
    env.push_back("RC_PARAMS=seed=" + std::to_string(seed) + " max_success=100000 verbose_progress=0");
    r.log = (dir / "log").string();
    const ProcResult p = run_proc(argv, env, r.log, o.cap);
    if (!p.timed_out && p.status != 0) {
      const std::string text = slurp(r.log);
      r.detected = true;
      r.seconds = p.seconds;
      r.rc_reproduce = match1(text, R"(reproduce=([A-Za-z0-9_\-+/=]+))").value_or("");
      r.signature = match1(text, R"(\[  FAILED  \] (\S+))").value_or("?");
      if (p.status > 128) r.other = "the test binary died (signal " + std::to_string(p.status - 128) + ")";
    }
    return r;
  }

  RunOut run_one(const Cell& c, unsigned seed, const std::string& focused_target, const fs::path& dir) {
    const std::string& d = c.driver;
    if (is_target_driver(d)) return run_fuzz(c.m, d, seed, dir);
    if (d == "fuzz_focused") return run_fuzz(c.m, focused_target, seed, dir);
    if (d == "stress_free") return run_stress(c.m, false, seed, dir, focused_target);
    if (d == "stress_perturb") return run_stress(c.m, true, seed, dir, focused_target);
    return run_state(c.m, seed, dir);
  }

  // ------------------------------------------------------ post-processing

  void minimize(Cell& c, const std::string& input, const fs::path& dir) {
    const std::string out = (dir / "minimized.trace").string();
    const std::string log = (dir / "minimize.log").string();
    const ProcResult p = run_proc({o.refhammer, "minimize", input, "-o", out, "--seconds",
                                   std::to_string(o.minimize_seconds), "--explore-runs", "20000"},
                                  {}, log, o.minimize_seconds + 180);
    const std::string text = slurp(log);
    const auto ops = match1(text, R"(ops (\d+) -> )");
    const auto ops2 = match1(text, R"(ops \d+ -> (\d+))");
    const auto pre = match1(text, R"(preemptions (\d+) -> )");
    const auto pre2 = match1(text, R"(preemptions \d+ -> (\d+))");
    if (p.status == 1 && ops2 && fs::exists(out)) {
      c.minimizes = true;
      c.ops_before = std::stol(*ops);
      c.min_ops = std::stol(*ops2);
      if (pre) c.pre_before = std::stol(*pre);
      if (pre2) c.min_pre = std::stol(*pre2);
      c.min_replays = match1(text, R"(replays (\d+/\d+))").value_or("");
      c.min_trace = out;
      const ProcResult f = run_proc({o.refhammer, "replay", out, "--no-bugs", "-q"}, {}, (dir / "fixed.log").string(), 120);
      c.fixed_clean = f.status == 0;
    } else {
      c.post_note += std::string(c.post_note.empty() ? "" : "; ") + "minimize " +
                     (p.timed_out ? "timed out" : "failed (exit " + std::to_string(p.status) + ")");
    }
  }

  void post_process(Cell& c) {
    const RunOut* best = nullptr;
    for (const auto& r : c.runs)
      if (r.detected && (best == nullptr || r.seconds < best->seconds)) best = &r;
    if (best == nullptr) return;
    const fs::path dir = work / c.m->name / c.driver / "post";
    fs::create_directories(dir);
    if (c.driver.rfind("fuzz_", 0) == 0) {
      const std::string trace = (dir / "finding.trace").string();
      const ProcResult p = run_proc({o.refhammer, "replay", "--target", best->target, best->finding, "--emit-trace",
                                     trace, "--times", "3", "-q"},
                                    bug_env(c.m), (dir / "replay.log").string(), 300);
      c.replays = p.status == 1 && slurp((dir / "replay.log").string()).find("REPRODUCED") != std::string::npos;
      if (fs::exists(trace)) minimize(c, trace, dir);
      else c.post_note = "the crash file did not convert to a trace";
    } else if (c.driver.rfind("stress_", 0) == 0) {
      if (!best->repro.empty()) {
        const ProcResult p =
            run_proc({o.refhammer, "replay", best->repro, "--times", "3", "-q"}, {}, (dir / "replay.log").string(), 300);
        c.replays = p.status == 0;
        minimize(c, best->repro, dir);
      } else if (!best->finding.empty()) {
        c.post_note = "no deterministic repro trace from the stress run";
        minimize(c, best->finding, dir);
      } else {
        c.post_note = "the stress run wrote no trace";
      }
    } else {  // rc_state
      c.minimizes = true;  // rapidcheck shrinks before it reports
      c.min_pre = 0;
      c.min_ops = count_rc_commands(slurp(best->log));
      if (!best->rc_reproduce.empty()) {
        std::vector<std::string> env = bug_env(c.m);
        env.push_back("RC_PARAMS=reproduce=" + best->rc_reproduce);
        const ProcResult p = run_proc({o.state_test, std::string("--gtest_filter=") + c.m->state}, env,
                                      (dir / "replay.log").string(), 300);
        c.replays = !p.timed_out && p.status != 0;
      } else {
        c.post_note = "rapidcheck printed no reproduce string";
      }
    }
  }

  // The shrunk counterexample of an rc::state property is printed after
  // "Falsifiable after ..." as the command vector's type line
  // ("std::vector<std::shared_ptr<const Command<...>>>:") and then one
  // command per line up to an empty line.
  static std::optional<long> count_rc_commands(const std::string& text) {
    const auto at = text.find("Falsifiable after");
    if (at == std::string::npos) return std::nullopt;
    std::istringstream in(text.substr(at));
    std::string line;
    long n = 0;
    bool in_list = false;
    while (std::getline(in, line)) {
      if (!in_list) {
        in_list = line.rfind("std::vector<std::shared_ptr<const Command<", 0) == 0;
        continue;
      }
      if (line.empty()) break;
      ++n;
    }
    if (!in_list) return std::nullopt;
    return n;
  }
};

// ------------------------------------------------------------------ output

// x with two decimals, as the report prints every time.
std::string fixed2(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", x);
  return b;
}
// The same as a JSON number (the value of the two-decimal text).
ojson json2(double x) { return std::stod(fixed2(x)); }
// A JSON number or bool, null when absent.
template <class T>
ojson json_opt(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}
// The same as text, "null" when absent.
std::string text_opt(const std::optional<long>& v) { return v ? std::to_string(*v) : "null"; }

std::vector<std::optional<double>> per_seed(const Cell& c) {
  std::vector<std::optional<double>> v;
  for (const auto& r : c.runs) v.push_back(r.detected ? std::optional<double>(r.seconds) : std::nullopt);
  return v;
}

// Median with "not found" as +infinity; nullopt when the median is not found.
std::optional<double> median(const Cell& c) {
  auto v = per_seed(c);
  if (v.empty()) return std::nullopt;
  std::vector<double> x;
  for (auto& s : v) x.push_back(s ? *s : INFINITY);
  std::sort(x.begin(), x.end());
  const double m = x[(x.size() - 1) / 2];
  if (std::isinf(m)) return std::nullopt;
  return m;
}

std::string iso_now() {
  char b[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

void usage() {
  std::fprintf(stderr,
               "usage: bugbench [--cap S] [--seeds N] [--mutants \"a b\"|all|none] [--drivers \"d ...\"] [--out DIR]\n"
               "                [--jobs J] [--minimize-seconds S] [--no-clean] [--refhammer PATH] [--fuzz-dir DIR]\n"
               "                [--state-test PATH] [--corpora DIR] [--list-table]\n"
               "drivers: fuzz_program fuzz_schedule fuzz_weak fuzz_focused stress_free stress_perturb rc_state\n"
               "run from the repository root; ci/bugbench builds what it needs and runs this.\n");
}

// ------------------------------------------------------------- the phases
//
// main() runs them in order; a phase that returns an exit code ends the run
// with it.

// The command line into `o`.
std::optional<int> parse_options(int argc, char** argv, Options& o) {
  for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--cap") o.cap = std::stod(val());
      else if (a == "--seeds") o.seeds = static_cast<unsigned>(std::stoul(val()));
      else if (a == "--jobs") o.jobs = static_cast<unsigned>(std::stoul(val()));
      else if (a == "--minimize-seconds") o.minimize_seconds = std::stod(val());
      else if (a == "--mutants") {
        const std::string v = val();
        o.all_mutants = v == "all" || v.empty();
        o.mutants = v == "none" ? std::vector<std::string>{} : split_words(v);
        if (v == "none") o.all_mutants = false;
      } else if (a == "--drivers") o.drivers = split_words(val());
      else if (a == "--out") o.out = val();
      else if (a == "--no-clean") o.clean = false;
      else if (a == "--refhammer") o.refhammer = val();
      else if (a == "--fuzz-dir") o.fuzz_dir = val();
      else if (a == "--state-test") o.state_test = val();
      else if (a == "--corpora") o.corpora = val();
      else if (a == "--list-table") o.list_table = true;
      else if (a == "-h" || a == "--help") {
        usage();
        return 0;
      } else {
        std::fprintf(stderr, "bugbench: unknown option '%s'\n", a.c_str());
        usage();
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bugbench: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  if (o.cap <= 0 || o.seeds == 0 || o.jobs == 0) {
    usage();
    return 2;
  }
  return std::nullopt;
}

// The mutant table (one row per catalog mutant, from its regression trace)
// into g_mutants; --list-table prints it and ends the run.
std::optional<int> load_mutant_table(const Options& o) {
  if (std::string err = build_mutant_table(o.corpora + "/regressions", g_mutants); !err.empty()) {
    std::fprintf(stderr, "bugbench: %s\n", err.c_str());
    return 2;
  }
  if (o.list_table) {
    for (const MutantSpec& m : g_mutants)
      std::printf("%s\tprofile=%s\tfocused=%s\tdesign=%s\tmodel=%s\tstate=%s\n", m.name.c_str(), m.profile.c_str(),
                  m.focused.c_str(), m.design.c_str(), m.model.c_str(), m.state.c_str());
    return 0;
  }
  return std::nullopt;
}

// The drivers and mutants asked for (the mutants into `mutants`), the
// binaries the drivers need, and a fresh work directory.
std::optional<int> check_setup(Bench& b, std::vector<const MutantSpec*>& mutants) {
  const Options& o = b.o;
  for (const auto& d : o.drivers)
    if (std::find(kAllDrivers.begin(), kAllDrivers.end(), d) == kAllDrivers.end()) {
      std::fprintf(stderr, "bugbench: unknown driver '%s'\n", d.c_str());
      return 2;
    }
  for (const auto& m : mutant_table())
    if (o.all_mutants || std::find(o.mutants.begin(), o.mutants.end(), m.name) != o.mutants.end()) mutants.push_back(&m);
  for (const auto& n : o.mutants) {
    core::Bug bug;
    if (!core::bug_by_name(n, bug)) {
      std::fprintf(stderr, "bugbench: unknown mutant '%s' (see `refhammer bugs`)\n", n.c_str());
      return 2;
    }
  }
  // What the drivers need.
  auto missing = [](const std::string& p) {
    if (access(p.c_str(), X_OK) == 0) return false;
    std::fprintf(stderr, "bugbench: %s is missing (ci/bugbench builds it)\n", p.c_str());
    return true;
  };
  if (missing(o.refhammer)) return 2;
  for (const auto& d : o.drivers) {
    if (is_target_driver(d) && missing(o.fuzz_dir + "/" + d)) return 2;
    if (d == "fuzz_focused")
      for (const auto& t : kFocusedTargets)
        if (missing(o.fuzz_dir + "/" + t)) return 2;
    if (d == "rc_state" && missing(o.state_test)) return 2;
  }
  std::error_code ec;
  b.work = fs::path(o.out) / "work";
  if (fs::exists(b.work)) {
    std::fprintf(stderr, "bugbench: %s exists; give a fresh --out\n", b.work.string().c_str());
    return 2;
  }
  fs::create_directories(b.work, ec);
  if (ec) {
    std::fprintf(stderr, "bugbench: cannot create %s: %s\n", b.work.string().c_str(), ec.message().c_str());
    return 2;
  }
  return std::nullopt;
}

// One run of a cell: a seed, and the focused target or stress profile
// (clean core) it runs.
struct Task {
  size_t cell;
  unsigned seed;
  std::string target;  // fuzz_focused
  size_t slot;         // index into the cell's runs
};

// The cells (mutants x drivers, then the clean core x drivers; returns the
// number of mutant cells) and their runs, each with an empty slot in its
// cell.
size_t make_cells(Bench& b, const std::vector<const MutantSpec*>& mutants) {
  const Options& o = b.o;
  for (const MutantSpec* m : mutants)
    for (const auto& d : o.drivers) {
      Cell c;
      c.m = m;
      c.driver = d;
      if (d == "rc_state" && m->state.empty()) {
        c.applicable = false;
        c.na_reason = "no rc::state test of this subsystem in tests/special";
      }
      b.cells.push_back(c);
    }
  const size_t nr_mutant_cells = b.cells.size();
  if (o.clean)
    for (const auto& d : o.drivers) {
      Cell c;
      c.driver = d;
      b.cells.push_back(c);
    }
  return nr_mutant_cells;
}

std::vector<Task> make_tasks(Bench& b) {
  std::vector<Task> tasks;
  for (size_t ci = 0; ci < b.cells.size(); ++ci) {
    Cell& c = b.cells[ci];
    if (!c.applicable) continue;
    std::vector<std::string> targets = {""};
    if (c.driver == "fuzz_focused") targets = c.m ? std::vector<std::string>{c.m->focused} : kFocusedTargets;
    if (c.driver.rfind("stress_", 0) == 0 && c.m == nullptr) {
      // The clean core under every profile the mutants use.
      targets.clear();
      for (const auto& m : mutant_table())
        if (std::find(targets.begin(), targets.end(), m.profile) == targets.end()) targets.push_back(m.profile);
    }
    for (unsigned s = 1; s <= b.o.seeds; ++s)
      for (const auto& t : targets) {
        tasks.push_back({ci, s, t, c.runs.size()});
        c.runs.emplace_back();
      }
  }
  // Interleave drivers so that the two slots rarely run two 2-thread stress
  // runs at once: order by seed, then mutant, then driver (already), but
  // alternate stress and non-stress tasks.
  std::vector<Task> stress, other, mixed;
  for (auto& t : tasks) (b.cells[t.cell].driver.rfind("stress_", 0) == 0 ? stress : other).push_back(t);
  size_t i = 0, j = 0;
  while (i < stress.size() || j < other.size()) {
    if (i < stress.size()) mixed.push_back(stress[i++]);
    for (unsigned k = 0; k < 2 && j < other.size(); ++k) mixed.push_back(other[j++]);
  }
  return mixed;
}

// A pool of `jobs` threads calling fn(0..n), each one subprocess at a time;
// stops handing out work once bugbench is interrupted.
void pool(unsigned jobs, size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> th;
  for (unsigned k = 0; k < jobs; ++k)
    th.emplace_back([&] {
      for (size_t i; !g_stop && (i = next++) < n;) fn(i);
    });
  for (auto& t : th) t.join();
}

// Every task, into its cell's slot.
void run_tasks(Bench& b, const std::vector<Task>& tasks, size_t nr_mutants) {
  const Options& o = b.o;
  b.say("bugbench: " + std::to_string(nr_mutants) + " mutant(s)" + (o.clean ? " + the clean core" : "") + ", " +
        std::to_string(o.drivers.size()) + " driver(s), " + std::to_string(o.seeds) + " seed(s), cap " +
        fixed2(o.cap) + " s, " + std::to_string(tasks.size()) + " run(s), " + std::to_string(o.jobs) + " at a time");
  pool(o.jobs, tasks.size(), [&](size_t i) {
    const Task& t = tasks[i];
    Cell& c = b.cells[t.cell];
    const std::string mname = c.m ? c.m->name : "clean";
    const fs::path dir = b.work / mname / c.driver / ("seed" + std::to_string(t.seed) + (t.target.empty() ? "" : "-" + t.target));
    RunOut r = b.run_one(c, t.seed, t.target, dir);
    c.runs[t.slot] = r;
    b.say(mname + " / " + c.driver + (t.target.empty() || c.m ? "" : " " + t.target) + " / seed " +
          std::to_string(t.seed) + ": " +
          (r.detected ? "DETECTED in " + fixed2(r.seconds) + " s (" + r.signature + ")" : "nothing") +
          (r.other.empty() ? "" : " [" + r.other + "]"));
  });
}

// Replay and minimization of the fastest finding of every mutant cell that
// detected its mutant.
void post_process_findings(Bench& b, size_t nr_mutant_cells) {
  std::vector<size_t> post;
  for (size_t ci = 0; ci < nr_mutant_cells; ++ci)
    for (const auto& r : b.cells[ci].runs)
      if (r.detected) {
        post.push_back(ci);
        break;
      }
  b.say("replaying and minimizing " + std::to_string(post.size()) + " finding(s)");
  pool(b.o.jobs, post.size(), [&](size_t i) {
    Cell& c = b.cells[post[i]];
    b.post_process(c);
    b.say(std::string(c.m->name) + " / " + c.driver + ": replays " + (c.replays ? "yes" : "NO") + ", minimized " +
          (c.min_ops ? std::to_string(*c.min_ops) + " ops, " + text_opt(c.min_pre) + " preemption(s)" : "NO") +
          (c.post_note.empty() ? "" : " (" + c.post_note + ")"));
  });
}

// ------------------------------------------------------------ bugbench.json

// The clean core's runs of one driver.
struct CleanCount {
  unsigned detections = 0, other = 0;
  std::string signatures;  // "sig (target), ..."
};

CleanCount count_clean(const Cell& c) {
  CleanCount n;
  for (const auto& r : c.runs) {
    n.detections += r.detected;
    n.other += !r.other.empty();
    if (r.detected)
      n.signatures += (n.signatures.empty() ? "" : ", ") + r.signature + (r.target.empty() ? "" : " (" + r.target + ")");
  }
  return n;
}

ojson cell_json(const Cell& c) {
  ojson j;
  const auto med = median(c);
  j["seconds"] = med ? json2(*med) : ojson(nullptr);
  ojson ps = ojson::array();
  for (const auto& s : per_seed(c)) ps.push_back(s ? json2(*s) : ojson(nullptr));
  j["per_seed"] = ps;
  j["replays"] = c.replays;
  j["minimized_ops"] = json_opt(c.min_ops);
  j["minimized_preemptions"] = json_opt(c.min_pre);
  j["applicable"] = c.applicable;
  j["minimizes"] = c.minimizes;
  j["ops_before"] = json_opt(c.ops_before);
  j["preemptions_before"] = json_opt(c.pre_before);
  j["minimized_replays"] = c.min_replays;
  j["fixed_clean"] = json_opt(c.fixed_clean);
  std::string sig;
  for (const auto& r : c.runs)
    if (r.detected) {
      sig = r.signature;
      break;
    }
  std::string note = c.na_reason;
  for (const auto& r : c.runs)
    if (!r.other.empty()) note += (note.empty() ? "" : "; ") + r.other;
  if (!c.post_note.empty()) note += (note.empty() ? "" : "; ") + c.post_note;
  j["signature"] = sig;
  j["note"] = note;
  return j;
}

std::string to_json(const Bench& b, const std::vector<const MutantSpec*>& mutants, const std::string& date) {
  const Options& o = b.o;
  ojson j;
  j["cap_seconds"] = json2(o.cap);
  j["seeds"] = o.seeds;
  j["date"] = date;
  j["command"] = o.command;
  j["minimize_seconds"] = json2(o.minimize_seconds);
  j["drivers"] = o.drivers;
  ojson ms = ojson::array();
  for (const MutantSpec* m : mutants) {
    core::Bug bug;
    core::bug_by_name(m->name, bug);
    ojson jm;
    jm["name"] = m->name;
    jm["kind"] = core::bug_info(bug).kind;
    jm["design"] = m->design;
    jm["profile"] = m->profile;
    jm["focused_target"] = m->focused;
    jm["note"] = m->note;
    ojson ds = ojson::object();
    for (const Cell& c : b.cells)
      if (c.m == m) ds[c.driver] = cell_json(c);
    jm["drivers"] = ds;
    ms.push_back(jm);
  }
  j["mutants"] = ms;
  ojson clean = ojson::object();
  for (const Cell& c : b.cells) {
    if (c.m != nullptr) continue;
    const CleanCount n = count_clean(c);
    clean[c.driver] = {{"detections", n.detections}, {"runs", c.runs.size()}, {"other", n.other},
                       {"signatures", n.signatures}};
  }
  j["clean"] = clean;
  return j.dump(2) + "\n";
}

// -------------------------------------------------------------- bugbench.md

// What the table's rows found, for the targets and the notes below it.
struct Tally {
  std::vector<double> best_times;
  std::vector<std::string> not_found, slow, notes, unreplayed, long_min;
};

// The clean core's detections per driver.
std::map<std::string, unsigned> clean_detections(const Bench& b) {
  std::map<std::string, unsigned> det;
  for (const Cell& c : b.cells)
    if (c.m == nullptr) det[c.driver] = count_clean(c).detections;
  return det;
}

// "`a`, `b`"
std::string code_list(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::string("`") + v[i] + "`";
  return s;
}

void md_table(std::ostream& md, const Bench& b, const std::vector<const MutantSpec*>& mutants, Tally& t) {
  const Options& o = b.o;
  md << "| mutant | kind |";
  for (const auto& d : o.drivers) md << " " << d << " |";
  md << " best | shortest replaying finding |\n| --- | --- |";
  for (size_t i = 0; i < o.drivers.size(); ++i) md << " ---: |";
  md << " --- | --- |\n";
  for (const MutantSpec* m : mutants) {
    core::Bug bug;
    core::bug_by_name(m->name, bug);
    md << "| `" << m->name << "` | " << core::bug_info(bug).kind << " |";
    const Cell* best = nullptr;
    std::optional<double> best_t;
    for (const Cell& c : b.cells) {
      if (c.m != m) continue;
      const auto med = median(c);
      md << " " << (!c.applicable ? "n/a" : med ? fixed2(*med) : "—") << " |";
      if (med && (!best_t || *med < *best_t)) best_t = med, best = &c;
      const std::string at = "`" + std::string(m->name) + "` / " + c.driver;
      const std::string why = c.post_note.empty() ? "" : " (" + c.post_note + ")";
      if (med && c.min_ops && *c.min_ops > 10)
        t.notes.push_back(at + ": minimized to " + std::to_string(*c.min_ops) + " ops (> 10)");
      if (med && !c.replays) t.notes.push_back(at + ": the finding does not replay" + why);
      if (med && !c.minimizes) t.notes.push_back(at + ": not minimized" + why);
      if (med && c.fixed_clean && !*c.fixed_clean)
        t.notes.push_back(at + ": the minimized trace also fails with the mutant off (a finding of the design variant)");
    }
    const Cell* shortest = nullptr;
    for (const Cell& c : b.cells)
      if (c.m == m && median(c) && c.replays && c.minimizes && c.min_ops &&
          (shortest == nullptr || *c.min_ops < *shortest->min_ops))
        shortest = &c;
    if (best && shortest == nullptr) t.unreplayed.push_back(m->name);
    else if (best && *shortest->min_ops > 10) t.long_min.push_back(m->name);
    if (best) {
      md << " " << best->driver << " | "
         << (shortest ? std::to_string(*shortest->min_ops) + " (" + text_opt(shortest->min_pre) + "), " +
                            shortest->driver
                      : "—")
         << " |\n";
      t.best_times.push_back(*best_t);
      if (*best_t > 10) t.slow.push_back(m->name);
    } else {
      md << " — | — |\n";
      t.not_found.push_back(m->name);
    }
  }
  if (o.clean) {
    const std::map<std::string, unsigned> det = clean_detections(b);
    md << "| **clean core** | — |";
    for (const auto& d : o.drivers) md << " " << det.at(d) << " det. |";
    md << " | |\n";
  }
}

void md_targets(std::ostream& md, const Bench& b, const std::vector<const MutantSpec*>& mutants, size_t nr_mutant_cells,
                Tally& t) {
  md << "\n## Targets\n\n";
  std::sort(t.best_times.begin(), t.best_times.end());
  const size_t found = mutants.size() - t.not_found.size();
  md << "- Detected by at least one driver within the cap: " << found << " of " << mutants.size() << " mutants"
     << (t.not_found.empty() ? "" : " (missed: " + code_list(t.not_found) + ")") << ".\n";
  if (!t.best_times.empty()) {
    md << "- Median over the detected mutants of the best driver's median time: "
       << fixed2(t.best_times[(t.best_times.size() - 1) / 2]) << " s (target ≤ 10 s)";
    if (!t.slow.empty()) md << "; best time above 10 s: " << code_list(t.slow);
    md << ".\n";
  }
  unsigned findings = 0, replay_ok = 0, min_ok = 0;
  for (size_t ci = 0; ci < nr_mutant_cells; ++ci) {
    const Cell& c = b.cells[ci];
    if (!median(c)) continue;
    ++findings;
    replay_ok += c.replays;
    min_ok += c.minimizes && c.min_ops && *c.min_ops <= 10;
  }
  md << "- Findings (mutant × driver cells with a median): " << findings << "; replay: " << replay_ok
     << "; minimized to ≤ 10 ops: " << min_ok << ".\n";
  md << "- Detected mutants with a finding that replays and minimizes to ≤ 10 ops: "
     << found - t.unreplayed.size() - t.long_min.size() << " of " << found;
  if (!t.unreplayed.empty()) md << "; no replaying finding: " << code_list(t.unreplayed);
  if (!t.long_min.empty()) md << "; shortest above 10 ops: " << code_list(t.long_min);
  md << ".\n";
  if (b.o.clean) {
    unsigned total = 0;
    for (const auto& [d, n] : clean_detections(b)) total += n;
    md << "- Clean core (no mutant, default designs, same cap): " << total << " detection(s)";
    if (total) {
      md << " —";
      for (const Cell& c : b.cells)
        if (!c.m)
          for (const auto& r : c.runs)
            if (r.detected)
              md << " " << c.driver << (r.target.empty() ? "" : " " + r.target) << " seed: " << r.signature << " ("
                 << r.log << ");";
    }
    md << ".\n";
  }
}

std::string to_markdown(const Bench& b, const std::vector<const MutantSpec*>& mutants, size_t nr_mutant_cells,
                        const std::string& date) {
  const Options& o = b.o;
  std::ostringstream md;
  md << "# bugbench: time to first detection of the catalog mutants\n\n";
  md << "Generated " << date << " by `" << o.command << "`: cap " << fixed2(o.cap) << " s, " << o.seeds
     << " seed(s) (median), at most " << o.jobs << " driver process(es) at once, minimize budget "
     << fixed2(o.minimize_seconds) << " s.\n\n";
  md << "Cells: median seconds to the first detection (— not found within the cap, n/a no such driver for the "
        "mutant). Fuzz times are wall clock of the libFuzzer process (start-up and corpus loading included), stress "
        "times the run's own first-violation time, rc_state times wall clock including rapidcheck's shrinking. "
        "**best**: the fastest driver. **shortest replaying finding**: among the drivers whose finding replays, "
        "the one with the fewest ops after `refhammer minimize` (rc_state: the commands of rapidcheck's shrunk "
        "counterexample): ops (preemptions), driver.\n\n";
  Tally t;
  md_table(md, b, mutants, t);
  md_targets(md, b, mutants, nr_mutant_cells, t);
  if (!t.notes.empty()) {
    md << "\n## Findings that fall short\n\n";
    for (const auto& n : t.notes) md << "- " << n << "\n";
  }
  md << "\n## Mutants with a known driver gap\n\n";
  for (const MutantSpec* m : mutants)
    if (!m->note.empty()) md << "- `" << m->name << "`: " << m->note << ".\n";
  md << "- rc_state is n/a for the mutants outside the special owners: tests/special has rc::state tests of hugetlb, "
        "ZONE_DEVICE, PageOffline/offlining and free page reporting only.\n";
  return md.str();
}

// OUT/bugbench.json and OUT/bugbench.md; the markdown on stdout too.
void write_reports(Bench& b, const std::vector<const MutantSpec*>& mutants, size_t nr_mutant_cells) {
  const std::string date = iso_now();
  const std::string js = to_json(b, mutants, date);
  const std::string md = to_markdown(b, mutants, nr_mutant_cells, date);
  const std::string jpath = (fs::path(b.o.out) / "bugbench.json").string();
  const std::string mpath = (fs::path(b.o.out) / "bugbench.md").string();
  std::ofstream(jpath) << js;
  std::ofstream(mpath) << md;
  b.say("wrote " + jpath + " and " + mpath);
  std::printf("\n%s", md.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Bench b;
  if (const auto rc = parse_options(argc, argv, b.o)) return *rc;
  if (const auto rc = load_mutant_table(b.o)) return *rc;
  std::vector<const MutantSpec*> mutants;
  if (const auto rc = check_setup(b, mutants)) return *rc;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const size_t nr_mutant_cells = make_cells(b, mutants);
  run_tasks(b, make_tasks(b), mutants.size());
  if (g_stop) {
    std::fprintf(stderr, "bugbench: interrupted\n");
    return 2;
  }
  post_process_findings(b, nr_mutant_cells);
  if (g_stop) {
    std::fprintf(stderr, "bugbench: interrupted\n");
    return 2;
  }
  write_reports(b, mutants, nr_mutant_cells);
  return 0;
}
