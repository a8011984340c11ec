// GGUF parsing and validation (see gguf_reader.h for the layout and contract).
//
// Memory: every count is checked against the bytes that remain, assuming the
// smallest possible encoding of each element, before anything is reserved, so
// the parsed metadata is at most a small constant factor larger than the file.
#include <algorithm>
#include <bit>
#include <numeric>
#include <unordered_set>

#include "gguf/byte_cursor.h"
#include "gguf/gguf_reader.h"

namespace jarvis {

static_assert(std::endian::native == std::endian::little,
              "GGUF parsing assumes a little-endian host");

namespace {

constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;     // arrays of arrays of ... of values
constexpr uint64_t kDefaultAlignment = 32;
// Smallest encodings: a KV is key length (8) + >=1 key byte + type (4) + >=1
// value byte; a tensor info is name length (8) + >=1 name byte + n_dims (4) +
// one dim (8) + type (4) + offset (8).
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;

// Encoded size of one element of `type`, or the minimum for variable-size types;
// 0 for an unknown type id.
uint64_t MinEncodedSize(uint32_t type) {
  switch (static_cast<GgufValueType>(type)) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString: return 8;
    case GgufValueType::kArray: return 4 + 8;
  }
  return 0;
}

}  // namespace

class GgufParser {
 public:
  GgufParser(GgufFile& f, std::span<const uint8_t> bytes)
      : f_(f), c_(bytes, f.name_) {}

  Status Parse() {
    JARVIS_RETURN_IF_ERROR(ParseHeader());
    JARVIS_RETURN_IF_ERROR(ParseMetadata());
    JARVIS_RETURN_IF_ERROR(ParseTensorInfos());
    return PlaceTensors();
  }

 private:
  Status ParseHeader() {
    JARVIS_RETURN_IF_ERROR(c_.Need(4, "magic"));
    if (std::memcmp(c_.data(), "GGUF", 4) != 0) return c_.Error("bad magic (not a GGUF file)");
    JARVIS_RETURN_IF_ERROR(c_.Skip(4, "magic"));
    const uint64_t at = c_.pos();
    JARVIS_ASSIGN_OR_RETURN(uint32_t version, c_.U32("version"));
    if (version != 2 && version != 3) {
      std::string what;
      if (version == 1) {
        what = "GGUF version 1 is not supported (re-convert the model)";
      } else if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3) {
        what = "big-endian GGUF is not supported";
      } else {
        what = "unknown GGUF version " + std::to_string(version);
      }
      return Status::Unsupported(c_.ErrorAt(at, what).message());
    }
    f_.version_ = version;

    JARVIS_ASSIGN_OR_RETURN(tensor_count_, c_.U64("tensor count"));
    JARVIS_ASSIGN_OR_RETURN(kv_count_, c_.U64("metadata count"));
    if (kv_count_ > c_.remaining() / kMinKvBytes) {
      return c_.ErrorAt(at + 12, "metadata count " + std::to_string(kv_count_) +
                                     " exceeds what the file can hold");
    }
    if (tensor_count_ > c_.remaining() / kMinTensorInfoBytes) {
      return c_.ErrorAt(at + 4, "tensor count " + std::to_string(tensor_count_) +
                                    " exceeds what the file can hold");
    }
    return Status::Ok();
  }

  Status ParseMetadata() {
    f_.metadata_.reserve(kv_count_);
    f_.key_index_.reserve(kv_count_);
    for (uint64_t i = 0; i < kv_count_; ++i) {
      const uint64_t at = c_.pos();
      JARVIS_ASSIGN_OR_RETURN(std::string_view key, c_.String("metadata key"));
      if (key.empty()) return c_.ErrorAt(at, "empty metadata key");
      if (f_.key_index_.count(key) != 0) {
        return c_.ErrorAt(at, "duplicate metadata key '" + std::string(key) + "'");
      }
      JARVIS_ASSIGN_OR_RETURN(uint32_t type, c_.U32("value type"));
      JARVIS_ASSIGN_OR_RETURN(GgufValue value, ParseValue(type, 0));
      f_.key_index_.emplace(key, f_.metadata_.size());
      f_.metadata_.push_back(GgufKeyValue{key, std::move(value)});
      if (key == "general.alignment") {
        JARVIS_RETURN_IF_ERROR(SetAlignment(f_.metadata_.back().value, at));
      }
    }
    return Status::Ok();
  }

  Status SetAlignment(const GgufValue& v, uint64_t at) {
    std::optional<uint64_t> a = v.as_uint();
    if (!a || *a == 0 || !std::has_single_bit(*a)) {
      return c_.ErrorAt(at, "general.alignment " + v.ToDisplayString() +
                                " is not a nonzero power of two");
    }
    f_.alignment_ = *a;
    return Status::Ok();
  }

  Result<GgufValue> ParseValue(uint32_t type, int depth) {
    const uint64_t at = c_.pos();
    switch (static_cast<GgufValueType>(type)) {
      case GgufValueType::kUint8: return Unsigned<uint8_t>(type);
      case GgufValueType::kUint16: return Unsigned<uint16_t>(type);
      case GgufValueType::kUint32: return Unsigned<uint32_t>(type);
      case GgufValueType::kUint64: return Unsigned<uint64_t>(type);
      case GgufValueType::kInt8: return Signed<uint8_t, int8_t>(type);
      case GgufValueType::kInt16: return Signed<uint16_t, int16_t>(type);
      case GgufValueType::kInt32: return Signed<uint32_t, int32_t>(type);
      case GgufValueType::kInt64: return Signed<uint64_t, int64_t>(type);
      case GgufValueType::kFloat32: {
        JARVIS_ASSIGN_OR_RETURN(uint32_t bits, c_.U32("f32 value"));
        return GgufValue(GgufValueType::kFloat32,
                         static_cast<double>(std::bit_cast<float>(bits)));
      }
      case GgufValueType::kFloat64: {
        JARVIS_ASSIGN_OR_RETURN(uint64_t bits, c_.U64("f64 value"));
        return GgufValue(GgufValueType::kFloat64, std::bit_cast<double>(bits));
      }
      case GgufValueType::kBool: {
        JARVIS_ASSIGN_OR_RETURN(uint8_t b, c_.U8("bool value"));
        if (b > 1) return c_.ErrorAt(at, "bool value " + std::to_string(b) + " is not 0 or 1");
        return GgufValue(GgufValueType::kBool, b == 1);
      }
      case GgufValueType::kString: {
        JARVIS_ASSIGN_OR_RETURN(std::string_view s, c_.String("string value"));
        return GgufValue(GgufValueType::kString, s);
      }
      case GgufValueType::kArray: return ParseArray(depth);
    }
    return c_.ErrorAt(at > 4 ? at - 4 : 0, "unknown value type " + std::to_string(type));
  }

  Result<GgufValue> ParseArray(int depth) {
    const uint64_t at = c_.pos();
    if (depth >= kMaxArrayDepth) {
      return c_.ErrorAt(at, "arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    }
    JARVIS_ASSIGN_OR_RETURN(uint32_t elem_type, c_.U32("array element type"));
    const uint64_t min_size = MinEncodedSize(elem_type);
    if (min_size == 0) {
      return c_.ErrorAt(at, "unknown array element type " + std::to_string(elem_type));
    }
    JARVIS_ASSIGN_OR_RETURN(uint64_t count, c_.U64("array count"));
    if (count > c_.remaining() / min_size) {
      return c_.ErrorAt(at + 4, "array count " + std::to_string(count) +
                                    " exceeds the remaining " +
                                    std::to_string(c_.remaining()) + " bytes");
    }
    auto array = std::make_shared<GgufArray>();
    array->element_type = static_cast<GgufValueType>(elem_type);
    array->items.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      JARVIS_ASSIGN_OR_RETURN(GgufValue v, ParseValue(elem_type, depth + 1));
      array->items.push_back(std::move(v));
    }
    return GgufValue(GgufValueType::kArray, std::shared_ptr<const GgufArray>(std::move(array)));
  }

  template <typename U>
  Result<GgufValue> Unsigned(uint32_t type) {
    uint64_t v = 0;
    if constexpr (sizeof(U) == 1) {
      JARVIS_ASSIGN_OR_RETURN(v, c_.U8("u8 value"));
    } else if constexpr (sizeof(U) == 2) {
      JARVIS_ASSIGN_OR_RETURN(v, c_.U16("u16 value"));
    } else if constexpr (sizeof(U) == 4) {
      JARVIS_ASSIGN_OR_RETURN(v, c_.U32("u32 value"));
    } else {
      JARVIS_ASSIGN_OR_RETURN(v, c_.U64("u64 value"));
    }
    return GgufValue(static_cast<GgufValueType>(type), v);
  }

  template <typename U, typename S>
  Result<GgufValue> Signed(uint32_t type) {
    JARVIS_ASSIGN_OR_RETURN(GgufValue raw, Unsigned<U>(type));
    const auto bits = static_cast<U>(*raw.as_uint());
    return GgufValue(static_cast<GgufValueType>(type),
                     static_cast<int64_t>(std::bit_cast<S>(bits)));
  }

  Status ParseTensorInfos() {
    f_.tensors_.reserve(tensor_count_);
    f_.tensor_index_.reserve(tensor_count_);
    offset_field_at_.reserve(tensor_count_);
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      const uint64_t at = c_.pos();
      GgufTensorInfo t{};
      JARVIS_ASSIGN_OR_RETURN(t.name, c_.String("tensor name"));
      if (t.name.empty()) return c_.ErrorAt(at, "empty tensor name");
      if (f_.tensor_index_.count(t.name) != 0) {
        return c_.ErrorAt(at, "duplicate tensor name '" + std::string(t.name) + "'");
      }
      const std::string label = "tensor '" + std::string(t.name) + "'";
      const uint64_t dims_at = c_.pos();
      JARVIS_ASSIGN_OR_RETURN(uint32_t n_dims, c_.U32("tensor n_dims"));
      if (n_dims < 1 || n_dims > kMaxDims) {
        return c_.ErrorAt(dims_at, label + ": n_dims " + std::to_string(n_dims) +
                                       " is not in 1.." + std::to_string(kMaxDims));
      }
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const uint64_t dim_at = c_.pos();
        JARVIS_ASSIGN_OR_RETURN(uint64_t dim, c_.U64("tensor dim"));
        // Products are kept within int64 so that callers may use signed sizes.
        if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX)) {
          return c_.ErrorAt(dim_at, label + ": dimension " + std::to_string(d) + " is " +
                                        std::to_string(dim));
        }
        if (__builtin_mul_overflow(n_elements, dim, &n_elements) ||
            n_elements > static_cast<uint64_t>(INT64_MAX)) {
          return c_.ErrorAt(dim_at, label + ": element count overflows");
        }
        t.dims.push_back(static_cast<int64_t>(dim));
      }
      t.n_elements = n_elements;
      const uint64_t type_at = c_.pos();
      JARVIS_ASSIGN_OR_RETURN(uint32_t type_id, c_.U32("tensor type"));
      const GgmlTypeTraits* traits = FindTypeTraits(type_id);
      if (traits == nullptr) {
        return c_.ErrorAt(type_at, label + ": unknown tensor type " + std::to_string(type_id));
      }
      t.type = traits->type;
      if (t.dims[0] % traits->block_size != 0) {
        return c_.ErrorAt(dims_at, label + ": row length " + std::to_string(t.dims[0]) +
                                       " is not a multiple of the " + traits->name +
                                       " block size " + std::to_string(traits->block_size));
      }
      const uint64_t blocks = n_elements / static_cast<uint64_t>(traits->block_size);
      if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(traits->type_size), &t.n_bytes)) {
        return c_.ErrorAt(dims_at, label + ": byte size overflows");
      }
      offset_field_at_.push_back(c_.pos());
      JARVIS_ASSIGN_OR_RETURN(t.offset, c_.U64("tensor offset"));
      f_.tensor_index_.emplace(t.name, f_.tensors_.size());
      f_.tensors_.push_back(std::move(t));
    }
    return Status::Ok();
  }

  // Finds the data section and checks that every tensor lies inside it, aligned,
  // without overlapping another.
  Status PlaceTensors() {
    const uint64_t size = c_.size();
    const uint64_t a = f_.alignment_;
    const uint64_t pad = (a - c_.pos() % a) % a;
    uint64_t data_offset = c_.pos() + pad;  // cannot overflow: pos <= size, pad < a <= 2^63
    if (f_.tensors_.empty()) {
      // Vocabulary-only files may end without the final padding.
      f_.data_offset_ = std::min(data_offset, size);
      return Status::Ok();
    }
    if (data_offset > size) {
      return c_.ErrorAt(c_.pos(), "data section at " + std::to_string(data_offset) +
                                      " starts beyond the end of the file (" +
                                      std::to_string(size) + " bytes)");
    }
    f_.data_offset_ = data_offset;
    const uint64_t data_size = size - data_offset;
    for (size_t i = 0; i < f_.tensors_.size(); ++i) {
      GgufTensorInfo& t = f_.tensors_[i];
      const std::string label = "tensor '" + std::string(t.name) + "'";
      if (t.offset % a != 0) {
        return c_.ErrorAt(offset_field_at_[i], label + ": offset " + std::to_string(t.offset) +
                                                   " is not a multiple of the alignment " +
                                                   std::to_string(a));
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        return c_.ErrorAt(offset_field_at_[i],
                          label + ": data [" + std::to_string(t.offset) + ", +" +
                              std::to_string(t.n_bytes) + ") lies beyond the end of the file");
      }
      t.data = c_.data() + data_offset + t.offset;
    }
    std::vector<size_t> order(f_.tensors_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return f_.tensors_[x].offset < f_.tensors_[y].offset;
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const GgufTensorInfo& prev = f_.tensors_[order[k - 1]];
      const GgufTensorInfo& cur = f_.tensors_[order[k]];
      if (prev.offset + prev.n_bytes > cur.offset) {
        return c_.ErrorAt(offset_field_at_[order[k]],
                          "tensor '" + std::string(cur.name) + "' overlaps tensor '" +
                              std::string(prev.name) + "'");
      }
    }
    return Status::Ok();
  }

  GgufFile& f_;
  ByteCursor c_;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  std::vector<uint64_t> offset_field_at_;  // header offset of each tensor's offset field
};

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::Open(path));
  std::span<const uint8_t> bytes = mapped->bytes();
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, FromBuffer(bytes, path));
  f->file_ = std::move(mapped);
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(std::span<const uint8_t> bytes,
                                                        std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = std::move(name);
  f->bytes_ = bytes;
  f->alignment_ = kDefaultAlignment;
  GgufParser parser(*f, bytes);
  JARVIS_RETURN_IF_ERROR(parser.Parse());
  return f;
}

}  // namespace jarvis
