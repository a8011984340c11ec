// Chat templates: render a list of chat messages into the prompt text a
// model was trained on.
//
// We do not run Jinja. A GGUF's tokenizer.chat_template is only inspected for
// the markers of a known family (DetectChatTemplate); each family is then
// rendered by hand-written code that reproduces the official Hugging Face
// template for ordinary conversations (system?, then user/assistant turns).
//
// BOS convention (same as llama.cpp's llama_chat_apply_template): the rendered
// text does NOT start with the BOS token, even where the official template
// begins with {{ bos_token }}. The caller tokenizes the whole string with
// add_special = true (the tokenizer prepends BOS when the vocabulary's
// add_bos_token says so) and parse_special = true (so "<|eot_id|>" etc. become
// their special tokens). `bos_text` / `eos_text` are only written where a
// template puts them *inside* the conversation: Llama 2 opens every later user
// turn with BOS; Llama 2, Mistral and Zephyr close turns with EOS; Phi-3 ends
// with EOS when no generation prompt is asked for.
//
// Mistral V1 note: Mistral documents the V1 prompt as "<s> [INST] U [/INST] A</s>
// [INST] ..." where the space before each [INST] stands for the SentencePiece
// word marker that the tokenizer itself adds after a special token (BOS/EOS).
// We render "[INST] U [/INST] A</s>[INST] ..." so that an SPM tokenizer with
// add_space_prefix (llama.cpp's behaviour) produces mistral-common's ids
// rather than a doubled marker.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "jarvis/chat_message.h"
#include "jarvis/status.h"

namespace jarvis {

enum class ChatTemplateKind {
  kChatML,   // <|im_start|>role\n...<|im_end|>\n  (Qwen, many fine-tunes)
  kLlama3,   // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  kLlama2,   // [INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s><s>[INST] ...
  kMistral,  // Mistral v0.1/v0.2 (Mistral's "tokenizer V1"): [INST] ... [/INST] ...</s>
  kGemma,    // <start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n
  kPhi3,     // <|user|>\n...<|end|>\n<|assistant|>\n
  kZephyr,   // <|user|>\n...</s>\n<|assistant|>\n
};


// Picks the family from the Jinja source of tokenizer.chat_template by the
// markers it contains. Unknown (or empty) source gives kChatML and sets
// *recognized = false (the caller logs a warning); `recognized` may be null.
ChatTemplateKind DetectChatTemplate(std::string_view jinja_source, bool* recognized);

// For --chat-template NAME: "chatml", "llama3", "llama2", "mistral", "gemma",
// "phi3", "zephyr". nullopt for anything else.
std::optional<ChatTemplateKind> ChatTemplateFromName(std::string_view name);
const char* ChatTemplateName(ChatTemplateKind kind);

// Renders `messages` (see the BOS convention above). With
// add_generation_prompt, appends the opening of an assistant turn so the model
// answers next (a no-op for Llama 2 and Mistral, whose user turn already ends
// with [/INST]).
//
// Families without a system role (Llama 2, Mistral, Gemma) fold a system
// message into the first user turn the way their official templates do
// (<<SYS>> block, "system\n\nuser", "system\n\nuser"); there the system message
// must be the first message. A system message with no turn after it becomes a
// user turn of its own.
//
// Errors: InvalidArgument for an empty list, a role other than
// system/user/assistant, or a misplaced system message (see above).
Result<std::string> RenderChat(ChatTemplateKind kind, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, std::string_view bos_text,
                               std::string_view eos_text);

}  // namespace jarvis
