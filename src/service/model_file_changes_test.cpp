// Issue 17: model files that change on disk under a running service.
// - a file truncated while a request reads it: no SIGBUS, the request fails
//   naming the file, later requests get the load error, and once the file is
//   restored the model is served again (defect 2);
// - one corrupt file in a model directory: the others are served, the bad one
//   is reported (defect 3);
// - a file replaced by another model under the same name: the response cache
//   never answers with the old model's output (defect 4).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "service/service.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

class ModelFileChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jarvis_model_files_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string ReadAll(const std::string& path) {
    std::string bytes(static_cast<size_t>(fs::file_size(path)), '\0');
    std::ifstream in(path, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
  }
  // Writes via a temporary and a rename unless `in_place` (which truncates the
  // existing inode first, as `cp` does).
  static void Write(const fs::path& path, const std::string& bytes, bool in_place = false) {
    const fs::path target = in_place ? path : fs::path(path.string() + ".tmp");
    {
      std::ofstream out(target, std::ios::binary | std::ios::trunc);
      out << bytes;
    }
    if (!in_place) fs::rename(target, path);
  }
  // stories260K with its output norm zeroed: same size, different answers.
  static std::string AlteredStories() {
    std::string bytes = ReadAll(test::StoriesModelPath());
    auto gguf = GgufFile::Open(test::StoriesModelPath());
    EXPECT_TRUE(gguf.ok());
    const GgufTensorInfo* t = (*gguf)->FindTensor("output_norm.weight");
    EXPECT_NE(t, nullptr);
    const size_t at = static_cast<size_t>((*gguf)->data_offset() + t->offset);
    for (size_t i = 0; i < t->n_bytes; ++i) bytes[at + i] = 0;
    return bytes;
  }
  static ServiceOptions Options(const std::string& path) {
    ServiceOptions o;
    o.model_paths = {path};
    o.scheduler.n_threads = 1;
    o.scheduler.n_ctx = 256;
    o.scheduler.max_sequences = 2;
    return o;
  }
  static GenerateRequest Greedy(const std::string& model = "", int max_tokens = 24) {
    GenerateRequest r;
    r.model = model;
    r.prompt = "Once upon a time";
    r.sampling.temperature = 0.0f;
    r.max_tokens = max_tokens;
    return r;
  }
  static GenerateResult Run(Service& s, GenerateRequest r) {
    auto h = s.Submit(std::move(r));
    if (!h.ok()) {
      GenerateResult failed;
      failed.finish = FinishReason::kError;
      failed.error = h.status();
      return failed;
    }
    return h->Wait();
  }
  static std::string GreedyTextOf(const std::string& path) {
    auto s = Service::Create(Options(path));
    EXPECT_TRUE(s.ok());
    const GenerateResult r = Run(**s, Greedy());
    EXPECT_EQ(r.error.ToString(), Status().ToString());
    return r.text;
  }

  fs::path dir_;
};

TEST_F(ModelFileChangesTest, ReplacedFileIsReloadedAndNeverAnsweredFromTheOldCache) {
  const fs::path model = dir_ / "m.gguf";
  Write(model, ReadAll(test::StoriesModelPath()));
  auto svc = Service::Create(Options(dir_.string()));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  const GenerateResult first = Run(**svc, Greedy());
  ASSERT_EQ(first.error.ToString(), Status().ToString());
  EXPECT_TRUE(Run(**svc, Greedy()).from_response_cache);

  const std::string altered = AlteredStories();
  Write(model, altered);  // same name, same size, new content
  const GenerateResult after = Run(**svc, Greedy());
  ASSERT_EQ(after.error.ToString(), Status().ToString());
  EXPECT_FALSE(after.from_response_cache);
  EXPECT_NE(after.text, first.text);
  // What a fresh service says for the new file.
  Write(dir_ / "fresh.gguf", altered);
  EXPECT_EQ(after.text, GreedyTextOf((dir_ / "fresh.gguf").string()));
  EXPECT_TRUE(Run(**svc, Greedy()).from_response_cache);  // the new model's answers are cached again
}

TEST_F(ModelFileChangesTest, TruncatedWhileGeneratingFailsThatRequestThenRecovers) {
  const fs::path model = dir_ / "m.gguf";
  const std::string original = ReadAll(test::StoriesModelPath());
  Write(model, original);
  auto svc = Service::Create(Options(model.string()));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  const GenerateResult reference = Run(**svc, Greedy("", 40));
  ASSERT_EQ(reference.error.ToString(), Status().ToString());

  // Truncate the file in place after the first token, while the model is
  // mapped and mid-generation: later reads of the weights would be SIGBUS.
  GenerateRequest r = Greedy("", 40);
  r.use_response_cache = false;
  std::atomic<bool> truncated{false};
  r.on_token = [&](const TokenEvent&) {
    if (!truncated.exchange(true)) {
      EXPECT_EQ(truncate(model.c_str(), 4096), 0);
    }
    return true;
  };
  // The outcome as on_complete reports it (what the HTTP layer answers from).
  GenerateResult during;
  r.on_complete = [&during](const GenerateResult& result) { during = result; };
  // And as a library caller's Wait() gets it: the same error.
  const GenerateResult waited = Run(**svc, std::move(r));
  ASSERT_TRUE(truncated.load());
  EXPECT_EQ(during.finish, FinishReason::kError);
  EXPECT_NE(during.error.message().find(model.string()), std::string::npos) << during.error.ToString();
  EXPECT_EQ(waited.finish, FinishReason::kError);
  EXPECT_EQ(waited.error.ToString(), during.error.ToString());
  EXPECT_LT(waited.completion_tokens, 40);  // it stopped once the damage was seen

  // The file is now invalid: requests get its load error, naming it.
  GenerateRequest next = Greedy();
  next.use_response_cache = false;
  const GenerateResult broken = Run(**svc, std::move(next));
  EXPECT_EQ(broken.finish, FinishReason::kError);
  EXPECT_NE(broken.error.ToString().find("m.gguf"), std::string::npos) << broken.error.ToString();
  const auto stats = (*svc)->ModelsStats();
  ASSERT_EQ(stats["available"].size(), 1u);
  EXPECT_TRUE(stats["available"][0]["error"].is_string()) << stats.dump();

  // Restored: served again, as before.
  Write(model, original, /*in_place=*/true);
  GenerateRequest again = Greedy("", 40);
  again.use_response_cache = false;
  const GenerateResult restored = Run(**svc, std::move(again));
  ASSERT_EQ(restored.error.ToString(), Status().ToString());
  EXPECT_EQ(restored.text, reference.text);
}

TEST_F(ModelFileChangesTest, DeletedFileIsReportedNotServedStale) {
  const fs::path model = dir_ / "m.gguf";
  Write(model, ReadAll(test::StoriesModelPath()));
  auto svc = Service::Create(Options(model.string()));
  ASSERT_TRUE(svc.ok());
  ASSERT_EQ(Run(**svc, Greedy()).error.ToString(), Status().ToString());
  fs::remove(model);
  GenerateRequest r = Greedy();
  r.use_response_cache = false;
  const GenerateResult gone = Run(**svc, std::move(r));
  EXPECT_EQ(gone.finish, FinishReason::kError);
  EXPECT_NE(gone.error.ToString().find("m.gguf"), std::string::npos) << gone.error.ToString();
}

TEST_F(ModelFileChangesTest, CorruptFileSortingFirstDoesNotStopTheOthers) {
  Write(dir_ / "a-broken.gguf", "GGUF\x03\0\0\0 this is not a model");
  Write(dir_ / "b-empty.gguf", "");
  Write(dir_ / "c-good.gguf", ReadAll(test::StoriesModelPath()));
  auto svc = Service::Create(Options(dir_.string()));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  // The default is the first servable model.
  auto def = (*svc)->GetModel("");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->name, "c-good");
  EXPECT_EQ(Run(**svc, Greedy()).error.ToString(), Status().ToString());
  // The broken ones are listed with their error and fail by name.
  for (const char* bad : {"a-broken", "b-empty"}) {
    const GenerateResult r = Run(**svc, Greedy(bad));
    EXPECT_EQ(r.finish, FinishReason::kError) << bad;
    EXPECT_NE(r.error.ToString().find(std::string(bad) + ".gguf"), std::string::npos) << r.error.ToString();
  }
  const auto stats = (*svc)->ModelsStats();
  int reported = 0;
  for (const auto& m : stats["available"]) {
    if (m["name"] == "c-good") {
      EXPECT_TRUE(m["error"].is_null());
    } else {
      EXPECT_TRUE(m["error"].is_string()) << m.dump();
      ++reported;
    }
  }
  EXPECT_EQ(reported, 2);
}

TEST_F(ModelFileChangesTest, OnlyCorruptFilesIsAClearError) {
  Write(dir_ / "a.gguf", "not a gguf");
  auto svc = Service::Create(Options(dir_.string()));
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(svc.status().message().find("a.gguf"), std::string::npos) << svc.status().ToString();
}

}  // namespace
}  // namespace jarvis
