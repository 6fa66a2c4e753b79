// Reductions of the PyCudaHandler: sums along an axis, the finiteness
// check and the row-wise softmax. Arrays are dense float32 arrays in C
// order.

#include "index.cuh"

#define FULL_WARP 0xffffffffu

extern "C" {

// a is viewed as (outer, n, inner) and summed over its middle axis in
// chunks of `chunk` consecutive entries: out (chunks, outer, inner), with
// chunks = ceil(n / chunk), gets in element (c, o, k) the sum of a[o, j, k]
// over j in [c * chunk, min((c + 1) * chunk, n)). With `accumulate` the sums
// are added to out instead of overwriting it. One thread per element of
// out; the handler sums the chunks again until one is left.
__global__ void sum_chunks(const float *a, float *out, long long outer,
                           long long n, long long inner, long long chunk,
                           int accumulate)
{
    const index_t len = (index_t)n;
    const index_t step = (index_t)inner;
    const index_t m = (index_t)outer * step;
    const index_t width = (index_t)chunk;
    const index_t chunks = (len + width - 1) / width;
    GRID_STRIDE_LOOP(i, chunks * m) {
        index_t c = i / m;
        index_t rest = i - c * m;
        index_t o = rest / step;
        index_t k = rest - o * step;
        index_t j = c * width;
        index_t stop = j + width < len ? j + width : len;
        const float *p = a + (o * len + j) * step + k;
        float total = 0.0f;
        for (; j < stop; ++j, p += step) total += *p;
        out[i] = accumulate ? out[i] + total : total;
    }
}

// *flag = 1 if some element of a is NaN or infinite (flag starts at 0)
__global__ void any_nonfinite(const float *a, int *flag, long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        if (!isfinite(a[i])) *flag = 1;
    }
}

// Reductions over the threads of a block. blockDim.x must be a multiple of
// 32 (and at most 1024); every thread of the block must call them, and
// gets the result. `shared` holds at least 32 floats; it may be reused
// right after the call.
__device__ float block_max(float v, float *shared)
{
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_down_sync(FULL_WARP, v, offset));
    __syncthreads();            // a previous call may still read shared[0]
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? shared[lane] : __uint_as_float(0xff800000u);
        for (int offset = 16; offset > 0; offset >>= 1)
            v = fmaxf(v, __shfl_down_sync(FULL_WARP, v, offset));
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    return shared[0];
}

__device__ float block_sum(float v, float *shared)
{
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_down_sync(FULL_WARP, v, offset);
    __syncthreads();            // a previous call may still read shared[0]
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? shared[lane] : 0.0f;
        for (int offset = 16; offset > 0; offset >>= 1)
            v += __shfl_down_sync(FULL_WARP, v, offset);
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    return shared[0];
}

// out[r, :] = softmax(m[r, :]) for m (rows, cols), the row maximum
// subtracted before exponentiating; one block per row (blocks stride over
// the rows). out may be m: each thread reads and writes its own columns.
__global__ void softmax_rows(const float *m, float *out, long long rows,
                             int cols)
{
    __shared__ float shared[32];
    for (index_t r = blockIdx.x; r < (index_t)rows; r += gridDim.x) {
        const float *x = m + r * cols;
        float *y = out + r * cols;
        float row_max = __uint_as_float(0xff800000u);
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
            row_max = fmaxf(row_max, x[j]);
        row_max = block_max(row_max, shared);
        float total = 0.0f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) {
            float e = expf(x[j] - row_max);
            y[j] = e;
            total += e;
        }
        total = block_sum(total, shared);
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
            y[j] = y[j] / total;
    }
}

}  // extern "C"
