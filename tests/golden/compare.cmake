# SPDX-License-Identifier: MIT
#
# Run PROGRAM and compare its standard output with GOLDEN byte for byte.
# cmake -DPROGRAM=... -DGOLDEN=... -DACTUAL=<where to write the output> -P compare.cmake
# To accept a deliberate change: run the program and copy its output over the golden file.
execute_process(COMMAND "${PROGRAM}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
file(WRITE "${ACTUAL}" "${out}")
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${PROGRAM} exited with ${rc}; output in ${ACTUAL}")
endif()
file(READ "${GOLDEN}" want)
if(NOT out STREQUAL want)
	message(FATAL_ERROR "output differs from ${GOLDEN}: diff -u ${GOLDEN} ${ACTUAL}")
endif()
message(STATUS "matches ${GOLDEN}")
