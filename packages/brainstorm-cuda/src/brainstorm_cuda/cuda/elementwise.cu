// Element-wise, broadcasting, indexing, merging and splitting kernels of
// the PyCudaHandler.
//
// Arrays are dense float32 arrays in C order. n is the number of elements
// a kernel covers; every kernel walks them with a grid-stride loop, so any
// grid covers any n. Outputs may be the same array as an input wherever the
// handler allows an operation to work in place: each element is read
// before it is written, by the same thread. Arguments come in the order
// inputs, output(s), sizes.

#include "index.cuh"

extern "C" {

// ------------------------------------------------------------ memory --
__global__ void fill(float *out, float value, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = value;
}

__global__ void fill_if(float *mem, float value, const float *cond,
                        long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        if (cond[i] != 0.0f) mem[i] = value;
    }
}

__global__ void copy_to_if(const float *src, const float *cond, float *dest,
                           long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        if (cond[i] != 0.0f) dest[i] = src[i];
    }
}

__global__ void add_into_if(const float *a, const float *cond, float *out,
                            long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        if (cond[i] != 0.0f) out[i] = out[i] + a[i];
    }
}

// ------------------------------------------------------------- unary --
__global__ void abs_t(const float *a, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = fabsf(a[i]);
}

// 1 for positive, -1 for negative, 0 for zero; NaN stays NaN
__global__ void sign_t(const float *a, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float x = a[i];
        out[i] = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : (x == 0.0f ? 0.0f : x));
    }
}

__global__ void sqrt_t(const float *a, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = sqrtf(a[i]);
}

__global__ void exp_t(const float *a, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = expf(a[i]);
}

__global__ void log_t(const float *a, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = logf(a[i]);
}

// min(max(a, a_min), a_max); NaN stays NaN
__global__ void clip_t(const float *a, float a_min, float a_max, float *out,
                       long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float x = a[i];
        x = x < a_min ? a_min : x;
        out[i] = x > a_max ? a_max : x;
    }
}

// max(x, 0); NaN stays NaN
__global__ void rel_t(const float *x, float *y, long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float v = x[i];
        y[i] = (v > 0.0f || v != v) ? v : 0.0f;
    }
}

// exp(-x) overflows to inf for x << 0, which gives the right limit 0
__global__ void sigmoid_t(const float *x, float *y, long long n)
{
    GRID_STRIDE_LOOP(i, n) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

__global__ void tanh_t(const float *x, float *y, long long n)
{
    GRID_STRIDE_LOOP(i, n) y[i] = tanhf(x[i]);
}

// ------------------------------------------------------- derivatives --
__global__ void rel_deriv_t(const float *y, const float *dy, float *dx,
                            long long n)
{
    GRID_STRIDE_LOOP(i, n) dx[i] = dy[i] * (y[i] > 0.0f ? 1.0f : 0.0f);
}

__global__ void sigmoid_deriv_t(const float *y, const float *dy, float *dx,
                                long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float v = y[i];
        dx[i] = dy[i] * (v * (1.0f - v));
    }
}

__global__ void tanh_deriv_t(const float *y, const float *dy, float *dx,
                             long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float v = y[i];
        dx[i] = dy[i] * (1.0f - v * v);
    }
}

// ------------------------------------------------------------ binary --
__global__ void add_tt(const float *a, const float *b, float *out,
                       long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] + b[i];
}

__global__ void subtract_tt(const float *a, const float *b, float *out,
                            long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] - b[i];
}

__global__ void mult_tt(const float *a, const float *b, float *out,
                        long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] * b[i];
}

__global__ void mult_add_tt(const float *a, const float *b, float *out,
                            long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = out[i] + a[i] * b[i];
}

__global__ void divide_tt(const float *a, const float *b, float *out,
                          long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = a[i] / b[i];
}

// Python's remainder: the result takes the sign of the divisor b
__global__ void modulo_tt(const float *a, const float *b, float *out,
                          long long n)
{
    GRID_STRIDE_LOOP(i, n) {
        float divisor = b[i];
        float r = fmodf(a[i], divisor);
        if (r != 0.0f) {
            if ((r < 0.0f) != (divisor < 0.0f)) r += divisor;
        } else {
            r = copysignf(0.0f, divisor);
        }
        out[i] = r;
    }
}

// ------------------------------------------------------------ scalar --
__global__ void add_st(const float *t, float s, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = t[i] + s;
}

__global__ void mult_st(const float *t, float s, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = s * t[i];
}

__global__ void mult_add_st(const float *t, float s, float *out, long long n)
{
    GRID_STRIDE_LOOP(i, n) out[i] = out[i] + s * t[i];
}

// ----------------------------------------------------- matrix/vector --
// m and out are (rows, cols) with n = rows * cols elements; element (r, c)
// of the broadcast vector is v[r * v_row_step + c * v_col_step], where a
// step is 0 along a dimension of size 1 (v of shape (1, cols), (rows, 1)
// or (rows, cols)).
__global__ void add_mv(const float *m, const float *v, float *out,
                       long long n, int cols, int v_row_step, int v_col_step)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        out[i] = m[i] + v[r * v_row_step + c * v_col_step];
    }
}

__global__ void subtract_mv(const float *m, const float *v, float *out,
                            long long n, int cols, int v_row_step,
                            int v_col_step)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        out[i] = m[i] - v[r * v_row_step + c * v_col_step];
    }
}

__global__ void mult_mv(const float *m, const float *v, float *out,
                        long long n, int cols, int v_row_step, int v_col_step)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        out[i] = m[i] * v[r * v_row_step + c * v_col_step];
    }
}

__global__ void mult_add_mv(const float *m, const float *v, float *out,
                            long long n, int cols, int v_row_step,
                            int v_col_step)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        out[i] = out[i] + m[i] * v[r * v_row_step + c * v_col_step];
    }
}

__global__ void divide_mv(const float *m, const float *v, float *out,
                          long long n, int cols, int v_row_step,
                          int v_col_step)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        out[i] = m[i] / v[r * v_row_step + c * v_col_step];
    }
}

// ---------------------------------------------------------- indexing --
// out (rows, cols): 1 where the column is the (truncated) class index of
// the row, v (rows, 1), a negative index counting from the end as in numpy;
// n = rows * cols
__global__ void binarize_v(const float *v, float *out, long long n, int cols)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / cols;
        index_t c = i - r * cols;
        int index = (int)v[r];
        if (index < 0) index += cols;
        out[i] = (index >= 0 && (index_t)index == c) ? 1.0f : 0.0f;
    }
}

// out[r] = m[r, v[r]] for m (rows, cols); a negative index counts from the
// end as in numpy, an index outside the row gives NaN
__global__ void index_m_by_v(const float *m, const float *v, float *out,
                             long long rows, int cols)
{
    GRID_STRIDE_LOOP(r, rows) {
        int index = (int)v[r];
        if (index < 0) index += cols;
        out[r] = (index >= 0 && index < cols)
                 ? m[r * cols + index] : __uint_as_float(0x7fc00000u);
    }
}

// out (outer, size, inner) takes a (outer, 1, inner) along its middle axis;
// n = outer * size * inner
__global__ void broadcast_t(const float *a, float *out, long long n,
                            long long size, long long inner)
{
    const index_t step = (index_t)inner;
    const index_t block = (index_t)size * step;
    GRID_STRIDE_LOOP(i, n) {
        index_t o = i / block;
        index_t k = i % step;
        out[i] = a[o * step + k];
    }
}

// out (rows, na + nb) = [a (rows, na), b (rows, nb)]; n = rows * (na + nb)
__global__ void merge_tt(const float *a, const float *b, float *out,
                         long long n, int na, int nb)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / (na + nb);
        index_t c = i - r * (na + nb);
        out[i] = c < na ? a[r * na + c] : b[r * nb + (c - na)];
    }
}

// out_a (rows, na) += x[:, :na], out_b (rows, nb) += x[:, na:];
// n = rows * (na + nb)
__global__ void split_add_tt(const float *x, float *out_a, float *out_b,
                             long long n, int na, int nb)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t r = i / (na + nb);
        index_t c = i - r * (na + nb);
        if (c < na) {
            out_a[r * na + c] += x[i];
        } else {
            out_b[r * nb + (c - na)] += x[i];
        }
    }
}

}  // extern "C"
