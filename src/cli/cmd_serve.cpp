// `jarvis serve`: the HTTP server (OpenAI- and Ollama-compatible APIs, the
// JARVIS monitoring API, Prometheus /metrics). Every flag also reads a JARVIS_*
// environment variable (flag wins). SIGINT/SIGTERM shut down gracefully:
// stop accepting, let running requests finish for --grace, cancel the rest,
// exit 0.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "api/api_backend.h"
#include "api/api_keys.h"
#include "api/http_server.h"
#include "cli/commands.h"
#include "cli/default_model.h"
#include "gpu/gpu_backend.h"
#include "jarvis/runtime.h"
#include "jarvis/server.h"
#include "service/service.h"
#include "util/value_parse.h"

namespace jarvis::cli {
namespace {

// Defaults come from the library's option structs (jarvis/runtime_options.h,
// jarvis/server.h); sizes and durations are text in the flags' own syntax.
struct ServeFlags {
  RuntimeOptions runtime;  // models, default_model, max_loaded_models, parallel, ...
  ServerOptions http;      // host, port, io_threads, cors_origin
  std::vector<std::string> api_keys;  // --api-key (repeatable) and JARVIS_API_KEY
  std::string api_key_file;
  int32_t port = ServerOptions{}.port;  // int: CLI11 reports a range error, not a wrap
  std::string memory_budget = std::to_string(RuntimeOptions{}.memory_budget_bytes);
  int64_t cache_ttl = RuntimeOptions{}.cache_ttl.count();
  std::string cache_size = std::to_string(RuntimeOptions{}.cache_bytes >> 20) + "MiB";
  std::string packed_cache_size = std::to_string(RuntimeOptions{}.packed_cache_bytes >> 30) + "GiB";
  std::string keep_alive = std::to_string(RuntimeOptions{}.keep_alive.count()) + "s";
  std::string max_body = std::to_string(ServerOptions{}.max_body_bytes >> 20) + "MiB";
  std::string idle_timeout = std::to_string(ServerOptions{}.idle_timeout.count()) + "ms";
  std::string request_timeout = std::to_string(ServerOptions{}.request_timeout.count()) + "ms";
  std::string grace = "10s";
  std::string cache_url_file;
  std::string drain_delay = "0s";
  bool no_preload = false;
  std::string chat_template_file;
};

template <typename T>
T OrFail(Result<T> r, const std::string& flag) {
  if (!r.ok()) Fail(flag + ": " + r.status().message(), kExitUsageError);
  return std::move(r).value();
}

// The first line of a file holding a secret, without surrounding whitespace.
std::string ReadSecretFile(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) Fail(flag + ": cannot read " + path, kExitUsageError);
  const size_t begin = line.find_first_not_of(" \t\r");
  const size_t end = line.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : line.substr(begin, end - begin + 1);
}

std::chrono::milliseconds Millis(const std::string& text, const std::string& flag) {
  const auto s = OrFail(ParseDuration(text), flag);
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
  if (f.runtime.parallel < 1) Fail("--parallel must be >= 1", kExitUsageError);

  RuntimeOptions ro = f.runtime;
  if (ro.models.empty()) {
    auto demo = DefaultModelPath();
    if (!demo.ok()) Fail(demo.status());
    std::cerr << "jarvis: no --model given; serving the built-in demo model " << *demo << "\n";
    ro.models.push_back(*demo);
  }
  ro.memory_budget_bytes = OrFail(ParseByteSize(f.memory_budget), "--memory-budget");
  ro.keep_alive = OrFail(ParseDuration(f.keep_alive), "--keep-alive");
  ro.cache_ttl = std::chrono::seconds(f.cache_ttl < 0 ? 0 : f.cache_ttl);
  ro.cache_bytes = OrFail(ParseByteSize(f.cache_size), "--cache-size");
  ro.repack = RepackFromEnv();
  ro.packed_cache_bytes = OrFail(ParseByteSize(f.packed_cache_size), "--packed-cache-size");
  if (!f.cache_url_file.empty()) ro.cache_url = ReadSecretFile(f.cache_url_file, "--cache-url-file");
  if (!f.chat_template_file.empty()) ro.chat_template = ReadTextFileOrFail(f.chat_template_file, "--chat-template-file");

  api::ServerOptions o;
  o.host = f.http.host;
  o.port = static_cast<uint16_t>(f.port);
  o.io_threads = f.http.io_threads;
  o.api_keys = f.api_keys;
  if (!f.api_key_file.empty()) {
    const auto keys = OrFail(api::ReadApiKeyFile(f.api_key_file), "--api-key-file");
    o.api_keys.insert(o.api_keys.end(), keys.begin(), keys.end());
  }
  o.cors_origin = f.http.cors_origin;
  o.max_body_bytes = OrFail(ParseByteSize(f.max_body), "--max-body");
  o.idle_timeout = Millis(f.idle_timeout, "--idle-timeout");
  o.request_timeout = Millis(f.request_timeout, "--request-timeout");
  const auto grace = Millis(f.grace, "--grace");
  const auto drain_delay = Millis(f.drain_delay, "--drain-delay");

  auto runtime = Runtime::Create(ro);
  if (!runtime.ok()) Fail(runtime.status());
  Service* service = &(*runtime)->service();
  auto backend = api::MakeServiceBackend(*service);
  auto server = api::HttpServer::Start(o, *backend);
  if (!server.ok()) Fail(server.status());

  auto default_info = service->GetModel("");
  const std::string default_name = default_info.ok() ? default_info->name : "";
  std::cerr << "jarvis: " << service->ListModels().size() << " model(s), default '" << default_name << "'"
            << (o.api_keys.empty() ? "" : ", API key required") << "\n";
  std::printf("jarvis: listening on %s\n", (*server)->url().c_str());
  std::fflush(stdout);

  if (!f.no_preload && !default_name.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = service->LoadModel(default_name);
    if (!s.ok()) {
      (*server)->Stop(std::chrono::milliseconds(0));
      Fail(s);
    }
    std::cerr << "jarvis: loaded '" << default_name << "' in "
              << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()
              << " ms";
    auto info = service->GetModel(default_name);
    if (info.ok() && !info->scheduler.backend.empty()) std::cerr << " on " << info->scheduler.backend;
    std::cerr << "; ready\n";
  }
  (*server)->SetReady(true);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  const char* signal_name = signal_number == SIGINT ? "SIGINT" : "SIGTERM";
  if (drain_delay.count() > 0) {
    // Readiness fails first while everything else keeps working, so that
    // balancers polling /health stop routing here before the listener closes.
    // A second signal ends the delay.
    std::cerr << "jarvis: " << signal_name << ": not ready; draining for " << drain_delay.count() << " ms\n";
    (*server)->SetTerminating();
    const timespec wait{static_cast<time_t>(drain_delay.count() / 1000),
                        static_cast<long>(drain_delay.count() % 1000) * 1000000L};
    sigtimedwait(&signals, nullptr, &wait);
  }
  std::cerr << "jarvis: " << signal_name << ": shutting down (grace " << grace.count() << " ms)\n";
  (*server)->BeginShutdown();
  service->Shutdown(grace);
  (*server)->Stop(std::chrono::seconds(2));  // lets the last responses reach their clients
  server->reset();
  backend.reset();
  runtime->reset();
  std::cerr << "jarvis: stopped\n";
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP server (OpenAI, Ollama and JARVIS monitoring APIs)");
  cmd->add_option("-m,--model", f->runtime.models, "GGUF file or directory of *.gguf (repeatable; default: the demo model)")
      ->envname("JARVIS_MODEL")
      ->delimiter(',');
  cmd->add_option("--default-model", f->runtime.default_model, "Model used when a request names none (default: the first)")
      ->envname("JARVIS_DEFAULT_MODEL");
  cmd->add_option("--chat-template-file", f->chat_template_file,
                  "Jinja chat template file used instead of every served model's tokenizer.chat_template")
      ->envname("JARVIS_CHAT_TEMPLATE_FILE")
      ->check(CLI::ExistingFile);
  cmd->add_option("--host", f->http.host, "Address to bind")->envname("JARVIS_HOST")->capture_default_str();
  cmd->add_option("--port", f->port, "Port (0: any free port)")->envname("JARVIS_PORT")->capture_default_str();
  cmd->add_option("--parallel", f->runtime.parallel, "Sequences decoding at once per model")
      ->envname("JARVIS_PARALLEL")
      ->capture_default_str();
  cmd->add_option("--max-queue", f->runtime.max_queue, "Requests waiting per model before 429")
      ->envname("JARVIS_MAX_QUEUE")
      ->capture_default_str();
  cmd->add_option("--batch-tokens", f->runtime.batch_tokens, "Tokens per forward step")
      ->envname("JARVIS_BATCH_TOKENS")
      ->capture_default_str();
  cmd->add_option("--max-loaded-models", f->runtime.max_loaded_models, "Models resident at once")
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
  auto* cache_url = cmd->add_option("--cache-url", f->runtime.cache_url,
                                    "Shared response cache: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]")
                        ->envname("JARVIS_CACHE_URL");
  cmd->add_option("--cache-url-file", f->cache_url_file, "Read --cache-url from this file (e.g. a mounted secret)")
      ->envname("JARVIS_CACHE_URL_FILE")
      ->excludes(cache_url);
  cmd->add_option("--cache-prefix", f->runtime.cache_key_prefix, "Prefix of the shared cache's Redis keys")
      ->envname("JARVIS_CACHE_PREFIX")
      ->capture_default_str();
  cmd->add_option("--packed-cache", f->runtime.packed_cache,
                  "Directory caching packed weights across loads, for fast reloads (\"off\": none; default: "
                  "$XDG_CACHE_HOME/jarvis/packed or ~/.cache/jarvis/packed)")
      ->envname("JARVIS_PACKED_CACHE");
  cmd->add_option("--packed-cache-size", f->packed_cache_size,
                  "Packed-cache bytes kept; least recently used files are deleted above it")
      ->envname("JARVIS_PACKED_CACHE_SIZE")
      ->capture_default_str();
  AddKvTypeOption(cmd, &f->runtime.kv_type)->envname("JARVIS_KV_TYPE");
  AddSpeculationOptions(cmd, &f->runtime.speculative, &f->runtime.draft_max, &f->runtime.draft_model);
  cmd->add_option("-t,--threads", f->runtime.threads, "Engine threads (default: physical cores)")->envname("JARVIS_THREADS");
  AddGpuLayersOption(cmd, &f->runtime.gpu_layers);
  cmd->add_option("-c,--ctx-size", f->runtime.ctx_size, "Context per sequence (default: model's, at most 4096)")
      ->envname("JARVIS_CTX_SIZE");
  cmd->add_option("--kv-size", f->runtime.kv_size,
                  "KV cache pool per model in tokens, shared by all sequences (default: parallel x ctx-size "
                  "+ 25%; when full the newest sequence is preempted and later recomputed)")
      ->envname("JARVIS_KV_SIZE");
  cmd->add_option("--api-key", f->api_keys,
                  "Require 'Authorization: Bearer KEY' (all routes but /health and /livez; repeatable: any of them)")
      ->envname("JARVIS_API_KEY");
  cmd->add_option("--api-key-file", f->api_key_file, "Accept the keys in FILE too (one a line; # comments)")
      ->envname("JARVIS_API_KEY_FILE");
  cmd->add_option("--cors-origin", f->http.cors_origin, "Access-Control-Allow-Origin value, e.g. '*' (default: no CORS)")
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
  cmd->add_option("--drain-delay", f->drain_delay,
                  "On SIGINT/SIGTERM, how long /health answers 503 while serving on, before --grace starts")
      ->envname("JARVIS_DRAIN_DELAY")
      ->capture_default_str();
  cmd->add_option("--io-threads", f->http.io_threads, "Socket I/O threads")->envname("JARVIS_IO_THREADS")->capture_default_str();
  cmd->add_flag("--no-preload", f->no_preload, "Do not load the default model before becoming ready")
      ->envname("JARVIS_NO_PRELOAD");
  // CLI11 reads the environment of a subcommand without a parse-complete
  // callback even when another subcommand runs, so a bad JARVIS_PORT would
  // break `jarvis inspect`; with one, serve's variables are read only for serve.
  cmd->parse_complete_callback([] {});
  cmd->callback([f] {
    f->runtime.gpu_layers = ResolveGpuLayersFlag(f->runtime.gpu_layers);
    Serve(*f);
  });
}

}  // namespace jarvis::cli
