// campaign::dedup — one finding per key, across this run and against the
// regression traces in corpora/regressions/.
//
// The key is the violation's signature (kind/site/op), then for a model that
// is not the default design "@" and the design items that differ from the
// default ("@offline=legacy,free_dispatch=per-type-checks"), then for a
// model with catalog bugs on "+" and their names ("+gup-fast-skips-pte-recheck").
// The same signature under a legacy variant or a mutant is another claim
// than under the default core. A regression trace's key comes from its
// `expect violation SIG`, `design` and `bugs` lines. Campaign findings run
// without catalog bugs.
//
// Status of a new key (docs/reports.md):
//  - "known": a regression trace has the same key: signature, design and
//    bugs (this bug, on the switches its trace needs);
//  - "regression": found on the default design, and a regression trace has
//    the signature only with a catalog bug or a legacy design switched on:
//    a bug the default core fixed is back (the trace is named);
//  - "variant": found on a non-default design (a result of the design
//    comparison, not a failure of the default core);
//  - "new": anything else.
// "new" and "regression" make the campaign exit 1.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "campaign/report.hpp"

namespace refhammer::campaign {

// format_design of the default core::DesignConfig.
const std::string& default_design();
// The items of a format_design() line that differ from the default, comma
// separated ("" for the default design).
std::string design_diff(const std::string& design);
std::string finding_key(const std::string& signature, const std::string& design, const std::string& bugs = "");
// The signature part of a key.
std::string key_signature(const std::string& key);

// key -> regression file name. Files that do not parse are listed in `errors`.
std::map<std::string, std::string> load_regression_keys(const std::string& dir, std::vector<std::string>* errors = nullptr);

// A file-name-safe form of a key: [A-Za-z0-9._-], at most 100 characters.
std::string slug(const std::string& key);

class Dedup {
 public:
  explicit Dedup(std::map<std::string, std::string> known);
  // Adds `f` (its key, signature and design set) unless its key is there:
  // then counts a hit on the existing one. Returns the index in `list` and
  // whether it was the first of its key in this run.
  size_t add(std::vector<Finding>& list, Finding f, bool& first);
  const std::map<std::string, std::string>& known() const { return known_; }

 private:
  std::map<std::string, std::string> known_;
  std::map<std::string, std::string> by_signature_;  // signature -> a regression trace with it (any switches)
  std::map<std::string, size_t> seen_;
};

}  // namespace refhammer::campaign
