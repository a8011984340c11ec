#include "chat/tool_call_stream.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "chat/tool_call_parser.h"

namespace jarvis::chat {
namespace {

constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";
constexpr std::string_view kJsonFence = "```json";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Length of the longest end of `text` that is a proper prefix of `marker`.
size_t PartialMarkerAtEnd(std::string_view text, std::string_view marker) {
  for (size_t k = std::min(marker.size() - 1, text.size()); k > 0; --k) {
    if (text.substr(text.size() - k) == marker.substr(0, k)) return k;
  }
  return 0;
}

}  // namespace

ToolCallStreamer::ToolCallStreamer(ToolCallOptions options) : options_(std::move(options)) {}

std::string_view ToolCallStreamer::Marker() const {
  switch (options_.format) {
    case ToolCallFormat::kHermes: return kHermesOpen;
    case ToolCallFormat::kLlama3: return kPythonTag;
    case ToolCallFormat::kMistral: return kMistralMarker;
    case ToolCallFormat::kGeneric: return {};
  }
  return {};
}

void ToolCallStreamer::Push(std::string_view piece, std::vector<OutputEvent>* out) {
  all_.append(piece);
  Advance(/*final=*/false, out);
}

void ToolCallStreamer::Finish(std::vector<OutputEvent>* out) {
  Advance(/*final=*/true, out);
  if (calls_ == 0 && !pending_space_.empty()) {
    out->push_back(OutputEvent{OutputEvent::Kind::kContent, std::move(pending_space_), {}, 0});
  }
  pending_space_.clear();
}

void ToolCallStreamer::Content(std::string_view text, std::vector<OutputEvent>* out) {
  if (text.empty()) return;
  const size_t last = text.find_last_not_of(kSpace);
  if (last == std::string_view::npos) {
    pending_space_.append(text);
    return;
  }
  std::string piece;
  if (content_started_ || calls_ == 0) piece = std::move(pending_space_);
  piece.append(text.substr(0, last + 1));
  pending_space_ = std::string(text.substr(last + 1));
  content_started_ = true;
  out->push_back(OutputEvent{OutputEvent::Kind::kContent, std::move(piece), {}, 0});
}

bool ToolCallStreamer::EmitCalls(std::vector<ToolCall> calls, std::vector<OutputEvent>* out) {
  if (!options_.tool_names.empty()) {
    for (const ToolCall& call : calls) {
      if (options_.tool_names.count(call.name) == 0) return false;
    }
  }
  pending_space_.clear();
  for (ToolCall& call : calls) {
    if (!options_.parallel && calls_ >= 1) break;
    if (call.id.empty()) call.id = options_.id_prefix + std::to_string(calls_);
    out->push_back(OutputEvent{OutputEvent::Kind::kToolCall, {}, std::move(call), calls_});
    ++calls_;
  }
  return true;
}

void ToolCallStreamer::Advance(bool final, std::vector<OutputEvent>* out) {
  const std::string_view marker = Marker();
  for (;;) {
    const std::string_view rest = std::string_view(all_).substr(start_);
    switch (mode_) {
      case Mode::kText: {
        if (!content_started_ && calls_ == 0) {
          // Still at the start of the reply: is it one JSON value?
          const size_t p = rest.find_first_not_of(kSpace);
          if (p == std::string_view::npos) {
            Content(rest, out);
            start_ = all_.size();
            return;
          }
          Content(rest.substr(0, p), out);
          start_ += p;
          const std::string_view head = rest.substr(p);
          const bool may_be_marker = !marker.empty() && head.size() < marker.size() && StartsWith(marker, head);
          const bool may_be_fence = head.size() < kJsonFence.size() && StartsWith(kJsonFence, head);
          if (!final && (may_be_marker || may_be_fence)) return;
          if (!(!marker.empty() && StartsWith(head, marker)) &&
              (head[0] == '{' || head[0] == '[' || StartsWith(head, kJsonFence))) {
            mode_ = Mode::kWholeJson;
            continue;
          }
        }
        const std::string_view text = std::string_view(all_).substr(start_);
        const size_t at = marker.empty() ? std::string_view::npos : text.find(marker);
        if (at != std::string_view::npos) {
          Content(text.substr(0, at), out);
          start_ += at + marker.size();
          mode_ = Mode::kCallSegment;
          continue;
        }
        const size_t hold = final || marker.empty() ? 0 : PartialMarkerAtEnd(text, marker);
        Content(text.substr(0, text.size() - hold), out);
        start_ += text.size() - hold;
        return;
      }
      case Mode::kCallSegment: {
        if (options_.format == ToolCallFormat::kHermes) {
          const size_t close = rest.find(kHermesClose);
          if (close == std::string_view::npos && !final) return;
          const std::string_view inner = rest.substr(0, close);  // unclosed at the end: the rest
          std::optional<ToolCall> call = ParseHermesBlock(inner);
          if (!call || !EmitCalls({std::move(*call)}, out)) {
            Content(std::string(kHermesOpen) + std::string(inner) +
                        (close == std::string_view::npos ? "" : std::string(kHermesClose)),
                    out);
          }
          start_ += close == std::string_view::npos ? rest.size() : close + kHermesClose.size();
          mode_ = Mode::kText;
          continue;
        }
        if (!final) return;  // Llama 3 / Mistral: the calls run to the end of the reply
        auto calls = options_.format == ToolCallFormat::kMistral ? ParseMistralCalls(rest) : ParseLlamaCalls(rest);
        if (!calls || !EmitCalls(std::move(*calls), out)) Content(std::string(marker) + std::string(rest), out);
        start_ = all_.size();
        mode_ = Mode::kText;
        return;
      }
      case Mode::kWholeJson: {
        if (!final) return;
        auto calls = ParseLlamaCalls(rest);
        if (!calls) calls = ParseGenericCalls(rest);
        if (!calls || !EmitCalls(std::move(*calls), out)) {
          content_started_ = true;  // decided: this is text
          Content(rest, out);
        }
        start_ = all_.size();
        mode_ = Mode::kText;
        return;
      }
    }
  }
}

AssistantReply ParseToolCalls(std::string_view text, const ToolCallOptions& options) {
  ToolCallStreamer streamer(options);
  std::vector<OutputEvent> events;
  streamer.Push(text, &events);
  streamer.Finish(&events);
  AssistantReply reply;
  Append(&reply, events);
  return reply;
}

}  // namespace jarvis::chat
