#include "quant/kv_type.h"

namespace jarvis {

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
