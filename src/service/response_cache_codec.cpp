#include "service/response_cache_codec.h"

#include <xxhash.h>

#include <cstring>

namespace jarvis {
namespace {

constexpr char kMagic[4] = {'J', 'R', 'V', 'C'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + sizeof(uint32_t) + 2 * sizeof(uint64_t);

class Writer {
 public:
  template <typename T>
  void Pod(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void Bytes(std::string_view s) {
    Pod<uint64_t>(s.size());
    out_.append(s);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reads; after the first failure every read fails.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Pod(T* v) {
    if (!ok_ || in_.size() < sizeof(T)) return ok_ = false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(std::string* s) {
    uint64_t n = 0;
    if (!Pod(&n) || n > in_.size()) return ok_ = false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  // A count of items of at least `min_item_bytes` each: never more than the
  // remaining bytes can hold, so a corrupt count cannot force a huge allocation.
  bool Count(uint64_t* n, size_t min_item_bytes) {
    if (!Pod(n) || *n > in_.size() / min_item_bytes) {
      *n = 0;
      return ok_ = false;
    }
    return true;
  }
  bool done() const { return ok_ && in_.empty(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeCachedResponse(std::string_view key, const CachedResponse& value) {
  const GenerateResult& r = value.result;
  Writer payload;
  payload.Bytes(key);
  payload.Bytes(r.text);
  payload.Pod<uint64_t>(r.tokens.size());
  for (int32_t t : r.tokens) payload.Pod(t);
  payload.Pod<uint8_t>(static_cast<uint8_t>(r.finish));
  payload.Pod(r.prompt_tokens);
  payload.Pod(r.cached_prompt_tokens);
  payload.Pod(r.completion_tokens);
  payload.Pod<uint64_t>(value.events.size());
  for (const TokenEvent& e : value.events) {
    payload.Pod(e.token);
    payload.Bytes(e.text);
  }
  // Log-probabilities are part of the answer when the request asked for them
  // (GenerateRequest::logprobs is in the key).
  payload.Pod<uint64_t>(r.logprobs.size());
  for (const TokenLogprob& lp : r.logprobs) {
    payload.Pod(lp.token);
    payload.Bytes(lp.piece);
    payload.Pod(lp.logprob);
    payload.Pod<uint64_t>(lp.top.size());
    for (const TokenLogprob::Alternative& a : lp.top) {
      payload.Pod(a.token);
      payload.Bytes(a.piece);
      payload.Pod(a.logprob);
    }
  }
  const std::string& p = payload.out();
  Writer out;
  out.out().append(kMagic, sizeof(kMagic));
  out.Pod(kResponseCodecVersion);
  out.Pod<uint64_t>(p.size());
  out.Pod<uint64_t>(XXH64(p.data(), p.size(), kResponseCodecChecksumSeed));
  out.out().append(p);
  return std::move(out.out());
}

std::optional<CachedResponse> DecodeCachedResponse(std::string_view bytes, std::string_view key, size_t max_bytes) {
  if (bytes.size() > max_bytes || bytes.size() < kHeaderBytes) return std::nullopt;
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return std::nullopt;
  Reader header(bytes.substr(sizeof(kMagic), kHeaderBytes - sizeof(kMagic)));
  uint32_t version = 0;
  uint64_t length = 0, checksum = 0;
  header.Pod(&version);
  header.Pod(&length);
  header.Pod(&checksum);
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (!header.done() || version != kResponseCodecVersion || length != payload.size() ||
      checksum != XXH64(payload.data(), payload.size(), kResponseCodecChecksumSeed)) {
    return std::nullopt;
  }
  Reader in(payload);
  std::string stored_key;
  if (!in.Bytes(&stored_key) || stored_key != key) return std::nullopt;
  CachedResponse v;
  GenerateResult& r = v.result;
  uint64_t n = 0;
  in.Bytes(&r.text);
  in.Count(&n, sizeof(int32_t));
  r.tokens.resize(n);  // Count bounds n by the bytes left
  for (int32_t& t : r.tokens) in.Pod(&t);
  uint8_t finish = 0;
  in.Pod(&finish);
  in.Pod(&r.prompt_tokens);
  in.Pod(&r.cached_prompt_tokens);
  in.Pod(&r.completion_tokens);
  in.Count(&n, sizeof(int32_t) + sizeof(uint64_t));
  v.events.resize(n);
  for (TokenEvent& e : v.events) {
    in.Pod(&e.token);
    in.Bytes(&e.text);
  }
  // Each entry: token + piece length + logprob + alternative count at least.
  constexpr size_t kMinLogprobBytes = sizeof(int32_t) + sizeof(uint64_t) + sizeof(float) + sizeof(uint64_t);
  constexpr size_t kMinAlternativeBytes = sizeof(int32_t) + sizeof(uint64_t) + sizeof(float);
  in.Count(&n, kMinLogprobBytes);
  r.logprobs.resize(n);
  for (TokenLogprob& lp : r.logprobs) {
    in.Pod(&lp.token);
    in.Bytes(&lp.piece);
    in.Pod(&lp.logprob);
    uint64_t alternatives = 0;
    in.Count(&alternatives, kMinAlternativeBytes);
    lp.top.resize(alternatives);
    for (TokenLogprob::Alternative& a : lp.top) {
      in.Pod(&a.token);
      in.Bytes(&a.piece);
      in.Pod(&a.logprob);
    }
  }
  // Only finished answers are ever stored; anything else is not ours.
  r.finish = static_cast<FinishReason>(finish);
  if (!in.done() || (r.finish != FinishReason::kStop && r.finish != FinishReason::kLength)) return std::nullopt;
  if (r.prompt_tokens < 0 || r.cached_prompt_tokens < 0 || r.completion_tokens < 0) return std::nullopt;
  return v;
}

}  // namespace jarvis
