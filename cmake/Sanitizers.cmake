# Sanitizer and fuzzer flags, selected by the cache variable REFHAMMER_SANITIZE:
#
#   ""                   no sanitizer
#   "address,undefined"  ASan + UBSan, every UBSan finding is fatal
#   "thread"             TSan (needs the instrumented TBB from ci/build-tbb-tsan)
#   "fuzzer"             libraries and tests get ASan + UBSan + libFuzzer
#                        coverage instrumentation (fuzzer-no-link); only the
#                        executables made by refhammer_add_fuzzer() link the
#                        libFuzzer engine.  clang only.
#   "fuzzer-fast"        libFuzzer coverage instrumentation only, no ASan or
#                        UBSan: the throughput build (the harness's own oracle
#                        catches the model's errors; the campaign replays its
#                        crash files under the "fuzzer" build).  clang only.
#
# The flags are set at directory scope, before any subdirectory is added, so
# every target of the project (core, tests, ...) is built the same way.
#
# refhammer_add_fuzzer(<target> <source>...)
#   add_executable(<target> <source>...) that links refhammer_core (when that
#   target exists) and the fuzzing engine: $LIB_FUZZING_ENGINE when that is
#   set as a cache variable or in the environment at configure time (the
#   OSS-Fuzz convention), otherwise -fsanitize=fuzzer.  With the built-in
#   engine it also registers a ctest smoke test "<target>.smoke" (label "fuzz")
#   that runs 1000 generated inputs with a fixed seed.
include_guard(GLOBAL)

set(REFHAMMER_SANITIZE "" CACHE STRING
    "Sanitizers: \"\", \"address,undefined\", \"thread\" or \"fuzzer\"")
set_property(CACHE REFHAMMER_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread" "fuzzer" "fuzzer-fast")
set(LIB_FUZZING_ENGINE "" CACHE STRING
    "Link flags of an external fuzzing engine for refhammer_add_fuzzer() (overrides the LIB_FUZZING_ENGINE environment variable)")
option(REFHAMMER_ALLOW_UNINSTRUMENTED_TBB
       "Allow a TSan build against an uninstrumented (system) TBB; expect false race reports" OFF)

set(_refhammer_san_flags "")
if(REFHAMMER_SANITIZE STREQUAL "")
  # nothing
elseif(REFHAMMER_SANITIZE STREQUAL "address,undefined")
  set(_refhammer_san_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(REFHAMMER_SANITIZE STREQUAL "thread")
  set(_refhammer_san_flags -fsanitize=thread)
elseif(REFHAMMER_SANITIZE STREQUAL "fuzzer-fast")
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "REFHAMMER_SANITIZE=fuzzer-fast needs clang (g++ has no libFuzzer); "
                        "compiler is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  set(_refhammer_san_flags -fsanitize=fuzzer-no-link)
elseif(REFHAMMER_SANITIZE STREQUAL "fuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "REFHAMMER_SANITIZE=fuzzer needs clang (g++ has no libFuzzer); "
                        "compiler is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # No stack-use-after-return instrumentation here: every run makes fresh
  # fibers, each gets its own ASan fake stack, and mapping and faulting those
  # in was a quarter of a fuzz_program execution. The `asan` preset keeps it.
  set(_refhammer_san_flags -fsanitize=fuzzer-no-link,address,undefined
                           -fsanitize-address-use-after-return=never
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
else()
  message(FATAL_ERROR "REFHAMMER_SANITIZE='${REFHAMMER_SANITIZE}' is not one of "
                      "\"\", \"address,undefined\", \"thread\", \"fuzzer\", \"fuzzer-fast\"")
endif()

if(_refhammer_san_flags)
  add_compile_options(${_refhammer_san_flags})
  add_link_options(${_refhammer_san_flags})
endif()

# Called by the top-level CMakeLists.txt right after find_package(TBB).
# Debian's libtbb.so is not instrumented: TSan then reports 100+ false races
# per run, so a TSan build must use the TBB built by ci/build-tbb-tsan.
function(refhammer_check_tbb_for_tsan)
  if(NOT REFHAMMER_SANITIZE STREQUAL "thread" OR REFHAMMER_ALLOW_UNINSTRUMENTED_TBB)
    return()
  endif()
  if(NOT TBB_DIR OR TBB_DIR MATCHES "^/usr/")
    message(FATAL_ERROR
      "TSan build found an uninstrumented TBB (TBB_DIR=${TBB_DIR}).\n"
      "Run ci/build-tbb-tsan first and configure with "
      "-DTBB_DIR=<repo>/build/tbb-tsan-install/lib/cmake/TBB (the `tsan` preset does this), "
      "or set REFHAMMER_ALLOW_UNINSTRUMENTED_TBB=ON.")
  endif()
endfunction()

function(refhammer_add_fuzzer target)
  if(ARGC LESS 2)
    message(FATAL_ERROR "refhammer_add_fuzzer(${target}): no sources given")
  endif()
  if(LIB_FUZZING_ENGINE)
    set(_engine "${LIB_FUZZING_ENGINE}")
  elseif(NOT "$ENV{LIB_FUZZING_ENGINE}" STREQUAL "")
    set(_engine "$ENV{LIB_FUZZING_ENGINE}")
  else()
    set(_engine "")
  endif()

  add_executable(${target} ${ARGN})
  if(TARGET refhammer_core)
    target_link_libraries(${target} PRIVATE refhammer_core)
  endif()

  if(_engine)
    separate_arguments(_engine_args UNIX_COMMAND "${_engine}")
    target_link_options(${target} PRIVATE ${_engine_args})
  else()
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "refhammer_add_fuzzer(${target}): -fsanitize=fuzzer needs clang; "
                          "compiler is ${CMAKE_CXX_COMPILER_ID}")
    endif()
    # fuzzer-no-link is already on every TU in the `fuzz` preset; repeat it so
    # the harness TU is coverage-instrumented in other clang builds too.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    # The smoke: a few seconds from the seed corpus (corpora/<target>/, read
    # only: new inputs go to a scratch directory in the build tree) with the
    # target's dictionary; any finding fails the test.
    set(_corpus ${PROJECT_SOURCE_DIR}/corpora/${target})
    set(_dict ${PROJECT_SOURCE_DIR}/corpora/${target}.dict)
    set(_scratch ${CMAKE_CURRENT_BINARY_DIR}/smoke-${target})
    set(_args -runs=10000 -seed=1 -rss_limit_mb=2048 -timeout=20 -max_total_time=60 -print_final_stats=1)
    if(EXISTS ${_dict})
      list(APPEND _args -dict=${_dict})
    endif()
    set(_dirs ${_scratch})
    if(IS_DIRECTORY ${_corpus})
      list(APPEND _dirs ${_corpus})
    endif()
    add_test(NAME ${target}.smoke
             COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && shift && exec \"$@\"" smoke
                     ${_scratch} $<TARGET_FILE:${target}> ${_args} ${_dirs})
    set_tests_properties(${target}.smoke PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
endfunction()
