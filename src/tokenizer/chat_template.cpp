#include "tokenizer/chat_template.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace jarvis {
namespace {

struct NamedKind {
  const char* name;
  ChatTemplateKind kind;
};

constexpr std::array<NamedKind, 7> kNames = {{
    {"chatml", ChatTemplateKind::kChatML},
    {"llama3", ChatTemplateKind::kLlama3},
    {"llama2", ChatTemplateKind::kLlama2},
    {"mistral", ChatTemplateKind::kMistral},
    {"gemma", ChatTemplateKind::kGemma},
    {"phi3", ChatTemplateKind::kPhi3},
    {"zephyr", ChatTemplateKind::kZephyr},
}};

enum class Role { kSystem, kUser, kAssistant };

// Jinja's |trim and Python's str.strip() on the ASCII whitespace set.
std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// One turn of a family without a system role: the system text, if any, is
// carried on the first user turn.
struct Turn {
  Role role;
  std::string_view content;
  std::string_view system;  // empty unless this turn absorbs the system message
  bool has_system = false;
};

Result<std::vector<Role>> ParseRoles(std::span<const ChatMessage> messages) {
  if (messages.empty()) return Status::InvalidArgument("chat template: no messages");
  std::vector<Role> roles;
  roles.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r == "system") {
      roles.push_back(Role::kSystem);
    } else if (r == "user") {
      roles.push_back(Role::kUser);
    } else if (r == "assistant") {
      roles.push_back(Role::kAssistant);
    } else {
      return Status::InvalidArgument("chat template: message " + std::to_string(i) +
                                     " has unknown role '" + r +
                                     "' (expected system, user or assistant)");
    }
  }
  return roles;
}

// For Llama 2, Mistral and Gemma: folds a leading system message into the next
// user turn; a system message with no user turn after it becomes a user turn.
Result<std::vector<Turn>> FoldSystem(std::span<const ChatMessage> messages,
                                     const std::vector<Role>& roles, ChatTemplateKind kind) {
  std::vector<Turn> turns;
  size_t i = 0;
  if (roles[0] == Role::kSystem) {
    if (roles.size() > 1 && roles[1] == Role::kUser) {
      turns.push_back({Role::kUser, messages[1].content, messages[0].content, true});
      i = 2;
    } else {
      turns.push_back({Role::kUser, messages[0].content, {}, false});
      i = 1;
    }
  }
  for (; i < messages.size(); ++i) {
    if (roles[i] == Role::kSystem) {
      return Status::InvalidArgument(std::string("chat template ") + ChatTemplateName(kind) +
                                     ": a system message must be the first message");
    }
    turns.push_back({roles[i], messages[i].content, {}, false});
  }
  return turns;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
  }
  return "user";
}

std::string RenderChatML(std::span<const ChatMessage> messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// Meta-Llama-3-Instruct: content is trimmed; BOS (first) is left to the tokenizer.
std::string RenderLlama3(std::span<const ChatMessage> messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
    out += Trim(m.content);
    out += "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// Phi-3-mini-instruct: no trimming; EOS closes a prompt without a generation prompt.
std::string RenderPhi3(std::span<const ChatMessage> messages, const std::vector<Role>& roles,
                       bool gen, std::string_view eos) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    out += std::string("<|") + RoleName(roles[i]) + "|>\n" + messages[i].content + "<|end|>\n";
  }
  if (gen) {
    out += "<|assistant|>\n";
  } else {
    out += eos;
  }
  return out;
}

// zephyr-7b-beta: every message ends with EOS and a newline.
std::string RenderZephyr(std::span<const ChatMessage> messages, const std::vector<Role>& roles,
                         bool gen, std::string_view eos) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    out += std::string("<|") + RoleName(roles[i]) + "|>\n" + messages[i].content;
    out += eos;
    out += "\n";
  }
  if (gen) out += "<|assistant|>\n";
  return out;
}

// Llama-2-chat: bos + "[INST] " + strip(<<SYS>> block + user) + " [/INST]", and
// " " + strip(assistant) + " " + eos. Every user turn but the very first
// carries its own BOS.
std::string RenderLlama2(const std::vector<Turn>& turns, std::string_view bos,
                         std::string_view eos) {
  std::string out;
  for (const Turn& t : turns) {
    if (t.role == Role::kUser) {
      std::string content;
      if (t.has_system) {
        content = "<<SYS>>\n" + std::string(t.system) + "\n<</SYS>>\n\n";
      }
      content += t.content;
      if (!out.empty()) out += bos;
      out += "[INST] ";
      out += Trim(content);
      out += " [/INST]";
    } else {
      out += " ";
      out += Trim(t.content);
      out += " ";
      out += eos;
    }
  }
  return out;
}

// Mistral V1 (see the header about the space before [INST]); the system
// message is prepended to the first user message, as mistral-common does.
std::string RenderMistral(const std::vector<Turn>& turns, std::string_view eos) {
  std::string out;
  for (const Turn& t : turns) {
    if (t.role == Role::kUser) {
      out += "[INST] ";
      if (t.has_system) {
        out += t.system;
        out += "\n\n";
      }
      out += t.content;
      out += " [/INST]";
    } else {
      out += " ";
      out += t.content;
      out += eos;
    }
  }
  return out;
}

// Gemma (the Gemma 3 template's system handling: "system\n\n" before the
// trimmed first user message); the assistant's role is called "model".
std::string RenderGemma(const std::vector<Turn>& turns, bool gen) {
  std::string out;
  for (const Turn& t : turns) {
    out += t.role == Role::kUser ? "<start_of_turn>user\n" : "<start_of_turn>model\n";
    if (t.has_system) {
      out += t.system;
      out += "\n\n";
    }
    out += Trim(t.content);
    out += "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace

ChatTemplateKind DetectChatTemplate(std::string_view src, bool* recognized) {
  const auto has = [src](std::string_view marker) {
    return src.find(marker) != std::string_view::npos;
  };
  std::optional<ChatTemplateKind> kind;
  if (has("<|start_header_id|>")) {
    kind = ChatTemplateKind::kLlama3;
  } else if (has("<|im_start|>")) {
    kind = ChatTemplateKind::kChatML;
  } else if (has("[INST]")) {
    kind = has("<<SYS>>") ? ChatTemplateKind::kLlama2 : ChatTemplateKind::kMistral;
  } else if (has("<start_of_turn>")) {
    kind = ChatTemplateKind::kGemma;
  } else if (has("<|assistant|>") && has("<|end|>")) {
    kind = ChatTemplateKind::kPhi3;
  } else if (has("<|assistant|>") && has("<|user|>")) {
    kind = ChatTemplateKind::kZephyr;
  }
  if (recognized != nullptr) *recognized = kind.has_value();
  return kind.value_or(ChatTemplateKind::kChatML);
}

std::optional<ChatTemplateKind> ChatTemplateFromName(std::string_view name) {
  for (const NamedKind& n : kNames) {
    if (name == n.name) return n.kind;
  }
  return std::nullopt;
}

const char* ChatTemplateName(ChatTemplateKind kind) {
  for (const NamedKind& n : kNames) {
    if (n.kind == kind) return n.name;
  }
  return "chatml";
}

Result<std::string> RenderChat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, std::string_view bos_text,
                               std::string_view eos_text) {
  JARVIS_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages));
  switch (kind) {
    case ChatTemplateKind::kChatML:
      return RenderChatML(messages, add_generation_prompt);
    case ChatTemplateKind::kLlama3:
      return RenderLlama3(messages, add_generation_prompt);
    case ChatTemplateKind::kPhi3:
      return RenderPhi3(messages, roles, add_generation_prompt, eos_text);
    case ChatTemplateKind::kZephyr:
      return RenderZephyr(messages, roles, add_generation_prompt, eos_text);
    case ChatTemplateKind::kLlama2:
    case ChatTemplateKind::kMistral:
    case ChatTemplateKind::kGemma:
      break;
  }
  JARVIS_ASSIGN_OR_RETURN(std::vector<Turn> turns, FoldSystem(messages, roles, kind));
  if (kind == ChatTemplateKind::kLlama2) return RenderLlama2(turns, bos_text, eos_text);
  if (kind == ChatTemplateKind::kMistral) return RenderMistral(turns, eos_text);
  return RenderGemma(turns, add_generation_prompt);
}

}  // namespace jarvis
