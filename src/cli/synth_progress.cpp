#include "cli/synth_progress.h"

#include <unistd.h>

#include <cstdio>

namespace jarvis::synth {

ProgressBar::ProgressBar(uint64_t total_bytes)
    : ProgressBar(total_bytes, ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::ProgressBar(uint64_t total_bytes, bool enabled)
    : total_(total_bytes), enabled_(enabled) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::SetLabel(const std::string& label) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  label_ = label;
  DrawLocked(false);
}

void ProgressBar::Advance(uint64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  done_ += bytes;
  DrawLocked(false);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!drawn_) return;
  done_ = total_;
  DrawLocked(true);
  std::fputc('\n', stderr);
  drawn_ = false;
}

void ProgressBar::DrawLocked(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const double fraction =
      total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), ' ');
  // \33[K clears what a longer previous label left behind.
  std::fprintf(stderr, "\r[%s] %5.1f%% %6.0f MB %5.0fs  %s\33[K", bar.c_str(), fraction * 100.0,
               static_cast<double>(done_) / 1e6, seconds, label_.c_str());
  std::fflush(stderr);
}

}  // namespace jarvis::synth
