# Runs the MPI example with every rank's predictor on the KServe test server:
# reads the server's URL from its state file, then runs mpirun.
#   cmake -DSTATE=<kserve.state.json> -DMPIEXEC=<mpirun> -DEXE=<example> -P this
file(READ ${STATE} state)
string(JSON url GET "${state}" url)
execute_process(
  COMMAND ${MPIEXEC} -np 2 --allow-run-as-root --oversubscribe ${EXE}
          --cells 2000 --steps 20 --remote ${url}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun exited with ${rc}")
endif()
