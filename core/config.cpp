// core::ModelConfig — validation.
#include "core/config.hpp"

#include <string>
#include <utility>

#include "core/types.hpp"

namespace core {

namespace {
constexpr DesignAxis kDesignAxes[kNrDesignAxes] = {
#define REFHAMMER_DESIGN_ROW(field, Enum, v0, v1) {#field, {v0, v1}},
    REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_ROW)
#undef REFHAMMER_DESIGN_ROW
};
enum AxisIndex : unsigned {
#define REFHAMMER_DESIGN_INDEX(field, Enum, v0, v1) kAxis_##field,
  REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_INDEX)
#undef REFHAMMER_DESIGN_INDEX
};
}  // namespace

#define REFHAMMER_DESIGN_NAME(field, Enum, v0, v1)                               \
  const char* design_value_name(Enum e) noexcept {                              \
    const unsigned v = static_cast<unsigned>(e);                                \
    return v < 2 ? kDesignAxes[kAxis_##field].values[v] : "?";                  \
  }
REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_NAME)
#undef REFHAMMER_DESIGN_NAME

const DesignAxis& design_axis(unsigned axis) noexcept { return kDesignAxes[axis]; }

uint8_t design_value(const DesignConfig& d, unsigned axis) noexcept {
  switch (axis) {
#define REFHAMMER_DESIGN_GET(field, Enum, v0, v1) \
  case kAxis_##field: return static_cast<uint8_t>(d.field);
    REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_GET)
#undef REFHAMMER_DESIGN_GET
  }
  return 0;
}

void set_design_value(DesignConfig& d, unsigned axis, uint8_t v) noexcept {
  switch (axis) {
#define REFHAMMER_DESIGN_SET(field, Enum, v0, v1) \
  case kAxis_##field: d.field = static_cast<Enum>(v); return;
    REFHAMMER_DESIGN_AXES(REFHAMMER_DESIGN_SET)
#undef REFHAMMER_DESIGN_SET
  }
}

std::string ModelConfig::validate() const {
  if (max_page_order > kMaxPageOrderLimit)
    return "max_page_order " + std::to_string(max_page_order) + " is above " + std::to_string(kMaxPageOrderLimit);
  const uint32_t pb = 1u << max_page_order;
  if (block_frames == 0 || block_frames % pb != 0)
    return "block_frames " + std::to_string(block_frames) + " is not a positive multiple of the pageblock (" +
           std::to_string(pb) + " frames)";
  for (auto [name, n] : {std::pair{"normal_frames", normal_frames}, std::pair{"movable_frames", movable_frames},
                         std::pair{"device_frames", device_frames}}) {
    if (n % block_frames != 0)
      return std::string(name) + " " + std::to_string(n) + " is not a multiple of block_frames " +
             std::to_string(block_frames);
  }
  if (normal_frames == 0) return "normal_frames must be at least one memory block";
  if (uint64_t(normal_frames) + movable_frames + device_frames >= kNoPfn) return "too many frames";
  if (refcount_limit < 2 * GUP_PIN_COUNTING_BIAS)
    return "refcount_limit " + std::to_string(refcount_limit) + " is below 2 * GUP_PIN_COUNTING_BIAS";
  if (nr_mms == 0 || nr_mms > 64 || mm_slots == 0 || mm_slots > 4096) return "nr_mms must be 1..64 and mm_slots 1..4096";
  if (file_pages > 4096) return "file_pages must be at most 4096";
  if (gmem_huge_order > max_page_order) return "gmem_huge_order is above max_page_order";
  if (gmem_pages % (1u << gmem_huge_order) != 0) return "gmem_pages is not a multiple of the gmem huge folio";
  if (gmem_pages > 4096) return "gmem_pages must be at most 4096";
  if (rcu_readers == 0 || rcu_readers > 1024) return "rcu_readers must be 1..1024";
  if (migrate_passes == 0) return "migrate_passes must be at least 1";
  if (reporting_capacity == 0 || reporting_capacity > 64) return "reporting_capacity must be 1..64";
  if (offline_passes == 0) return "offline_passes must be at least 1";
  return {};
}

}  // namespace core
