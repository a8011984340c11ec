// FakeBackend: an ApiBackend for tests of the HTTP mechanics without a model.
// One loop thread plays the scheduler: every `step` it emits one token
// ("w0 ", "w1 ", ...) to each running request through on_token, and finishes
// a request at max_tokens (negative: never), on cancel, or when on_token
// returns false, calling on_complete. Special model names: "busy" -> ResourceExhausted, "missing"
// -> NotFound, "cached" -> an already-completed response-cache hit.
// SubmitEmbed answers at once, on the calling thread: input i (of n tokens or
// characters) gets the vector {n, i, 0.25, -1} cut to `dimensions`; an input
// of more than 64 with truncate = false is InvalidArgument, as the scheduler
// answers one over the context; "busy", "missing" and "cached" as above.
// Script(name, pieces, chat_template) makes model `name` answer with exactly
// those pieces (one per step, then stop) and show that chat template.
// Header-only; tests only.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <memory>
#include <mutex>
#include <thread>

#include "api/api_backend.h"

namespace jarvis::api::testing {

class FakeBackend final : public ApiBackend {
 public:
  explicit FakeBackend(std::chrono::milliseconds step = std::chrono::milliseconds(2)) : step_(step) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeBackend() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Result<Submission> Submit(GenerateRequest request) override {
    if (request.model == "busy") return Status::ResourceExhausted("queue full");
    if (request.model == "missing") return Status::NotFound("model 'missing' not found");
    if (shutting_down_.load()) return Status::Cancelled("shutting down");
    submits_.fetch_add(1);
    auto job = std::make_shared<Job>();
    job->request = std::move(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = scripts_.find(job->request.model); it != scripts_.end()) job->script = it->second.pieces;
    }
    job->id = ++next_id_;
    Submission s;
    s.id = job->id;
    s.cancel = [job, this] {
      job->cancelled.store(true);
      cancels_.fetch_add(1);
    };
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = job->request;
      last_request_.on_token = nullptr;  // the hooks would keep the connection alive
      last_request_.on_complete = nullptr;
    }
    if (job->request.model == "cached") {
      GenerateResult r;
      r.text = "cached answer";
      r.finish = FinishReason::kStop;
      r.from_response_cache = true;
      r.prompt_tokens = 3;
      r.completion_tokens = 2;
      // Like Service: replay the stream and complete before Submit returns.
      if (job->request.on_token) job->request.on_token(TokenEvent{1, r.text});
      if (job->request.on_complete) job->request.on_complete(r);
      return s;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
      ++running_;
    }
    cv_.notify_all();
    return s;
  }
  Result<Submission> SubmitEmbed(EmbedRequest request) override {
    if (request.model == "busy") return Status::ResourceExhausted("queue full");
    if (request.model == "missing") return Status::NotFound("model 'missing' not found");
    if (shutting_down_.load()) return Status::Cancelled("shutting down");
    const bool tokens = !request.token_inputs.empty();
    const size_t n = tokens ? request.token_inputs.size() : request.texts.size();
    EmbedResult r;
    for (size_t i = 0; i < n; ++i) {
      const size_t len = tokens ? request.token_inputs[i].size() : request.texts[i].size();
      if (len > 64 && !request.truncate) return Status::InvalidArgument("input has " + std::to_string(len) + " tokens but the context holds 64");
      std::vector<float> v = {static_cast<float>(len), static_cast<float>(i), 0.25f, -1.0f};
      if (request.dimensions > 0 && request.dimensions < 4) v.resize(static_cast<size_t>(request.dimensions));
      r.embeddings.push_back(std::move(v));
      r.prompt_tokens += static_cast<int32_t>(std::min<size_t>(len, 64));
    }
    r.from_response_cache = request.model == "cached";
    r.timings.total_ms = 2.0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_embed_ = request;
      last_embed_.on_complete = nullptr;
    }
    Submission s;
    s.id = ++next_id_;
    s.cancel = [] {};
    if (request.on_complete) request.on_complete(r);
    return s;
  }
  EmbedRequest last_embed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_embed_;
  }
  Status LoadModel(const std::string& name, std::optional<std::chrono::seconds> keep_alive, bool pin) override {
    if (name == "missing") return Status::NotFound("model 'missing' not found");
    std::lock_guard<std::mutex> lock(mu_);
    last_keep_alive_ = keep_alive;
    last_pin_ = pin;
    loads_.fetch_add(1);
    return Status::Ok();
  }
  Status UnloadModel(const std::string& name) override {
    if (name == "missing") return Status::NotFound("model 'missing' not found");
    unloads_.fetch_add(1);
    return Status::Ok();
  }
  std::vector<ModelInfo> ListModels() const override { return {Info()}; }
  Result<ModelInfo> GetModel(const std::string& name) const override {
    if (name == "missing" || name == "nope") return Status::NotFound("model '" + name + "' not found");
    ModelInfo m = Info();
    if (!name.empty()) m.name = name;
    if (name == "fake-bert") m.architecture = "bert";  // an embedding model
    return m;
  }
  Result<nlohmann::json> ShowModel(const std::string& name) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = scripts_.find(name); it != scripts_.end()) {
        return nlohmann::json{{"general.architecture", "llama"}, {"chat_template", it->second.chat_template}};
      }
    }
    if (name == "fake-bert") return nlohmann::json{{"general.architecture", "bert"}};
    if (!name.empty() && name != "fake") return Status::NotFound("model '" + name + "' not found");
    return nlohmann::json{{"general.architecture", "llama"}};
  }
  void Script(const std::string& name, std::vector<std::string> pieces, std::string chat_template) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[name] = ScriptedModel{std::move(pieces), std::move(chat_template)};
  }
  int64_t submits() const { return submits_.load(); }
  Result<std::string> ApplyChatTemplate(const GenerateRequest& request, bool add_generation_prompt) const override {
    if (!request.model.empty() && request.model != "fake") return Status::NotFound("model '" + request.model + "' not found");
    std::string out;
    for (const auto& m : request.messages) out += m.role + ": " + m.content + "\n";
    return add_generation_prompt ? out + "assistant:" : out;
  }
  nlohmann::json PerformanceStats() const override { return {{"counters", {{"llm_requests_total", 0}}}}; }
  nlohmann::json SystemMetrics() const override { return {{"cpu_percent", 1.0}}; }
  nlohmann::json ModelsStats() const override { return {{"loaded", nlohmann::json::array()}}; }
  void WritePrometheus(PrometheusWriter& out) const override {
    out.Family("jarvis_fake", PrometheusType::kGauge, "A stand-in family.");
    out.Sample("jarvis_fake", {}, 1);
  }
  bool Ready() const override { return true; }

  void Shutdown() { shutting_down_.store(true); }
  int running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }
  int64_t cancels() const { return cancels_.load(); }
  int64_t cancelled_finishes() const { return cancelled_finishes_.load(); }
  int64_t loads() const { return loads_.load(); }
  int64_t unloads() const { return unloads_.load(); }
  std::optional<std::chrono::seconds> last_keep_alive() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_keep_alive_;
  }
  bool last_pin() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_pin_;
  }
  GenerateRequest last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  struct Job {
    GenerateRequest request;
    std::optional<std::vector<std::string>> script;
    uint64_t id = 0;
    std::atomic<bool> cancelled{false};
    GenerateResult result;
  };

  static ModelInfo Info() {
    ModelInfo m;
    m.name = "fake";
    m.path = "/nonexistent/fake.gguf";
    m.size_bytes = 1234;
    m.architecture = "llama";
    m.quantization = "f32";
    m.parameters = 260000;
    m.loaded = true;
    // As if its GPU offload held 3 MiB of weights + KV (/api/ps: size_vram).
    m.scheduler.gpu_layers = 2;
    m.scheduler.gpu_bytes = uint64_t{3} << 20;
    return m;
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, step_, [&] { return stop_; });
      if (stop_) {
        for (auto& job : jobs_) Finish(*job, FinishReason::kCancelled);
        return;
      }
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        Job& job = **it;
        bool done = false;
        if (job.cancelled.load()) {
          Finish(job, FinishReason::kCancelled);
          done = true;
        } else if (job.script && static_cast<size_t>(job.result.completion_tokens) >= job.script->size()) {
          Finish(job, FinishReason::kStop);
          done = true;
        } else if (job.request.max_tokens >= 0 && job.result.completion_tokens >= job.request.max_tokens) {
          Finish(job, FinishReason::kLength);
          done = true;
        } else {
          TokenEvent ev;
          ev.token = job.result.completion_tokens;
          if (job.script) {
            ev.text = (*job.script)[static_cast<size_t>(job.result.completion_tokens)];
          } else {
            ev.text = "w";  // (built piecewise: GCC 12 -Wrestrict misfires on "w" + std::string)
            ev.text += std::to_string(job.result.completion_tokens);
            ev.text += ' ';
          }
          job.result.text += ev.text;
          job.result.completion_tokens++;
          if (job.request.on_token && !job.request.on_token(ev)) {
            Finish(job, FinishReason::kCancelled);
            done = true;
          }
        }
        it = done ? jobs_.erase(it) : std::next(it);
      }
    }
  }

  void Finish(Job& job, FinishReason reason) {
    if (reason == FinishReason::kCancelled) cancelled_finishes_.fetch_add(1);
    job.result.finish = reason;
    job.result.prompt_tokens = 4;
    if (job.request.on_complete) job.request.on_complete(job.result);
    job.request = GenerateRequest{};  // drop the hooks (they hold the connection)
    --running_;
  }

  std::chrono::milliseconds step_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<std::shared_ptr<Job>> jobs_;
  int running_ = 0;
  bool stop_ = false;
  std::atomic<bool> shutting_down_{false};
  struct ScriptedModel {
    std::vector<std::string> pieces;
    std::string chat_template;
  };
  std::map<std::string, ScriptedModel> scripts_;  // guarded by mu_
  std::atomic<int64_t> submits_{0};
  std::atomic<uint64_t> next_id_{0};
  std::atomic<int64_t> cancels_{0};
  std::atomic<int64_t> cancelled_finishes_{0};
  std::atomic<int64_t> loads_{0};
  std::atomic<int64_t> unloads_{0};
  std::optional<std::chrono::seconds> last_keep_alive_;
  bool last_pin_ = false;
  GenerateRequest last_request_;
  EmbedRequest last_embed_;
  std::thread thread_;
};

}  // namespace jarvis::api::testing
