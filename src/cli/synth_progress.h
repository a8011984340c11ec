// A one-line progress bar on stderr for long file writes (`jarvis synth`,
// `jarvis quantize`). It draws only when stderr is a terminal, so logs and
// tests never see carriage returns; redraws are throttled to ~10 per second.
//
// Thread safety: Advance() may be called from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace jarvis::synth {

class ProgressBar {
 public:
  // `enabled` defaults to "stderr is a TTY".
  explicit ProgressBar(uint64_t total_bytes);
  ProgressBar(uint64_t total_bytes, bool enabled);
  ~ProgressBar();  // ends the line if anything was drawn

  void SetLabel(const std::string& label);
  void Advance(uint64_t bytes);
  void Finish();

 private:
  void DrawLocked(bool force);

  const uint64_t total_;
  const bool enabled_;
  std::mutex mu_;
  uint64_t done_ = 0;                                  // guarded by mu_
  std::string label_;                                  // guarded by mu_
  bool drawn_ = false;                                 // guarded by mu_
  std::chrono::steady_clock::time_point last_draw_{};  // guarded by mu_
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace jarvis::synth
