# SPDX-License-Identifier: MIT
#
# Run PROGRAM (it must exit 0) and compare its standard output, or only the lines of it that
# match LINES, with GOLDEN byte for byte.
# cmake -DPROGRAM=... -DGOLDEN=... -DACTUAL=<where to write what is compared>
#       [-DLINES=<regex>] -P compare.cmake
# The full output goes to ACTUAL.out. The driver-shaped examples are compared on their call
# trace (LINES = "^(  hook |  kernel |[^ ])": each step, then the hook and kernel calls it made,
# in order), not on what else they print. To accept a deliberate change, copy ACTUAL over GOLDEN.
foreach(_var PROGRAM GOLDEN ACTUAL)
	if(NOT DEFINED ${_var})
		message(FATAL_ERROR "compare.cmake: -D${_var}=... is required")
	endif()
endforeach()
get_filename_component(_dir "${ACTUAL}" DIRECTORY)
file(MAKE_DIRECTORY "${_dir}")
execute_process(COMMAND "${PROGRAM}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
file(WRITE "${ACTUAL}.out" "${out}")
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${PROGRAM} exited with ${rc}; output in ${ACTUAL}.out")
endif()
if(DEFINED LINES)
	file(STRINGS "${ACTUAL}.out" _lines REGEX "${LINES}")
	list(JOIN _lines "\n" out)
	string(APPEND out "\n")
endif()
file(WRITE "${ACTUAL}" "${out}")
file(READ "${GOLDEN}" want)
if(NOT out STREQUAL want)
	message(FATAL_ERROR "output differs from ${GOLDEN}: diff -u ${GOLDEN} ${ACTUAL}")
endif()
message(STATUS "matches ${GOLDEN}")
