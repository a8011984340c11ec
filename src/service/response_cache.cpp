#include "service/response_cache.h"

#include <bit>
#include <cstring>

namespace jarvis {
namespace {

// Length-prefixed binary encoding: every part is self-delimiting.
class KeyWriter {
 public:
  void Bytes(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  void U64(uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F32(float v) {
    if (v == 0.0f) v = 0.0f;  // -0 and +0 sample identically
    U64(std::bit_cast<uint32_t>(v));
  }
  void Tag(char c) { out_ += c; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

size_t EntryBytes(const std::string& key, const CachedResponse& v) {
  size_t n = ResponseCache::kEntryOverheadBytes + key.size() + v.result.text.size() +
             v.result.tokens.size() * sizeof(int32_t) + v.result.error.message().size();
  for (const TokenLogprob& lp : v.result.logprobs) n += sizeof lp + lp.piece.size() + lp.top.size() * 48;
  for (const auto& e : v.events) n += sizeof(TokenEvent) + e.text.size();
  return n;
}

}  // namespace

ResponseCache::ResponseCache(ResponseCacheOptions options) : options_(std::move(options)) {
  stats_.capacity_bytes = options_.capacity_bytes;
  stats_.ttl_seconds = std::chrono::duration<double>(options_.ttl).count();
}

std::string ResponseCache::MakeEmbedKey(std::string_view model_digest, const EmbedRequest& r) {
  KeyWriter w;
  w.Bytes("jarvis-embed-v2");  // never equal to a generation key (their first part differs)
  w.Bytes(model_digest);
  if (!r.token_inputs.empty()) {
    w.Tag('T');
    w.U64(r.token_inputs.size());
    for (const auto& input : r.token_inputs) {
      w.U64(input.size());
      for (int32_t t : input) w.I64(t);
    }
  } else {
    w.Tag('S');
    w.U64(r.texts.size());
    for (const auto& text : r.texts) w.Bytes(text);
  }
  w.U64(r.truncate ? 1 : 0);
  w.I64(r.dimensions);
  w.I64(r.context);
  return w.Take();
}

bool ResponseCache::IsCacheable(const GenerateRequest& r) {
  return r.use_response_cache && (r.sampling.temperature <= 0.0f || r.sampling.has_seed);
}

std::string ResponseCache::MakeKey(std::string_view model_digest, const GenerateRequest& r) {
  KeyWriter w;
  w.Bytes("jarvis-response-v1");
  w.Bytes(model_digest);
  if (!r.prompt_tokens.empty()) {
    w.Tag('T');
    w.U64(r.prompt_tokens.size());
    for (int32_t t : r.prompt_tokens) w.I64(t);
  } else if (!r.messages.empty()) {
    w.Tag('M');
    w.U64(r.messages.size());
    for (const auto& m : r.messages) {
      w.Bytes(m.role);
      w.Bytes(m.content);
      w.Bytes(m.tool_calls_json);
      w.Bytes(m.tool_call_id);
      w.Bytes(m.name);
      w.Bytes(m.reasoning_content);
    }
  } else {
    w.Tag('P');
    w.Bytes(r.prompt);
  }
  w.U64(r.add_special ? 1 : 0);
  const SamplingParams& s = r.sampling;
  w.F32(s.temperature);
  w.I64(s.top_k);
  w.F32(s.top_p);
  w.F32(s.min_p);
  w.F32(s.repeat_penalty);
  w.I64(s.penalty_last_n);
  w.F32(s.presence_penalty);
  w.F32(s.frequency_penalty);
  w.U64(s.logit_bias.size());
  for (const auto& [token, bias] : s.logit_bias) {
    w.I64(token);
    w.F32(bias);
  }
  w.U64(s.seed);
  w.U64(s.has_seed ? 1 : 0);
  w.I64(r.max_tokens);
  w.U64(r.stop.size());
  for (const auto& stop : r.stop) w.Bytes(stop);
  w.U64(r.ignore_eos ? 1 : 0);
  // Structured output (response_format, format and grammar all become this
  // GBNF text), log-probabilities, tools and template variables change the
  // output too.
  w.Tag('G');
  w.Bytes(r.grammar);
  w.I64(r.logprobs);
  w.Bytes(r.tools_json);
  w.Bytes(r.chat_template_kwargs_json);
  return w.Take();
}

ResponseCache::TimePoint ResponseCache::Now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void ResponseCache::EraseLocked(std::list<Entry>::iterator it) {
  stats_.bytes -= it->bytes;
  --stats_.entries;
  expiry_.erase(it->expiry_it);
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

void ResponseCache::PurgeExpiredLocked(TimePoint now) {
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    auto it = index_.find(expiry_.begin()->second);
    EraseLocked(it->second);
    ++stats_.expirations;
  }
}

std::optional<CachedResponse> ResponseCache::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  PurgeExpiredLocked(Now());
  auto it = index_.find(std::string_view(key));
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);  // iterators stay valid
  return it->second->value;
}

bool ResponseCache::Insert(const std::string& key, const GenerateResult& result, std::vector<TokenEvent> events) {
  const bool finished = result.finish == FinishReason::kStop || result.finish == FinishReason::kLength;
  CachedResponse value{result, std::move(events)};
  value.result.from_response_cache = false;
  const size_t bytes = EntryBytes(key, value);
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled() || !finished || bytes > options_.capacity_bytes) {
    ++stats_.rejected;
    return false;
  }
  const TimePoint now = Now();
  PurgeExpiredLocked(now);
  if (auto old = index_.find(std::string_view(key)); old != index_.end()) EraseLocked(old->second);
  while (stats_.bytes + bytes > options_.capacity_bytes && !lru_.empty()) {
    EraseLocked(std::prev(lru_.end()));
    ++stats_.evictions;
  }
  lru_.push_front(Entry{key, std::move(value), bytes, now + options_.ttl, {}});
  auto it = lru_.begin();
  const std::string_view view(it->key);
  it->expiry_it = expiry_.emplace(it->expires, view);
  index_.emplace(view, it);
  stats_.bytes += bytes;
  ++stats_.entries;
  ++stats_.insertions;
  return true;
}

void ResponseCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  index_.clear();
  expiry_.clear();
  lru_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
}

ResponseCacheStats ResponseCache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  PurgeExpiredLocked(Now());
  ResponseCacheStats s = stats_;
  const int64_t lookups = s.hits + s.misses;
  s.hit_rate = lookups > 0 ? static_cast<double>(s.hits) / static_cast<double>(lookups) : 0.0;
  return s;
}

}  // namespace jarvis
