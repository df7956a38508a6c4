# Warning flags for every target in the project (directory scope, so the
# subdirectories inherit them without having to link anything).
# Headers of system packages (gtest, rapidcheck, TBB, benchmark) come in as
# system includes, so their warnings do not trip -Werror.
include_guard(GLOBAL)

if(CMAKE_CXX_COMPILER_ID MATCHES "Clang|GNU")
  add_compile_options(-Wall -Wextra -Wpedantic)
  if(REFHAMMER_WERROR)
    add_compile_options(-Werror)
  endif()
elseif(MSVC)
  add_compile_options(/W4)
  if(REFHAMMER_WERROR)
    add_compile_options(/WX)
  endif()
endif()
