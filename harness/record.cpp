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

uint64_t StripeTable::read_begin(uint16_t i) const noexcept {
  const std::atomic<uint64_t>& w = s_[i].word;
  unsigned spins = 0;
  for (;;) {
    // acquire: pairs with the release in unlock(): the load that follows
    // sees the writes this word counts.
    const uint64_t v = w.load(std::memory_order_acquire);
    if ((v & 1) == 0) return v;
    pause();
    if (++spins % 64 == 0) std::this_thread::yield();
  }
}

bool StripeTable::validate(uint16_t i, uint64_t word) const noexcept {
  // acquire fence: the model's load above (of any order) is ordered before
  // the re-read of the word, as a seqlock reader's data loads are.
  std::atomic_thread_fence(std::memory_order_acquire);
  // relaxed: ordered by the fence.
  return s_[i].word.load(std::memory_order_relaxed) == word;
}

void StripeTable::reset() noexcept {
  // relaxed: at quiescence; the driver's barrier (the stress gate) orders it.
  for (unsigned i = 0; i < kStripes; ++i) s_[i].word.store(0, std::memory_order_relaxed);
}

RecordingHook::RecordingHook(StripeTable& t, std::vector<SyncAccess>* log, bool perturb, uint64_t seed, uint32_t gap,
                             uint32_t preempt_pauses)
    : t_(t), log_(log), perturb_(perturb), gap_(gap == 0 ? 1 : gap), preempt_pauses_(preempt_pauses), rng_(seed) {
  countdown = 1;
  wants_done = true;
  if (perturb_) until_perturb_ = 1 + rng_.below(2 * gap_);
}

void RecordingHook::release() noexcept {
  if (held_ == kNoStripe) return;
  t_.unlock(held_);
  held_ = kNoStripe;
}

void RecordingHook::perturb_now() {
  if (preempt_pauses_ != 0 && rng_.below(8) == 0) {
    for (uint32_t i = 0; i < preempt_pauses_; ++i) pause();
    return;
  }
  const uint32_t r = rng_.below(8);
  if (r == 0) {
    std::this_thread::yield();
  } else {
    for (uint32_t i = 0; i < r * 8; ++i) pause();
  }
}

void RecordingHook::on_sync(core::SyncOp op, const void* addr) {
  countdown = 1;
  release();  // normally released by on_sync_done() already
  reading_ = kNoStripe;
  if (perturb_ && --until_perturb_ == 0) {
    until_perturb_ = 1 + rng_.below(2 * gap_);
    perturb_now();  // before the access: widens the window in front of it
  }
  if (current_ == nullptr || *current_ == -1 || log_ == nullptr) return;
  if (op == core::SyncOp::Spin || addr == nullptr) {
    log_->push_back(make_sync_access(0, kNoStripe, static_cast<uint8_t>(op)));
    return;
  }
  const uint16_t s = StripeTable::index(addr);
  if (op == core::SyncOp::Load) {
    reading_ = s;
    read_op_ = static_cast<uint8_t>(op);
    read_word_ = t_.read_begin(s);
    return;  // logged by on_load_done() once it is known where it lies
  }
  const uint32_t seq = t_.lock(s);
  held_ = s;
  log_->push_back(make_sync_access(seq, s, static_cast<uint8_t>(op)));
}

bool RecordingHook::on_load_done() {
  if (reading_ == kNoStripe) return true;  // not recorded (outside ops)
  if (!t_.validate(reading_, read_word_)) {
    read_word_ = t_.read_begin(reading_);  // a write overlapped: load again
    return false;
  }
  log_->push_back(make_sync_access(static_cast<uint32_t>(read_word_ >> 1), reading_, read_op_));
  reading_ = kNoStripe;
  return true;
}

std::string merge_sync_order(const std::vector<std::vector<SyncAccess>>& logs, Schedule& order) {
  order.clear();
  const size_t n = logs.size();
  // Per stripe: how many writes, and how many loads lie before each write
  // (position p: after writes 0..p-1, before write p).
  std::vector<uint32_t> writes(StripeTable::kStripes, 0);
  std::vector<std::vector<uint32_t>> loads_at(StripeTable::kStripes);
  size_t total = 0;
  auto is_load = [](const SyncAccess& e) { return e.op == static_cast<uint8_t>(core::SyncOp::Load); };
  for (const auto& log : logs) {
    total += log.size();
    for (const SyncAccess& e : log) {
      if (e.stripe == kNoStripe) continue;
      if (e.stripe >= StripeTable::kStripes) return "a logged stripe is out of range";
      if (!is_load(e)) writes[e.stripe] = std::max(writes[e.stripe], e.seq + 1);
    }
  }
  std::vector<std::vector<uint8_t>> seen(StripeTable::kStripes);
  for (unsigned s = 0; s < StripeTable::kStripes; ++s) {
    loads_at[s].assign(writes[s] + 1, 0);
    seen[s].assign(writes[s], 0);
  }
  for (const auto& log : logs)
    for (const SyncAccess& e : log) {
      if (e.stripe == kNoStripe) continue;
      if (is_load(e)) {
        if (e.seq > writes[e.stripe]) return "a load of stripe " + std::to_string(e.stripe) + " lies after a write nobody logged";
        ++loads_at[e.stripe][e.seq];
      } else {
        if (seen[e.stripe][e.seq]) return "stripe " + std::to_string(e.stripe) + " has two writes with one sequence number";
        seen[e.stripe][e.seq] = 1;
      }
    }
  for (unsigned s = 0; s < StripeTable::kStripes; ++s)
    if (std::find(seen[s].begin(), seen[s].end(), 0) != seen[s].end())
      return "stripe " + std::to_string(s) + " misses a write its sequence numbers count (a log was cut)";
  std::vector<uint32_t> done(StripeTable::kStripes, 0);
  std::vector<size_t> pos(n, 0);
  auto ready = [&](size_t a) {
    if (pos[a] >= logs[a].size()) return false;
    const SyncAccess& e = logs[a][pos[a]];
    if (e.stripe == kNoStripe) return true;
    if (is_load(e)) return done[e.stripe] == e.seq;
    return done[e.stripe] == e.seq && loads_at[e.stripe][e.seq] == 0;
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
    if (e.stripe != kNoStripe) {
      if (is_load(e)) --loads_at[e.stripe][e.seq];
      else ++done[e.stripe];
    }
    if (!order.empty() && order.back().actor == cur) ++order.back().steps;
    else order.push_back(Slice{static_cast<uint8_t>(cur), 1});
  }
  return {};
}

}  // namespace refhammer::harness
