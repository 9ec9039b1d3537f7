# Runs Clang's -Wthread-safety analysis on annotated_headers.cc; reports the
# test as skipped (MAAS_SKIPPED) when no clang++ is installed.
find_program(CLANGXX NAMES clang++-14 clang++)
if(NOT CLANGXX)
  message("MAAS_SKIPPED: no clang++ for the -Wthread-safety analysis")
  return()
endif()
execute_process(
  COMMAND ${CLANGXX} -std=c++17 -fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror
          -I${INCLUDE_DIR} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang -Wthread-safety failed:\n${out}${err}")
endif()
message("clang -Wthread-safety: no warnings")
