# clang source-based coverage: REFHAMMER_COVERAGE=ON instruments every target.
# Run the tests with LLVM_PROFILE_FILE set (the `coverage` test preset does
# this), then: llvm-profdata-19 merge -sparse *.profraw -o x.profdata &&
#              llvm-cov-19 report <binary> -instr-profile=x.profdata
include_guard(GLOBAL)

if(REFHAMMER_COVERAGE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "REFHAMMER_COVERAGE needs clang (source-based coverage); "
                        "compiler is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate -fcoverage-mapping)
endif()
