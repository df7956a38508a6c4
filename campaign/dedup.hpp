// campaign::dedup — one finding per key, across this run and against the
// regression traces in corpora/regressions/.
//
// The key is the violation's signature (kind/site/op), and for a model that
// is not the default design also "@" and the design items that differ from
// the default ("@offline=legacy,free_dispatch=per-type-checks"): the same
// signature under a legacy variant is another claim than under the default
// core. A regression trace's key comes from its `expect violation SIG` and
// `design` lines (its catalog bugs are ignored: a campaign finding with a
// mutant's signature is that mutant's bug class, and already has a trace).
//
// Status of a new key: "known" when a regression trace has it, "variant"
// when it was found on a non-default design (a result of the design
// comparison, not a failure of the default core), else "new". Only "new"
// findings make the campaign exit 1.
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
std::string finding_key(const std::string& signature, const std::string& design);

// key -> regression file name. Files that do not parse are listed in `errors`.
std::map<std::string, std::string> load_regression_keys(const std::string& dir, std::vector<std::string>* errors = nullptr);

// A file-name-safe form of a key: [A-Za-z0-9._-], at most 100 characters.
std::string slug(const std::string& key);

class Dedup {
 public:
  explicit Dedup(std::map<std::string, std::string> known) : known_(std::move(known)) {}
  // Adds `f` (its key, signature and design set) unless its key is there:
  // then counts a hit on the existing one. Returns the index in `list` and
  // whether it was the first of its key in this run.
  size_t add(std::vector<Finding>& list, Finding f, bool& first);
  const std::map<std::string, std::string>& known() const { return known_; }

 private:
  std::map<std::string, std::string> known_;
  std::map<std::string, size_t> seen_;
};

}  // namespace refhammer::campaign
