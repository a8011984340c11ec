#include "engine/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace jarvis {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (s.empty()) continue;
    max_stop_len_ = std::max(max_stop_len_, s.size());
    stops_.push_back(std::move(s));
  }
}

size_t StopMatcher::HeldSuffixLength() const {
  // pending_ holds no complete stop, so only proper prefixes can be pending;
  // candidates are at most max_stop_len_ - 1 bytes long. Longest first.
  const size_t limit = std::min(pending_.size(), max_stop_len_ == 0 ? 0 : max_stop_len_ - 1);
  const std::string_view text(pending_);
  for (size_t len = limit; len > 0; --len) {
    const std::string_view tail = text.substr(text.size() - len);
    for (const std::string& stop : stops_) {
      if (stop.size() > len && std::string_view(stop).substr(0, len) == tail) return len;
    }
  }
  return 0;
}

StopMatcher::Output StopMatcher::Push(std::string_view text_piece) {
  Output out;
  if (stopped_) {
    out.stopped = true;
    return out;
  }
  if (stops_.empty()) {
    out.emit.assign(text_piece);
    return out;
  }
  // A match must end inside the new piece (pending_ holds none), so it starts
  // no earlier than max_stop_len_ - 1 bytes before the piece; pending_ is
  // shorter than that anyway, so searching all of it is cheap.
  pending_.append(text_piece);
  size_t earliest = std::string::npos;
  for (const std::string& stop : stops_) {
    earliest = std::min(earliest, pending_.find(stop));
  }
  if (earliest != std::string::npos) {
    out.emit = pending_.substr(0, earliest);
    out.stopped = true;
    stopped_ = true;
    pending_.clear();
    return out;
  }
  const size_t held = HeldSuffixLength();
  out.emit = pending_.substr(0, pending_.size() - held);
  pending_.erase(0, pending_.size() - held);
  return out;
}

std::string StopMatcher::Flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

}  // namespace jarvis
