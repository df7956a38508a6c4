// campaign::dedup — see dedup.hpp.
#include "campaign/dedup.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/config.hpp"
#include "harness/trace.hpp"

namespace refhammer::campaign {

const std::string& default_design() {
  static const std::string d = harness::format_design(core::DesignConfig{});
  return d;
}

std::string design_diff(const std::string& design) {
  // Both are format_design() lines: "key=value key=value ...".
  std::vector<std::string> def, out;
  std::string w;
  for (std::istringstream in(default_design()); in >> w;) def.push_back(w);
  for (std::istringstream in(design); in >> w;)
    if (std::find(def.begin(), def.end(), w) == def.end()) out.push_back(w);
  std::string s;
  for (const auto& x : out) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string finding_key(const std::string& signature, const std::string& design, const std::string& bugs) {
  const std::string d = design.empty() ? std::string() : design_diff(design);
  std::string k = d.empty() ? signature : signature + "@" + d;
  if (!bugs.empty() && bugs != "none") {
    std::string b = bugs;
    std::replace(b.begin(), b.end(), ' ', ',');
    k += "+" + b;
  }
  return k;
}

std::string key_signature(const std::string& key) {
  const size_t cut = key.find_first_of("@+");
  return cut == std::string::npos ? key : key.substr(0, cut);
}

Dedup::Dedup(std::map<std::string, std::string> known) : known_(std::move(known)) {
  for (const auto& [k, file] : known_) by_signature_.emplace(key_signature(k), file);
}

std::map<std::string, std::string> load_regression_keys(const std::string& dir, std::vector<std::string>* errors) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".trace") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    harness::Trace t;
    const std::string err = harness::load_trace(p.string(), t);
    if (!err.empty()) {
      if (errors != nullptr) errors->push_back(err);
      continue;
    }
    if (t.expect_clean) continue;
    out.emplace(finding_key(t.expect_signature, harness::format_design(t.model.design), harness::format_bugs(t.model.bugs)),
                p.filename().string());
  }
  return out;
}

std::string slug(const std::string& key) {
  std::string s;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-';
    const char o = ok ? c : '-';
    if (o == '-' && !s.empty() && s.back() == '-') continue;
    s += o;
  }
  while (!s.empty() && (s.front() == '-' || s.front() == '.')) s.erase(s.begin());
  while (!s.empty() && s.back() == '-') s.pop_back();
  if (s.size() > 100) s.resize(100);
  if (s.empty()) s = "finding";
  return s;
}

size_t Dedup::add(std::vector<Finding>& list, Finding f, bool& first) {
  if (f.key.empty()) f.key = finding_key(f.signature, f.design);
  const auto it = seen_.find(f.key);
  if (it != seen_.end()) {
    first = false;
    list[it->second].hits += f.hits;
    return it->second;
  }
  first = true;
  const auto k = known_.find(f.key);
  const bool default_core = f.design.empty() || f.design == default_design();
  if (k != known_.end()) {
    f.status = "known";
    f.known_as = k->second;
  } else if (!default_core) {
    f.status = "variant";
  } else if (const auto s = by_signature_.find(key_signature(f.key)); s != by_signature_.end()) {
    // The regression expects this only with a catalog bug or a legacy
    // design on: on the default core it is a fixed bug come back.
    f.status = "regression";
    f.known_as = s->second;
  } else {
    f.status = "new";
  }
  list.push_back(std::move(f));
  seen_.emplace(list.back().key, list.size() - 1);
  return list.size() - 1;
}

}  // namespace refhammer::campaign
