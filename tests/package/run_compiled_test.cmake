# Packaging test of the compiled parts: build and install maas with the C API
# and the Fortran module into a temporary prefix, then build and run a C and
# a Fortran consumer twice: with find_package(maas COMPONENTS c fortran), and
# with the compilers and pkg-config alone.
# Usage: cmake -DSOURCE=<maas source> -DWORK=<scratch dir> -DCC=<c compiler>
#              -DFC=<fortran compiler> -DGENERATOR=<generator> -P this
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/maas-build -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DMAAS_BUILD_TESTS=OFF -DMAAS_BUILD_EXAMPLES=OFF
    -DMAAS_BUILD_C_API=ON -DMAAS_BUILD_FORTRAN=ON -DMAAS_BUILD_CLI=OFF -DCMAKE_Fortran_COMPILER=${FC}
    -DCMAKE_INSTALL_PREFIX=${WORK}/prefix -DCMAKE_INSTALL_LIBDIR=lib)
run(${CMAKE_COMMAND} --build ${WORK}/maas-build)
run(${CMAKE_COMMAND} --install ${WORK}/maas-build)
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/package/compiled_consumer -B ${WORK}/consumer
    -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_C_COMPILER=${CC}
    -DCMAKE_Fortran_COMPILER=${FC})
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/c_consumer)
message(STATUS "find_package: ${last_out}")
run(${WORK}/consumer/fortran_consumer)
message(STATUS "find_package: ${last_out}")
run(sh ${SOURCE}/tests/package/compiled_consumer/pkg_config.sh ${CC} ${FC} ${WORK}/prefix lib ${WORK})
message(STATUS "pkg-config: ${last_out}")
