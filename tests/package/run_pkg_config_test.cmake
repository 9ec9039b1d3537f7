# Packaging test: install maas into a temporary prefix, then build and run the
# consumer with `pkg-config --cflags --libs maas` and the compiler alone
# (tests/package/pkg_config_consumer.sh).
# Usage: cmake -DSOURCE=<maas source> -DWORK=<scratch dir> -DCXX=<compiler> -P this
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG_EXECUTABLE)
  message("MAAS_SKIPPED: pkg-config is not installed (apt-get install pkg-config)")
  return()
endif()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/maas-build -DMAAS_BUILD_TESTS=OFF
    -DMAAS_BUILD_EXAMPLES=OFF -DMAAS_BUILD_C_API=OFF -DMAAS_BUILD_FORTRAN=OFF -DMAAS_BUILD_CLI=OFF
    -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${WORK}/maas-build)
if(NOT EXISTS ${WORK}/prefix/share/pkgconfig/maas.pc)
  message(FATAL_ERROR "install did not produce share/pkgconfig/maas.pc")
endif()
run(sh ${SOURCE}/tests/package/pkg_config_consumer.sh ${CXX} ${WORK}/prefix ${WORK})
message(STATUS "${last_out}")
