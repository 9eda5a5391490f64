# SPDX-License-Identifier: MIT
#
# Sanitizer presets (STYLE.md, "Build and habits"): VGALLOC_SANITIZE is "", "address;undefined"
# or "thread" (any subset of address, undefined, leak, thread that the compilers allow).
#
#   vgalloc_apply_sanitizers()
#
# Adds -fsanitize=... -fno-omit-frame-pointer to the compile and link lines of every target
# created after the call in this directory and below, so libraries, tests and examples agree
# (mixing instrumented and plain objects breaks ASan's and TSan's runtime). UBSan is made fatal
# (-fno-sanitize-recover) so a test fails on the first undefined behaviour instead of printing.

include_guard(GLOBAL)

function(vgalloc_apply_sanitizers)
	if(NOT VGALLOC_SANITIZE)
		return()
	endif()
	set(known address undefined leak thread)
	foreach(s IN LISTS VGALLOC_SANITIZE)
		if(NOT s IN_LIST known)
			message(FATAL_ERROR "VGALLOC_SANITIZE: unknown sanitizer '${s}' "
				"(use \"address;undefined\" or \"thread\")")
		endif()
	endforeach()
	if("thread" IN_LIST VGALLOC_SANITIZE AND
	   ("address" IN_LIST VGALLOC_SANITIZE OR "leak" IN_LIST VGALLOC_SANITIZE))
		message(FATAL_ERROR "VGALLOC_SANITIZE: thread cannot be combined with address or leak")
	endif()

	list(JOIN VGALLOC_SANITIZE "," joined)
	set(flags -fsanitize=${joined} -fno-omit-frame-pointer)
	if("undefined" IN_LIST VGALLOC_SANITIZE)
		list(APPEND flags -fno-sanitize-recover=undefined)
	endif()
	add_compile_options(${flags})
	add_link_options(${flags})
	# Read by tests/install/run.sh: a consumer of an instrumented library links the runtime too.
	set(VGALLOC_SANITIZE_FLAGS "${flags}" PARENT_SCOPE)
	message(STATUS "vgalloc: sanitizers ${joined}")
endfunction()
