// core::Violation — formatting and the tier-2 abort.
#include "core/violation.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace core {

std::string format_violation(const Violation& v) {
  std::string s = violation_kind_name(v.kind);
  if (v.pfn != kNoPfn) s += " pfn " + std::to_string(v.pfn);
  s += " at ";
  s += v.site;
  if (!v.detail.empty()) s += ": " + v.detail;
  if (v.actor != kNoActor) s += " (actor t" + std::to_string(v.actor) + ")";
  return s;
}

static std::string flags_string(uint32_t f) {
  static const char* const names[] = {"head", "tail", "reported", "offline_skippable", "offline_never_onlined",
                                      "hugetlb_freed", "isolated", "locked", "lru", "was_onlined"};
  std::string s;
  for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    if (f & (1u << i)) {
      if (!s.empty()) s += "|";
      s += names[i];
    }
  }
  return s.empty() ? "0" : s;
}

std::string format_frame(const FrameSnapshot& f) {
  if (f.pfn == kNoPfn) return "  (no frame)\n";
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "  frame pfn %u zone %s: refcount %d mapcount %d pincount %d order %u head %u type %s owner %s "
                "gen %u flags %s\n",
                f.pfn, zone_name(f.zone), f.refcount, f.mapcount, f.pincount, unsigned(f.order), f.head,
                page_type_name(f.page_type), owner_name(f.owner), f.generation, flags_string(f.flags).c_str());
  std::string s = buf;
  if (!f.history.empty()) {
    s += "  page_ref history (oldest first):";
    for (const auto& r : f.history) {
      s += " ";
      s += ref_event_name(r.event);
      s += "(" + std::to_string(r.count);
      if (r.actor != kNoActor) s += ",t" + std::to_string(r.actor);
      s += ")";
    }
    s += "\n";
  }
  return s;
}

std::string format_violation_long(const Violation& v) { return format_violation(v) + "\n" + format_frame(v.frame); }

void model_bug(const char* cond, const FrameSnapshot* f, const char* file, int line) {
  std::fprintf(stderr, "==refhammer== MODEL BUG: %s at %s:%d\n", cond, file, line);
  if (f != nullptr) std::fputs(format_frame(*f).c_str(), stderr);
  std::abort();
}

}  // namespace core
