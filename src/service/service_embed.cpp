// Service: the embedding request path (response cache -> model lease ->
// the model scheduler's embedding queue), beside Submit's in service.cpp.
#include <chrono>
#include <memory>
#include <utility>

#include "scheduler/embed_state.h"
#include "service/embed_cache_value.h"
#include "service/service_impl.h"

namespace jarvis {

void Service::Impl::CountEmbedOutcome(size_t slot, Outcome outcome) {
  ForBoth(global_, per_model_[slot], [outcome](ScopeMetrics& s) {
    switch (outcome) {
      case Outcome::kOk: s.embed_ok->Increment(); break;
      case Outcome::kFailed: s.embed_failed->Increment(); break;
      case Outcome::kRejected: s.embed_rejected->Increment(); break;
      case Outcome::kCancelled: s.embed_cancelled->Increment(); break;
    }
  });
}

Result<EmbedHandle> Service::Impl::SubmitEmbed(EmbedRequest request) {
  global_.embed_requests_total->Increment();
  auto resolved = ResolveModel(request.model);
  if (!resolved.ok()) {
    global_.embed_failed->Increment();
    return resolved.status();
  }
  const size_t slot = *resolved;
  if (!ready_.load()) {
    CountEmbedOutcome(slot, Outcome::kRejected);
    return Status::Cancelled("the service is shutting down");
  }
  request.model = sources_[slot].name;

  std::string cache_key;
  if (CacheEnabled() && request.use_response_cache) {
    const auto t0 = std::chrono::steady_clock::now();
    cache_key = ResponseCache::MakeEmbedKey(CacheDigest(slot) + ";" + engine_fingerprint_, request);
    if (auto hit = LookupCaches(cache_key)) {
      if (auto cached = EmbedResultFromCacheValue(hit->result)) {
        global_.cache_hits->Increment();
        CountEmbedOutcome(slot, Outcome::kOk);
        cached->from_response_cache = true;
        cached->timings.total_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        return MakeCompletedEmbedHandle(std::move(*cached), request.on_complete);
      }
    }
    global_.cache_misses->Increment();
  }

  auto lease = manager_->Acquire(request.model);
  if (!lease.ok()) {
    CountEmbedOutcome(slot, lease.status().code() == StatusCode::kCancelled ? Outcome::kRejected : Outcome::kFailed);
    return std::move(lease).status();
  }
  Scheduler* scheduler = lease->instance().scheduler.get();
  if (scheduler == nullptr) {
    CountEmbedOutcome(slot, Outcome::kFailed);
    return Status::Internal("model " + request.model + " has no scheduler");
  }
  // The lease lives until the request completes (the model is not unloaded under it).
  auto held = std::make_shared<ModelLease>(std::move(lease).value());
  request.on_complete = [this, slot, held, cache_key, user = std::move(request.on_complete)](const EmbedResult& r) {
    const Outcome outcome = r.error.ok()                                     ? Outcome::kOk
                            : r.error.code() == StatusCode::kCancelled ? Outcome::kCancelled
                                                                           : Outcome::kFailed;
    CountEmbedOutcome(slot, outcome);
    ForBoth(global_, per_model_[slot], [&](ScopeMetrics& s) {
      s.embed_latency->Record(r.timings.total_ms, outcome != Outcome::kFailed);
      if (outcome == Outcome::kOk) {
        s.embed_inputs->Increment(static_cast<int64_t>(r.embeddings.size()));
        s.embed_tokens->Increment(r.prompt_tokens);
      }
    });
    if (outcome == Outcome::kOk && !cache_key.empty()) StoreInCaches(cache_key, EmbedResultToCacheValue(r), {});
    held->Release();
    if (user) user(r);
  };
  Scheduler::EmbedFilter fail_if_damaged = [held](EmbedResult& result) {
    if (!result.error.ok() || !ModelFileDamaged(*held)) return;
    result.error = ModelFileChangedError(*held);
    result.embeddings.clear();
  };
  auto handle = scheduler->SubmitEmbed(std::move(request), std::move(fail_if_damaged));
  if (!handle.ok()) {
    const StatusCode code = handle.status().code();
    CountEmbedOutcome(slot, code == StatusCode::kResourceExhausted || code == StatusCode::kCancelled
                                ? Outcome::kRejected
                                : Outcome::kFailed);
    held->Release();
    return std::move(handle).status();
  }
  return handle;
}

Result<EmbedHandle> Service::SubmitEmbed(EmbedRequest request) { return impl_->SubmitEmbed(std::move(request)); }

}  // namespace jarvis
