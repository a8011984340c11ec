// A file truncated under its mapping: reads past the new end read zeros and
// mark the mapping damaged, instead of killing the process with SIGBUS.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/mapped_file.h"
#include "util/mapping_guard.h"

namespace jarvis {
namespace {

TEST(MappingGuardTest, TruncatedFileReadsZerosAndIsMarkedDamaged) {
  const long page = sysconf(_SC_PAGESIZE);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("jarvis_guard_" + std::to_string(getpid()) + ".bin")).string();
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(static_cast<size_t>(4 * page), 'x');
  }
  auto mapped = MappedFile::Open(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  const volatile uint8_t* bytes = (*mapped)->data();
  EXPECT_EQ(bytes[3 * page], 'x');
  EXPECT_FALSE(MappingDamagedAt((*mapped)->data()));

  ASSERT_EQ(truncate(path.c_str(), page), 0);
  EXPECT_EQ(bytes[0], 'x');                 // still inside the file
  EXPECT_EQ(bytes[2 * page + 5], 0);        // SIGBUS without the guard
  EXPECT_EQ(bytes[3 * page], 0);
  EXPECT_TRUE(MappingDamagedAt((*mapped)->data()));
  EXPECT_TRUE(MappingDamagedAt((*mapped)->data() + 3 * page));

  // A new mapping of the same path starts undamaged.
  auto again = MappedFile::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(MappingDamagedAt((*again)->data()));
  mapped->reset();
  std::remove(path.c_str());
}

TEST(MappingGuardTest, UnknownAddressesAreNotDamaged) {
  int local = 0;
  EXPECT_FALSE(MappingDamagedAt(&local));
  EXPECT_FALSE(GuardMapping(nullptr, 10));
}

}  // namespace
}  // namespace jarvis
