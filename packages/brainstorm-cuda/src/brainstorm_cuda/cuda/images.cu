// Convolution and pooling kernels of the PyCudaHandler.
//
// Images are (N, H, W, C) float32 arrays in C order, outputs of convolution
// and pooling (N, Ho, Wo, C or F). Output pixel (yo, xo) reads the input
// rows yo * sh - pad + a (a in [0, kh)) and columns xo * sw - pad + b (b in
// [0, kw)); positions outside [0, H) x [0, W) lie in the zero padding.
//
// Backward passes gather: one thread per input element adds up what every
// output whose window holds that element sends back, so no two threads
// write the same element and the result does not depend on scheduling.

#include "index.cuh"

extern "C" {

// The outputs (along one axis) whose windows hold input position pos:
// [*first, *last], empty if *first > *last. Output o covers the positions
// o * s - pad ... o * s - pad + k - 1.
__device__ void window_range(int pos, int pad, int k, int s, int n_out,
                             int *first, int *last)
{
    const int top = pos + pad;          // o * s <= top
    const int low = top - k + 1;        // o * s >= low
    *first = low <= 0 ? 0 : (low + s - 1) / s;
    *last = top / s;
    if (*last > n_out - 1) *last = n_out - 1;
}

// Splits the flat index i of an (N, H, W, C) array in C order into its
// pixel (*y, *x) and channel *c; returns the image index.
__device__ index_t split_nhwc(index_t i, int H, int W, int C, int *y,
                              int *x, int *c)
{
    *c = (int)(i % C);
    i /= C;
    *x = (int)(i % W);
    i /= W;
    *y = (int)(i % H);
    return i / H;
}

// How many of the k positions from start on lie in [0, size).
__device__ int inside_count(int start, int k, int size)
{
    const int lo = start > 0 ? start : 0;
    const int hi = start + k < size ? start + k : size;
    return hi > lo ? hi - lo : 0;
}

// cols (N * Ho * Wo, kh * kw * C): row (img, yo, xo) holds the patch its
// kernel reads, column (a * kw + b) * C + c; zeros for the padding.
// n = N * Ho * Wo * kh * kw * C for the N images of this launch.
__global__ void im2col(const float *images, float *cols, long long n, int H,
                       int W, int C, int Ho, int Wo, int kh, int kw, int pad,
                       int sh, int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        index_t t = i;
        const int c = (int)(t % C);
        t /= C;
        const int b = (int)(t % kw);
        t /= kw;
        const int a = (int)(t % kh);
        t /= kh;
        const int xo = (int)(t % Wo);
        t /= Wo;
        const int yo = (int)(t % Ho);
        const index_t img = t / Ho;
        const int y = yo * sh - pad + a;
        const int x = xo * sw - pad + b;
        cols[i] = (y >= 0 && y < H && x >= 0 && x < W)
                  ? images[((img * H + y) * W + x) * C + c] : 0.0f;
    }
}

// The reverse of im2col, added into the images: images[img, y, x, c] +=
// the sum of the entries of cols that im2col took from that element.
// n = N * H * W * C for the N images of this launch.
__global__ void col2im_add(const float *cols, float *images, long long n,
                           int H, int W, int C, int Ho, int Wo, int kh,
                           int kw, int pad, int sh, int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        int y, x, c;
        const index_t img = split_nhwc(i, H, W, C, &y, &x, &c);
        int yo_first, yo_last, xo_first, xo_last;
        window_range(y, pad, kh, sh, Ho, &yo_first, &yo_last);
        window_range(x, pad, kw, sw, Wo, &xo_first, &xo_last);
        float total = 0.0f;
        for (int yo = yo_first; yo <= yo_last; ++yo) {
            const int a = y + pad - yo * sh;      // kernel row that read y
            for (int xo = xo_first; xo <= xo_last; ++xo) {
                const int b = x + pad - xo * sw;  // kernel column that read x
                const index_t row = (img * Ho + yo) * Wo + xo;
                total += cols[((row * kh + a) * kw + b) * C + c];
            }
        }
        images[i] += total;
    }
}

// Max pooling: outputs[img, yo, xo, c] is the largest input of the window
// (padding never wins) and argmax the flat position y * W + x of the first
// largest one in row-major window order. A window whose inputs are all
// -inf or NaN gives -inf at its first position inside the image; a window
// entirely in the padding gives 0 and argmax -1. n = N * Ho * Wo * C.
__global__ void maxpool_forward(const float *images, float *outputs,
                                float *argmax, long long n, int H, int W,
                                int C, int Ho, int Wo, int kh, int kw,
                                int pad, int sh, int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        int yo, xo, c;
        const index_t img = split_nhwc(i, Ho, Wo, C, &yo, &xo, &c);
        const float *channel = images + img * H * W * C + c;
        const int y0 = yo * sh - pad;
        const int x0 = xo * sw - pad;
        float best = __uint_as_float(0xff800000u);
        int best_pos = -1;
        int first_pos = -1;
        for (int a = 0; a < kh; ++a) {
            const int y = y0 + a;
            if (y < 0 || y >= H) continue;
            for (int b = 0; b < kw; ++b) {
                const int x = x0 + b;
                if (x < 0 || x >= W) continue;
                const int pos = y * W + x;
                const float v = channel[(index_t)pos * C];
                if (first_pos < 0) first_pos = pos;
                if (v > best) {
                    best = v;
                    best_pos = pos;
                }
            }
        }
        if (best_pos < 0) {
            best_pos = first_pos;
            if (first_pos < 0) best = 0.0f;
        }
        outputs[i] = best;
        argmax[i] = (float)best_pos;
    }
}

// in_deltas[img, y, x, c] += the out_deltas of every output whose argmax
// names (y, x). n = N * H * W * C.
__global__ void maxpool_backward(const float *argmax, const float *out_deltas,
                                 float *in_deltas, long long n, int H, int W,
                                 int C, int Ho, int Wo, int kh, int kw,
                                 int pad, int sh, int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        int y, x, c;
        const index_t img = split_nhwc(i, H, W, C, &y, &x, &c);
        const int pos = y * W + x;
        int yo_first, yo_last, xo_first, xo_last;
        window_range(y, pad, kh, sh, Ho, &yo_first, &yo_last);
        window_range(x, pad, kw, sw, Wo, &xo_first, &xo_last);
        float total = 0.0f;
        for (int yo = yo_first; yo <= yo_last; ++yo) {
            for (int xo = xo_first; xo <= xo_last; ++xo) {
                const index_t o = ((img * Ho + yo) * Wo + xo) * C + c;
                if ((int)argmax[o] == pos) total += out_deltas[o];
            }
        }
        in_deltas[i] += total;
    }
}

// Average pooling: the mean over the window positions inside the image (0
// for a window entirely in the padding). n = N * Ho * Wo * C.
__global__ void avgpool_forward(const float *images, float *outputs,
                                long long n, int H, int W, int C, int Ho,
                                int Wo, int kh, int kw, int pad, int sh,
                                int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        int yo, xo, c;
        const index_t img = split_nhwc(i, Ho, Wo, C, &yo, &xo, &c);
        const int y0 = yo * sh - pad;
        const int x0 = xo * sw - pad;
        const int y_lo = y0 > 0 ? y0 : 0;
        const int y_hi = y0 + kh < H ? y0 + kh : H;
        const int x_lo = x0 > 0 ? x0 : 0;
        const int x_hi = x0 + kw < W ? x0 + kw : W;
        float total = 0.0f;
        for (int y = y_lo; y < y_hi; ++y) {
            for (int x = x_lo; x < x_hi; ++x)
                total += images[((img * H + y) * W + x) * C + c];
        }
        const int count = inside_count(y0, kh, H) * inside_count(x0, kw, W);
        outputs[i] = count > 0 ? total / (float)count : 0.0f;
    }
}

// in_deltas[img, y, x, c] += out_delta / count of every output whose window
// holds (y, x), count being the window positions inside the image.
// n = N * H * W * C.
__global__ void avgpool_backward(const float *out_deltas, float *in_deltas,
                                 long long n, int H, int W, int C, int Ho,
                                 int Wo, int kh, int kw, int pad, int sh,
                                 int sw)
{
    GRID_STRIDE_LOOP(i, n) {
        int y, x, c;
        const index_t img = split_nhwc(i, H, W, C, &y, &x, &c);
        int yo_first, yo_last, xo_first, xo_last;
        window_range(y, pad, kh, sh, Ho, &yo_first, &yo_last);
        window_range(x, pad, kw, sw, Wo, &xo_first, &xo_last);
        float total = 0.0f;
        for (int yo = yo_first; yo <= yo_last; ++yo) {
            const int rows = inside_count(yo * sh - pad, kh, H);
            for (int xo = xo_first; xo <= xo_last; ++xo) {
                const int count = rows * inside_count(xo * sw - pad, kw, W);
                const index_t o = ((img * Ho + yo) * Wo + xo) * C + c;
                total += out_deltas[o] / (float)count;
            }
        }
        in_deltas[i] += total;
    }
}

}  // extern "C"
