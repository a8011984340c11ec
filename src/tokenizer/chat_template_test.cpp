#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

// [system, user, assistant, user]; expected strings below were written out by
// hand from each family's official Hugging Face template (minus the leading
// {{ bos_token }}, which the tokenizer adds; see chat_template.h).
const std::vector<ChatMessage> kChat = {
    {"system", "You are terse."},
    {"user", "Hello!"},
    {"assistant", "Hi."},
    {"user", "What is 2+2?"},
};

std::string Render(ChatTemplateKind kind, const std::vector<ChatMessage>& msgs, bool gen,
                   std::string_view bos = "<s>", std::string_view eos = "</s>") {
  Result<std::string> r = RenderChat(kind, msgs, gen, bos, eos);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.status().ToString());
  return r.ok() ? *r : "";
}

TEST(ChatTemplateTest, ChatML) {
  // Qwen3's template gives the same for this conversation (default thinking).
  EXPECT_EQ(Render(ChatTemplateKind::kChatML, kChat, true),
            "<|im_start|>system\nYou are terse.<|im_end|>\n"
            "<|im_start|>user\nHello!<|im_end|>\n"
            "<|im_start|>assistant\nHi.<|im_end|>\n"
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(Render(ChatTemplateKind::kChatML, {{"user", " x "}}, false),
            "<|im_start|>user\n x <|im_end|>\n");
}

TEST(ChatTemplateTest, Llama3) {
  EXPECT_EQ(Render(ChatTemplateKind::kLlama3, kChat, true, "<|begin_of_text|>", "<|eot_id|>"),
            "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHi.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // message['content'] | trim
  EXPECT_EQ(Render(ChatTemplateKind::kLlama3, {{"user", "\n  Hello! \n"}}, false),
            "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>");
}

TEST(ChatTemplateTest, Llama2) {
  EXPECT_EQ(Render(ChatTemplateKind::kLlama2, kChat, true),
            "[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHello! [/INST]"
            " Hi. </s>"
            "<s>[INST] What is 2+2? [/INST]");
  // content.strip(); no system block without a system message.
  EXPECT_EQ(Render(ChatTemplateKind::kLlama2, {{"user", " a "}, {"assistant", " b "}}, false),
            "[INST] a [/INST] b </s>");
}

TEST(ChatTemplateTest, Mistral) {
  EXPECT_EQ(Render(ChatTemplateKind::kMistral, kChat, true),
            "[INST] You are terse.\n\nHello! [/INST] Hi.</s>"
            "[INST] What is 2+2? [/INST]");
}

TEST(ChatTemplateTest, Gemma) {
  EXPECT_EQ(Render(ChatTemplateKind::kGemma, kChat, true),
            "<start_of_turn>user\nYou are terse.\n\nHello!<end_of_turn>\n"
            "<start_of_turn>model\nHi.<end_of_turn>\n"
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
            "<start_of_turn>model\n");
  EXPECT_EQ(Render(ChatTemplateKind::kGemma, {{"user", " hi\n"}}, false),
            "<start_of_turn>user\nhi<end_of_turn>\n");
}

TEST(ChatTemplateTest, Phi3) {
  EXPECT_EQ(Render(ChatTemplateKind::kPhi3, kChat, true, "<s>", "<|endoftext|>"),
            "<|system|>\nYou are terse.<|end|>\n"
            "<|user|>\nHello!<|end|>\n"
            "<|assistant|>\nHi.<|end|>\n"
            "<|user|>\nWhat is 2+2?<|end|>\n"
            "<|assistant|>\n");
  // {% else %}{{ eos_token }}
  EXPECT_EQ(Render(ChatTemplateKind::kPhi3, {{"user", "x"}}, false, "<s>", "<|endoftext|>"),
            "<|user|>\nx<|end|>\n<|endoftext|>");
}

TEST(ChatTemplateTest, Zephyr) {
  EXPECT_EQ(Render(ChatTemplateKind::kZephyr, kChat, true),
            "<|system|>\nYou are terse.</s>\n"
            "<|user|>\nHello!</s>\n"
            "<|assistant|>\nHi.</s>\n"
            "<|user|>\nWhat is 2+2?</s>\n"
            "<|assistant|>\n");
}

TEST(ChatTemplateTest, LoneSystemMessageBecomesUserTurn) {
  EXPECT_EQ(Render(ChatTemplateKind::kGemma, {{"system", "Be brief."}}, true),
            "<start_of_turn>user\nBe brief.<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(Render(ChatTemplateKind::kMistral, {{"system", "S"}, {"assistant", "A"}}, false),
            "[INST] S [/INST] A</s>");
}

TEST(ChatTemplateTest, Errors) {
  for (int k = 0; k < 7; ++k) {
    const auto kind = static_cast<ChatTemplateKind>(k);
    EXPECT_EQ(RenderChat(kind, {}, true, "", "").status().code(),
              StatusCode::kInvalidArgument);
    const std::vector<ChatMessage> tool = {{"user", "x"}, {"tool", "y"}};
    EXPECT_EQ(RenderChat(kind, tool, true, "", "").status().code(),
              StatusCode::kInvalidArgument)
        << ChatTemplateName(kind);
  }
  const std::vector<ChatMessage> late_system = {{"user", "x"}, {"system", "y"}};
  for (ChatTemplateKind kind :
       {ChatTemplateKind::kLlama2, ChatTemplateKind::kMistral, ChatTemplateKind::kGemma}) {
    EXPECT_EQ(RenderChat(kind, late_system, true, "", "").status().code(),
              StatusCode::kInvalidArgument);
  }
  // Families with a system role accept it anywhere.
  EXPECT_TRUE(RenderChat(ChatTemplateKind::kChatML, late_system, true, "", "").ok());
}

TEST(ChatTemplateTest, Names) {
  for (int k = 0; k < 7; ++k) {
    const auto kind = static_cast<ChatTemplateKind>(k);
    auto back = ChatTemplateFromName(ChatTemplateName(kind));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, kind);
  }
  EXPECT_EQ(ChatTemplateFromName("llama3"), ChatTemplateKind::kLlama3);
  EXPECT_FALSE(ChatTemplateFromName("Llama3").has_value());
  EXPECT_FALSE(ChatTemplateFromName("").has_value());
}

ChatTemplateKind Detect(std::string_view src, bool expect_recognized = true) {
  bool recognized = !expect_recognized;
  ChatTemplateKind kind = DetectChatTemplate(src, &recognized);
  EXPECT_EQ(recognized, expect_recognized) << src;
  return kind;
}

TEST(ChatTemplateTest, DetectFromTemplateSnippets) {
  // Short excerpts of the official templates (tokenizer_config.json).
  EXPECT_EQ(Detect("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                   "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"),
            ChatTemplateKind::kChatML);
  EXPECT_EQ(Detect("{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + "
                   "content.strip() + ' [/INST]' }}{% set content = '<<SYS>>\\n' + "
                   "system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"),
            ChatTemplateKind::kLlama2);
  EXPECT_EQ(Detect("{{ bos_token }}{% for message in messages %}{% if message['role'] == "
                   "'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif "
                   "message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"),
            ChatTemplateKind::kMistral);
  EXPECT_EQ(Detect("{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + "
                   "'\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"),
            ChatTemplateKind::kGemma);
  EXPECT_EQ(Detect("{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + "
                   "'<|end|>\\n'}}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}"),
            ChatTemplateKind::kPhi3);
  EXPECT_EQ(Detect("{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
                   "eos_token }}\n{% if loop.last and add_generation_prompt %}\n"
                   "{{ '<|assistant|>' }}\n{% endif %}"),
            ChatTemplateKind::kZephyr);
  EXPECT_EQ(Detect("{% set content = '<|start_header_id|>' + message['role'] + "
                   "'<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"),
            ChatTemplateKind::kLlama3);
  EXPECT_EQ(Detect("### Instruction:\n{{ message['content'] }}\n### Response:", false),
            ChatTemplateKind::kChatML);
  EXPECT_EQ(Detect("", false), ChatTemplateKind::kChatML);
  EXPECT_EQ(DetectChatTemplate("<|im_start|>", nullptr), ChatTemplateKind::kChatML);
}

// The real templates stored in the shared vocabulary files.
void ExpectDetectedFromGguf(const std::string& file, ChatTemplateKind want) {
  const std::string path = test::SharedPath("tokenizers/" + file);
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  auto gguf = GgufFile::Open(path);
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto source = (*gguf)->GetString("tokenizer.chat_template");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(Detect(*source), want) << file;
}

TEST(ChatTemplateTest, DetectLlama3FromVocabGguf) {
  ExpectDetectedFromGguf("llama3-vocab.gguf", ChatTemplateKind::kLlama3);
}

TEST(ChatTemplateTest, DetectQwen3AsChatMLFromVocabGguf) {
  ExpectDetectedFromGguf("qwen3-vocab.gguf", ChatTemplateKind::kChatML);
}

}  // namespace
}  // namespace jarvis
