/* SPDX-License-Identifier: MIT */
/*
 * The Venus-tier programs' shared code (see vn-common.h): device setup on the Venus ICD, the
 * debug-utils messenger that counts validation messages, timing, the ioctl counter and result
 * lines.
 */
#define _GNU_SOURCE
#include "vn-common.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VN_LAYER_NAME "VK_LAYER_KHRONOS_validation"
/* Messages printed in full before only counting; a broken program must not flood the console. */
#define VN_MAX_PRINTED_MESSAGES 40

static atomic_ullong validation_errors;
static atomic_ullong validation_warnings;
static atomic_int failures;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
	unsigned long long n;
	const char *kind;

	(void)types;
	(void)user;
	/* The loader says which layers VK_INSTANCE_LAYERS added: true, and not a finding. */
	if (data->pMessageIdName && !strcmp(data->pMessageIdName, "Loader Message")) {
		return VK_FALSE;
	}
	if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
		n = atomic_fetch_add(&validation_errors, 1);
		kind = "error";
	} else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
		n = atomic_fetch_add(&validation_warnings, 1);
		kind = "warning";
	} else {
		return VK_FALSE;
	}
	if (n < VN_MAX_PRINTED_MESSAGES) {
		printf("VALIDATION %s %s: %.400s\n", kind,
		       data->pMessageIdName ? data->pMessageIdName : "-",
		       data->pMessage ? data->pMessage : "");
		fflush(stdout);
	}
	return VK_FALSE;
}

void vn_validation_counts(uint64_t *errors, uint64_t *warnings)
{
	*errors = atomic_load(&validation_errors);
	*warnings = atomic_load(&validation_warnings);
}

void vn_validation_summary(bool layer_on)
{
	printf("VALIDATION-SUMMARY errors=%llu warnings=%llu layer=%s\n",
	       (unsigned long long)atomic_load(&validation_errors),
	       (unsigned long long)atomic_load(&validation_warnings), layer_on ? "on" : "off");
}

/* The layer is on when the loader was asked for it (VK_INSTANCE_LAYERS) and it is installed. */
static bool layer_requested(void)
{
	const char *env = getenv("VK_INSTANCE_LAYERS");

	return env && strstr(env, VN_LAYER_NAME);
}

static bool instance_has_extension(const char *layer, const char *name)
{
	uint32_t n = 0;
	VkExtensionProperties *props;
	bool found = false;

	if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || !n) {
		return false;
	}
	props = calloc(n, sizeof(*props));
	if (props && vkEnumerateInstanceExtensionProperties(layer, &n, props) == VK_SUCCESS) {
		for (uint32_t i = 0; i < n && !found; i++) {
			found = !strcmp(props[i].extensionName, name);
		}
	}
	free(props);
	return found;
}

static bool device_has_extension(VkPhysicalDevice phys, const char *name)
{
	uint32_t n = 0;
	VkExtensionProperties *props;
	bool found = false;

	if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS || !n) {
		return false;
	}
	props = calloc(n, sizeof(*props));
	if (props && vkEnumerateDeviceExtensionProperties(phys, NULL, &n, props) == VK_SUCCESS) {
		for (uint32_t i = 0; i < n && !found; i++) {
			found = !strcmp(props[i].extensionName, name);
		}
	}
	free(props);
	return found;
}

static VkResult pick_device(struct vn_ctx *ctx)
{
	uint32_t n = 0;
	VkPhysicalDevice devs[8];
	bool any = getenv("VN_ALLOW_ANY_DEVICE") && !strcmp(getenv("VN_ALLOW_ANY_DEVICE"), "1");

	VN_CHECK_VK(vkEnumeratePhysicalDevices(ctx->instance, &n, NULL));
	if (n > 8) {
		n = 8;
	}
	VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &n, devs);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		return r;
	}
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceDriverProperties drv = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES
		};
		VkPhysicalDeviceProperties2 p2 = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv
		};
		vkGetPhysicalDeviceProperties2(devs[i], &p2);
		if (drv.driverID == VK_DRIVER_ID_MESA_VENUS || any) {
			ctx->phys = devs[i];
			ctx->props = p2.properties;
			ctx->driver = drv;
			ctx->driver.pNext = NULL;
			return VK_SUCCESS;
		}
		printf("INFO skipping device %s (driver id %d)\n", p2.properties.deviceName,
		       (int)drv.driverID);
	}
	printf("ERROR no Venus device among %u\n", n);
	return VK_ERROR_INITIALIZATION_FAILED;
}

int vn_ctx_create(struct vn_ctx *ctx, const struct vn_ctx_options *opts)
{
	const char *inst_exts[2];
	uint32_t n_inst_exts = 0;
	bool debug_utils;

	memset(ctx, 0, sizeof(*ctx));
	ctx->validation =
	        layer_requested() && instance_has_extension(VN_LAYER_NAME, "VK_EXT_debug_utils");
	if (layer_requested() && !ctx->validation) {
		printf("ERROR VK_INSTANCE_LAYERS asks for %s but it is not installed\n",
		       VN_LAYER_NAME);
		return VK_ERROR_LAYER_NOT_PRESENT;
	}
	debug_utils = ctx->validation || instance_has_extension(NULL, "VK_EXT_debug_utils");
	if (debug_utils) {
		inst_exts[n_inst_exts++] = "VK_EXT_debug_utils";
	}

	VkDebugUtilsMessengerCreateInfoEXT mci = {
		.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
		.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
		                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
		.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
		               VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
		               VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
		.pfnUserCallback = on_message,
	};
	VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		                  .pApplicationName = opts->app_name,
		                  .apiVersion = VK_API_VERSION_1_2 };
	VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		                     .pNext = debug_utils ? &mci : NULL,
		                     .pApplicationInfo = &app,
		                     .enabledExtensionCount = n_inst_exts,
		                     .ppEnabledExtensionNames = inst_exts };
	VN_CHECK_VK(vkCreateInstance(&ici, NULL, &ctx->instance));
	if (debug_utils) {
		PFN_vkCreateDebugUtilsMessengerEXT create =
		        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
		                ctx->instance, "vkCreateDebugUtilsMessengerEXT");
		if (create) {
			VN_CHECK_VK(create(ctx->instance, &mci, NULL, &ctx->messenger));
		}
	}
	VN_CHECK_VK(pick_device(ctx));
	if (ctx->props.apiVersion < VK_API_VERSION_1_2) {
		printf("ERROR device API %u.%u < 1.2\n",
		       VK_API_VERSION_MAJOR(ctx->props.apiVersion),
		       VK_API_VERSION_MINOR(ctx->props.apiVersion));
		return VK_ERROR_INCOMPATIBLE_DRIVER;
	}
	vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->mem);

	uint32_t nq = 0;
	VkQueueFamilyProperties qf[16];
	vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, NULL);
	nq = nq > 16 ? 16 : nq;
	vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, qf);
	ctx->queue_family = UINT32_MAX;
	for (uint32_t i = 0; i < nq; i++) {
		if (qf[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) {
			ctx->queue_family = i;
			break;
		}
	}
	if (ctx->queue_family == UINT32_MAX) {
		printf("ERROR no graphics or compute queue\n");
		return VK_ERROR_INITIALIZATION_FAILED;
	}

	VkPhysicalDeviceVulkan12Features have12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
	};
	VkPhysicalDeviceFeatures2 have = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
		                           .pNext = &have12 };
	vkGetPhysicalDeviceFeatures2(ctx->phys, &have);
	VkPhysicalDeviceVulkan12Features want12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
	};
	if (opts->want_device_address && have12.bufferDeviceAddress) {
		want12.bufferDeviceAddress = VK_TRUE;
		ctx->device_address = true;
		if (have12.bufferDeviceAddressCaptureReplay) {
			want12.bufferDeviceAddressCaptureReplay = VK_TRUE;
			ctx->capture_replay = true;
		}
	}

	const char *dev_exts[4];
	uint32_t n_dev_exts = 0;
	if (opts->want_external_memory &&
	    device_has_extension(ctx->phys, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME)) {
		dev_exts[n_dev_exts++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
		ctx->ext_memory_fd = true;
		if (device_has_extension(ctx->phys,
		                         VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME)) {
			dev_exts[n_dev_exts++] = VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME;
			ctx->ext_dma_buf = true;
		}
	}

	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		                        .queueFamilyIndex = ctx->queue_family,
		                        .queueCount = 1,
		                        .pQueuePriorities = &prio };
	VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		                   .pNext = &want12,
		                   .queueCreateInfoCount = 1,
		                   .pQueueCreateInfos = &qci,
		                   .enabledExtensionCount = n_dev_exts,
		                   .ppEnabledExtensionNames = dev_exts };
	VN_CHECK_VK(vkCreateDevice(ctx->phys, &dci, NULL, &ctx->device));
	vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
	if (ctx->ext_memory_fd) {
		ctx->get_memory_fd =
		        (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(ctx->device, "vkGetMemoryFdKHR");
		ctx->get_memory_fd_properties = (PFN_vkGetMemoryFdPropertiesKHR)vkGetDeviceProcAddr(
		        ctx->device, "vkGetMemoryFdPropertiesKHR");
	}

	VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		                        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		                        .queueFamilyIndex = ctx->queue_family };
	VN_CHECK_VK(vkCreateCommandPool(ctx->device, &pci, NULL, &ctx->pool));
	printf("INFO device \"%s\" driver \"%s\" (%s) api %u.%u.%u validation=%s\n",
	       ctx->props.deviceName, ctx->driver.driverName, ctx->driver.driverInfo,
	       VK_API_VERSION_MAJOR(ctx->props.apiVersion),
	       VK_API_VERSION_MINOR(ctx->props.apiVersion),
	       VK_API_VERSION_PATCH(ctx->props.apiVersion), ctx->validation ? "on" : "off");
	fflush(stdout);
	return VK_SUCCESS;
}

void vn_ctx_destroy(struct vn_ctx *ctx)
{
	if (ctx->device) {
		vkDeviceWaitIdle(ctx->device);
		if (ctx->pool) {
			vkDestroyCommandPool(ctx->device, ctx->pool, NULL);
		}
		vkDestroyDevice(ctx->device, NULL);
	}
	if (ctx->messenger) {
		PFN_vkDestroyDebugUtilsMessengerEXT destroy =
		        (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
		                ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
		if (destroy) {
			destroy(ctx->instance, ctx->messenger, NULL);
		}
	}
	if (ctx->instance) {
		vkDestroyInstance(ctx->instance, NULL);
	}
	memset(ctx, 0, sizeof(*ctx));
}

int vn_find_memory_type(const struct vn_ctx *ctx, uint32_t type_bits, VkMemoryPropertyFlags flags)
{
	for (uint32_t i = 0; i < ctx->mem.memoryTypeCount; i++) {
		if ((type_bits & (1u << i)) &&
		    (ctx->mem.memoryTypes[i].propertyFlags & flags) == flags) {
			return (int)i;
		}
	}
	return -1;
}

VkCommandBuffer vn_cmd_begin(struct vn_ctx *ctx)
{
	VkCommandBuffer cmd = VK_NULL_HANDLE;
	VkCommandBufferAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		                           .commandPool = ctx->pool,
		                           .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		                           .commandBufferCount = 1 };
	VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		                        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };

	if (vkAllocateCommandBuffers(ctx->device, &ai, &cmd) != VK_SUCCESS) {
		return VK_NULL_HANDLE;
	}
	if (vkBeginCommandBuffer(cmd, &bi) != VK_SUCCESS) {
		vkFreeCommandBuffers(ctx->device, ctx->pool, 1, &cmd);
		return VK_NULL_HANDLE;
	}
	return cmd;
}

VkResult vn_cmd_submit_wait(struct vn_ctx *ctx, VkCommandBuffer cmd)
{
	VkFence fence = VK_NULL_HANDLE;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		            .commandBufferCount = 1,
		            .pCommandBuffers = &cmd };
	VkResult r = vkEndCommandBuffer(cmd);

	if (r == VK_SUCCESS) {
		r = vkCreateFence(ctx->device, &fci, NULL, &fence);
	}
	if (r == VK_SUCCESS) {
		r = vkQueueSubmit(ctx->queue, 1, &si, fence);
	}
	if (r == VK_SUCCESS) {
		r = vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX);
	}
	if (fence) {
		vkDestroyFence(ctx->device, fence, NULL);
	}
	vkFreeCommandBuffers(ctx->device, ctx->pool, 1, &cmd);
	return r;
}

double vn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct vn_stats vn_stats_of(double *samples, size_t n)
{
	struct vn_stats s = { .n = n };
	double sum = 0;

	if (!n) {
		return s;
	}
	qsort(samples, n, sizeof(*samples), cmp_double);
	for (size_t i = 0; i < n; i++) {
		sum += samples[i];
	}
	/* Nearest rank: the smallest sample with at least p% of the samples at or below it. */
	s.p50 = samples[(n * 50 + 99) / 100 - 1];
	s.p99 = samples[(n * 99 + 99) / 100 - 1];
	s.mean = sum / (double)n;
	s.max = samples[n - 1];
	return s;
}

void vn_print_stats(const char *name, double *samples, size_t n)
{
	struct vn_stats s = vn_stats_of(samples, n);

	printf("MEASURE %s p50=%.1f p99=%.1f mean=%.1f max=%.1f n=%zu\n", name, s.p50, s.p99,
	       s.mean, s.max, s.n);
	fflush(stdout);
}

bool vn_counts_read(struct vn_ioctl_counts *out)
{
	static vn_ioctl_count_snapshot_fn snapshot;
	static bool looked_up;

	if (!looked_up) {
		snapshot = (vn_ioctl_count_snapshot_fn)dlsym(RTLD_DEFAULT, VN_IOCTL_COUNT_SNAPSHOT);
		looked_up = true;
	}
	memset(out, 0, sizeof(*out));
	if (!snapshot) {
		return false;
	}
	snapshot(out);
	return true;
}

void vn_print_counts(const char *name, const struct vn_ioctl_counts *before,
                     const struct vn_ioctl_counts *after)
{
	struct vn_ioctl_counts probe;
	const uint64_t *a = after->v, *b = before->v;

	if (!vn_counts_read(&probe)) {
		printf("COUNT %s unavailable (no LD_PRELOAD counter)\n", name);
		return;
	}
	printf("COUNT %s create_blob=%llu map=%llu mmap=%llu gem_close=%llu execbuffer=%llu "
	       "wait=%llu resource_info=%llu prime=%llu drm_ioctl=%llu\n",
	       name, (unsigned long long)(a[VN_COUNT_CREATE_BLOB] - b[VN_COUNT_CREATE_BLOB]),
	       (unsigned long long)(a[VN_COUNT_MAP] - b[VN_COUNT_MAP]),
	       (unsigned long long)(a[VN_COUNT_MMAP] - b[VN_COUNT_MMAP]),
	       (unsigned long long)(a[VN_COUNT_GEM_CLOSE] - b[VN_COUNT_GEM_CLOSE]),
	       (unsigned long long)(a[VN_COUNT_EXECBUFFER] - b[VN_COUNT_EXECBUFFER]),
	       (unsigned long long)(a[VN_COUNT_WAIT] - b[VN_COUNT_WAIT]),
	       (unsigned long long)(a[VN_COUNT_RESOURCE_INFO] - b[VN_COUNT_RESOURCE_INFO]),
	       (unsigned long long)(a[VN_COUNT_PRIME] - b[VN_COUNT_PRIME]),
	       (unsigned long long)(a[VN_COUNT_DRM_IOCTL] - b[VN_COUNT_DRM_IOCTL]));
	fflush(stdout);
}

void vn_result(const char *name, bool pass, const char *fmt, ...)
{
	va_list ap;

	if (!pass) {
		atomic_fetch_add(&failures, 1);
	}
	printf("RESULT %s %s ", name, pass ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void vn_skip(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s SKIP ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int vn_failures(void)
{
	return atomic_load(&failures);
}

int vn_summary(void)
{
	int n = atomic_load(&failures);

	printf("SUMMARY failures=%d\n", n);
	fflush(stdout);
	return n ? 1 : 0;
}

void vn_fill_pattern(void *dst, size_t len, uint32_t seed, uint64_t first)
{
	uint8_t *p = dst;

	for (size_t i = 0; i < len; i++) {
		p[i] = vn_pattern(seed, first + i);
	}
}

long long vn_check_pattern(const void *src, size_t len, uint32_t seed, uint64_t first)
{
	const uint8_t *p = src;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != vn_pattern(seed, first + i)) {
			return (long long)i;
		}
	}
	return -1;
}
