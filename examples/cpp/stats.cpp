// stats MODEL: the performance monitor (the runtime's metrics next to the
// program's own), system metrics and per-model state.
#include <jarvis/runtime.h>
#include <jarvis/system_stats.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: stats MODEL.gguf\n";
    return 2;
  }
  jarvis::RuntimeOptions options;
  options.models = {argv[1]};
  auto runtime = jarvis::Runtime::Create(options);
  if (!runtime.ok()) {
    std::cerr << runtime.status().ToString() << "\n";
    return 1;
  }
  jarvis::Monitor monitor = (*runtime)->monitor();
  for (int i = 0; i < 3; ++i) {
    jarvis::ScopeTimer timer(monitor, "my_handler");  // the program's own timing
    jarvis::GenerateRequest request;
    request.prompt = "Hello";
    request.max_tokens = 8;
    request.sampling.temperature = 0;
    if (!(*runtime)->Generate(request).ok()) return 1;
    monitor.IncrementCounter("my_requests");
  }
  for (const char* name : {"my_handler", "llm_inference", "time_to_first_token"}) {
    const auto s = monitor.GetStats(name);
    if (!s) return 1;
    std::cout << name << ": count " << s->count << ", avg " << s->avg_ms << " ms, p95 " << s->p95_ms
              << " ms, success " << s->success_rate << "\n";
  }
  std::cout << "my_requests: " << monitor.CounterValue("my_requests") << "\n";
  const jarvis::SystemStats sys = jarvis::GetSystemStats();
  std::cout << "cpus: " << sys.cpu_count << ", memory used: " << sys.memory_percent.value_or(-1) << " %\n";
  for (const jarvis::ModelStats& m : (*runtime)->Models()) {
    std::cout << m.name << ": " << (m.loaded ? "loaded on " + m.backend : "not loaded") << ", KV blocks "
              << m.kv_blocks_used << " used / " << m.kv_blocks_total << "\n";
  }
  return monitor.GetStats("my_handler")->count == 3 ? 0 : 1;
}
