#include "receivers/prometheus/file_sd.h"

#include <glob.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "prometheus/relabel.h"

namespace otlpd::receivers::prometheus {
namespace {

bool sameGroups(const std::vector<TargetGroup>& a, const std::vector<TargetGroup>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].targets != b[i].targets || a[i].labels != b[i].labels) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<TargetGroup>> parseTargetGroupsFile(const std::string& path,
                                                               const std::string& text) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(strCat("file_sd ", path, ": ", why));
  };
  YAML::Node root;
  // yaml-cpp throws on malformed input; JSON is YAML, so one parser reads both.
  try {
    root = YAML::Load(text);
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
  std::vector<TargetGroup> groups;
  if (root.IsNull()) return groups;
  if (!root.IsSequence()) return invalid("must be a list of {targets, labels}");
  for (size_t i = 0; i < root.size(); ++i) {
    const YAML::Node& g = root[i];
    if (!g.IsMap()) return invalid(strCat("entry ", i, " is not a mapping"));
    TargetGroup group;
    group.source = path;
    for (const auto& kv : g) {
      const std::string key = kv.first.Scalar();
      if (key == "targets") {
        if (!kv.second.IsSequence())
          return invalid(strCat("entry ", i, ": targets must be a list"));
        for (const auto& t : kv.second) {
          if (!t.IsScalar()) return invalid(strCat("entry ", i, ": a target must be a string"));
          group.targets.push_back(t.Scalar());
        }
      } else if (key == "labels") {
        if (kv.second.IsNull()) continue;
        if (!kv.second.IsMap()) return invalid(strCat("entry ", i, ": labels must be a mapping"));
        for (const auto& l : kv.second) {
          const std::string name = l.first.Scalar();
          if (!otlpd::prometheus::validLabelName(name) || !l.second.IsScalar()) {
            return invalid(strCat("entry ", i, ": invalid label \"", name, "\""));
          }
          group.labels.emplace_back(name, l.second.Scalar());
        }
      } else {
        return invalid(strCat("entry ", i, ": unknown key \"", key, "\""));
      }
    }
    group.labels.emplace_back("__meta_filepath", path);
    groups.push_back(std::move(group));
  }
  return groups;
}

bool FileDiscovery::poll(bool force) {
  std::set<std::string> paths;
  for (const std::string& pattern : config_.files) {
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.insert(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  bool changed = false;
  for (auto it = files_.begin(); it != files_.end();) {
    if (paths.count(it->first) == 0) {
      changed |= !it->second.groups.empty();
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // gone between glob and stat
    FileState& f = files_[path];
    const int64_t mtime_ns =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (!force && f.device == st.st_dev && f.inode == st.st_ino && f.mtime_ns == mtime_ns &&
        f.size == st.st_size) {
      continue;
    }
    f.device = st.st_dev;
    f.inode = st.st_ino;
    f.mtime_ns = mtime_ns;
    f.size = st.st_size;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      errors_.push_back(strCat("file_sd ", path, ": cannot be read"));
      continue;
    }
    auto groups = parseTargetGroupsFile(path, text.str());
    if (!groups.ok()) {
      errors_.push_back(std::string(groups.status().message()));
      continue;  // the file's previous targets stay
    }
    if (!sameGroups(f.groups, *groups)) {
      f.groups = *std::move(groups);
      changed = true;
    }
  }
  return changed;
}

std::vector<TargetGroup> FileDiscovery::groups() const {
  std::vector<TargetGroup> out;
  for (const auto& [path, f] : files_) out.insert(out.end(), f.groups.begin(), f.groups.end());
  return out;
}

std::vector<std::string> FileDiscovery::takeErrors() {
  std::vector<std::string> out;
  out.swap(errors_);
  return out;
}

}  // namespace otlpd::receivers::prometheus
