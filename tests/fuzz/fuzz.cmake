# SPDX-License-Identifier: MIT
#
# The libFuzzer targets of tests/fuzz/ as ctest tests (label "fuzz"), for the top-level tests
# block to include(). run.sh builds them with clang (ASan + UBSan, whatever compiler the project
# itself uses) in the fixture test fuzz_build; then each fuzz_<target> test replays the target's
# saved regression inputs and fuzzes it for its budget on its corpus, failing on any crash, leak
# or UBSan report. Budgets are in tests/fuzz/budgets.txt (fuzz_pool and fuzz_structs 60 s, the
# others 10 s: under 3 minutes in all); corpora are cached between runs in $VGALLOC_FUZZ_CACHE
# (default /var/cache/vgalloc-fuzz, see run.sh); seeds and artifacts stay in
# ${PROJECT_BINARY_DIR}/fuzz.
#
# VGALLOC_FUZZ_SECONDS (cache, default: the environment's VGALLOC_FUZZ_SECONDS at configure
# time, else empty) makes every target run that long instead of its budget; VGALLOC_FUZZ_SECONDS
# in the environment of a later ctest run overrides the duration again (with a larger value,
# pass ctest --timeout too). Not registered without clang or bash, or with
# -DVGALLOC_FUZZ_TESTS=OFF.

option(VGALLOC_FUZZ_TESTS "Register the fuzzers (tests/fuzz) as ctest tests when clang is found" ON)
set(_vgalloc_fuzz_help "Seconds every fuzzer runs in ctest (label fuzz); empty: \
each one's budget in tests/fuzz/budgets.txt")
# A build directory configured before the budgets cached the old default, 10 s for every
# target: forget that value (one set on purpose stays).
get_property(_vgalloc_fuzz_old_help CACHE VGALLOC_FUZZ_SECONDS PROPERTY HELPSTRING)
if(_vgalloc_fuzz_old_help STREQUAL "Seconds each fuzzer runs in ctest (label fuzz)" AND
   VGALLOC_FUZZ_SECONDS STREQUAL "10")
	unset(VGALLOC_FUZZ_SECONDS CACHE)
endif()
if(DEFINED ENV{VGALLOC_FUZZ_SECONDS})
	set(_vgalloc_fuzz_default "$ENV{VGALLOC_FUZZ_SECONDS}")
else()
	set(_vgalloc_fuzz_default "")
endif()
set(VGALLOC_FUZZ_SECONDS "${_vgalloc_fuzz_default}" CACHE STRING "${_vgalloc_fuzz_help}")
find_program(VGALLOC_FUZZ_CLANG NAMES clang clang-14 DOC "clang with libFuzzer, for tests/fuzz")
find_program(VGALLOC_FUZZ_BASH NAMES bash DOC "bash, for tests/fuzz/run.sh")

if(NOT VGALLOC_FUZZ_TESTS)
	return()
endif()
if(NOT VGALLOC_FUZZ_CLANG OR NOT VGALLOC_FUZZ_BASH)
	message(STATUS "vgalloc: no clang (or bash): the fuzz tests are not registered")
	return()
endif()
if(NOT VGALLOC_FUZZ_SECONDS MATCHES "^[0-9]*$")
	message(FATAL_ERROR "VGALLOC_FUZZ_SECONDS='${VGALLOC_FUZZ_SECONDS}' is no number of seconds")
endif()

# budgets.txt: "<target> <seconds>" lines and a "default" line.
set(_vgalloc_fuzz_budgets "${CMAKE_CURRENT_LIST_DIR}/budgets.txt")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_vgalloc_fuzz_budgets}")
file(STRINGS "${_vgalloc_fuzz_budgets}" _vgalloc_fuzz_lines REGEX "^[A-Za-z0-9_]+[ \t]+[0-9]+")
set(_vgalloc_fuzz_budget_default 10)
foreach(_line IN LISTS _vgalloc_fuzz_lines)
	string(REGEX MATCH "^([A-Za-z0-9_]+)[ \t]+([0-9]+)" _ "${_line}")
	set(_vgalloc_fuzz_budget_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
endforeach()

set(_vgalloc_fuzz_run "${CMAKE_CURRENT_LIST_DIR}/run.sh")
set(_vgalloc_fuzz_out "${PROJECT_BINARY_DIR}/fuzz")

add_test(NAME fuzz_build
	COMMAND "${VGALLOC_FUZZ_BASH}" "${_vgalloc_fuzz_run}" 0 "${_vgalloc_fuzz_out}")
set_tests_properties(fuzz_build PROPERTIES
	LABELS fuzz
	TIMEOUT 1200
	FIXTURES_SETUP vgalloc_fuzz
	ENVIRONMENT "CC=${VGALLOC_FUZZ_CLANG};VGALLOC_FUZZ_BUILD_ONLY=1")

file(GLOB _vgalloc_fuzz_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c")
foreach(_src IN LISTS _vgalloc_fuzz_sources)
	get_filename_component(_name "${_src}" NAME_WE)
	if(NOT VGALLOC_FUZZ_SECONDS STREQUAL "")
		set(_secs ${VGALLOC_FUZZ_SECONDS})
	elseif(DEFINED _vgalloc_fuzz_budget_${_name})
		set(_secs ${_vgalloc_fuzz_budget_${_name}})
	else()
		set(_secs ${_vgalloc_fuzz_budget_default})
	endif()
	# Start-up, a corpus minimisation, the regression replay and the final statistics take
	# far less than the margin.
	math(EXPR _timeout "${_secs} + 240")
	# "-": run.sh takes the duration from the environment, else VGALLOC_FUZZ_DEFAULT_SECONDS.
	add_test(NAME ${_name}
		COMMAND "${VGALLOC_FUZZ_BASH}" "${_vgalloc_fuzz_run}" - "${_vgalloc_fuzz_out}"
			${_name})
	# COST: ctest -j starts the long ones first, so they overlap with the short ones.
	set_tests_properties(${_name} PROPERTIES
		LABELS fuzz
		TIMEOUT ${_timeout}
		COST ${_secs}
		FIXTURES_REQUIRED vgalloc_fuzz
		ENVIRONMENT "CC=${VGALLOC_FUZZ_CLANG};VGALLOC_FUZZ_SKIP_BUILD=1")
	set_property(TEST ${_name} APPEND PROPERTY
		ENVIRONMENT "VGALLOC_FUZZ_DEFAULT_SECONDS=${_secs}")
endforeach()
