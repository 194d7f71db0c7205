#include "proxima/core/merge.h"

#include <gtest/gtest.h>

namespace proxima {
namespace {

FileState Dir(const std::string& path) {
  FileState f;
  f.path = path;
  f.type = EntryType::kDirectory;
  f.mode = 0755;
  return f;
}

FileState File(const std::string& path, const std::string& content) {
  FileState f;
  f.path = path;
  f.mode = 0644;
  f.size = content.size();
  f.chunks = {Sha256(content)};
  return f;
}

std::vector<std::string> Paths(const std::vector<FileState>& list) {
  std::vector<std::string> out;
  for (const FileState& f : list) out.push_back(f.path);
  return out;
}

TEST(MergeFlat, ChangesToDifferentPathsAreAllKept) {
  std::vector<FileState> base = {Dir("a"), File("a/1", "one"), File("a/2", "two"), File("b", "b")};
  std::vector<FileState> ours = {Dir("a"), File("a/1", "ONE"), File("a/2", "two"), File("b", "b"),
                                 File("c", "new")};
  std::vector<FileState> theirs = {Dir("a"), File("a/1", "one"), File("b", "B")};
  std::vector<std::string> conflicts;
  auto merged = MergeFlat(base, ours, theirs, &conflicts);
  EXPECT_TRUE(conflicts.empty());
  EXPECT_EQ(Paths(merged), (std::vector<std::string>{"a", "a/1", "b", "c"}));
  EXPECT_EQ(merged[1].chunks[0], Sha256("ONE"));  // ours modified it
  EXPECT_EQ(merged[2].chunks[0], Sha256("B"));    // theirs modified it
}

TEST(MergeFlat, TheSameChangeOnBothSidesIsNoConflict) {
  std::vector<FileState> base = {File("x", "0")};
  std::vector<FileState> both = {File("x", "1"), File("y", "new")};
  std::vector<std::string> conflicts;
  auto merged = MergeFlat(base, both, both, &conflicts);
  EXPECT_TRUE(conflicts.empty());
  EXPECT_EQ(Paths(merged), (std::vector<std::string>{"x", "y"}));
}

TEST(MergeFlat, DifferentChangesToOnePathConflict) {
  std::vector<FileState> base = {File("x", "0"), File("y", "0")};
  std::vector<FileState> ours = {File("x", "ours"), File("y", "0")};
  std::vector<FileState> theirs = {File("y", "0")};  // deleted x
  std::vector<std::string> conflicts;
  MergeFlat(base, ours, theirs, &conflicts);
  EXPECT_EQ(conflicts, (std::vector<std::string>{"x"}));
}

TEST(MergeFlat, AddingIntoAFolderTheOtherSideRemovedConflicts) {
  std::vector<FileState> base = {Dir("d"), File("d/old", "o")};
  std::vector<FileState> ours = {Dir("d"), File("d/new", "n"), File("d/old", "o")};
  std::vector<FileState> theirs = {};
  std::vector<std::string> conflicts;
  MergeFlat(base, ours, theirs, &conflicts);
  EXPECT_EQ(conflicts, (std::vector<std::string>{"d/new"}));
}

TEST(MergeFlat, AFileReplacedByAFolderOnOneSideOnly) {
  std::vector<FileState> base = {File("p", "file")};
  std::vector<FileState> ours = {Dir("p"), File("p/q", "q")};
  std::vector<FileState> theirs = {File("p", "file"), File("z", "z")};
  std::vector<std::string> conflicts;
  auto merged = MergeFlat(base, ours, theirs, &conflicts);
  EXPECT_TRUE(conflicts.empty());
  EXPECT_EQ(Paths(merged), (std::vector<std::string>{"p", "p/q", "z"}));
  EXPECT_EQ(merged[0].type, EntryType::kDirectory);
}

}  // namespace
}  // namespace proxima
