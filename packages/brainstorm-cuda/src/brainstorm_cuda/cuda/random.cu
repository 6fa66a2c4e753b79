// Random numbers of the PyCudaHandler: the counter-based generator
// Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
// as easy as 1, 2, 3", SC 2011), uniform numbers from its 32-bit words and
// normal numbers by the Box-Muller transform.
//
// Each launch takes a fresh 64-bit key (k0, k1) that the handler draws from
// its random state. Element i of the output comes from word i % 4 of the
// block of counter g = i / 4, the counter being (low and high 32 bits of g,
// 0, 0). brainstorm_cuda/philox.py computes the same numbers with numpy.

#include "index.cuh"

// multipliers and key increments (Weyl sequence) of Philox4x32
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// 2**-24: the upper 24 bits of a word scaled to [0, 1) are exact in float32
#define UNIT_24 5.9604644775390625e-08f

extern "C" {

// Ten rounds of Philox4x32 on the counter c with the key (k0, k1); the key
// is bumped between rounds.
__device__ void philox4x32_10(unsigned int c[4], unsigned int k0,
                              unsigned int k1)
{
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        const unsigned int hi0 = __umulhi(PHILOX_M0, c[0]);
        const unsigned int lo0 = PHILOX_M0 * c[0];
        const unsigned int hi1 = __umulhi(PHILOX_M1, c[2]);
        const unsigned int lo1 = PHILOX_M1 * c[2];
        const unsigned int next0 = hi1 ^ c[1] ^ k0;
        const unsigned int next2 = hi0 ^ c[3] ^ k1;
        c[0] = next0;
        c[1] = lo1;
        c[2] = next2;
        c[3] = lo0;
    }
}

// [0, 1): the upper 24 bits of a word
__device__ float uniform_24(unsigned int word)
{
    return (float)(word >> 8) * UNIT_24;
}

// Two independent standard normal numbers from two words (Box-Muller):
// u1 in (0, 1] keeps the logarithm finite, u2 in [0, 1) sets the angle.
__device__ void box_muller(unsigned int a, unsigned int b, float *z0,
                           float *z1)
{
    const float u1 = ((float)(a >> 8) + 1.0f) * UNIT_24;
    const float u2 = (float)(b >> 8) * UNIT_24;
    const float radius = sqrtf(-2.0f * logf(u1));
    float s, c;
    sincospif(2.0f * u2, &s, &c);
    *z0 = radius * c;
    *z1 = radius * s;
}

// mask[i] = 1 if a uniform number in [0, 1) is below probability, else 0
__global__ void probability_mask(float *mask, float probability, long long n,
                                 unsigned int k0, unsigned int k1)
{
    const index_t groups = (index_t)((n + 3) / 4);
    GRID_STRIDE_LOOP(g, groups) {
        unsigned int c[4] = {(unsigned int)g,
                             (unsigned int)((unsigned long long)g >> 32),
                             0u, 0u};
        philox4x32_10(c, k0, k1);
        for (int lane = 0; lane < 4; ++lane) {
            const index_t i = 4 * g + lane;
            if (i < (index_t)n)
                mask[i] = uniform_24(c[lane]) < probability ? 1.0f : 0.0f;
        }
    }
}

// out[i] = mean + std * z with z standard normal
__global__ void gaussian(float *out, float mean, float std, long long n,
                         unsigned int k0, unsigned int k1)
{
    const index_t groups = (index_t)((n + 3) / 4);
    GRID_STRIDE_LOOP(g, groups) {
        unsigned int c[4] = {(unsigned int)g,
                             (unsigned int)((unsigned long long)g >> 32),
                             0u, 0u};
        philox4x32_10(c, k0, k1);
        float z[4];
        box_muller(c[0], c[1], &z[0], &z[1]);
        box_muller(c[2], c[3], &z[2], &z[3]);
        for (int lane = 0; lane < 4; ++lane) {
            const index_t i = 4 * g + lane;
            if (i < (index_t)n) out[i] = mean + std * z[lane];
        }
    }
}

}  // extern "C"
