// harness decision sources — see sched.hpp.
#include "harness/sched.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace refhammer::harness {

std::string format_schedule(const Schedule& s) {
  std::string out;
  for (const Slice& r : s) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r.actor) + "x" + std::to_string(r.steps);
  }
  return out;
}

std::string parse_schedule(const std::string& text, Schedule& out) {
  out.clear();
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    const size_t x = w.find('x');
    unsigned a = 0, n = 0;
    if (x == std::string::npos) return "schedule entry '" + w + "' is not ACTORxSTEPS";
    auto r1 = std::from_chars(w.data(), w.data() + x, a);
    auto r2 = std::from_chars(w.data() + x + 1, w.data() + w.size(), n);
    if (r1.ec != std::errc() || r1.ptr != w.data() + x || r2.ec != std::errc() || r2.ptr != w.data() + w.size() ||
        n == 0 || a >= 256)
      return "schedule entry '" + w + "' is not ACTORxSTEPS (actor < 256, steps >= 1)";
    out.push_back(Slice{static_cast<uint8_t>(a), n});
  }
  return {};
}

uint64_t schedule_steps(const Schedule& s) {
  uint64_t n = 0;
  for (const Slice& r : s) n += r.steps;
  return n;
}

namespace {

bool has(const std::vector<unsigned>& c, unsigned a) { return std::find(c.begin(), c.end(), a) != c.end(); }

class RandomSource final : public DecisionSource {
 public:
  explicit RandomSource(uint64_t seed) : seed_(seed), rng_(seed) {}
  unsigned pick(const std::vector<unsigned>& c, int, uint64_t) override { return c[rng_.below(static_cast<uint32_t>(c.size()))]; }
  std::string describe() const override { return "random seed=" + std::to_string(seed_); }

 private:
  uint64_t seed_;
  Rng rng_;
};

// PCT over a priority vector and change points, however they were chosen.
class PctCore {
 public:
  // invariant: prio_ has one distinct value per actor; change_ is sorted.
  void init(std::vector<uint32_t> prio, std::vector<uint64_t> change) {
    prio_ = std::move(prio);
    change_ = std::move(change);
    std::sort(change_.begin(), change_.end());
  }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t step) {
    // Change point i (1-based) lowers the running actor's priority to i.
    while (next_ < change_.size() && change_[next_] <= step) {
      if (current >= 0 && static_cast<size_t>(current) < prio_.size()) prio_[current] = static_cast<uint32_t>(next_ + 1);
      ++next_;
    }
    unsigned best = c[0];
    for (unsigned a : c)
      if (a < prio_.size() && prio_[a] > prio_[best]) best = a;
    return best;
  }

 private:
  std::vector<uint32_t> prio_;
  std::vector<uint64_t> change_;
  size_t next_ = 0;
};

class PctSource final : public DecisionSource {
 public:
  PctSource(uint64_t seed, unsigned n, uint32_t d, uint64_t k) : seed_(seed), d_(std::max<uint32_t>(1, d)), k_(k) {
    Rng rng(seed);
    std::vector<uint32_t> prio(n);
    for (unsigned i = 0; i < n; ++i) prio[i] = d_ + i;
    for (unsigned i = n; i > 1; --i) std::swap(prio[i - 1], prio[rng.below(i)]);  // Fisher-Yates
    std::vector<uint64_t> change;
    for (uint32_t i = 1; i < d_; ++i) change.push_back(1 + rng.next() % std::max<uint64_t>(1, k));
    core_.init(std::move(prio), std::move(change));
  }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t step) override { return core_.pick(c, current, step); }
  std::string describe() const override {
    return "pct d=" + std::to_string(d_) + " k=" + std::to_string(k_) + " seed=" + std::to_string(seed_);
  }
  uint32_t depth() const override { return d_; }

 private:
  uint64_t seed_;
  uint32_t d_;
  uint64_t k_;
  PctCore core_;
};

class BytesSource final : public DecisionSource {
 public:
  BytesSource(const uint8_t* d, size_t n) : data_(d, d + n) {}
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t) override {
    if (pos_ < data_.size()) return c[data_[pos_++] % c.size()];
    return current >= 0 && has(c, static_cast<unsigned>(current)) ? static_cast<unsigned>(current) : c[0];
  }
  std::string describe() const override { return "bytes n=" + std::to_string(data_.size()); }

 private:
  std::vector<uint8_t> data_;
  size_t pos_ = 0;
};

// Context switches from bytes: three bytes per switch, a 16-bit step delta
// (little endian) from the previous switch and an actor byte. Between
// switches the current actor keeps running (the bounded explorer's default
// schedule); when it cannot, the next candidate after it runs. At a switch
// step, candidates[actor % size] runs. A mutation moves or retargets one
// preemption; c switches are a point of the context-bounded search space.
class SwitchBytesSource final : public DecisionSource {
 public:
  SwitchBytesSource(const uint8_t* d, size_t size) {
    uint64_t at = 0;
    for (size_t i = 0; i + 3 <= size; i += 3) {
      at += uint64_t(d[i]) | (uint64_t(d[i + 1]) << 8);
      points_.push_back({at, d[i + 2]});
    }
  }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t step) override {
    while (next_ < points_.size() && points_[next_].first < step) ++next_;
    if (next_ < points_.size() && points_[next_].first == step) return c[points_[next_++].second % c.size()];
    if (current >= 0 && has(c, static_cast<unsigned>(current))) return static_cast<unsigned>(current);
    for (unsigned a : c)
      if (static_cast<int>(a) > current) return a;
    return c[0];
  }
  std::string describe() const override { return "switch-bytes c=" + std::to_string(points_.size()); }

 private:
  std::vector<std::pair<uint64_t, uint8_t>> points_;
  size_t next_ = 0;
};

// Context switches anchored in the program: four bytes per switch, the
// anchor actor (modulo the actors), the anchor op (modulo that actor's ops),
// the sync-point index j within that op (modulo 64) and the target (modulo
// the other candidates). When the running actor is the anchor actor and its
// pending sync point is the j-th of the anchor op, another candidate runs;
// otherwise the current actor keeps running, as with SwitchBytes. A switch
// fires at most once, and of two switches with one anchor the first in the
// bytes wins. Unlike a step number, an anchor does not move when an earlier
// switch or another actor's ops change, and it always names a point of the
// program: with step numbers, most 16-bit values lie past the end of a
// short run and a mutation of one switch moves every later one.
class AnchorBytesSource final : public DecisionSource {
 public:
  AnchorBytesSource(const uint8_t* d, size_t size, const std::vector<size_t>& ops) {
    if (ops.empty()) return;
    for (size_t i = 0; i + 4 <= size; i += 4) {
      const uint32_t actor = d[i] % ops.size();
      if (ops[actor] == 0) continue;
      const uint32_t op = d[i + 1] % ops[actor];
      const uint32_t j = d[i + 2] % kMaxStep;
      points_.push_back({key(actor, op, j), d[i + 3]});
    }
    // Of two switches with one anchor, the first in the bytes wins: sort by
    // anchor, keeping the bytes' order within one, then drop the later ones.
    std::vector<size_t> idx(points_.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      return points_[a].first != points_[b].first ? points_[a].first < points_[b].first : a < b;
    });
    std::vector<std::pair<uint64_t, uint8_t>> sorted;
    for (size_t i : idx)
      if (sorted.empty() || sorted.back().first != points_[i].first) sorted.push_back(points_[i]);
    points_.swap(sorted);
    fired_.assign(points_.size(), 0);
  }
  bool wants_op_steps() const override { return true; }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t) override {
    const bool runs = current >= 0 && has(c, static_cast<unsigned>(current));
    if (runs && c.size() > 1 && !points_.empty()) {
      const auto a = static_cast<size_t>(current);
      const int op = a < view_->op.size() ? view_->op[a] : -1;
      if (op >= 0 && view_->op_step[a] < kMaxStep) {
        const uint64_t k = key(static_cast<uint32_t>(a), static_cast<uint32_t>(op), view_->op_step[a]);
        const auto it = std::lower_bound(points_.begin(), points_.end(), k,
                                         [](const auto& p, uint64_t v) { return p.first < v; });
        if (it != points_.end() && it->first == k && !fired_[static_cast<size_t>(it - points_.begin())]) {
          fired_[static_cast<size_t>(it - points_.begin())] = 1;
          // The target among the other candidates, so every switch is a
          // preemption.
          unsigned t = it->second % static_cast<unsigned>(c.size() - 1);
          for (unsigned x : c) {
            if (x == static_cast<unsigned>(current)) continue;
            if (t-- == 0) return x;
          }
        }
      }
    }
    if (runs) return static_cast<unsigned>(current);
    for (unsigned a : c)
      if (static_cast<int>(a) > current) return a;
    return c[0];
  }
  std::string describe() const override { return "anchor-bytes c=" + std::to_string(points_.size()); }

 private:
  static constexpr uint32_t kMaxStep = 64;
  static uint64_t key(uint32_t actor, uint32_t op, uint32_t j) {
    return uint64_t{actor} << 40 | uint64_t{op} << 8 | j;
  }
  std::vector<std::pair<uint64_t, uint8_t>> points_;
  std::vector<uint8_t> fired_;  // per point: it switched already (an anchor is pending at most once, but a
                                // pick() with the same view, e.g. in a test, must not switch twice)
};

// Random switch points for `explore --mode switch`: c switches at uniform
// steps in [0, k), each to a uniform candidate.
class SwitchRandomSource final : public DecisionSource {
 public:
  SwitchRandomSource(uint64_t seed, uint32_t c, uint64_t k) : rng_(seed), c_(c) {
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> at;
    for (uint32_t i = 0; i < c; ++i) at.push_back(rng_.below(std::max<uint64_t>(1, k)));
    std::sort(at.begin(), at.end());
    uint64_t prev = 0;
    for (uint64_t a : at) {
      const uint64_t delta = std::min<uint64_t>(a - prev, 0xffff);
      prev += delta;
      bytes.push_back(static_cast<uint8_t>(delta));
      bytes.push_back(static_cast<uint8_t>(delta >> 8));
      bytes.push_back(static_cast<uint8_t>(rng_.below(256)));
    }
    inner_ = std::make_unique<SwitchBytesSource>(bytes.data(), bytes.size());
  }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t step) override {
    return inner_->pick(c, current, step);
  }
  std::string describe() const override { return "switch c=" + std::to_string(c_); }

 private:
  Rng rng_;
  uint32_t c_;
  std::unique_ptr<SwitchBytesSource> inner_;
};

// PCT parameters from bytes: byte 0 = depth (1..4); then one byte per actor
// for priorities (ties broken by actor id); then two bytes per change point,
// scaled into [1, k].
class PctBytesSource final : public DecisionSource {
 public:
  PctBytesSource(const uint8_t* d, size_t size, unsigned n, uint64_t k) {
    size_t i = 0;
    auto byte = [&]() -> uint32_t { return i < size ? d[i++] : 0; };
    d_ = 1 + byte() % 4;
    std::vector<std::pair<uint32_t, unsigned>> keyed;
    for (unsigned a = 0; a < n; ++a) keyed.push_back({byte(), a});
    std::sort(keyed.begin(), keyed.end());
    std::vector<uint32_t> prio(n);
    for (unsigned r = 0; r < n; ++r) prio[keyed[r].second] = d_ + r;
    std::vector<uint64_t> change;
    for (uint32_t c = 1; c < d_; ++c) {
      const uint32_t v = byte() | (byte() << 8);
      change.push_back(1 + (uint64_t(v) * std::max<uint64_t>(1, k)) / 65536);
    }
    core_.init(std::move(prio), std::move(change));
  }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t step) override { return core_.pick(c, current, step); }
  std::string describe() const override { return "pct-bytes d=" + std::to_string(d_); }
  uint32_t depth() const override { return d_; }

 private:
  uint32_t d_ = 1;
  PctCore core_;
};

// A recorded Schedule (run lengths of actors) read one step at a time: what
// RecordedSource (every step) and OrderSource (steps inside ops) share.
class RunLengthCursor {
 public:
  explicit RunLengthCursor(const Schedule& s) : s_(s) {}
  // The actor the schedule names for the next step, or -1 past its end.
  int next() {
    while (run_ < s_.size() && used_ >= s_[run_].steps) {
      ++run_;
      used_ = 0;
    }
    if (run_ >= s_.size()) return -1;
    ++used_;
    return s_[run_].actor;
  }
  bool more() const { return run_ < s_.size() && (used_ < s_[run_].steps || run_ + 1 < s_.size()); }

 private:
  Schedule s_;
  size_t run_ = 0;
  uint32_t used_ = 0;
};

// What both replaying sources share: the cursor over the recorded schedule,
// and whether the run left it (a recorded actor was not runnable).
class ReplaySource : public DecisionSource {
 public:
  explicit ReplaySource(const Schedule& s) : cur_(s) {}
  bool diverged() const override { return diverged_; }
  bool replaying() const override { return cur_.more(); }

 protected:
  RunLengthCursor cur_;
  bool diverged_ = false;
};

class RecordedSource final : public ReplaySource {
 public:
  using ReplaySource::ReplaySource;
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t) override {
    const int a = cur_.next();
    if (a >= 0) {
      if (has(c, static_cast<unsigned>(a))) return static_cast<unsigned>(a);
      diverged_ = true;
    }
    return current >= 0 && has(c, static_cast<unsigned>(current)) ? static_cast<unsigned>(current) : c[0];
  }
  std::string describe() const override { return "recorded"; }
};

class OrderSource final : public ReplaySource {
 public:
  using ReplaySource::ReplaySource;
  bool follows_order() const override { return true; }
  unsigned pick(const std::vector<unsigned>& c, int current, uint64_t) override {
    const bool cur_ok = current >= 0 && has(c, static_cast<unsigned>(current));
    // Steps outside ops are the harness's (the gate between ops); they touch
    // no model state and are not in the order: the current actor keeps
    // them, else the lowest such actor takes its own.
    if (view_ != nullptr) {
      auto outside = [&](unsigned a) { return a < view_->in_op.size() && view_->in_op[a] == 0; };
      if (cur_ok && outside(static_cast<unsigned>(current))) return static_cast<unsigned>(current);
      for (unsigned a : c)
        if (outside(a)) return a;
    }
    const int a = cur_.next();
    if (a >= 0 && has(c, static_cast<unsigned>(a))) return static_cast<unsigned>(a);
    diverged_ = true;  // not runnable, or past the end of what was recorded
    return cur_ok ? static_cast<unsigned>(current) : c[0];
  }
  std::string describe() const override { return "recorded-order"; }
};

}  // namespace

std::unique_ptr<DecisionSource> make_order_source(const Schedule& s) { return std::make_unique<OrderSource>(s); }
std::unique_ptr<DecisionSource> make_random_source(uint64_t seed) { return std::make_unique<RandomSource>(seed); }
std::unique_ptr<DecisionSource> make_pct_source(uint64_t seed, unsigned n, uint32_t d, uint64_t k) {
  return std::make_unique<PctSource>(seed, n, d, k);
}
std::unique_ptr<DecisionSource> make_bytes_source(const uint8_t* data, size_t size) {
  return std::make_unique<BytesSource>(data, size);
}
std::unique_ptr<DecisionSource> make_pct_bytes_source(const uint8_t* data, size_t size, unsigned n, uint64_t k) {
  return std::make_unique<PctBytesSource>(data, size, n, k);
}
std::unique_ptr<DecisionSource> make_recorded_source(const Schedule& s) { return std::make_unique<RecordedSource>(s); }
std::unique_ptr<DecisionSource> make_switch_bytes_source(const uint8_t* data, size_t size) {
  return std::make_unique<SwitchBytesSource>(data, size);
}
std::unique_ptr<DecisionSource> make_anchor_bytes_source(const uint8_t* data, size_t size,
                                                         const std::vector<size_t>& ops_per_actor) {
  return std::make_unique<AnchorBytesSource>(data, size, ops_per_actor);
}
std::unique_ptr<DecisionSource> make_switch_random_source(uint64_t seed, uint32_t c, uint64_t k) {
  return std::make_unique<SwitchRandomSource>(seed, c, k);
}

}  // namespace refhammer::harness
