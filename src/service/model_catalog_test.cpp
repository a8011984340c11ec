#include "service/model_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/test_paths.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("jarvis_catalog_" + std::to_string(getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(ModelCatalogTest, ScansFilesAndDirectoriesWithUniqueNames) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "a");
  fs::create_directories(tmp.path() / "b");
  const std::string stories = test::StoriesModelPath();
  fs::copy_file(stories, tmp.path() / "a" / "tiny.gguf");
  fs::copy_file(stories, tmp.path() / "a" / "other.GGUF");
  fs::copy_file(stories, tmp.path() / "b" / "tiny.gguf");
  std::ofstream(tmp.path() / "a" / "notes.txt") << "not a model";
  auto found = ScanModelPaths({(tmp.path() / "a").string(), (tmp.path() / "b").string(), stories,
                               (tmp.path() / "a" / "tiny.gguf").string()});  // the last one is a repeat
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 4u);
  EXPECT_EQ((*found)[0].name, "other");  // a/ sorted by file name
  EXPECT_EQ((*found)[1].name, "tiny");
  EXPECT_EQ((*found)[2].name, "tiny-2");  // b/tiny.gguf
  EXPECT_EQ((*found)[3].name, "stories260K");
  for (const auto& src : *found) {
    EXPECT_EQ(src.size_bytes, fs::file_size(stories));
    EXPECT_EQ(src.digest.size(), 16u);
    EXPECT_EQ(src.digest, (*found)[0].digest);  // same bytes, same digest
  }
}

TEST(ModelCatalogTest, DigestDependsOnContentAndSize) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a.gguf", b = tmp.path() / "b.gguf", c = tmp.path() / "c.gguf";
  std::ofstream(a) << "GGUF-one";
  std::ofstream(b) << "GGUF-two";
  std::ofstream(c) << "GGUF-one-longer";
  auto da = ContentDigest(a.string()), db = ContentDigest(b.string()), dc = ContentDigest(c.string());
  ASSERT_TRUE(da.ok() && db.ok() && dc.ok());
  EXPECT_NE(*da, *db);
  EXPECT_NE(*da, *dc);
  EXPECT_EQ(*da, *ContentDigest(a.string()));
}

TEST(ModelCatalogTest, UnparsableFilesAreListedWithTheirError) {
  TempDir tmp;
  std::ofstream(tmp.path() / "a.gguf") << "GGUF but not really";
  fs::copy_file(test::StoriesModelPath(), tmp.path() / "b.gguf");
  auto found = ScanModelPaths({tmp.path().string()});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_NE((*found)[0].error.find("a.gguf"), std::string::npos) << (*found)[0].error;
  EXPECT_TRUE((*found)[1].error.empty()) << (*found)[1].error;
}

TEST(ModelCatalogTest, FileIdentityChangesWithEveryRewrite) {
  TempDir tmp;
  const fs::path p = tmp.path() / "m.gguf";
  std::ofstream(p) << "one";
  auto first = StatFileIdentity(p.string());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, *StatFileIdentity(p.string()));
  std::ofstream(tmp.path() / "n.gguf") << "one";
  fs::rename(tmp.path() / "n.gguf", p);  // same bytes, another inode
  auto replaced = StatFileIdentity(p.string());
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*replaced == *first);
  fs::resize_file(p, 1);
  EXPECT_FALSE(*StatFileIdentity(p.string()) == *replaced);
  fs::remove(p);
  EXPECT_EQ(StatFileIdentity(p.string()).status().code(), StatusCode::kNotFound);
}

TEST(ModelCatalogTest, Errors) {
  TempDir tmp;
  EXPECT_EQ(ScanModelPaths({"/nonexistent/model.gguf"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ScanModelPaths({tmp.path().string()}).status().code(), StatusCode::kInvalidArgument);  // empty dir
  std::ofstream(tmp.path() / "model.bin") << "x";
  EXPECT_EQ(ScanModelPaths({(tmp.path() / "model.bin").string()}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelCatalogTest, FactsAndDescriptionOfStories) {
  auto facts = ReadModelFacts(test::StoriesModelPath());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->architecture, "llama");
  EXPECT_GT(facts->parameters, 200000u);
  EXPECT_LT(facts->parameters, 400000u);
  EXPECT_GT(facts->context_length, 0);
  EXPECT_FALSE(facts->quantization.empty());
  auto sources = ScanModelPaths({test::StoriesModelPath()});
  ASSERT_TRUE(sources.ok());
  auto j = DescribeModel((*sources)[0]);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["name"], "stories260K");
  EXPECT_EQ((*j)["architecture"], "llama");
  EXPECT_TRUE((*j)["metadata"].contains("general.architecture"));
  EXPECT_GT((*j)["tensor_count"].get<int>(), 0);
}

}  // namespace
}  // namespace jarvis
