// harness::Fiber — a stackful coroutine for the deterministic scheduler.
//
// The deterministic scheduler runs every actor as a Fiber on one OS thread
// and, at each sync point, switches from the running actor back to its own
// ("main") context, which picks who runs next:
//
//   main context                         fiber
//   ------------                         -----
//   f.resume()  ------------------------> entry(arg) starts, or continues
//                                         after the Fiber::yield() it left by
//               <------------------------ Fiber::yield()  (or entry returns:
//   resume() returns                      f.finished() becomes true)
//
// Each resume() is one switch in, each yield() (or the return of the entry)
// one switch out. The switch is a hand-written x86-64 SysV routine (fiber.cpp)
// that saves the callee-saved registers rbx, rbp, r12-r15, the stack pointer,
// the x87 control word and MXCSR: ~19 ns per switch, 50+ M switches/s
// (bench/fiber_bench.cpp). On other architectures it falls back to ucontext
// (swapcontext), which is correct but slow: glibc makes an rt_sigprocmask
// system call on every switch (~15x slower, ~3.6 M switches/s).
//
// Contract ("checked" = in every build, aborting with a message; "asserted"
// = assert(), debug builds only):
// - One OS thread. A fiber is resumed, yielded and destroyed only on the OS
//   thread that created it (asserted). Fibers do not migrate between threads,
//   so thread_locals behave as on that thread.
// - No nesting: resume() is called from the thread's main context, never from
//   inside a running fiber (checked). The scheduler runs one actor at a time
//   and every actor yields to the scheduler, not to another actor; a fiber
//   that runs another fiber is not supported.
// - yield() is called only from inside a running fiber (checked).
// - A finished fiber cannot be resumed (checked).
// - The entry must not throw: an exception that escapes it is caught by the
//   fiber's trampoline, reported on stderr, and std::terminate() is called.
//   Exceptions thrown and caught inside the fiber are fine, also across
//   yields, and so is yielding inside a catch block or a destructor run by
//   unwinding: each fiber keeps its own "exceptions being handled" state
//   (std::current_exception(), std::uncaught_exceptions(), `throw;`),
//   swapped on every resume.
// - Fibers are destroyed from the main context, never from inside a fiber
//   (checked). Destroying an unfinished fiber abandons it: its stack is
//   unmapped and the code on it never runs again. Destructors of the objects
//   on its stack do NOT run, so anything they own (heap memory, locks,
//   refcounts) leaks. The deterministic scheduler abandons the fibers of a
//   deadlocked run; their actors' ledgers, not their stacks, say what they
//   held.
// - Stacks come from mmap with a PROT_NONE guard page below the usable stack,
//   so an overflow faults (SIGSEGV; ASan reports "stack-overflow") instead of
//   running into a neighbour. Memory is reserved, not committed: a 256 KiB
//   stack costs only the pages it touches. Each fiber costs two mappings
//   (vm.max_map_count, 65530 by default, bounds the live fibers at ~32k).
//
// Sanitizers (detected at compile time; nothing to configure):
// - ASan: every switch is annotated with __sanitizer_start_switch_fiber /
//   __sanitizer_finish_switch_fiber, so stack-use-after-return, stack-overflow
//   and stack-buffer-overflow checks work on fiber stacks, in frames that stay
//   live across a yield too (with the asm switch only: ASan intercepts
//   swapcontext and unpoisons the whole target stack, so the ucontext fallback
//   misses overflows in frames live across a yield). Abandoning a suspended
//   fiber switches into it once more, straight out again with no user code
//   run, so that ASan frees its fake stack (detect_stack_use_after_return).
//   LSan: heap blocks reachable only from an abandoned fiber's stack are
//   reported as leaks at exit — free them from the actors' ledgers.
// - TSan: each fiber is a TSan fiber; every switch synchronises (flag 0 of
//   __tsan_switch_to_fiber), i.e. is a happens-before edge, matching the
//   one-at-a-time execution of the scheduler. Races between actors are
//   therefore invisible to TSan under this scheduler: run the model on real
//   threads (stress/) for TSan's view.
//
// Thread-compatible, not thread-safe: distinct Fibers may live on distinct
// threads; one Fiber is used by one thread.
#pragma once

#include <cstddef>

namespace refhammer::harness {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  static constexpr std::size_t kDefaultStackSize = 256 * 1024;

  // Maps the stack (rounded up to whole pages, plus one guard page) and
  // prepares the fiber to start entry(arg) at its first resume(); nothing runs
  // yet. Throws std::system_error if the stack cannot be mapped and
  // std::invalid_argument for a null entry or a stack smaller than 16 KiB.
  Fiber(Entry entry, void* arg, std::size_t stack_size = kDefaultStackSize);

  // Unmaps the stack. If the fiber is unfinished it is abandoned (see above).
  // Called from the main context (not from inside any fiber; checked).
  ~Fiber();

  // Movable (the state lives at the top of the fiber's own mapping, so moving
  // a Fiber moves one pointer, and a suspended fiber keeps running after its
  // handle moved). A moved-from Fiber is empty: finished() is true and it
  // must not be resumed. Move-assigning over an unfinished fiber abandons it.
  Fiber(Fiber&& other) noexcept;
  Fiber& operator=(Fiber&& other) noexcept;
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it yields or its entry returns. Allocation-free.
  void resume() noexcept;

  // Suspends the running fiber and returns to the context that resumed it.
  // Returns when the fiber is resumed again. Allocation-free.
  static void yield() noexcept;

  // True inside a running fiber (on this thread), false in the main context.
  static bool in_fiber() noexcept;

  // True once the entry has returned (or for an empty Fiber).
  bool finished() const noexcept;

  // True once the fiber has been resumed at least once.
  bool started() const noexcept;

  // The usable stack, [stack_lo, stack_lo + stack_size): the guard page is
  // the page right below stack_lo. For diagnostics (a SIGSEGV handler can tell
  // a fiber's stack overflow from other faults) and tests.
  const void* stack_lo() const noexcept;
  std::size_t stack_size() const noexcept;

  // "x86-64 asm" or "ucontext" — the switch compiled in (for banners, and for
  // tests of what only the asm switch can do: under ASan, glibc swapcontext is
  // intercepted and unpoisons the whole target stack, so a buffer overflow in
  // a frame that stayed live across a yield goes unreported).
  static const char* implementation() noexcept;

  struct Control;  // fiber.cpp; public only so that the trampoline can name it

 private:
  Control* c_ = nullptr;  // null only in a moved-from Fiber
};

}  // namespace refhammer::harness
