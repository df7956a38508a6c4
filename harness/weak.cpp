// harness::WeakMemory — see weak.hpp.
#include "harness/weak.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace refhammer::harness {

std::string format_stale(const StaleScript& s) {
  std::string out;
  for (const StaleRead& r : s) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r.load) + ":" + std::to_string(r.back);
  }
  return out;
}

std::string parse_stale(const std::string& text, StaleScript& out) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    size_t j = text.find_first_of(" \t", i);
    if (j == std::string::npos) j = text.size();
    const std::string item = text.substr(i, j - i);
    i = j;
    const size_t colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
      return "stale read '" + item + "' is not LOAD:BACK";
    char* end = nullptr;
    errno = 0;
    const unsigned long long load = std::strtoull(item.c_str(), &end, 10);
    if (errno != 0 || end != item.c_str() + colon || load > UINT32_MAX) return "stale read '" + item + "': bad load number";
    const unsigned long long back = std::strtoull(item.c_str() + colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || back < 1 || back > WeakMemory::kMaxBack)
      return "stale read '" + item + "': back must be 1.." + std::to_string(WeakMemory::kMaxBack);
    if (!out.empty() && load <= out.back().load) return "stale read '" + item + "': loads must ascend";
    out.push_back(StaleRead{static_cast<uint32_t>(load), static_cast<uint8_t>(back)});
  }
  return "";
}

WeakMemory::WeakMemory(unsigned actors, StaleScript script, StaleRandom random)
    : n_(std::min<unsigned>(actors, kMaxActors)),
      clocks_(kMaxActors, Clock{}),
      script_(std::move(script)),
      random_(random),
      rng_(random.seed) {
  locs_.reserve(1024);  // a run touches a few hundred locations: no rehash on the way
}

bool WeakMemory::is_acquire(std::memory_order mo) {
  return mo == std::memory_order_acquire || mo == std::memory_order_acq_rel || mo == std::memory_order_seq_cst ||
         mo == std::memory_order_consume;
}
bool WeakMemory::is_release(std::memory_order mo) {
  return mo == std::memory_order_release || mo == std::memory_order_acq_rel || mo == std::memory_order_seq_cst;
}

bool WeakMemory::happens_before(const Store& s, unsigned a) const {
  return s.writer == kInit || s.stamp <= clocks_[a][s.writer];
}

void WeakMemory::acquire(unsigned a, const Store& s) {
  for (unsigned i = 0; i < kMaxActors; ++i) clocks_[a][i] = std::max(clocks_[a][i], s.release[i]);
}

WeakMemory::Loc& WeakMemory::location(const void* addr, uint64_t latest) {
  Loc& l = locs_[addr];
  // A location first seen, or one written without a sync point since
  // (core::Atomic::init() on reuse, the scheduler's own context): what it
  // holds now is its first store, before everything.
  if (l.mo.empty() || l.mo.back().bits != latest) {
    l.mo.reset(Store{latest, kInit, 0, Clock{}});
    l.base = 0;
    l.seen.fill(0);
  }
  return l;
}

uint64_t WeakMemory::load(unsigned a, const void* addr, uint64_t latest, std::memory_order mo) {
  if (a >= n_) return latest;
  Loc& l = location(addr, latest);
  const uint64_t newest = l.base + l.mo.size() - 1;
  uint64_t lowest = std::max(l.seen[a], l.base);
  if (mo == std::memory_order_seq_cst) {
    lowest = newest;
  } else {
    for (uint64_t i = newest; i > lowest; --i)
      if (happens_before(l.mo[i - l.base], a)) {
        lowest = i;
        break;
      }
  }
  uint64_t idx = newest;
  if (lowest < newest) {
    const uint32_t id = eligible_++;
    if (choices_.size() < kMaxChoices) choices_.push_back(static_cast<uint8_t>(newest - lowest + 1));
    while (next_ < script_.size() && script_[next_].load < id) ++next_;
    uint64_t back = 0;
    if (next_ < script_.size() && script_[next_].load == id)
      back = std::min<uint64_t>(script_[next_].back, newest - lowest);
    else if (random_.per_mille > 0 && rng_.chance(random_.per_mille, 1000))
      back = 1 + rng_.below(static_cast<uint32_t>(newest - lowest));
    if (back > 0) {
      idx = newest - back;
      taken_.push_back(StaleRead{id, static_cast<uint8_t>(back)});
    }
  }
  l.seen[a] = idx;
  const Store& s = l.mo[idx - l.base];
  if (is_acquire(mo)) acquire(a, s);
  return s.bits;
}

void WeakMemory::write(unsigned a, const void* addr, uint64_t before, uint64_t after, std::memory_order mo,
                       core::WeakWrite kind) {
  if (a >= n_) return;
  Loc& l = location(addr, before);
  const uint64_t newest = l.base + l.mo.size() - 1;
  l.seen[a] = newest;
  if (kind == core::WeakWrite::CasFail) {  // a load of the newest store
    if (is_acquire(mo)) acquire(a, l.mo.back());
    return;
  }
  Store s{after, static_cast<uint8_t>(a), 0, Clock{}};
  if (kind == core::WeakWrite::Rmw) {
    const Store& prev = l.mo.back();
    if (is_acquire(mo)) acquire(a, prev);
    s.release = prev.release;  // the release sequence it continues
  }
  s.stamp = ++clocks_[a][a];
  if (is_release(mo))
    for (unsigned i = 0; i < kMaxActors; ++i) s.release[i] = std::max(s.release[i], clocks_[a][i]);
  if (l.mo.push(s)) ++l.base;
  l.seen[a] = l.base + l.mo.size() - 1;
}

}  // namespace refhammer::harness
