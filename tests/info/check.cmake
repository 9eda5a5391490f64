# SPDX-License-Identifier: MIT
#
# vgalloc-info's capset modes as a user runs them: exit codes, text lines and JSON fields (read
# with string(JSON), so no tool beyond CMake is needed). One case per ctest test:
# cmake -DINFO=<vgalloc-info> -DFIXTURES=<tests/fixtures/capsets> -DWORK=<scratch dir>
#       -DCASE=<capset_id_not_guessed|what_if_text|what_if_json|what_if_short_capset> -P check.cmake

foreach(_var INFO FIXTURES WORK CASE)
	if(NOT DEFINED ${_var})
		message(FATAL_ERROR "check.cmake: -D${_var}=... is required")
	endif()
endforeach()
file(MAKE_DIRECTORY "${WORK}")

# run(<want exit code> <args>...): sets out, err and rc.
macro(run want)
	execute_process(COMMAND "${INFO}" ${ARGN}
		OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
	string(JOIN " " _cmd ${ARGN})
	if(NOT rc STREQUAL "${want}")
		message(SEND_ERROR "vgalloc-info ${_cmd}: exit ${rc}, expected ${want}\n"
			"stdout:\n${out}\nstderr:\n${err}")
	else()
		message(STATUS "vgalloc-info ${_cmd}: exit ${rc}")
	endif()
endmacro()

# expect(<variable> MATCHES|NOT_MATCHES <regex> <what>)
function(expect var how regex what)
	set(text "${${var}}")
	if(how STREQUAL "MATCHES" AND NOT text MATCHES "${regex}")
		message(SEND_ERROR "${what}: ${var} does not match '${regex}':\n${text}")
	elseif(how STREQUAL "NOT_MATCHES" AND text MATCHES "${regex}")
		message(SEND_ERROR "${what}: ${var} matches '${regex}':\n${text}")
	endif()
endfunction()

# expect_json(<json> <want> <member path>...): the member is the string or number <want>.
function(expect_json json want)
	string(JSON got ERROR_VARIABLE jerr GET "${json}" ${ARGN})
	string(JOIN "." path ${ARGN})
	if(jerr)
		message(SEND_ERROR "JSON ${path}: ${jerr}")
	elseif(NOT got STREQUAL "${want}")
		message(SEND_ERROR "JSON ${path} is '${got}', expected '${want}'")
	endif()
endfunction()

set(venus160 "${FIXTURES}/venus-160-guestvram1.bin")
set(classes "device-local" "host-visible coherent" "host-visible cached" "dma-buf export"
	"import" "device-address")

if(CASE STREQUAL "capset_id_not_guessed")
	# The first 24 bytes of a Venus capset: the size of a DRM capset head, and Venus's words
	# read as a plausible msm one. Nothing may decode it without --capset-id.
	set(cut "${WORK}/venus-160-cut-24.bin")
	execute_process(COMMAND head -c 24 "${venus160}" OUTPUT_FILE "${cut}" RESULT_VARIABLE hrc)
	file(SIZE "${cut}" cut_size)
	if(NOT hrc EQUAL 0 OR NOT cut_size EQUAL 24)
		message(FATAL_ERROR "could not cut ${venus160} to 24 bytes")
	endif()
	foreach(json "" "--json")
		run(2 ${json} --capset "${cut}")
		expect(out NOT_MATCHES "drm|msm|capset 6" "24-byte cut ${json}: nothing decoded")
		expect(out MATCHES "^$" "24-byte cut ${json}: no output on stdout")
		expect(err MATCHES "pass --capset-id" "24-byte cut ${json}: says what to do")
		expect(err MATCHES "start of a venus \\(4\\) capset" "24-byte cut: the Venus hint")
	endforeach()
	# Stated as Venus, it is what it is: a truncated Venus capset.
	run(1 --capset "${cut}" --capset-id 4)
	expect(err MATCHES "truncated" "24-byte cut as Venus")
	# A whole DRM capset head is not guessed either; given, it decodes with certainty.
	run(2 --capset "${FIXTURES}/drm-24.bin")
	run(0 --json --capset "${FIXTURES}/drm-24.bin" --capset-id 6)
	expect_json("${out}" "--capset-id" id_choice from)
	expect_json("${out}" "certain" id_choice confidence)
	expect_json("${out}" "6" capset id)
	# An inferred id says so, with its rule and how sure it is, in text and JSON.
	run(0 --capset "${venus160}")
	expect(out MATCHES
		"capset id 4 \\(venus\\): inferred, confidence probable;[^\n]*\n  by the rule venus: 148"
		"inferred Venus, text")
	run(0 --json --capset "${venus160}")
	expect_json("${out}" "4" id_choice id)
	expect_json("${out}" "inferred" id_choice from)
	expect_json("${out}" "probable" id_choice confidence)
	string(JSON rule GET "${out}" id_choice rule)
	expect(rule MATCHES "^venus: 148\\.\\.4096 bytes" "inferred Venus, JSON rule")
	# --help documents the rule.
	run(0 --help)
	expect(out MATCHES "venus \\(4\\) +148\\.\\.4096 bytes" "usage lists the venus rule")
	expect(out MATCHES "exits 2: pass[ \n]+--capset-id" "usage says when the id must be given")
elseif(CASE STREQUAL "what_if_text")
	run(0 --what-if --capset "${venus160}")
	expect(out MATCHES "\n  profile +static\n" "the hypervisor profile follows the capset")
	expect(out MATCHES "\n  alloc_mode +guest-first\n" "guest-first")
	expect(out MATCHES "\n  mode_reason +capset\n" "decided by the capset")
	expect(out MATCHES "\n  reason +the Venus capset says use_guest_vram = 1\n"
		"the reason vgalloc_plan_explain gives")
	foreach(class IN LISTS classes)
		expect(out MATCHES "\n\\[${class}\\] [0-9]+ bytes, host memory type [0-9]\n  path +"
			"a plan for ${class}")
	endforeach()
	expect(out MATCHES "\\[host-visible coherent\\][^[]*\n  path +guest-first\n"
		"host-visible memory goes guest-first")
	expect(out MATCHES "\\[host-visible coherent\\][^[]*\n  trial +ok \\(alloc, first map"
		"the plan runs on the mock")
	expect(out NOT_MATCHES "FAILED" "no trial failed")
	expect(out MATCHES "\n  order_violations +0\n" "no order violation")
elseif(CASE STREQUAL "what_if_json")
	run(0 --json --what-if --capset "${venus160}")
	expect_json("${out}" "4" id_choice id)
	expect_json("${out}" "1" capset use_guest_vram)
	expect_json("${out}" "static" host profile)
	expect_json("${out}" "guest-first" device alloc_mode)
	expect_json("${out}" "capset" device mode_reason)
	expect_json("${out}" "the Venus capset says use_guest_vram = 1" device reason)
	expect_json("${out}" "venus" device "context capset")
	string(JSON nplans ERROR_VARIABLE jerr LENGTH "${out}" plans)
	list(LENGTH classes nclasses)
	if(jerr OR NOT nplans EQUAL nclasses)
		message(SEND_ERROR "JSON plans: ${nplans} entries (${jerr}), expected ${nclasses}")
	else()
		math(EXPR last "${nplans} - 1")
		foreach(i RANGE ${last})
			list(GET classes ${i} class)
			expect_json("${out}" "${class}" plans ${i} class)
			foreach(member path blob_mem blob_flags size suballocate reasons trial)
				string(JSON v ERROR_VARIABLE jerr GET "${out}" plans ${i} ${member})
				if(jerr OR v STREQUAL "")
					message(SEND_ERROR "JSON plans.${i}.${member} missing")
				endif()
			endforeach()
		endforeach()
	endif()
	expect_json("${out}" "host-only" plans 0 path)
	expect_json("${out}" "guest-first" plans 1 path)
	expect_json("${out}" "HOST3D" plans 1 blob_mem)
	expect_json("${out}" "guest-first" plans 3 path)
	expect_json("${out}" "import" plans 4 path)
	string(JSON trial GET "${out}" plans 1 trial)
	expect(trial MATCHES "^ok \\(alloc, first map, write, free\\)$" "plans.1.trial")
	expect_json("${out}" "0" trials failed)
	expect_json("${out}" "0" trials order_violations)
	expect_json("${out}" "0" trials leaked_blobs)
elseif(CASE STREQUAL "what_if_short_capset")
	# venus-156-guestvram1.bin holds the first 156 bytes of a use_guest_vram = 1 host: the field
	# is not in them, a guest reads 0, so guests go host-first, and the output says why.
	run(0 --json --what-if --capset "${FIXTURES}/venus-156-guestvram1.bin")
	expect_json("${out}" "host-first" device alloc_mode)
	expect_json("${out}" "default" device mode_reason)
	expect_json("${out}" "injecting" host profile)
	string(JSON note ERROR_VARIABLE jerr GET "${out}" host note)
	expect(note MATCHES "past the file's 156 bytes: a guest reads 0" "host.note")
	expect_json("${out}" "0" trials failed)
	# A profile given by hand is kept even against the capset: a host whose hypervisor cannot
	# do what its capset promises fails the trials, and the exit code says so.
	run(1 --what-if --profile injecting --capset "${venus160}")
	expect(out MATCHES "\n  profile_from +--profile\n" "the profile given is used")
	expect(out MATCHES "trial +FAILED at first map" "guest-first on an injecting host fails")
	# --what-if models Vulkan contexts only, and needs a capset.
	run(2 --what-if --capset "${FIXTURES}/virgl-308.bin")
	run(2 --what-if)
else()
	message(FATAL_ERROR "check.cmake: unknown CASE '${CASE}'")
endif()
