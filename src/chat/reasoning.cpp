#include "chat/reasoning.h"

#include <algorithm>

namespace jarvis::chat {
namespace {

constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

size_t PartialAtEnd(std::string_view text, std::string_view tag) {
  for (size_t k = std::min(tag.size() - 1, text.size()); k > 0; --k) {
    if (text.substr(text.size() - k) == tag.substr(0, k)) return k;
  }
  return 0;
}

}  // namespace

void ReasoningSplitter::Emit(OutputEvent::Kind kind, std::string_view text, std::vector<OutputEvent>* out) {
  if (text.empty()) return;
  out->push_back(OutputEvent{kind, std::string(text), {}, 0});
}

void ReasoningSplitter::Push(std::string_view piece, std::vector<OutputEvent>* out) {
  held_.append(piece);
  for (;;) {
    switch (state_) {
      case State::kStart: {
        const size_t p = held_.find_first_not_of(kSpace);
        const std::string_view head = p == std::string::npos ? std::string_view() : std::string_view(held_).substr(p);
        if (StartsWith(head, kOpen)) {
          held_.erase(0, p + kOpen.size());
          state_ = State::kThinking;
          continue;
        }
        if (head.size() < kOpen.size() && StartsWith(kOpen, head)) return;  // maybe "<think>" still coming
        state_ = opened_in_prompt_ ? State::kThinking : State::kAnswer;
        continue;
      }
      case State::kThinking: {
        if (!reasoning_started_) {
          const size_t p = held_.find_first_not_of(kSpace);
          if (p == std::string::npos) {
            held_.clear();
            return;
          }
          held_.erase(0, p);
          reasoning_started_ = true;
        }
        const size_t close = held_.find(kClose);
        if (close != std::string::npos) {
          const std::string_view body = std::string_view(held_).substr(0, close);
          const size_t last = body.find_last_not_of(kSpace);
          Emit(OutputEvent::Kind::kReasoning, body.substr(0, last == std::string_view::npos ? 0 : last + 1), out);
          held_.erase(0, close + kClose.size());
          state_ = State::kAnswerStart;
          continue;
        }
        // Hold a possible "</think>" start and trailing whitespace (dropped if the tag follows).
        size_t keep = PartialAtEnd(held_, kClose);
        const size_t last = std::string_view(held_).substr(0, held_.size() - keep).find_last_not_of(kSpace);
        const size_t emit = last == std::string_view::npos ? 0 : last + 1;
        Emit(OutputEvent::Kind::kReasoning, std::string_view(held_).substr(0, emit), out);
        held_.erase(0, emit);
        return;
      }
      case State::kAnswerStart: {
        const size_t p = held_.find_first_not_of(kSpace);
        if (p == std::string::npos) {
          held_.clear();
          return;
        }
        held_.erase(0, p);
        state_ = State::kAnswer;
        continue;
      }
      case State::kAnswer:
        Emit(OutputEvent::Kind::kContent, held_, out);
        held_.clear();
        return;
    }
  }
}

void ReasoningSplitter::Finish(std::vector<OutputEvent>* out) {
  switch (state_) {
    case State::kStart:  // a reply too short to hold "<think>"
      Emit(opened_in_prompt_ ? OutputEvent::Kind::kReasoning : OutputEvent::Kind::kContent, held_, out);
      break;
    case State::kThinking: {  // never closed: all reasoning, without trailing whitespace
      const size_t last = held_.find_last_not_of(kSpace);
      if (reasoning_started_ && last != std::string::npos) {
        Emit(OutputEvent::Kind::kReasoning, std::string_view(held_).substr(0, last + 1), out);
      }
      break;
    }
    case State::kAnswerStart:
    case State::kAnswer:
      Emit(OutputEvent::Kind::kContent, held_, out);
      break;
  }
  held_.clear();
}

AssistantReply SplitReasoning(std::string_view text, bool opened_in_prompt) {
  ReasoningSplitter splitter(opened_in_prompt);
  std::vector<OutputEvent> events;
  splitter.Push(text, &events);
  splitter.Finish(&events);
  AssistantReply reply;
  Append(&reply, events);
  return reply;
}

ReasoningTraits ReasoningTraitsOfTemplate(std::string_view jinja_source) {
  ReasoningTraits traits;
  traits.thinks = jinja_source.find(kOpen) != std::string_view::npos;
  const size_t gen = jinja_source.rfind("add_generation_prompt");
  if (!traits.thinks || gen == std::string_view::npos) return traits;
  const std::string_view tail = jinja_source.substr(gen);
  const size_t open = tail.rfind(kOpen);
  const size_t close = tail.rfind(kClose);
  traits.opens_in_prompt = open != std::string_view::npos && (close == std::string_view::npos || close < open);
  return traits;
}

}  // namespace jarvis::chat
