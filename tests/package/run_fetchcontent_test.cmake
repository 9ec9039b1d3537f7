# Packaging test: a consumer that gets maas with FetchContent from the local
# checkout's git repository (its HEAD commit: what a fresh clone has), then
# builds and runs it. Skipped outside a git checkout.
# Usage: cmake -DSOURCE=<maas source> -DWORK=<scratch dir> -P this
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
find_package(Git QUIET)
if(NOT GIT_FOUND OR NOT EXISTS ${SOURCE}/.git)
  message("MAAS_SKIPPED: ${SOURCE} is not a git checkout (or git is missing)")
  return()
endif()
execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE} rev-parse HEAD
                OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message("MAAS_SKIPPED: ${SOURCE} has no commit to fetch")
  return()
endif()
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/fetchcontent -B ${WORK}/consumer
    -DMAAS_GIT_REPOSITORY=${SOURCE} -DMAAS_GIT_TAG=${head})
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
message(STATUS "fetched maas at ${head}: ${last_out}")
