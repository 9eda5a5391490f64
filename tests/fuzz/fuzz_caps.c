/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: every capset parser on arbitrary bytes, from a device (present-or-zero) and
 * from a file (exact length). Host bytes are untrusted: nothing may crash, read out of bounds or
 * accept a value the parser is documented to refuse.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgalloc_capset_info info;
	uint32_t id;

	if (size < 1) {
		return 0;
	}
	id = data[0] % 12;
	for (uint32_t source = 1; source <= 2; source++) {
		memset(&info, 0xa5, sizeof(info));
		info.struct_size = sizeof(info);
		/* The parser gets exactly the remaining bytes: ASan catches any read past them. */
		if (!vgalloc_capset_parse(id, data + 1, (uint32_t)(size - 1), source, &info)) {
			if (info.id != id || info.present_fields > 64) {
				__builtin_trap();
			}
			if (id == VGALLOC_CAPSET_VENUS &&
			    (info.u.venus.wire_format_version == 0 || info.u.venus.use_guest_vram > 1)) {
				__builtin_trap();
			}
		}
	}
	return 0;
}
