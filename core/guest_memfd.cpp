// core::GuestMemfd — see guest_memfd.hpp.
#include "core/guest_memfd.hpp"

#include <string>

#include "core/audit.hpp"
#include "core/folio.hpp"
#include "core/mm.hpp"
#include "core/page_ref.hpp"

namespace core {

GuestMemfd::GuestMemfd(Model& m, uint16_t mapping_id, uint32_t nr_pages, uint8_t huge_order)
    : m_(m), nr_(nr_pages), huge_order_(huge_order), cache_(mapping_id, nr_pages),
      state_(std::make_unique<Atomic<uint8_t>[]>(nr_pages)) {}

GmemState GuestMemfd::state(uint32_t index) const noexcept {
  // acquire: pairs with the release in convert(), so a reader that sees
  // Shared after a private->shared conversion sees the scrubbed payload.
  return static_cast<GmemState>(state_[index].load(std::memory_order_acquire));
}

GmemState GuestMemfd::state_quiescent(uint32_t index) const noexcept {
  return static_cast<GmemState>(state_[index].peek());
}

GmemState GuestMemfd::page_state_of_file(Pfn page, Pfn head) const {
  const Frame& h = m_.frame(head);
  // relaxed (index): the caller holds a reference on the folio (page_state()),
  // so its index is stable. The mapping is not: PUNCH_HOLE (truncate_folio)
  // clears it under the folio lock and xa_lock, which a caller outside the
  // PTL (GUP after it dropped the PTL, GUP-fast) does not hold; relaxed,
  // because the entry re-check below decides.
  if (h.mapping.load(std::memory_order_relaxed) != cache_.id()) return GmemState::Absent;
  const uint32_t index = h.index.load(std::memory_order_relaxed) + (page - head);
  if (index >= nr_) return GmemState::Absent;
  const GmemState s = state(index);
  // The state belongs to the file index, not to the folio. If the folio left
  // the file since the mapping check (punch_hole), the index is a hole or
  // another folio's, and a later conversion may have made it private: that
  // says nothing about this folio, which is no longer guest memory (it is
  // scrubbed by free_folio when our reference goes). So the state counts only
  // if the folio is still the file's at that index after we read it.
  // (A truncation racing the check itself can hide a private state read
  // just before it: the check errs towards silence, never a false alarm.)
  // relaxed: the acquire in state() suffices (it pairs with the release
  // state stores of convert(), populate() and punch_hole()). A conversion or
  // populate that wrote the state we read ran under the invalidate lock
  // after any punch_hole that truncated this folio, so the truncation's entry
  // clear happens-before our load, which sees kNoPfn or a newer folio, never
  // this one again: our reference keeps it from being freed and re-added.
  if (cache_.entry(index).load(std::memory_order_relaxed) != head) return GmemState::Absent;
  return s;
}

int GuestMemfd::populate(uint32_t index) {
  if (index >= nr_) return -EINVAL;
  const uint32_t n = huge_pages();
  const uint32_t base = index & ~(n - 1);
  SpinGuard g(invalidate_lock_);
  // relaxed: under the invalidate lock, which serialises populate/punch.
  if (cache_.entry(base).load(std::memory_order_relaxed) != kNoPfn) return -EEXIST;
  const Pfn head = alloc_pages(m_, ZoneType::Normal, huge_order_);  // unmovable: guest_memfd never migrates
  if (head == kNoPfn) return -ENOMEM;
  const bool split = m_.config().design.gmem_pin_policy == GmemPinPolicy::SplitSmallFolios && n > 1;
  if (split && !split_folio(m_, head)) {  // only our reference exists: cannot fail
    folio_put(m_, head);
    return -ENOMEM;
  }
  const uint32_t step = split ? 1 : n;
  for (uint32_t i = 0; i < n; i += step) {
    // relaxed: we hold the only reference and the folio is not yet visible;
    // filemap_add_folio's release entry store publishes it.
    m_.frame(head + i).owner.store(static_cast<uint8_t>(OwnerId::Guestmem), std::memory_order_relaxed);
    for (uint32_t j = i; j < i + step; ++j)
      // release: pairs with the acquire in state().
      state_[base + j].store(static_cast<uint8_t>(GmemState::Shared), std::memory_order_release);
    const int err = filemap_add_folio(m_, cache_, head + i, base + i);
    MODEL_BUG_ON(err != 0);
    folio_put(m_, head + i);  // the cache's references keep it
  }
  return 0;
}

int GuestMemfd::fault_map(Mm& mm, uint32_t slot, uint32_t index) {
  if (index >= nr_) return -EINVAL;
  SpinGuard g(invalidate_lock_);
  if (state(index) != GmemState::Shared) return state(index) == GmemState::Absent ? -ENOENT : -EPERM;
  const Pfn head = filemap_get_folio(m_, cache_, index);
  if (head == kNoPfn) return -ENOENT;
  // relaxed: we hold a reference; the index is stable.
  const Pfn page = head + (index - m_.frame(head).index.load(std::memory_order_relaxed));
  const int err = map_page(m_, mm, slot, page);
  folio_put(m_, head);
  return err;
}

bool GuestMemfd::wait_for_expected_refs(Pfn head) {
  const int32_t expected = static_cast<int32_t>(folio_nr_pages(m_, head));
  for (uint32_t spins = 0;; ++spins) {
    // acquire: the last transient holder's accesses happened before the
    // page turns private (see folio_ref_count_acquire).
    if (folio_ref_count_acquire(m_, head) == expected) return true;
    if (spins == 0) m_.probe(Probe::GmemConvertWaited);
    if (spins >= m_.config().gmem_convert_spins) return false;
    cpu_relax();
  }
}

int GuestMemfd::convert(uint32_t start, uint32_t nr, bool to_private) {
  if (start >= nr_ || nr == 0 || start + nr > nr_) return -EINVAL;
  SpinGuard g(invalidate_lock_);  // 1.
  if (!to_private) {
    for (uint32_t i = start; i < start + nr; ++i)
      // release: pairs with the acquire in state().
      state_[i].store(static_cast<uint8_t>(GmemState::Shared), std::memory_order_release);
    return 0;
  }
  // 2. The cache's references keep every folio alive while we hold the
  //    invalidate lock (punch_hole takes it too).
  for (uint32_t i = start; i < start + nr; ++i) {
    // relaxed: under the invalidate lock; the entry cannot change.
    const Pfn head = cache_.entry(i).load(std::memory_order_relaxed);
    if (head == kNoPfn) continue;
    // relaxed: as above.
    unmap_page_everywhere(m_, head + (i - m_.frame(head).index.load(std::memory_order_relaxed)));
  }
  // 3.
  Pfn last = kNoPfn;
  for (uint32_t i = start; i < start + nr; ++i) {
    const Pfn head = cache_.entry(i).load(std::memory_order_relaxed);  // relaxed: as above
    if (head == kNoPfn || head == last) continue;
    last = head;
    if (!m_.bug_on(Bug::GmemConvertIgnoresPins) && !wait_for_expected_refs(head)) {
      m_.probe(Probe::GmemConvertBusy);
      return -EAGAIN;
    }
  }
  // 4.
  for (uint32_t i = start; i < start + nr; ++i) {
    const Pfn head = cache_.entry(i).load(std::memory_order_relaxed);  // relaxed: as above
    // release: pairs with the acquire in state(): a host path that sees
    // Private must not have seen the page mapped after this point. Catalog
    // bug gmem-convert-private-relaxed: relaxed.
    state_[i].store(static_cast<uint8_t>(GmemState::Private),
                    m_.bug_on(Bug::GmemConvertPrivateRelaxed) ? std::memory_order_relaxed : std::memory_order_release);
    if (head != kNoPfn)
      // relaxed: the page is unmapped and private; only the guest uses it now.
      m_.frame(head + (i - m_.frame(head).index.load(std::memory_order_relaxed))).payload.store(kGmemScrubbed, std::memory_order_relaxed);
  }
  return 0;
}

int GuestMemfd::punch_hole(uint32_t index) {
  if (index >= nr_) return -EINVAL;
  const uint32_t n = huge_pages();
  const uint32_t base = index & ~(n - 1);
  SpinGuard g(invalidate_lock_);
  int freed = 0;
  for (uint32_t i = base; i < base + n; ++i) {
    if (truncate_folio(m_, cache_, i) == 0) ++freed;
    // release: pairs with the acquire in state().
    state_[i].store(static_cast<uint8_t>(GmemState::Absent), std::memory_order_release);
  }
  return freed > 0 ? 0 : -ENOENT;
}

void GuestMemfd::free_folio(Model& m, Pfn head) {
  // kvm_gmem_free_folio(): invalidate (scrub) before the memory goes back.
  const uint32_t nr = 1u << m.frame(head).order.load(std::memory_order_relaxed);  // relaxed: FREEING
  for (uint32_t i = 0; i < nr; ++i)
    m.frame(head + i).payload.store(kGmemScrubbed, std::memory_order_relaxed);  // relaxed: FREEING, only we touch it
  m.frame(head).owner.store(static_cast<uint8_t>(OwnerId::Buddy), std::memory_order_relaxed);  // relaxed: FREEING
  free_folio_to_buddy(m, head);
}

void GuestMemfd::audit_check(Model& m, const HolderLedger& ledger, std::vector<Violation>& out) const {
  // A private page that the host still maps or pins is a security violation.
  for (uint32_t i = 0; i < nr_; ++i) {
    if (state_quiescent(i) != GmemState::Private) continue;
    const Pfn head = cache_.entry(i).peek();
    if (head == kNoPfn) continue;
    const Pfn page = head + (i - m.frame(head).index.peek());
    // Pins are known per folio. On a large folio whose other pages are still
    // shared, a pin may legally sit on one of those; only when every page of
    // the folio is private must the folio carry no pin at all.
    const uint32_t first = m.frame(head).index.peek(), nr = 1u << m.frame(head).order.peek();
    bool all_private = true;
    for (uint32_t k = first; k < first + nr && k < nr_; ++k) all_private &= state_quiescent(k) == GmemState::Private;
    const bool pinned = all_private && (ledger.pins(head) > 0 || m.frame(head).pincount.peek() > 0 ||
                                        (nr == 1 && m.frame(head).refcount.peek() >= GUP_PIN_COUNTING_BIAS));
    bool mapped = false;
    for (uint32_t k = 0; k < m.nr_mms() && !mapped; ++k)
      for (uint32_t s = 0; s < m.mm(k).nr_slots(); ++s) {
        const uint64_t v = m.mm(k).pte(s).peek();
        if (pte::is_present(v) && pte::pfn(v) == page) {
          mapped = true;
          break;
        }
      }
    if (pinned || mapped) {
      out.push_back(m.frames().violation(ViolationKind::Security, page, "audit:guest_memfd",
                                         "private guest_memfd page " + std::to_string(i) + " is still " +
                                             (mapped ? "mapped" : "pinned") + " by the host"));
    }
  }
}

bool gmem_host_may_map(Model& m, Pfn page) {
  GuestMemfd& g = m.gmem();
  return g.page_state(page) != GmemState::Private;
}

bool gmem_may_longterm_pin(Model& m, Pfn page) {
  GuestMemfd& g = m.gmem();
  if (g.page_state(page) == GmemState::Absent) return true;
  return m.config().design.gmem_pin_policy != GmemPinPolicy::RefuseLongterm;
}

void gmem_report_host_access(Model& m, Pfn page, const char* site) {
  m.report(ViolationKind::Security, page, site, "the host reached a private guest_memfd page");
}

}  // namespace core
