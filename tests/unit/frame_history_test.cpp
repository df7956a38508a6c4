// tests for core/frame.hpp's PageRefHistory — the per-frame ring of page_ref
// events: order, wrap-around, count encoding, and the 16-bit sequence wrap.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/frame.hpp"
#include "core/frame_table.hpp"
#include "core/model.hpp"
#include "core/page_ref.hpp"
#include "core/violation.hpp"
#include "tests/support/support.hpp"

namespace {

using core::PageRefHistory;
using core::PageRefRecord;
using core::RefEvent;
using namespace refhammer_test;

constexpr unsigned kRing = PageRefHistory::kSize;

std::vector<int32_t> counts(const std::vector<PageRefRecord>& rs) {
  std::vector<int32_t> out;
  for (const auto& r : rs) out.push_back(r.count);
  return out;
}

std::vector<int32_t> iota(int32_t first, unsigned n) {
  std::vector<int32_t> out;
  for (unsigned i = 0; i < n; ++i) out.push_back(first + static_cast<int32_t>(i));
  return out;
}

TEST(PageRefHistory, EmptyUntilRecorded) {
  PageRefHistory h;
  EXPECT_TRUE(h.snapshot().empty());
}

TEST(PageRefHistory, RecordsEventsInOrderWithAllFields) {
  PageRefHistory h;
  h.record(RefEvent::Alloc, core::kNoActor, 0);
  h.record(RefEvent::SetRefcounted, core::kNoActor, 1);
  h.record(RefEvent::Get, 3, 2);
  h.record(RefEvent::Put, 4, 1);
  h.record(RefEvent::PutLast, 254, 0);
  const auto s = h.snapshot();
  ASSERT_EQ(s.size(), 5u);
  const RefEvent want_ev[] = {RefEvent::Alloc, RefEvent::SetRefcounted, RefEvent::Get, RefEvent::Put,
                              RefEvent::PutLast};
  const uint8_t want_actor[] = {core::kNoActor, core::kNoActor, 3, 4, 254};
  const int32_t want_count[] = {0, 1, 2, 1, 0};
  for (unsigned i = 0; i < s.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(s[i].event, want_ev[i]);
    EXPECT_EQ(s[i].actor, want_actor[i]);
    EXPECT_EQ(s[i].count, want_count[i]);
    EXPECT_EQ(s[i].seq, i);
  }
}

// Every event kind survives the packing.
TEST(PageRefHistory, EveryEventKindRoundTrips) {
  for (unsigned e = 0; e <= static_cast<unsigned>(RefEvent::OwnerFree); ++e) {
    PageRefHistory h;
    h.record(static_cast<RefEvent>(e), 1, 1);
    const auto s = h.snapshot();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].event, static_cast<RefEvent>(e));
    EXPECT_STRNE(core::ref_event_name(s[0].event), "?") << e;
  }
}

// The ring keeps the last kSize events, oldest first.
TEST(PageRefHistory, WrapsAfterKSizeKeepingTheNewest) {
  PageRefHistory h;
  for (int32_t i = 0; i < static_cast<int32_t>(kRing) + 3; ++i) h.record(RefEvent::Get, 0, i);
  const auto s = h.snapshot();
  ASSERT_EQ(s.size(), kRing);
  EXPECT_EQ(counts(s), iota(3, kRing));
  EXPECT_EQ(s.front().seq, 3u);
  EXPECT_EQ(s.back().seq, kRing + 2);
}

// Counts are stored in 24 bits, sign-extended: negatives (underflows) and
// everything a test-sized limit reaches round-trip; larger values wrap.
TEST(PageRefHistory, CountsRoundTripIn24Bits) {
  const struct {
    int32_t in, out;
  } cases[] = {
      {0, 0},
      {1, 1},
      {-1, -1},
      {-2, -2},
      {-core::GUP_PIN_COUNTING_BIAS, -core::GUP_PIN_COUNTING_BIAS},
      {kLimit + 1, kLimit + 1},
      {(1 << 23) - 1, (1 << 23) - 1},
      {-(1 << 23), -(1 << 23)},
      {1 << 23, -(1 << 23)},   // past 24 bits: wraps
      {(1 << 24) + 5, 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    PageRefHistory h;
    h.record(RefEvent::Put, 0, c.in);
    const auto s = h.snapshot();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].count, c.out);
  }
}

// Sequence numbers are 16 bits; the snapshot orders across their wrap.
TEST(PageRefHistory, SnapshotIsOldestFirstAcrossTheSeqWrap) {
  const uint32_t totals[] = {65536 - 3, 65536, 65536 + 1, 65536 + 4, 65536 + kRing, 2 * 65536 + 3};
  for (uint32_t total : totals) {
    SCOPED_TRACE(total);
    PageRefHistory h;
    for (uint32_t i = 0; i < total; ++i) h.record(RefEvent::Add, 1, static_cast<int32_t>(i & 0x7fffff));
    const auto s = h.snapshot();
    ASSERT_EQ(s.size(), kRing);
    EXPECT_EQ(counts(s), iota(static_cast<int32_t>(total - kRing), kRing));
    for (unsigned i = 0; i < kRing; ++i) EXPECT_EQ(s[i].seq, static_cast<uint16_t>(total - kRing + i)) << i;
  }
}

TEST(PageRefHistory, ClearForgetsEverythingAndRestartsTheSequence) {
  PageRefHistory h;
  for (int i = 0; i < 20; ++i) h.record(RefEvent::Get, 0, i);
  h.clear();
  EXPECT_TRUE(h.snapshot().empty());
  h.record(RefEvent::Put, 0, 9);
  const auto s = h.snapshot();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].seq, 0u);
  EXPECT_EQ(s[0].count, 9);
}

// A frame's history through the primitives, and in its snapshot and dump.
//   (alloc_frozen) 0 --unfreeze(2)--> 2 --try_get--> 3 --put_refs(3)--> 0 => free
TEST(FrameHistory, PrimitivesRecordTheirSteps) {
  core::Model m(small_config());
  const core::Pfn p = core::alloc_frozen_pages(m, core::ZoneType::Normal, 0);
  ASSERT_NE(p, core::kNoPfn);
  core::folio_ref_unfreeze(m, p, 2);
  EXPECT_TRUE(core::folio_try_get(m, p));
  core::folio_put_refs(m, p, 3);
  const auto s = m.frame(p).history.snapshot();
  const std::vector<RefEvent> want_ev = {RefEvent::AllocFrozen, RefEvent::Unfreeze, RefEvent::TryGet,
                                         RefEvent::PutLast, RefEvent::Free};
  std::vector<RefEvent> got_ev;
  for (const auto& r : s) got_ev.push_back(r.event);
  EXPECT_EQ(got_ev, want_ev);
  EXPECT_EQ(counts(s), (std::vector<int32_t>{0, 2, 3, 0, 0}));

  const core::FrameSnapshot snap = m.frames().snapshot(p);
  EXPECT_EQ(snap.pfn, p);
  EXPECT_EQ(snap.history.size(), s.size());
  EXPECT_NE(core::format_frame(snap).find(
                "page_ref history (oldest first): alloc_frozen(0) unfreeze(2) try_get(3) put_last(0) free(0)"),
            std::string::npos)
      << core::format_frame(snap);
}

}  // namespace
