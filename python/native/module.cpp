// jarvis._native: the Python binding of the public C++ API (include/jarvis/).
// The pure-Python package (python/jarvis/) builds the user-facing API on it:
// LLM / AsyncLLM, perf_monitor, serve().
//
// Threads and the GIL: every call that can wait or compute (creating a
// runtime, submitting — it may load a model —, waiting, pulling stream
// pieces, stopping) releases the GIL. Native threads never take the GIL: the
// asyncio side is told about progress through an EventQueue, an eventfd that
// the event loop watches (loop.add_reader) plus a queue of events it drains
// on the loop's own thread, so the loop never blocks and the scheduler's
// thread never waits for Python.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jarvis/embed.h"
#include "jarvis/monitor.h"
#include "jarvis/request.h"
#include "jarvis/runtime.h"
#include "jarvis/server.h"
#include "jarvis/system_stats.h"
#include "jarvis/version.h"

namespace py = pybind11;

namespace jarvis::python {
namespace {

// ---- errors ------------------------------------------------------------------

PyObject* g_queue_full = nullptr;   // jarvis.QueueFullError
PyObject* g_model_error = nullptr;  // jarvis.ModelError
PyObject* g_jarvis_error = nullptr; // jarvis.JarvisError (base of the two)
PyObject* g_cancelled = nullptr;    // jarvis.RequestCancelled

// The Python exception type for a status code.
PyObject* ExceptionType(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound: return PyExc_FileNotFoundError;
    case StatusCode::kInvalidArgument: return PyExc_ValueError;
    case StatusCode::kResourceExhausted: return g_queue_full;
    case StatusCode::kCorruption:
    case StatusCode::kUnsupported: return g_model_error;
    case StatusCode::kIoError: return PyExc_OSError;
    case StatusCode::kCancelled: return g_cancelled;
    default: return g_jarvis_error;
  }
}

std::string ExceptionMessage(const Status& status) {
  const PyObject* type = ExceptionType(status.code());
  return type == g_jarvis_error ? status.ToString() : status.message();
}

// An exception instance for a non-OK status (the C++ message kept).
py::object MakeException(const Status& status) {
  return py::reinterpret_borrow<py::object>(ExceptionType(status.code()))(ExceptionMessage(status));
}

// Raises the Python exception for a non-OK status.
[[noreturn]] void Raise(const Status& status) {
  PyErr_SetString(ExceptionType(status.code()), ExceptionMessage(status).c_str());
  throw py::error_already_set();
}

template <typename T>
T Unwrap(Result<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(r).value();
}

// ---- options -----------------------------------------------------------------

// RuntimeOptions' fields as a dict: the defaults Python's keyword arguments
// derive from (jarvis.LLM accepts exactly these names).
py::dict DefaultOptions() {
  const RuntimeOptions o;
  py::dict d;
  d["default_model"] = o.default_model;
  d["max_loaded_models"] = o.max_loaded_models;
  d["memory_budget"] = o.memory_budget_bytes;
  d["keep_alive"] = o.keep_alive.count();
  d["cache_ttl"] = o.cache_ttl.count();
  d["cache_size"] = o.cache_bytes;
  d["parallel"] = o.parallel;
  d["max_queue"] = o.max_queue;
  d["batch_tokens"] = o.batch_tokens;
  d["ctx_size"] = o.ctx_size;
  d["kv_size"] = o.kv_size;
  d["threads"] = o.threads;
  d["kv_type"] = o.kv_type;
  d["speculative"] = o.speculative;
  d["draft_max"] = o.draft_max;
  d["draft_model"] = o.draft_model;
  d["gpu_layers"] = o.gpu_layers;
  d["repack"] = o.repack;
  d["packed_cache"] = o.packed_cache;
  d["packed_cache_size"] = o.packed_cache_bytes;
  return d;
}

template <typename T>
void Take(const py::dict& d, const char* key, T* out) {
  if (d.contains(key)) {
    try {
      *out = d[key].cast<T>();
    } catch (const py::cast_error&) {
      throw py::value_error(std::string(key) + ": wrong type (" + std::string(py::str(d[key].get_type())) + ")");
    }
  }
}

RuntimeOptions ToRuntimeOptions(const std::vector<std::string>& models, const py::dict& d,
                                std::optional<Monitor> monitor) {
  RuntimeOptions o;
  o.models = models;
  for (const auto& item : d) {
    const std::string key = py::str(item.first);
    if (!DefaultOptions().contains(key.c_str())) throw py::value_error("unknown option '" + key + "'");
  }
  Take(d, "default_model", &o.default_model);
  Take(d, "max_loaded_models", &o.max_loaded_models);
  Take(d, "memory_budget", &o.memory_budget_bytes);
  int64_t seconds = o.keep_alive.count();
  Take(d, "keep_alive", &seconds);
  o.keep_alive = std::chrono::seconds(seconds);
  seconds = o.cache_ttl.count();
  Take(d, "cache_ttl", &seconds);
  o.cache_ttl = std::chrono::seconds(seconds);
  Take(d, "cache_size", &o.cache_bytes);
  Take(d, "parallel", &o.parallel);
  Take(d, "max_queue", &o.max_queue);
  Take(d, "batch_tokens", &o.batch_tokens);
  Take(d, "ctx_size", &o.ctx_size);
  Take(d, "kv_size", &o.kv_size);
  Take(d, "threads", &o.threads);
  Take(d, "kv_type", &o.kv_type);
  Take(d, "speculative", &o.speculative);
  Take(d, "draft_max", &o.draft_max);
  Take(d, "draft_model", &o.draft_model);
  Take(d, "gpu_layers", &o.gpu_layers);
  Take(d, "repack", &o.repack);
  Take(d, "packed_cache", &o.packed_cache);
  Take(d, "packed_cache_size", &o.packed_cache_bytes);
  o.monitor = std::move(monitor);
  return o;
}

// Request parameters: the GenerateRequest / SamplingParams fields by name.
// Unknown names are a ValueError (never silently ignored).
GenerateRequest ToRequest(const py::object& prompt, const py::object& messages, const py::dict& p) {
  static const char* const kKnown[] = {"model", "max_tokens", "temperature", "top_k", "top_p", "min_p",
                                       "repeat_penalty", "presence_penalty", "frequency_penalty", "seed",
                                       "stop", "ignore_eos", "cache", "add_special", "timeout"};
  for (const auto& item : p) {
    const std::string key = py::str(item.first);
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) throw py::value_error("unknown generation parameter '" + key + "'");
  }
  GenerateRequest r;
  if (!prompt.is_none()) r.prompt = prompt.cast<std::string>();
  if (!messages.is_none()) {
    for (const py::handle m : messages) {
      if (!py::isinstance<py::dict>(m)) throw py::value_error("messages: each message is a dict with role and content");
      const py::dict md = py::reinterpret_borrow<py::dict>(m);
      if (!md.contains("role") || !md.contains("content")) {
        throw py::value_error("messages: each message needs 'role' and 'content'");
      }
      r.messages.push_back(ChatMessage{md["role"].cast<std::string>(), md["content"].cast<std::string>()});
    }
    if (r.messages.empty()) throw py::value_error("messages is empty");
  }
  Take(p, "model", &r.model);
  Take(p, "max_tokens", &r.max_tokens);
  Take(p, "temperature", &r.sampling.temperature);
  Take(p, "top_k", &r.sampling.top_k);
  Take(p, "top_p", &r.sampling.top_p);
  Take(p, "min_p", &r.sampling.min_p);
  Take(p, "repeat_penalty", &r.sampling.repeat_penalty);
  Take(p, "presence_penalty", &r.sampling.presence_penalty);
  Take(p, "frequency_penalty", &r.sampling.frequency_penalty);
  if (p.contains("seed") && !p["seed"].is_none()) {
    r.sampling.seed = p["seed"].cast<uint64_t>();
    r.sampling.has_seed = true;
  }
  if (p.contains("stop") && !p["stop"].is_none()) {
    if (py::isinstance<py::str>(p["stop"])) {
      r.stop.push_back(p["stop"].cast<std::string>());
    } else {
      r.stop = p["stop"].cast<std::vector<std::string>>();
    }
  }
  Take(p, "ignore_eos", &r.ignore_eos);
  Take(p, "cache", &r.use_response_cache);
  Take(p, "add_special", &r.add_special);
  if (p.contains("timeout") && !p["timeout"].is_none()) {
    const double s = p["timeout"].cast<double>();
    if (!(s > 0)) throw py::value_error("timeout must be > 0 seconds");
    r.deadline = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
  }
  const Status valid = r.sampling.Validate();
  if (!valid.ok()) Raise(valid);
  return r;
}

py::dict ResultDict(const GenerateResult& r) {
  py::dict t;
  t["queue_ms"] = r.timings.queue_ms;
  t["ttft_ms"] = r.timings.ttft_ms;
  t["prompt_ms"] = r.timings.prompt_ms;
  t["decode_ms"] = r.timings.decode_ms;
  t["total_ms"] = r.timings.total_ms;
  t["per_token_ms"] = r.timings.per_token_ms;
  py::dict d;
  d["text"] = r.text;
  d["tokens"] = r.tokens;
  d["finish_reason"] = FinishReasonName(r.finish);
  d["prompt_tokens"] = r.prompt_tokens;
  d["cached_prompt_tokens"] = r.cached_prompt_tokens;
  d["completion_tokens"] = r.completion_tokens;
  d["from_cache"] = r.from_response_cache;
  d["timings"] = t;
  return d;
}

// A finished result as a dict, or the exception of a failed one.
py::dict FinalOrRaise(const GenerateResult& r) {
  if (r.finish == FinishReason::kError) Raise(r.error);
  return ResultDict(r);
}

// An embedding result as a dict: embeddings (list of lists of floats),
// prompt_tokens, from_cache, timings.
py::dict EmbedDict(const EmbedResult& r) {
  py::dict t;
  t["queue_ms"] = r.timings.queue_ms;
  t["compute_ms"] = r.timings.compute_ms;
  t["total_ms"] = r.timings.total_ms;
  py::dict d;
  d["embeddings"] = r.embeddings;
  d["prompt_tokens"] = r.prompt_tokens;
  d["from_cache"] = r.from_response_cache;
  d["timings"] = t;
  return d;
}

// The EmbedRequest of LLM.embed's arguments.
EmbedRequest ToEmbedRequest(const std::vector<std::string>& texts, int32_t dimensions, bool truncate,
                            const std::string& model) {
  if (dimensions < 0) throw py::value_error("dimensions must be >= 1");
  EmbedRequest r;
  r.texts = texts;
  r.dimensions = dimensions;
  r.truncate = truncate;
  r.model = model;
  return r;
}

// ---- asyncio bridge --------------------------------------------------------------

// Events of async requests, pushed by the scheduler's thread and drained by
// the event loop's thread. An eventfd counts pending wake-ups: the loop
// watches it with add_reader and calls Drain().
class EventQueue {
 public:
  EventQueue() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~EventQueue() { close(fd_); }
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  int fd() const { return fd_; }

  struct Event {
    uint64_t tag;        // the caller's request tag
    bool done;           // false: a piece of text; true: the final result
    std::string text;    // the piece
    std::shared_ptr<GenerateResult> result;  // when done (a generation)
    std::shared_ptr<EmbedResult> embed;      // when done (an embedding request)
  };

  void Push(Event e) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = events_.empty();  // one wake-up per batch: the loop drains everything
      events_.push_back(std::move(e));
    }
    if (wake) {
      const uint64_t one = 1;
      ssize_t n;
      do {
        n = write(fd_, &one, sizeof(one));
      } while (n < 0 && errno == EINTR);
    }
  }

  // [(tag, None | str piece, None | result dict | exception)], oldest first.
  py::list Drain() {
    uint64_t count = 0;
    while (read(fd_, &count, sizeof(count)) > 0) {
    }
    std::deque<Event> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      events.swap(events_);
    }
    py::list out;
    for (Event& e : events) {
      if (!e.done) {
        out.append(py::make_tuple(e.tag, py::str(e.text), py::none()));
        continue;
      }
      py::object payload;
      if (e.embed) {
        payload = e.embed->error.ok() ? py::object(EmbedDict(*e.embed)) : MakeException(e.embed->error);
      } else {
        payload = e.result->finish == FinishReason::kError ? MakeException(e.result->error)
                                                           : py::object(ResultDict(*e.result));
      }
      out.append(py::make_tuple(e.tag, py::none(), payload));
    }
    return out;
  }

 private:
  const int fd_;
  std::mutex mu_;
  std::deque<Event> events_;  // guarded by mu_
};

// ---- requests ------------------------------------------------------------------

class Request {
 public:
  explicit Request(RequestHandle handle) : handle_(std::move(handle)) {}

  uint64_t id() const { return handle_.id(); }
  void Cancel() { handle_.Cancel(); }

  // Blocks (GIL released) until the result; raises for a failed request.
  py::dict Wait() {
    GenerateResult r;
    {
      py::gil_scoped_release release;
      r = handle_.Wait();
    }
    return FinalOrRaise(r);
  }

  // The next piece of text (GIL released while waiting); None at the end.
  py::object Next() {
    TokenEvent e;
    bool more;
    {
      py::gil_scoped_release release;
      more = handle_.Next(&e);
      while (more && e.text.empty()) more = handle_.Next(&e);  // held-back pieces carry no text
    }
    if (!more) return py::none();
    return py::str(e.text);
  }

 private:
  RequestHandle handle_;
};

// An embedding request's handle, for Cancel() (AsyncLLM.embed).
class EmbedRequestRef {
 public:
  explicit EmbedRequestRef(EmbedHandle handle) : handle_(std::move(handle)) {}
  void Cancel() { handle_.Cancel(); }

 private:
  EmbedHandle handle_;
};

class PyRuntime {
 public:
  PyRuntime(const std::vector<std::string>& models, const py::dict& options, std::optional<Monitor> monitor) {
    RuntimeOptions o = ToRuntimeOptions(models, options, std::move(monitor));
    Result<std::unique_ptr<Runtime>> r = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      r = Runtime::Create(o);
    }
    runtime_ = Unwrap(std::move(r));
  }

  std::unique_ptr<Request> Submit(const py::object& prompt, const py::object& messages, const py::dict& params) {
    GenerateRequest request = ToRequest(prompt, messages, params);
    return std::make_unique<Request>(SubmitReleased(std::move(request)));
  }

  // Async: events go to `queue` under `tag`; returns the request for Cancel().
  std::unique_ptr<Request> SubmitAsync(const std::shared_ptr<EventQueue>& queue, uint64_t tag, bool stream, const py::object& prompt,
                                       const py::object& messages, const py::dict& params) {
    GenerateRequest request = ToRequest(prompt, messages, params);
    std::shared_ptr<EventQueue> q = queue;  // the callbacks may outlive the Python objects
    if (stream) {
      request.on_token = [q, tag](const TokenEvent& e) {
        if (!e.text.empty()) q->Push({tag, false, e.text, nullptr, nullptr});
        return true;
      };
    }
    request.on_complete = [q, tag](const GenerateResult& r) {
      q->Push({tag, true, std::string(), std::make_shared<GenerateResult>(r), nullptr});
    };
    return std::make_unique<Request>(SubmitReleased(std::move(request)));
  }

  // Blocking embedding (GIL released): the result dict, or raises.
  py::dict Embed(const std::vector<std::string>& texts, int32_t dimensions, bool truncate, const std::string& model) {
    EmbedRequest request = ToEmbedRequest(texts, dimensions, truncate, model);
    EmbedResult r;
    {
      py::gil_scoped_release release;
      Result<EmbedHandle> h = runtime_->SubmitEmbed(std::move(request));
      if (h.ok()) {
        r = h->Wait();
      } else {
        r.error = h.status();
      }
    }
    if (!r.error.ok()) Raise(r.error);
    return EmbedDict(r);
  }

  // Async: the result goes to `queue` under `tag`; returns the request for Cancel().
  std::unique_ptr<EmbedRequestRef> EmbedAsync(const std::shared_ptr<EventQueue>& queue, uint64_t tag,
                                              const std::vector<std::string>& texts, int32_t dimensions,
                                              bool truncate, const std::string& model) {
    EmbedRequest request = ToEmbedRequest(texts, dimensions, truncate, model);
    std::shared_ptr<EventQueue> q = queue;  // the callback may outlive the Python objects
    request.on_complete = [q, tag](const EmbedResult& r) {
      EventQueue::Event e{tag, true, std::string(), nullptr, std::make_shared<EmbedResult>(r)};
      q->Push(std::move(e));
    };
    Result<EmbedHandle> h = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      h = runtime_->SubmitEmbed(std::move(request));
    }
    return std::make_unique<EmbedRequestRef>(Unwrap(std::move(h)));
  }

  void LoadModel(const std::string& name) {
    Status s;
    {
      py::gil_scoped_release release;
      s = runtime_->LoadModel(name);
    }
    if (!s.ok()) Raise(s);
  }

  py::list Models() const {
    py::list out;
    for (const ModelStats& m : runtime_->Models()) {
      py::dict d;
      d["name"] = m.name;
      d["path"] = m.path;
      d["size_bytes"] = m.size_bytes;
      d["architecture"] = m.architecture;
      d["quantization"] = m.quantization;
      d["parameters"] = m.parameters;
      d["context_length"] = m.context_length;
      d["loaded"] = m.loaded;
      d["load_ms"] = m.load_ms;
      d["backend"] = m.backend;
      d["gpu_layers"] = m.gpu_layers;
      d["running"] = m.running;
      d["waiting"] = m.waiting;
      d["kv_blocks_total"] = m.kv_blocks_total;
      d["kv_blocks_used"] = m.kv_blocks_used;
      d["kv_blocks_cached"] = m.kv_blocks_cached;
      d["generated_tokens"] = m.generated_tokens;
      d["prompt_tokens_cached"] = m.prompt_tokens_cached;
      d["preemptions"] = m.preemptions;
      d["recomputed_tokens"] = m.recomputed_tokens;
      d["draft_tokens"] = m.draft_tokens;
      d["accepted_draft_tokens"] = m.accepted_draft_tokens;
      d["embed_requests"] = m.embed_requests;
      d["embed_inputs"] = m.embed_inputs;
      d["embed_tokens"] = m.embed_tokens;
      out.append(d);
    }
    return out;
  }

  std::string DefaultModel() const { return runtime_->DefaultModel(); }
  Monitor GetMonitor() const { return runtime_->monitor(); }
  std::string PerformanceStatsJson() const { return runtime_->PerformanceStatsJson(); }
  std::string SystemMetricsJson() const { return runtime_->SystemMetricsJson(); }
  std::string ModelsStatsJson() const { return runtime_->ModelsStatsJson(); }
  std::string PrometheusText() const { return runtime_->PrometheusText(); }

  void Shutdown(double grace_s) {
    py::gil_scoped_release release;
    runtime_->Shutdown(std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000)));
  }

  Runtime& runtime() { return *runtime_; }

 private:
  RequestHandle SubmitReleased(GenerateRequest request) {
    Result<RequestHandle> h = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      h = runtime_->Submit(std::move(request));
    }
    return Unwrap(std::move(h));
  }

  std::unique_ptr<Runtime> runtime_;
};

class PyServer {
 public:
  PyServer(PyRuntime& runtime, const std::string& host, int port, const std::string& api_key,
           const std::string& cors_origin) {
    if (port < 0 || port > 65535) throw py::value_error("port must be in 0..65535");
    ServerOptions o;
    o.host = host;
    o.port = static_cast<uint16_t>(port);
    if (!api_key.empty()) o.api_keys.push_back(api_key);
    o.cors_origin = cors_origin;
    Result<std::unique_ptr<Server>> s = Status::Internal("unset");
    {
      py::gil_scoped_release release;
      s = Server::Start(runtime.runtime(), o);
    }
    server_ = Unwrap(std::move(s));
  }
  std::string url() const { return server_->url(); }
  int port() const { return server_->port(); }
  void Stop(double grace_s) {
    py::gil_scoped_release release;
    server_->Stop(std::chrono::milliseconds(static_cast<int64_t>(grace_s * 1000)));
  }

 private:
  std::unique_ptr<Server> server_;
};

// ---- monitor ---------------------------------------------------------------------

py::dict StatsDict(const TimerStats& s) {
  py::dict d;
  d["count"] = s.count;
  d["failures"] = s.failures;
  d["success_rate"] = s.success_rate;
  d["total_ms"] = s.total_ms;
  d["avg_ms"] = s.avg_ms;
  d["min_ms"] = s.min_ms;
  d["max_ms"] = s.max_ms;
  d["p50_ms"] = s.p50_ms;
  d["p95_ms"] = s.p95_ms;
  d["p99_ms"] = s.p99_ms;
  return d;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kTimer: return "timer";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
  }
  return "unknown";
}

py::list AllStats(const Monitor& m) {
  py::list out;
  for (const MetricStats& s : m.GetAllStats()) {
    py::dict d;
    d["name"] = s.name;
    d["labels"] = s.labels;
    d["type"] = TypeName(s.type);
    if (s.type == MetricType::kTimer || s.type == MetricType::kHistogram) {
      d["lifetime"] = StatsDict(s.lifetime);
      d["window"] = StatsDict(s.window);
    } else {
      d["value"] = s.value;
    }
    out.append(d);
  }
  return out;
}

py::dict SystemDict() {
  const SystemStats s = GetSystemStats();
  py::dict d;
  auto opt = [](const auto& v) -> py::object { return v ? py::cast(*v) : py::none(); };
  d["cpu_count"] = s.cpu_count;
  d["cpu_percent"] = opt(s.cpu_percent);
  d["process_cpu_percent"] = opt(s.process_cpu_percent);
  d["memory_percent"] = opt(s.memory_percent);
  d["memory_total_bytes"] = opt(s.memory_total_bytes);
  d["process_rss_bytes"] = opt(s.process_rss_bytes);
  d["gpu_memory_allocated_gb"] = opt(s.gpu_memory_allocated_gb);
  d["gpu_memory_reserved_gb"] = opt(s.gpu_memory_reserved_gb);
  d["gpu_memory_total_gb"] = opt(s.gpu_memory_total_gb);
  d["gpu_utilization_percent"] = opt(s.gpu_utilization_percent);
  return d;
}

}  // namespace
}  // namespace jarvis::python

PYBIND11_MODULE(_native, m) {
  using namespace jarvis;
  using namespace jarvis::python;
  m.doc() = "jarvis native module (use the `jarvis` package instead)";
  m.attr("__version__") = Version();
  m.attr("build_commit") = BuildCommit();

  py::object base = py::reinterpret_steal<py::object>(
      PyErr_NewExceptionWithDoc("jarvis.JarvisError", "Base class of jarvis's own errors.", PyExc_RuntimeError, nullptr));
  g_jarvis_error = base.ptr();
  g_queue_full = PyErr_NewExceptionWithDoc("jarvis.QueueFullError",
                                           "The model's request queue is full (HTTP 429 in the server); retry later.",
                                           g_jarvis_error, nullptr);
  g_model_error = PyErr_NewExceptionWithDoc("jarvis.ModelError", "A model file is corrupt or unsupported.",
                                            g_jarvis_error, nullptr);
  g_cancelled = PyErr_NewExceptionWithDoc("jarvis.RequestCancelled", "The runtime is shutting down.",
                                          g_jarvis_error, nullptr);
  m.attr("JarvisError") = base;
  m.attr("QueueFullError") = py::handle(g_queue_full);
  m.attr("ModelError") = py::handle(g_model_error);
  m.attr("RequestCancelled") = py::handle(g_cancelled);

  m.def("default_options", &DefaultOptions, "RuntimeOptions' defaults, by keyword name.");
  m.def("system_stats", &SystemDict, "The process-wide system sampler's latest figures.");

  py::class_<Monitor>(m, "Monitor", "A performance monitor registry (copies share it).")
      .def(py::init<>())
      .def("record_event", &Monitor::RecordEvent, py::arg("name"), py::arg("ms"), py::arg("success") = true)
      .def("increment_counter", &Monitor::IncrementCounter, py::arg("name"), py::arg("by") = 1)
      .def("set_gauge", &Monitor::SetGauge, py::arg("name"), py::arg("value"))
      .def("counter_value", &Monitor::CounterValue, py::arg("name"))
      .def(
          "get_stats",
          [](const Monitor& mon, const std::string& name) -> py::object {
            const auto s = mon.GetStats(name);
            return s ? py::object(StatsDict(*s)) : py::none();
          },
          py::arg("name"))
      .def("get_all_stats", &AllStats);

  py::class_<EventQueue, std::shared_ptr<EventQueue>>(m, "EventQueue", "Async request events; the event loop watches fd().")
      .def(py::init<>())
      .def("fd", &EventQueue::fd)
      .def("drain", &EventQueue::Drain);

  py::class_<Request>(m, "Request")
      .def_property_readonly("id", &Request::id)
      .def("cancel", &Request::Cancel)
      .def("wait", &Request::Wait)
      .def("next", &Request::Next);

  py::class_<EmbedRequestRef>(m, "EmbedRequest").def("cancel", &EmbedRequestRef::Cancel);

  py::class_<PyRuntime>(m, "Runtime")
      .def(py::init<const std::vector<std::string>&, const py::dict&, std::optional<Monitor>>(), py::arg("models"),
           py::arg("options"), py::arg("monitor") = py::none())
      .def("submit", &PyRuntime::Submit, py::arg("prompt"), py::arg("messages"), py::arg("params"))
      .def("submit_async", &PyRuntime::SubmitAsync, py::arg("queue"), py::arg("tag"), py::arg("stream"),
           py::arg("prompt"), py::arg("messages"), py::arg("params"))
      .def("embed", &PyRuntime::Embed, py::arg("texts"), py::arg("dimensions"), py::arg("truncate"),
           py::arg("model"))
      .def("embed_async", &PyRuntime::EmbedAsync, py::arg("queue"), py::arg("tag"), py::arg("texts"),
           py::arg("dimensions"), py::arg("truncate"), py::arg("model"))
      .def("load_model", &PyRuntime::LoadModel, py::arg("name") = "")
      .def("models", &PyRuntime::Models)
      .def("default_model", &PyRuntime::DefaultModel)
      .def("monitor", &PyRuntime::GetMonitor)
      .def("performance_stats_json", &PyRuntime::PerformanceStatsJson)
      .def("system_metrics_json", &PyRuntime::SystemMetricsJson)
      .def("models_stats_json", &PyRuntime::ModelsStatsJson)
      .def("prometheus_text", &PyRuntime::PrometheusText)
      .def("shutdown", &PyRuntime::Shutdown, py::arg("grace_s") = 0.0);

  py::class_<PyServer>(m, "Server")
      .def(py::init<PyRuntime&, const std::string&, int, const std::string&, const std::string&>(),
           py::arg("runtime"), py::arg("host"), py::arg("port"), py::arg("api_key"), py::arg("cors_origin"),
           py::keep_alive<1, 2>())
      .def_property_readonly("url", &PyServer::url)
      .def_property_readonly("port", &PyServer::port)
      .def("stop", &PyServer::Stop, py::arg("grace_s") = 5.0);
}
