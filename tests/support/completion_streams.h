// Helpers for end-to-end tests against a running `jarvis serve`: completions
// streamed by several clients at once, and one sample of /metrics.
// Header-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"

namespace jarvis::test {

struct StreamedCompletion {
  int status = 0;
  std::string text;  // the "text" of every SSE event's first choice, joined
};

// POSTs each body (a streaming /v1/completions request) from its own thread,
// all at once, and returns each reply's status and streamed text in order.
inline std::vector<StreamedCompletion> StreamCompletionsAtOnce(uint16_t port, const std::vector<std::string>& bodies) {
  std::vector<StreamedCompletion> out(bodies.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i] {
      const api::testing::HttpReply r = api::testing::Fetch(port, "POST", "/v1/completions", bodies[i]);
      out[i].status = r.status;
      for (const std::string& data : api::testing::SseData(r.body)) {
        if (data == "[DONE]") continue;
        auto e = nlohmann::json::parse(data, nullptr, false);
        if (e.is_object() && e.contains("choices") && !e["choices"].empty() && e["choices"][0].contains("text")) {
          out[i].text += e["choices"][0]["text"].get<std::string>();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

// The value of the sample in a /metrics text whose line starts with `series`
// (name, labels and the space before the value); nullopt when absent.
inline std::optional<double> MetricSample(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find(series);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(metrics.substr(at + series.size()));
}

}  // namespace jarvis::test
