#include "proxima/core/tree_builder.h"

#include "proxima/model/names.h"

namespace proxima {

namespace {

struct Frame {
  std::string path;  // "" for the root
  std::string name;
  uint32_t mode = 0755;
  Tree tree;
  uint64_t files = 0;
  uint64_t bytes = 0;
};

std::string_view Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view Base(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<BuiltTrees> BuildTrees(
    const std::vector<FileState>& entries,
    const std::function<Status(const ObjectId&, const std::string&)>& emit) {
  BuiltTrees out;
  std::vector<Frame> stack(1);
  stack[0].mode = 0755;
  auto close_top = [&]() -> Status {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    std::string bytes = EncodeTree(frame.tree);
    ObjectId id = Sha256(bytes);
    PROXIMA_RETURN_IF_ERROR(emit(id, bytes));
    out.trees.push_back(id);
    if (stack.empty()) {
      out.root = id;
      return Status::Ok();
    }
    TreeEntry e;
    e.name = std::move(frame.name);
    e.type = EntryType::kDirectory;
    e.mode = frame.mode;
    e.tree = id;
    e.file_count = frame.files;
    e.size = frame.bytes;
    Frame& parent = stack.back();
    parent.files += frame.files;
    parent.bytes += frame.bytes;
    parent.tree.entries.push_back(std::move(e));
    return Status::Ok();
  };

  for (const FileState& f : entries) {
    std::string_view parent = Parent(f.path);
    while (stack.size() > 1 && stack.back().path != parent) {
      PROXIMA_RETURN_IF_ERROR(close_top());
    }
    if (stack.back().path != parent) {
      return Status::Internal("entry " + QuotePath(f.path) + " is out of walk order");
    }
    Frame& top = stack.back();
    if (f.type == EntryType::kDirectory) {
      ++out.stats.dirs;
      Frame frame;
      frame.path = f.path;
      frame.name = std::string(Base(f.path));
      frame.mode = f.mode;
      stack.push_back(std::move(frame));
      continue;
    }
    TreeEntry e;
    e.name = std::string(Base(f.path));
    e.type = f.type;
    e.mode = f.mode;
    if (f.type == EntryType::kFile) {
      e.size = f.size;
      e.chunks = f.chunks;
      ++top.files;
      top.bytes += f.size;
      ++out.stats.files;
      out.stats.bytes += f.size;
    } else {
      e.target = f.target;
      e.size = f.target.size();
      ++out.stats.symlinks;
    }
    top.tree.entries.push_back(std::move(e));
  }
  while (!stack.empty()) PROXIMA_RETURN_IF_ERROR(close_top());
  return out;
}

Status FlattenTree(Repository& repo, const ObjectId& root, const std::string& prefix,
                   std::vector<FileState>* out, std::vector<ObjectId>* trees) {
  PROXIMA_ASSIGN_OR_RETURN(Tree tree, repo.LoadTree(root));
  if (trees != nullptr) trees->push_back(root);
  for (TreeEntry& e : tree.entries) {
    FileState f;
    f.path = prefix.empty() ? e.name : prefix + "/" + e.name;
    f.type = e.type;
    f.mode = e.mode;
    f.size = e.size;
    f.chunks = std::move(e.chunks);
    f.target = std::move(e.target);
    if (e.type == EntryType::kDirectory) {
      std::string path = f.path;
      out->push_back(std::move(f));
      PROXIMA_RETURN_IF_ERROR(FlattenTree(repo, e.tree, path, out, trees));
    } else {
      out->push_back(std::move(f));
    }
  }
  return Status::Ok();
}

}  // namespace proxima
