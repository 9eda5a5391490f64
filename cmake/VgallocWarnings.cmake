# SPDX-License-Identifier: MIT
#
# The project's warning set (STYLE.md, "Build and habits"), applied per target so that
# vendored or third-party targets in a parent project are left alone.
#
#   vgalloc_target_warnings(<target>)
#
# C-only flags are wrapped in a generator expression so C++ targets (the header check) can use
# the same helper without "valid for C but not for C++" noise. VGALLOC_WERROR adds -Werror.

include_guard(GLOBAL)

set(VGALLOC_WARNING_FLAGS -Wall -Wextra -Wshadow -Wvla -Wundef)
set(VGALLOC_C_ONLY_WARNING_FLAGS -Wstrict-prototypes -Wmissing-prototypes)

function(vgalloc_target_warnings target)
	if(MSVC)
		target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${VGALLOC_WERROR}>:/WX>)
		return()
	endif()
	target_compile_options(${target} PRIVATE
		${VGALLOC_WARNING_FLAGS}
		"$<$<COMPILE_LANGUAGE:C>:${VGALLOC_C_ONLY_WARNING_FLAGS}>"
		$<$<BOOL:${VGALLOC_WERROR}>:-Werror>)
endfunction()
