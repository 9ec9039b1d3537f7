# Packaging test: install maas into a temporary prefix, build and run the
# consumer with find_package(maas); then build it with add_subdirectory.
# Usage: cmake -DSOURCE=<maas source> -DWORK=<scratch dir> -DMODE=<mode> -P this
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/maas-build -DMAAS_BUILD_TESTS=OFF -DMAAS_BUILD_C_API=OFF -DMAAS_BUILD_CLI=OFF
      -DMAAS_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK}/maas-build)
  if(NOT EXISTS ${WORK}/prefix/share/cmake/maas/maasConfigVersion.cmake)
    message(FATAL_ERROR "install did not produce maasConfigVersion.cmake")
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/consumer -B ${WORK}/consumer
      -DCMAKE_PREFIX_PATH=${WORK}/prefix -DMAAS_MODE=find_package)
else()
  run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/consumer -B ${WORK}/consumer
      -DMAAS_MODE=add_subdirectory -DMAAS_SOURCE_DIR=${SOURCE})
endif()
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
message(STATUS "${last_out}")
