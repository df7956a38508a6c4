// harness::runtime — see runtime.hpp.
#include "harness/runtime.hpp"

#include "core/audit.hpp"

namespace refhammer::harness {

void FirstViolation::record(const core::Violation& v, const char* op, int actor) {
  std::lock_guard<std::mutex> g(mu_);
  if (has_) return;
  has_ = true;
  r_.violation = v;
  r_.actor = actor >= 0 ? actor : (v.actor == core::kNoActor ? -1 : v.actor);
  std::string op_name = op;
  if (op_name.empty() && w_ != nullptr && r_.actor >= 0 && static_cast<size_t>(r_.actor) < w_->actors().size()) {
    const Actor& a = w_->actors()[r_.actor];
    // A program's op in progress, or the op a generator handed World::exec.
    const Op* in_progress = a.current >= 0                 ? &a.program[a.current]
                            : a.current == kOutsideProgram ? &a.running
                                                           : nullptr;
    if (in_progress != nullptr) {
      r_.op_index = a.current >= 0 ? a.current : -1;
      op_name = op_spec(in_progress->code).name;
      r_.op_text = "t" + std::to_string(a.id) + " " + format_op(*in_progress);
    }
  }
  if (op_name.empty() && phase_ != nullptr) op_name = phase_;
  if (op_name.empty()) op_name = "unknown";
  r_.signature = make_signature(v, op_name);
  when_ = Clock::now();
  // release: pairs with the acquire in stopped().
  stop_.store(true, std::memory_order_release);
}

void audit_world(World& w, FirstViolation& sink, int auditor) {
  const core::AuditReport rep = core::audit(w.model(), w.ledger(), false);
  if (!rep.clean()) sink.record(rep.violations.front(), "audit", auditor);
}

bool teardown_world(World& w, FirstViolation& sink) {
  core::ScopedSyncHook none(nullptr);
  // A violation while the actors release what they hold (a put that frees,
  // a callback) is the teardown's, not an unknown op's.
  sink.set_phase("teardown");
  w.teardown_all();
  sink.set_phase(nullptr);
  if (sink.has()) return false;
  if (auto v = w.final_audit()) {
    sink.record(*v, "teardown", -1);
    return false;
  }
  return true;
}

}  // namespace refhammer::harness
