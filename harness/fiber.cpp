// harness::Fiber — stacks, the context switch and the sanitizer annotations.
//
// A fiber's mapping, low to high addresses:
//
//   [guard page, PROT_NONE][usable stack ......................][Control]
//    ^map_base              ^stack_lo          grows down <- sp  ^top (64-aligned)
//
// The Control block (the fiber's state) sits above the usable stack, so a
// Fiber handle is one pointer and moving it does not move the state.
//
// Switching (x86-64): refhammer_fiber_switch(save_sp, load_sp) pushes the six
// callee-saved registers and an 8-byte slot holding MXCSR and the x87 control
// word, stores rsp to *save_sp, loads load_sp into rsp, and pops the same
// layout off the other stack. Every suspended context — the resumer inside
// resume(), a fiber inside yield(), a fresh fiber — has that layout on top of
// its stack. A fresh fiber's frame is forged by the constructor: rbx holds the
// Control*, and the "return address" is refhammer_fiber_start, which calls
// refhammer_fiber_main(Control*).
//
// Sanitizer annotations are placed around every raw switch, in three pairs:
//   switch_into (resume):  start(&caller_fake_stack, fiber stack)  ...switch...
//                          finish(caller_fake_stack)            [back in resume]
//   switch_out (yield):    start(&fake_stack, caller stack)     ...switch...
//                          finish(fake_stack, &caller stack)    [resumed again]
//   first entry:           finish(nullptr, &caller stack)       [fiber_main]
//   exit:                  start(nullptr, caller stack)         [frees the fake stack]
// TSan: __tsan_switch_to_fiber(dest, 0) right before each raw switch.
#include "harness/fiber.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

// --- build configuration --------------------------------------------------------

// REFHAMMER_FIBER_FORCE_UCONTEXT=1 selects the portable switch on x86-64 too
// (to test the fallback; it is ~20x slower).
#if defined(__x86_64__) && !(defined(REFHAMMER_FIBER_FORCE_UCONTEXT) && REFHAMMER_FIBER_FORCE_UCONTEXT)
#define REFHAMMER_FIBER_ASM 1
#else
#define REFHAMMER_FIBER_ASM 0
#include <ucontext.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REFHAMMER_FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define REFHAMMER_FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(REFHAMMER_FIBER_ASAN)
#define REFHAMMER_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(REFHAMMER_FIBER_TSAN)
#define REFHAMMER_FIBER_TSAN 1
#endif
#ifndef REFHAMMER_FIBER_ASAN
#define REFHAMMER_FIBER_ASAN 0
#endif
#ifndef REFHAMMER_FIBER_TSAN
#define REFHAMMER_FIBER_TSAN 0
#endif

#if REFHAMMER_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if REFHAMMER_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// Per-fiber exception-handling state: the C++ runtime keeps the stack of
// exceptions being handled (std::current_exception(), `throw;`) and the count
// of exceptions in flight (std::uncaught_exceptions()) per thread, in a
// __cxa_eh_globals. Fibers share the thread, so without a swap a fiber that
// yields inside a catch block would see (and on leaving the block, pop)
// another fiber's exception. Both libstdc++ and libc++abi begin the struct
// with these two fields (the ARM EHABI adds a third, not swapped: it is only
// used during a single unwind, which never spans a switch).
#if defined(__GLIBCXX__) || defined(_LIBCPP_VERSION)
#define REFHAMMER_FIBER_EH_SWAP 1
#else
#define REFHAMMER_FIBER_EH_SWAP 0
#endif

namespace refhammer::harness {

namespace {

struct EhState {
  void* caught_exceptions = nullptr;  // __cxa_eh_globals::caughtExceptions
  unsigned int uncaught_exceptions = 0;  // __cxa_eh_globals::uncaughtExceptions
};

enum class State : uint8_t {
  kReady,      // constructed, never resumed: sp holds the forged start frame
  kRunning,    // between resume() and the next yield()/return
  kSuspended,  // inside yield(): sp holds its saved context
  kFinished,   // the entry returned; never runs again
};

constexpr std::size_t kMinStackSize = 16 * 1024;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "refhammer: Fiber: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace

struct Fiber::Control {
  // Saved stack pointers (asm switch). sp: the fiber's, while it is not
  // running. caller_sp: the resumer's, while the fiber runs.
  void* sp = nullptr;
  void* caller_sp = nullptr;
#if !REFHAMMER_FIBER_ASM
  ucontext_t ctx{};
  ucontext_t caller_ctx{};
#endif

  Entry entry = nullptr;
  void* arg = nullptr;
  State state = State::kReady;
  // Set by the destructor of a suspended fiber under ASan: yield() then
  // leaves the fiber for good instead of returning into user code.
  bool abandon = false;

  void* map_base = nullptr;  // whole mapping, guard page included
  std::size_t map_size = 0;
  char* stack_lo = nullptr;  // usable stack: [stack_lo, stack_lo + stack_size)
  std::size_t stack_size = 0;

#if REFHAMMER_FIBER_EH_SWAP
  EhState* thread_eh = nullptr;  // the owner thread's __cxa_eh_globals
  EhState fiber_eh;              // the fiber's, while it is not running
#endif
#if REFHAMMER_FIBER_ASAN
  void* fake_stack = nullptr;         // the fiber's ASan fake stack while suspended
  void* caller_fake_stack = nullptr;  // the resumer's, while the fiber runs
  const void* caller_bottom = nullptr;  // the resumer's stack, learned on each entry
  std::size_t caller_size = 0;
#endif
#if REFHAMMER_FIBER_TSAN
  void* tsan_fiber = nullptr;
  void* caller_tsan_fiber = nullptr;
#endif
#ifndef NDEBUG
  std::thread::id owner;
#endif
};

namespace {

using Control = Fiber::Control;

// The fiber running on this thread, or null in the main context.
constinit thread_local Control* t_current = nullptr;

}  // namespace

}  // namespace refhammer::harness

// --- the raw switch ---------------------------------------------------------------

using refhammer::harness::Fiber;

extern "C" {
[[noreturn]] __attribute__((visibility("hidden"))) void refhammer_fiber_main(Fiber::Control* c);
#if REFHAMMER_FIBER_ASM
__attribute__((visibility("hidden"))) void refhammer_fiber_switch(void** save_sp, void* load_sp);
__attribute__((visibility("hidden"))) void refhammer_fiber_start();
#endif
}

#if REFHAMMER_FIBER_ASM
// rdi = where to save this context's rsp, rsi = the rsp of the context to
// load. Saved layout, from the saved rsp upward: [mxcsr:4 | x87 cw:2 | pad:2]
// r15 r14 r13 r12 rbx rbp <return address>. The CFI stays valid after the
// rsp swap because both stacks hold the same layout.
asm(R"(
  .pushsection .text
  .p2align 4
  .globl refhammer_fiber_switch
  .hidden refhammer_fiber_switch
  .type refhammer_fiber_switch, @function
refhammer_fiber_switch:
  .cfi_startproc
  pushq %rbp
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %rbp, 0
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %rbx, 0
  pushq %r12
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r12, 0
  pushq %r13
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r13, 0
  pushq %r14
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r14, 0
  pushq %r15
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r15, 0
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  stmxcsr (%rsp)
  fnstcw 4(%rsp)

  movq %rsp, (%rdi)
  movq %rsi, %rsp

  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  popq %r15
  .cfi_adjust_cfa_offset -8
  .cfi_restore %r15
  popq %r14
  .cfi_adjust_cfa_offset -8
  .cfi_restore %r14
  popq %r13
  .cfi_adjust_cfa_offset -8
  .cfi_restore %r13
  popq %r12
  .cfi_adjust_cfa_offset -8
  .cfi_restore %r12
  popq %rbx
  .cfi_adjust_cfa_offset -8
  .cfi_restore %rbx
  popq %rbp
  .cfi_adjust_cfa_offset -8
  .cfi_restore %rbp
  ret
  .cfi_endproc
  .size refhammer_fiber_switch, .-refhammer_fiber_switch

# First code of every fiber, reached by the ret of its first switch with
# rsp 16-byte aligned and rbx = Control*. rip is marked undefined so that
# unwinders and debuggers stop here: this is the bottom of the fiber's stack.
  .p2align 4
  .globl refhammer_fiber_start
  .hidden refhammer_fiber_start
  .type refhammer_fiber_start, @function
refhammer_fiber_start:
  .cfi_startproc
  .cfi_undefined %rip
  movq %rbx, %rdi
  call refhammer_fiber_main
  ud2
  .cfi_endproc
  .size refhammer_fiber_start, .-refhammer_fiber_start
  .popsection
)");
#endif

namespace refhammer::harness {

namespace {

#if REFHAMMER_FIBER_EH_SWAP
EhState* current_thread_eh() { return reinterpret_cast<EhState*>(abi::__cxa_get_globals()); }
#endif

// Raw switch from the resumer (main context) into c.
inline void switch_into(Control* c) {
#if REFHAMMER_FIBER_ASAN
  __sanitizer_start_switch_fiber(&c->caller_fake_stack, c->stack_lo, c->stack_size);
#endif
#if REFHAMMER_FIBER_TSAN
  c->caller_tsan_fiber = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(c->tsan_fiber, 0);
#endif
#if REFHAMMER_FIBER_ASM
  refhammer_fiber_switch(&c->caller_sp, c->sp);
#else
  if (swapcontext(&c->caller_ctx, &c->ctx) != 0) die("swapcontext into a fiber failed");
#endif
#if REFHAMMER_FIBER_ASAN
  __sanitizer_finish_switch_fiber(c->caller_fake_stack, nullptr, nullptr);
#endif
}

// Raw switch from the running fiber c back to its resumer; returns when c is
// resumed again.
inline void switch_out(Control* c) {
#if REFHAMMER_FIBER_ASAN
  __sanitizer_start_switch_fiber(&c->fake_stack, c->caller_bottom, c->caller_size);
#endif
#if REFHAMMER_FIBER_TSAN
  __tsan_switch_to_fiber(c->caller_tsan_fiber, 0);
#endif
#if REFHAMMER_FIBER_ASM
  refhammer_fiber_switch(&c->sp, c->caller_sp);
#else
  if (swapcontext(&c->ctx, &c->caller_ctx) != 0) die("swapcontext out of a fiber failed");
#endif
#if REFHAMMER_FIBER_ASAN
  __sanitizer_finish_switch_fiber(c->fake_stack, &c->caller_bottom, &c->caller_size);
#endif
}

// Leaves the running fiber c for good.
[[noreturn]] void exit_fiber(Control* c) {
  c->state = State::kFinished;
#if REFHAMMER_FIBER_ASAN
  // nullptr: the fiber will not come back, so ASan frees its fake stack.
  __sanitizer_start_switch_fiber(nullptr, c->caller_bottom, c->caller_size);
#endif
#if REFHAMMER_FIBER_TSAN
  __tsan_switch_to_fiber(c->caller_tsan_fiber, 0);
#endif
#if REFHAMMER_FIBER_ASM
  refhammer_fiber_switch(&c->sp, c->caller_sp);
#else
  swapcontext(&c->ctx, &c->caller_ctx);
#endif
  die("a finished fiber was switched back into");
}

// Resumes c from the main context: the body of resume(), also used to walk a
// suspended fiber out of its stack when it is abandoned under ASan.
void resume_control(Control* c) {
  if (c->state == State::kFinished) die("resume() of a finished fiber");
  if (t_current != nullptr)
    die("resume() called from inside a fiber: nested fibers are not supported; yield to the scheduler instead");
  assert(c->owner == std::this_thread::get_id() && "a Fiber is resumed only on the thread that created it");

  c->state = State::kRunning;
  t_current = c;
#if REFHAMMER_FIBER_EH_SWAP
  EhState* eh = c->thread_eh;
  const EhState caller_eh = *eh;
  *eh = c->fiber_eh;
#endif

  switch_into(c);

#if REFHAMMER_FIBER_EH_SWAP
  c->fiber_eh = *eh;
  *eh = caller_eh;
#endif
  t_current = nullptr;
}

// The dynamic type of the exception being handled, demangled when possible
// (for the message before std::terminate(); allocates, leaks).
const char* current_exception_type_name() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  if (t == nullptr) return "<unknown>";
  int status = 0;
  char* demangled = abi::__cxa_demangle(t->name(), nullptr, nullptr, &status);
  return status == 0 && demangled != nullptr ? demangled : t->name();
}

// Runs the entry; an exception must not leave it (there is no frame above the
// fiber's bottom to unwind into).
__attribute__((noinline)) void run_entry(Control* c) {
  try {
    c->entry(c->arg);
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "refhammer: Fiber: an exception escaped the fiber's entry function: %s: %s\n"
                 "refhammer: Fiber: a fiber entry must not throw; calling std::terminate()\n",
                 current_exception_type_name(), e.what());
    std::fflush(stderr);
    std::terminate();
  } catch (...) {
    std::fprintf(stderr,
                 "refhammer: Fiber: an exception escaped the fiber's entry function: %s\n"
                 "refhammer: Fiber: a fiber entry must not throw; calling std::terminate()\n",
                 current_exception_type_name());
    std::fflush(stderr);
    std::terminate();
  }
}

// Stacks of finished fibers, kept per thread for the next fiber of the same
// size: a fuzzer or explorer makes a few fibers per run, thousands of runs a
// second, and a fresh mapping costs an mmap, an mprotect, a munmap and a
// page fault per touched stack page each time. A cached stack keeps its guard
// page (still PROT_NONE) and its touched pages.
class StackCache {
 public:
  static constexpr std::size_t kMaxCached = 16;
  ~StackCache() {
    for (const auto& [base, size] : free_) munmap(base, size);
  }
  void* take(std::size_t size) noexcept {
    for (std::size_t i = free_.size(); i-- > 0;)
      if (free_[i].second == size) {
        void* const base = free_[i].first;
        free_[i] = free_.back();
        free_.pop_back();
        return base;
      }
    return nullptr;
  }
  bool give(void* base, std::size_t size) noexcept {
    if (free_.size() >= kMaxCached) return false;
    try {
      free_.emplace_back(base, size);
    } catch (...) {
      return false;
    }
    return true;
  }

 private:
  std::vector<std::pair<void*, std::size_t>> free_;
};

StackCache& stack_cache() noexcept {
  thread_local StackCache cache;
  return cache;
}

void destroy(Control* c) {
  if (t_current == c) die("a fiber destroyed its own Fiber object");
  if (t_current != nullptr) die("a Fiber is destroyed only from the main context, not from inside a fiber");
  assert(c->owner == std::this_thread::get_id() && "a Fiber is destroyed only on the thread that created it");
#if REFHAMMER_FIBER_ASAN
  // An abandoned fiber holds an ASan fake stack (detect_stack_use_after_return)
  // that only a start_switch_fiber(nullptr, ...) made on that fiber frees: run
  // it once more, straight into exit_fiber(), so that abandoning fibers in a
  // loop does not leak mappings.
  if (c->state == State::kSuspended && c->fake_stack != nullptr) {
    c->abandon = true;
    resume_control(c);
  }
#endif
#if REFHAMMER_FIBER_TSAN
  __tsan_destroy_fiber(c->tsan_fiber);
#endif
  void* const base = c->map_base;
  const std::size_t size = c->map_size;
  c->~Control();
#if REFHAMMER_FIBER_ASAN
  // Frames abandoned on the stack leave their redzones poisoned; a later
  // mapping at the same address must not inherit them.
  __asan_unpoison_memory_region(base, size);
#endif
  if (stack_cache().give(base, size)) return;
  if (munmap(base, size) != 0) die("munmap of a fiber stack failed");
}

#if !REFHAMMER_FIBER_ASM
// makecontext passes int arguments: the Control* travels as two halves.
void ucontext_entry(unsigned int hi, unsigned int lo) {
  const std::uintptr_t p = (static_cast<std::uintptr_t>(hi) << 32) | lo;
  refhammer_fiber_main(reinterpret_cast<Control*>(p));
}

// The fallback's start context; a function of its own because getcontext()
// returns twice (g++ -Wclobbered for the caller's locals otherwise).
__attribute__((noinline)) bool make_start_context(Control* c) {
  if (getcontext(&c->ctx) != 0) return false;
  c->ctx.uc_stack.ss_sp = c->stack_lo;
  c->ctx.uc_stack.ss_size = c->stack_size;
  c->ctx.uc_link = nullptr;  // refhammer_fiber_main never returns
  const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(c);
  makecontext(&c->ctx, reinterpret_cast<void (*)()>(&ucontext_entry), 2, static_cast<unsigned int>(p >> 32),
              static_cast<unsigned int>(p & 0xffffffffu));
  return true;
}
#endif

}  // namespace

// --- Fiber --------------------------------------------------------------------------

Fiber::Fiber(Entry entry, void* arg, std::size_t stack_size) {
  if (entry == nullptr) throw std::invalid_argument("Fiber: null entry function");
  if (stack_size < kMinStackSize) throw std::invalid_argument("Fiber: stack smaller than 16 KiB");

  const long page_l = sysconf(_SC_PAGESIZE);
  const std::size_t page = page_l > 0 ? static_cast<std::size_t>(page_l) : 4096;
  // Usable stack >= stack_size after the Control block is carved off the top.
  const std::size_t body = (stack_size + sizeof(Control) + 64 + page - 1) / page * page;
  const std::size_t map_size = page + body;

  void* base = stack_cache().take(map_size);
  if (base == nullptr) {
    base = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "Fiber: mmap of the stack");
    if (mprotect(base, page, PROT_NONE) != 0) {
      const int err = errno;
      munmap(base, map_size);
      throw std::system_error(err, std::generic_category(), "Fiber: mprotect of the guard page");
    }
  }

  char* const top = static_cast<char*>(base) + map_size;
  const std::uintptr_t ctl_addr = (reinterpret_cast<std::uintptr_t>(top) - sizeof(Control)) & ~std::uintptr_t{63};
  Control* c = new (reinterpret_cast<void*>(ctl_addr)) Control();
  c->entry = entry;
  c->arg = arg;
  c->map_base = base;
  c->map_size = map_size;
  c->stack_lo = static_cast<char*>(base) + page;
  c->stack_size = static_cast<std::size_t>(reinterpret_cast<char*>(c) - c->stack_lo);
#if REFHAMMER_FIBER_EH_SWAP
  c->thread_eh = current_thread_eh();
#endif
#if REFHAMMER_FIBER_TSAN
  c->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifndef NDEBUG
  c->owner = std::this_thread::get_id();
#endif

#if REFHAMMER_FIBER_ASM
  // Forge the frame the first switch into the fiber pops (see the asm). The
  // fiber starts with the creating context's MXCSR and x87 control word.
  void** sp = reinterpret_cast<void**>(c) - 10;  // c is 64-aligned, so sp is 16-aligned
  std::uint32_t mxcsr = 0;
  std::uint16_t fcw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fcw));
  sp[0] = reinterpret_cast<void*>(static_cast<std::uintptr_t>(mxcsr) | (static_cast<std::uintptr_t>(fcw) << 32));
  sp[1] = nullptr;  // r15
  sp[2] = nullptr;  // r14
  sp[3] = nullptr;  // r13
  sp[4] = nullptr;  // r12
  sp[5] = c;        // rbx: the argument of refhammer_fiber_main
  sp[6] = nullptr;  // rbp: ends the frame-pointer chain
  sp[7] = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(&refhammer_fiber_start));
  sp[8] = nullptr;  // refhammer_fiber_start starts with rsp = &sp[8], 16-aligned
  sp[9] = nullptr;
  c->sp = sp;
#else
  if (!make_start_context(c)) {
    const int err = errno;
    destroy(c);
    throw std::system_error(err, std::generic_category(), "Fiber: getcontext");
  }
#endif
  c_ = c;
}

Fiber::~Fiber() {
  if (c_ != nullptr) destroy(c_);
}

Fiber::Fiber(Fiber&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}

Fiber& Fiber::operator=(Fiber&& other) noexcept {
  if (this != &other) {
    if (c_ != nullptr) destroy(c_);
    c_ = std::exchange(other.c_, nullptr);
  }
  return *this;
}

void Fiber::resume() noexcept {
  if (c_ == nullptr) die("resume() of an empty (moved-from) Fiber");
  resume_control(c_);
}

void Fiber::yield() noexcept {
  Control* c = t_current;
  if (c == nullptr) die("yield() called outside a fiber");
  c->state = State::kSuspended;
  switch_out(c);
  // Resumed: resume_control() has already set kRunning and t_current.
  if (c->abandon) exit_fiber(c);
}

const char* Fiber::implementation() noexcept { return REFHAMMER_FIBER_ASM ? "x86-64 asm" : "ucontext"; }

bool Fiber::in_fiber() noexcept { return t_current != nullptr; }

bool Fiber::finished() const noexcept { return c_ == nullptr || c_->state == State::kFinished; }

bool Fiber::started() const noexcept { return c_ != nullptr && c_->state != State::kReady; }

const void* Fiber::stack_lo() const noexcept { return c_ != nullptr ? c_->stack_lo : nullptr; }

std::size_t Fiber::stack_size() const noexcept { return c_ != nullptr ? c_->stack_size : 0; }

}  // namespace refhammer::harness

// The first C++ code on every fiber's stack (called by refhammer_fiber_start,
// or by ucontext_entry on the fallback path).
extern "C" void refhammer_fiber_main(Fiber::Control* c) {
#if REFHAMMER_FIBER_ASAN
  // First entry: no fake stack yet; learn the resumer's stack bounds.
  __sanitizer_finish_switch_fiber(nullptr, &c->caller_bottom, &c->caller_size);
#endif
  refhammer::harness::run_entry(c);
  refhammer::harness::exit_fiber(c);
}
