# Compiles SOURCE as a user would, with warnings as errors, and fails on any
# diagnostic. Usage:
#   cmake -DCXX=... -DFLAGS="..." -DINCLUDES="dir;dir" -DSOURCE=... -P compile_consumer.cmake
separate_arguments(flag_list UNIX_COMMAND "${FLAGS}")
set(include_flags "")
foreach(dir IN LISTS INCLUDES)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND ${CXX} ${flag_list} ${include_flags} -c ${SOURCE} -o /dev/null
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT "${out}${err}" STREQUAL "")
  message(FATAL_ERROR "${SOURCE} with ${FLAGS}: not warning-free:\n${out}${err}")
endif()
message(STATUS "${SOURCE} with ${FLAGS}: no diagnostics")
