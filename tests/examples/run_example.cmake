# Runs an example binary and checks its output.
#   cmake -DEXE=path -DARGS="a;b" [-DCSV=path] -DEXPECT_RC=n -DEXPECT=regex
#         -P run_example.cmake
# With CSV set, the file must exist, have the trajectory header and at least
# 1000 rows.
if(DEFINED CSV)
  file(REMOVE "${CSV}")
endif()
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit status ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "output does not match '${EXPECT}'")
endif()
if(DEFINED CSV)
  if(NOT EXISTS "${CSV}")
    message(FATAL_ERROR "CSV ${CSV} was not written")
  endif()
  file(STRINGS "${CSV}" lines)
  list(LENGTH lines n)
  list(GET lines 0 header)
  if(NOT header STREQUAL "t,x,y,vx,vy,re,cd,x_ref,y_ref,vx_ref,vy_ref,re_ref,cd_ref")
    message(FATAL_ERROR "unexpected CSV header: ${header}")
  endif()
  if(n LESS 1001)
    message(FATAL_ERROR "CSV has only ${n} lines")
  endif()
  message("CSV ${CSV}: ${n} lines")
endif()
