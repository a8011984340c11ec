#include "quant/kv_type.h"

#include "quant/blocks.h"

namespace jarvis {

const KvTypeTraits kKvTypes[3] = {
    {KvType::kF32, "f32", 1, sizeof(float)},
    {KvType::kF16, "f16", 1, sizeof(uint16_t)},
    {KvType::kQ8_0, "q8_0", kQK, sizeof(BlockQ8_0)},
};

const KvTypeTraits& Traits(KvType type) {
  for (const KvTypeTraits& t : kKvTypes) {
    if (t.type == type) return t;
  }
  return kKvTypes[1];  // unreachable: the table lists every enumerator
}

std::optional<KvType> ParseKvType(std::string_view name) {
  for (const KvTypeTraits& t : kKvTypes) {
    if (name == t.name) return t.type;
  }
  return std::nullopt;
}

std::string KvTypeNames() {
  std::string names;
  for (const KvTypeTraits& t : kKvTypes) {
    if (!names.empty()) names += ", ";
    names += t.name;
  }
  return names;
}

}  // namespace jarvis
