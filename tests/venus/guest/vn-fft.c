/* SPDX-License-Identifier: MIT */
/*
 * vn-fft: a real third-party Vulkan library on the Venus device. VkFFT (Debian's libvkfft-dev)
 * builds its kernels at run time through glslang, allocates its own buffers and runs compute
 * dispatches; we compare its transforms with a double-precision DFT on the CPU and print a hash
 * of the output bytes, so two drivers on the same host can be compared bit for bit.
 *
 * Usage: vn-fft     (cases: 1-D 1024; 1-D 1000 with VkFFT's look-up tables, which VkFFT allocates
 *                  and uploads itself; 2-D 48x64. Bluestein sizes cost lavapipe ~15 s each.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vkFFT.h>

#include "vn-common.h"

/* float FFTs of these sizes land around 1e-6 of the largest magnitude; Bluestein a little more. */
#define TOLERANCE 1e-4
#define VN_PI     3.14159265358979323846

static struct vn_ctx ctx;

struct fft_case {
	const char *name;
	uint64_t nx, ny; /* ny == 1: one-dimensional */
	bool lut;        /* twiddle factors from a table in a buffer VkFFT allocates */
};

/* Naive DFT along one axis of a complex double array (stride in complex elements). */
static void dft_axis(double *data, uint64_t n, uint64_t count, uint64_t stride, uint64_t step,
                     int sign)
{
	double *tmp = malloc(sizeof(double) * 2 * n);

	for (uint64_t c = 0; c < count && tmp; c++) {
		double *base = data + 2 * c * step;
		for (uint64_t k = 0; k < n; k++) {
			double re = 0, im = 0;
			for (uint64_t j = 0; j < n; j++) {
				double a = sign * 2.0 * VN_PI * (double)((k * j) % n) / (double)n;
				double xr = base[2 * j * stride], xi = base[2 * j * stride + 1];
				re += xr * cos(a) - xi * sin(a);
				im += xr * sin(a) + xi * cos(a);
			}
			tmp[2 * k] = re;
			tmp[2 * k + 1] = im;
		}
		for (uint64_t k = 0; k < n; k++) {
			base[2 * k * stride] = tmp[2 * k];
			base[2 * k * stride + 1] = tmp[2 * k + 1];
		}
	}
	free(tmp);
}

static uint64_t fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ b[i]) * 0x100000001b3ull;
	}
	return h;
}

static double max_rel_error(const float *got, const double *want, uint64_t n, double scale)
{
	double err = 0, mag = 0;

	for (uint64_t i = 0; i < 2 * n; i++) {
		double d = fabs((double)got[i] - want[i] * scale);
		err = d > err ? d : err;
		mag = fabs(want[i] * scale) > mag ? fabs(want[i] * scale) : mag;
	}
	return mag > 0 ? err / mag : err;
}

static VkResult run_fft(VkFFTApplication *app, int direction)
{
	VkCommandBuffer cmd = vn_cmd_begin(&ctx);
	VkFFTLaunchParams lp = VKFFT_ZERO_INIT;

	if (!cmd) {
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	}
	lp.commandBuffer = &cmd;
	VkFFTResult fr = VkFFTAppend(app, direction, &lp);
	VkMemoryBarrier b = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		              .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
		              .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
	                     0, 1, &b, 0, NULL, 0, NULL);
	VkResult r = vn_cmd_submit_wait(&ctx, cmd);
	if (fr != VKFFT_SUCCESS) {
		printf("INFO VkFFTAppend: %d\n", (int)fr);
		return VK_ERROR_UNKNOWN;
	}
	return r;
}

static void run_case(const struct fft_case *c)
{
	uint64_t n = c->nx * c->ny;
	uint64_t bytes = sizeof(float) * 2 * n;
	VkBuffer buf = VK_NULL_HANDLE;
	VkDeviceMemory mem = VK_NULL_HANDLE;
	VkFence fence = VK_NULL_HANDLE;
	VkMemoryRequirements req;
	VkFFTApplication app = VKFFT_ZERO_INIT;
	VkFFTConfiguration conf = VKFFT_ZERO_INIT;
	float *data = NULL;
	double *ref = malloc(sizeof(double) * 2 * n), *input = malloc(sizeof(double) * 2 * n);
	bool inited = false;
	double fwd_err = -1, inv_err = -1, t_init = 0, t_fwd = 0;
	uint64_t hash = 0;
	bool ok = ref && input;

	VkBufferCreateInfo bci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		                   .size = bytes,
		                   .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
		                            VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		                            VK_BUFFER_USAGE_TRANSFER_DST_BIT };
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	ok = ok && vkCreateBuffer(ctx.device, &bci, NULL, &buf) == VK_SUCCESS &&
	     vkCreateFence(ctx.device, &fci, NULL, &fence) == VK_SUCCESS;
	if (ok) {
		vkGetBufferMemoryRequirements(ctx.device, buf, &req);
		int t = vn_find_memory_type(&ctx, req.memoryTypeBits,
		                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
		VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			                    .allocationSize = req.size,
			                    .memoryTypeIndex = t < 0 ? 0 : (uint32_t)t };
		void *p = NULL;
		ok = t >= 0 && vkAllocateMemory(ctx.device, &ai, NULL, &mem) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, buf, mem, 0) == VK_SUCCESS &&
		     vkMapMemory(ctx.device, mem, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		data = p;
	}
	if (ok) {
		/* A few tones plus a deterministic ramp of noise. */
		for (uint64_t i = 0; i < n; i++) {
			double x = (double)i;
			input[2 * i] = sin(0.05 * x) + 0.5 * cos(0.31 * x) +
			               (double)vn_pattern(7, i) / 512.0;
			input[2 * i + 1] = 0.25 * sin(0.11 * x) - (double)vn_pattern(8, i) / 1024.0;
			data[2 * i] = (float)input[2 * i];
			data[2 * i + 1] = (float)input[2 * i + 1];
			/* The reference transforms the values the GPU actually gets. */
			input[2 * i] = data[2 * i];
			input[2 * i + 1] = data[2 * i + 1];
		}
		memcpy(ref, input, sizeof(double) * 2 * n);
		/* VkFFT's forward transform is exp(-2 pi i jk/n), axis 0 contiguous. */
		dft_axis(ref, c->nx, c->ny, 1, c->nx, -1);
		if (c->ny > 1) {
			dft_axis(ref, c->ny, c->nx, c->nx, 1, -1);
		}

		conf.FFTdim = c->ny > 1 ? 2 : 1;
		conf.size[0] = c->nx;
		conf.size[1] = c->ny;
		conf.physicalDevice = &ctx.phys;
		conf.device = &ctx.device;
		conf.queue = &ctx.queue;
		conf.commandPool = &ctx.pool;
		conf.fence = &fence;
		conf.buffer = &buf;
		conf.bufferSize = &bytes;
		conf.useLUT = c->lut ? 1 : 0;
		double t0 = vn_now_us();
		VkFFTResult fr = initializeVkFFT(&app, conf);
		t_init = vn_now_us() - t0;
		inited = fr == VKFFT_SUCCESS;
		if (!inited) {
			printf("INFO %s: initializeVkFFT: %d\n", c->name, (int)fr);
		}
		ok = inited;
	}
	if (ok) {
		double t0 = vn_now_us();
		ok = run_fft(&app, -1) == VK_SUCCESS;
		t_fwd = vn_now_us() - t0;
	}
	if (ok) {
		fwd_err = max_rel_error(data, ref, n, 1.0);
		hash = fnv1a(data, bytes);
		/* Back again: VkFFT does not normalise, so the input comes back times n. */
		ok = run_fft(&app, 1) == VK_SUCCESS;
		if (ok) {
			inv_err = max_rel_error(data, input, n, (double)n);
		}
	}
	ok = ok && fwd_err >= 0 && fwd_err < TOLERANCE && inv_err >= 0 && inv_err < TOLERANCE;
	printf("FFT-HASH %s %016llx\n", c->name, (unsigned long long)hash);
	printf("MEASURE fft.%s.init total=%.1f\n", c->name, t_init);
	printf("MEASURE fft.%s.forward total=%.1f\n", c->name, t_fwd);
	vn_result(c->name, ok, "forward max-rel-err=%.3g inverse max-rel-err=%.3g (tolerance %g)",
	          fwd_err, inv_err, TOLERANCE);
	if (inited) {
		deleteVkFFT(&app);
	}
	if (fence) {
		vkDestroyFence(ctx.device, fence, NULL);
	}
	if (buf) {
		vkDestroyBuffer(ctx.device, buf, NULL);
	}
	if (mem) {
		vkFreeMemory(ctx.device, mem, NULL);
	}
	free(ref);
	free(input);
}

int main(void)
{
	static const struct fft_case cases[] = {
		{ "fft_c2c_1d_1024", 1024, 1, false },
		{ "fft_c2c_1d_1000_lut", 1000, 1, true },
		{ "fft_c2c_2d_48x64", 48, 64, false },
	};
	struct vn_ctx_options co = { .app_name = "vn-fft" };

	setvbuf(stdout, NULL, _IOLBF, 0);
	int r = vn_ctx_create(&ctx, &co);
	vn_result("device", r == VK_SUCCESS, "vn_ctx_create=%d", r);
	if (r == VK_SUCCESS) {
		printf("INFO VkFFT version %d\n", VkFFTGetVersion());
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			double t0 = vn_now_us();
			run_case(&cases[i]);
			printf("MEASURE fft.%s.total total=%.1f\n", cases[i].name,
			       vn_now_us() - t0);
		}
	}
	bool layer = ctx.validation;
	vn_ctx_destroy(&ctx);
	vn_validation_summary(layer);
	return vn_summary();
}
