// harness::record — see record.hpp.
#include "harness/record.hpp"

#include <algorithm>
#include <thread>

namespace refhammer::harness {

namespace {
inline void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

uint32_t StripeTable::lock(uint16_t i) noexcept {
  std::atomic<uint64_t>& w = s_[i].word;
  unsigned spins = 0;
  for (;;) {
    // relaxed: only seeds the CAS.
    uint64_t v = w.load(std::memory_order_relaxed);
    // acquire: pairs with the release in unlock(): this access is ordered
    // after the previous holder's, which is what its sequence number says.
    if ((v & 1) == 0 && w.compare_exchange_weak(v, v + 1, std::memory_order_acquire, std::memory_order_relaxed))
      return static_cast<uint32_t>(v >> 1);
    pause();
    if (++spins % 64 == 0) std::this_thread::yield();  // the holder may be descheduled (oversubscription)
  }
}

void StripeTable::unlock(uint16_t i) noexcept {
  std::atomic<uint64_t>& w = s_[i].word;
  // relaxed: we hold the stripe, nobody else writes the word.
  const uint64_t v = w.load(std::memory_order_relaxed);
  // release: pairs with the acquire CAS in lock().
  w.store(v + 1, std::memory_order_release);
}

void StripeTable::reset() noexcept {
  // relaxed: at quiescence; the driver's barrier (the stress gate) orders it.
  for (unsigned i = 0; i < kStripes; ++i) s_[i].word.store(0, std::memory_order_relaxed);
}

RecordingHook::RecordingHook(StripeTable& t, std::vector<SyncAccess>* log, bool perturb, uint64_t seed, uint32_t gap)
    : t_(t), log_(log), perturb_(perturb), gap_(gap == 0 ? 1 : gap), rng_(seed) {
  countdown = 1;
  if (perturb_) until_perturb_ = 1 + rng_.below(2 * gap_);
}

void RecordingHook::release() noexcept {
  if (held_ == kNoStripe) return;
  t_.unlock(held_);
  held_ = kNoStripe;
}

void RecordingHook::perturb_now() {
  const uint32_t r = rng_.below(8);
  if (r == 0) {
    std::this_thread::yield();
  } else {
    for (uint32_t i = 0; i < r * 8; ++i) pause();
  }
}

void RecordingHook::on_sync(core::SyncOp op, const void* addr) {
  countdown = 1;
  // The previous access is done (no shared state is touched between sync
  // points): its stripe can go.
  release();
  if (perturb_ && --until_perturb_ == 0) {
    until_perturb_ = 1 + rng_.below(2 * gap_);
    perturb_now();  // before the access: widens the window in front of it
  }
  if (current_ == nullptr || *current_ == -1 || log_ == nullptr) return;
  if (op == core::SyncOp::Spin || addr == nullptr) {
    log_->push_back(SyncAccess{0, kNoStripe, static_cast<uint8_t>(op)});
    return;
  }
  const uint16_t s = StripeTable::index(addr);
  const uint32_t seq = t_.lock(s);
  held_ = s;
  log_->push_back(SyncAccess{seq, s, static_cast<uint8_t>(op)});
}

std::string merge_sync_order(const std::vector<std::vector<SyncAccess>>& logs, Schedule& order) {
  order.clear();
  const size_t n = logs.size();
  std::vector<std::vector<uint32_t>> seqs(StripeTable::kStripes);
  size_t total = 0;
  for (const auto& log : logs) {
    total += log.size();
    for (const SyncAccess& e : log)
      if (e.stripe != kNoStripe) {
        if (e.stripe >= StripeTable::kStripes) return "a logged stripe is out of range";
        seqs[e.stripe].push_back(e.seq);
      }
  }
  for (unsigned s = 0; s < StripeTable::kStripes; ++s) {
    std::sort(seqs[s].begin(), seqs[s].end());
    if (std::adjacent_find(seqs[s].begin(), seqs[s].end()) != seqs[s].end())
      return "stripe " + std::to_string(s) + " has two accesses with one sequence number";
  }
  std::vector<size_t> next(StripeTable::kStripes, 0), pos(n, 0);
  auto ready = [&](size_t a) {
    if (pos[a] >= logs[a].size()) return false;
    const SyncAccess& e = logs[a][pos[a]];
    return e.stripe == kNoStripe || seqs[e.stripe][next[e.stripe]] == e.seq;
  };
  size_t cur = 0;
  for (size_t taken = 0; taken < total; ++taken) {
    if (!ready(cur)) {
      size_t a = 0;
      while (a < n && !ready(a)) ++a;
      if (a == n) return "the logs admit no order: each actor waits for another's access (a log was cut)";
      cur = a;
    }
    const SyncAccess& e = logs[cur][pos[cur]++];
    if (e.stripe != kNoStripe) ++next[e.stripe];
    if (!order.empty() && order.back().actor == cur) ++order.back().steps;
    else order.push_back(Slice{static_cast<uint8_t>(cur), 1});
  }
  return {};
}

}  // namespace refhammer::harness
