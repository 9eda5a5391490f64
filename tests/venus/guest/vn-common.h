/* SPDX-License-Identifier: MIT */
/*
 * What every Venus-tier guest program shares: picking the Venus device, the validation messenger
 * and its counts, timing and percentiles, the preloaded ioctl counter, and RESULT/SUMMARY lines in
 * the format the tier's runner judges. Programs stay short and print the same way.
 */
#ifndef VN_COMMON_H
#define VN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "ioctl-count.h"

struct vn_ctx_options {
	bool want_device_address;  /* enable bufferDeviceAddress when the device has it */
	bool want_external_memory; /* enable VK_KHR_external_memory_fd / EXT dma_buf if offered */
	const char *app_name;
};

struct vn_ctx {
	VkInstance instance;
	VkPhysicalDevice phys;
	VkDevice device;
	VkQueue queue;
	uint32_t queue_family;
	VkCommandPool pool; /* for the main thread only */
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceDriverProperties driver;
	VkPhysicalDeviceMemoryProperties mem;
	VkDebugUtilsMessengerEXT messenger;
	bool validation;     /* VK_LAYER_KHRONOS_validation is active */
	bool device_address; /* bufferDeviceAddress enabled */
	bool capture_replay; /* bufferDeviceAddressCaptureReplay enabled */
	bool ext_memory_fd;  /* VK_KHR_external_memory_fd enabled */
	bool ext_dma_buf;    /* VK_EXT_external_memory_dma_buf enabled */
	PFN_vkGetMemoryFdKHR get_memory_fd;
	PFN_vkGetMemoryFdPropertiesKHR get_memory_fd_properties;
};

/* Create instance (with the messenger when the layer is on), the Venus device and one queue.
 * VN_ALLOW_ANY_DEVICE=1 accepts a non-Venus device (to try a program on lavapipe). */
int vn_ctx_create(struct vn_ctx *ctx, const struct vn_ctx_options *opts);
void vn_ctx_destroy(struct vn_ctx *ctx);

/* Index of the first memory type in type_bits with all of flags, or -1. */
int vn_find_memory_type(const struct vn_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags flags);

/* One-shot command buffers on the main pool: begin, then end + submit + wait + free. */
VkCommandBuffer vn_cmd_begin(struct vn_ctx *ctx);
VkResult vn_cmd_submit_wait(struct vn_ctx *ctx, VkCommandBuffer cmd);

/* Validation messages seen so far (errors, warnings), counted by the messenger. */
void vn_validation_counts(uint64_t *errors, uint64_t *warnings);
/* Prints "VALIDATION-SUMMARY errors=N warnings=M layer=on|off"; call after vn_ctx_destroy() so
 * messages from device and instance teardown are counted. */
void vn_validation_summary(bool layer_on);

/* Monotonic time in microseconds. */
double vn_now_us(void);

/* Percentiles of n samples (sorted in place): nearest-rank p50, p99, and the mean. */
struct vn_stats {
	double p50, p99, mean, max;
	size_t n;
};
struct vn_stats vn_stats_of(double *samples, size_t n);
/* "MEASURE name p50=… p99=… mean=… max=… n=…" in µs. */
void vn_print_stats(const char *name, double *samples, size_t n);

/* The preloaded counter, or false without LD_PRELOAD of libioctl-count.so. */
bool vn_counts_read(struct vn_ioctl_counts *out);
/* "COUNT name create_blob=… map=… mmap=… gem_close=… execbuffer=… …" as after - before. */
void vn_print_counts(const char *name, const struct vn_ioctl_counts *before,
                     const struct vn_ioctl_counts *after);

/* RESULT lines; vn_failures() is what SUMMARY reports. */
void vn_result(const char *name, bool pass, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void vn_skip(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vn_failures(void);
/* Prints "SUMMARY failures=N" and returns the exit code (0 when none failed). */
int vn_summary(void);

/* A byte pattern that differs per seed and per position. */
static inline uint8_t vn_pattern(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed * 0xD1B54A32D192ED03ull);
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17));
}
void vn_fill_pattern(void *dst, size_t len, uint32_t seed, uint64_t first);
/* Offset of the first byte that differs from the pattern, or -1. */
long long vn_check_pattern(const void *src, size_t len, uint32_t seed, uint64_t first);

#define VN_CHECK_VK(call)                                                                        \
	do {                                                                                     \
		VkResult vn_r_ = (call);                                                         \
		if (vn_r_ != VK_SUCCESS) {                                                       \
			printf("ERROR %s:%d %s -> %d\n", __FILE__, __LINE__, #call, (int)vn_r_); \
			return vn_r_;                                                            \
		}                                                                                \
	} while (0)

#endif
