# Compiles SOURCE and passes only if compilation fails with a diagnostic
# matching EXPECT. Usage: cmake -DCXX=... -DFLAGS=... -DSOURCE=... -DEXPECT=... -P
separate_arguments(flag_list UNIX_COMMAND "${FLAGS}")
execute_process(
  COMMAND ${CXX} ${flag_list} -fsyntax-only ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SOURCE} failed without the expected message '${EXPECT}':\n${err}")
endif()
message(STATUS "${SOURCE}: rejected with '${EXPECT}' as expected")
