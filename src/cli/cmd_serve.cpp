// `jarvis serve`: the HTTP server (OpenAI- and Ollama-compatible APIs, the
// JARVIS monitoring API, Prometheus /metrics). Every flag also reads a JARVIS_*
// environment variable (flag wins). SIGINT/SIGTERM shut down gracefully:
// stop accepting, let running requests finish for --grace, cancel the rest,
// exit 0.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "api/api_backend.h"
#include "api/http_server.h"
#include "api/value_parse.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "gpu/gpu_backend.h"
#include "service/service.h"

namespace jarvis::cli {
namespace {

struct ServeFlags {
  std::vector<std::string> models;
  std::string default_model;
  std::string host = "127.0.0.1";
  int32_t port = 5050;
  int32_t parallel = 8;
  int32_t max_queue = 64;
  int32_t batch_tokens = 512;
  int32_t max_loaded_models = 2;
  std::string memory_budget = "0";
  int64_t cache_ttl = 300;
  std::string cache_size = "64MiB";
  std::string kv_type = "f16";
  int32_t threads = 0;
  int32_t gpu_layers = kGpuLayersFromEnv;
  int32_t ctx_size = 0;
  std::string api_key;
  std::string cors_origin;
  std::string keep_alive = "5m";
  std::string max_body = "8MiB";
  std::string idle_timeout = "30s";
  std::string request_timeout = "60s";
  std::string grace = "10s";
  int32_t io_threads = 2;
  bool no_preload = false;
  std::string chat_template_file;
};

template <typename T>
T OrFail(Result<T> r, const std::string& flag) {
  if (!r.ok()) Fail(flag + ": " + r.status().message(), kExitUsageError);
  return std::move(r).value();
}

std::chrono::milliseconds Millis(const std::string& text, const std::string& flag) {
  const auto s = OrFail(api::ParseDuration(text), flag);
  if (s.count() < 0) Fail(flag + " must not be negative", kExitUsageError);
  return std::chrono::duration_cast<std::chrono::milliseconds>(s);
}

void Serve(const ServeFlags& f) {
  // Signals are taken synchronously by this thread (sigwait below); block them
  // before any other thread exists so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (f.port < 0 || f.port > 65535) Fail("--port must be in 0..65535", kExitUsageError);
  if (f.parallel < 1) Fail("--parallel must be >= 1", kExitUsageError);

  ServiceOptions so;
  so.model_paths = f.models;
  if (so.model_paths.empty()) {
    auto demo = DefaultModelPath();
    if (!demo.ok()) Fail(demo.status());
    std::cerr << "jarvis: no --model given; serving the built-in demo model " << *demo << "\n";
    so.model_paths.push_back(*demo);
  }
  so.default_model = f.default_model;
  so.max_loaded_models = f.max_loaded_models;
  so.memory_budget_bytes = OrFail(api::ParseByteSize(f.memory_budget), "--memory-budget");
  so.keep_alive = OrFail(api::ParseDuration(f.keep_alive), "--keep-alive");
  so.cache_ttl = std::chrono::seconds(f.cache_ttl < 0 ? 0 : f.cache_ttl);
  so.cache_bytes = OrFail(api::ParseByteSize(f.cache_size), "--cache-size");
  so.scheduler.max_sequences = f.parallel;
  so.scheduler.max_queue = f.max_queue;
  so.scheduler.max_batch_tokens = f.batch_tokens;
  so.scheduler.n_ctx = f.ctx_size;
  so.scheduler.n_threads = f.threads;
  so.scheduler.kv_f16 = f.kv_type == "f16";
  so.scheduler.gpu_layers = f.gpu_layers;
  if (!f.chat_template_file.empty())
    so.scheduler.chat_template = ReadTextFileOrFail(f.chat_template_file, "--chat-template-file");

  api::ServerOptions o;
  o.host = f.host;
  o.port = static_cast<uint16_t>(f.port);
  o.io_threads = f.io_threads;
  o.api_key = f.api_key;
  o.cors_origin = f.cors_origin;
  o.max_body_bytes = OrFail(api::ParseByteSize(f.max_body), "--max-body");
  o.idle_timeout = Millis(f.idle_timeout, "--idle-timeout");
  o.request_timeout = Millis(f.request_timeout, "--request-timeout");
  const auto grace = Millis(f.grace, "--grace");

  auto service = Service::Create(so);
  if (!service.ok()) Fail(service.status());
  auto backend = api::MakeServiceBackend(**service);
  auto server = api::HttpServer::Start(o, *backend);
  if (!server.ok()) Fail(server.status());

  auto default_info = (*service)->GetModel("");
  const std::string default_name = default_info.ok() ? default_info->name : "";
  std::cerr << "jarvis: " << (*service)->ListModels().size() << " model(s), default '" << default_name << "'"
            << (o.api_key.empty() ? "" : ", API key required") << "\n";
  std::printf("jarvis: listening on %s\n", (*server)->url().c_str());
  std::fflush(stdout);

  if (!f.no_preload && !default_name.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = (*service)->LoadModel(default_name);
    if (!s.ok()) {
      (*server)->Stop(std::chrono::milliseconds(0));
      Fail(s);
    }
    std::cerr << "jarvis: loaded '" << default_name << "' in "
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
              << " ms";
    auto info = (*service)->GetModel(default_name);
    if (info.ok() && !info->scheduler.backend.empty()) std::cerr << " on " << info->scheduler.backend;
    std::cerr << "; ready\n";
  }
  (*server)->SetReady(true);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "jarvis: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM") << ": shutting down (grace "
            << grace.count() << " ms)\n";
  (*server)->BeginShutdown();
  (*service)->Shutdown(grace);
  (*server)->Stop(std::chrono::seconds(2));  // lets the last responses reach their clients
  server->reset();
  backend.reset();
  service->reset();
  std::cerr << "jarvis: stopped\n";
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP server (OpenAI, Ollama and JARVIS monitoring APIs)");
  cmd->add_option("-m,--model", f->models, "GGUF file or directory of *.gguf (repeatable; default: the demo model)")
      ->envname("JARVIS_MODEL")
      ->delimiter(',');
  cmd->add_option("--default-model", f->default_model, "Model used when a request names none (default: the first)")
      ->envname("JARVIS_DEFAULT_MODEL");
  cmd->add_option("--chat-template-file", f->chat_template_file,
                  "Jinja chat template file used instead of every served model's tokenizer.chat_template")
      ->envname("JARVIS_CHAT_TEMPLATE_FILE")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", f->host, "Address to bind")->envname("JARVIS_HOST")->capture_default_str();
  cmd->add_option("--port", f->port, "Port (0: any free port)")->envname("JARVIS_PORT")->capture_default_str();
  cmd->add_option("--parallel", f->parallel, "Sequences decoding at once per model")
      ->envname("JARVIS_PARALLEL")
      ->capture_default_str();
  cmd->add_option("--max-queue", f->max_queue, "Requests waiting per model before 429")
      ->envname("JARVIS_MAX_QUEUE")
      ->capture_default_str();
  cmd->add_option("--batch-tokens", f->batch_tokens, "Tokens per forward step")
      ->envname("JARVIS_BATCH_TOKENS")
      ->capture_default_str();
  cmd->add_option("--max-loaded-models", f->max_loaded_models, "Models resident at once")
      ->envname("JARVIS_MAX_LOADED_MODELS")
      ->capture_default_str();
  cmd->add_option("--memory-budget", f->memory_budget, "Bytes of models resident at once (0: no limit)")
      ->envname("JARVIS_MEMORY_BUDGET")
      ->capture_default_str();
  cmd->add_option("--cache-ttl", f->cache_ttl, "Response cache lifetime in seconds (0: off)")
      ->envname("JARVIS_CACHE_TTL")
      ->capture_default_str();
  cmd->add_option("--cache-size", f->cache_size, "Response cache capacity")
      ->envname("JARVIS_CACHE_SIZE")
      ->capture_default_str();
  AddKvTypeOption(cmd, &f->kv_type)->envname("JARVIS_KV_TYPE");
  cmd->add_option("-t,--threads", f->threads, "Engine threads (default: physical cores)")->envname("JARVIS_THREADS");
  AddGpuLayersOption(cmd, &f->gpu_layers);
  cmd->add_option("-c,--ctx-size", f->ctx_size, "Context per sequence (default: model's, at most 4096)")
      ->envname("JARVIS_CTX_SIZE");
  cmd->add_option("--api-key", f->api_key, "Require 'Authorization: Bearer KEY' (all routes but /health)")
      ->envname("JARVIS_API_KEY");
  cmd->add_option("--cors-origin", f->cors_origin, "Access-Control-Allow-Origin value, e.g. '*' (default: no CORS)")
      ->envname("JARVIS_CORS_ORIGIN");
  cmd->add_option("--keep-alive", f->keep_alive, "How long an idle model stays loaded (e.g. 5m; -1: forever)")
      ->envname("JARVIS_KEEP_ALIVE")
      ->capture_default_str();
  cmd->add_option("--max-body", f->max_body, "Largest request body (larger: 413)")
      ->envname("JARVIS_MAX_BODY")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", f->idle_timeout, "Idle keep-alive connection / request header deadline")
      ->envname("JARVIS_IDLE_TIMEOUT")
      ->capture_default_str();
  cmd->add_option("--request-timeout", f->request_timeout, "Deadline to receive a body or send each write")
      ->envname("JARVIS_REQUEST_TIMEOUT")
      ->capture_default_str();
  cmd->add_option("--grace", f->grace, "On SIGINT/SIGTERM, how long running requests may finish")
      ->envname("JARVIS_SHUTDOWN_GRACE")
      ->capture_default_str();
  cmd->add_option("--io-threads", f->io_threads, "Socket I/O threads")->envname("JARVIS_IO_THREADS")->capture_default_str();
  cmd->add_flag("--no-preload", f->no_preload, "Do not load the default model before becoming ready")
      ->envname("JARVIS_NO_PRELOAD");
  // CLI11 reads the environment of a subcommand without a parse-complete
  // callback even when another subcommand runs, so a bad JARVIS_PORT would
  // break `jarvis inspect`; with one, serve's variables are read only for serve.
  cmd->parse_complete_callback([] {});
  cmd->callback([f] { Serve(*f); });
}

}  // namespace jarvis::cli
