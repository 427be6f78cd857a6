// SPDX-License-Identifier: MIT
/*
 * A shared library with known functions for the explorer tests: plain,
 * weak, aliased, versioned (see libdctest.map), an IFUNC and a local one.
 */
#include <stddef.h>

#define EXPORT __attribute__((visibility("default"), noinline))

EXPORT int dct_open(const char *path, int flags)
{
	return path ? flags + 3 : -1;
}

EXPORT long dct_read(int fd, void *buf, size_t n)
{
	return buf && fd >= 0 ? (long)n : -1;
}

EXPORT long dct_write(int fd, const void *buf, size_t n)
{
	return buf && fd >= 0 ? (long)n : -1;
}

EXPORT int dct_close(int fd)
{
	return fd >= 0 ? 0 : -1;
}

/* Two names, one address: listed once, with the alias. */
extern int dct_close_alias(int fd) __attribute__((alias("dct_close"), visibility("default")));

__attribute__((weak, visibility("default"), noinline)) int dct_weak(void)
{
	return 42;
}

static __attribute__((noinline)) int dct_local(int x)
{
	return x * 3;
}

EXPORT int dct_calls_local(int x)
{
	return dct_local(x) + 1;
}

/* An old and a default version of one function. */
EXPORT int dct_versioned_v1(void)
{
	return 1;
}

EXPORT int dct_versioned_v2(void)
{
	return 2;
}

__asm__(".symver dct_versioned_v1, dct_versioned@DCT_1.0");
__asm__(".symver dct_versioned_v2, dct_versioned@@DCT_2.0");

static int dct_fast(void)
{
	return 7;
}

static int (*dct_pick(void))(void)
{
	return dct_fast;
}

EXPORT int dct_ifunc(void) __attribute__((ifunc("dct_pick")));

/*
 * Prototypes whose argument registers the explorer must get right: a
 * double goes to a vector register, a struct by value moves what follows,
 * and only six arguments travel in registers.
 */
struct dct_triple {
	long a, b, c;
};

EXPORT double dct_scale(double factor, int fd, long n)
{
	return factor * (double)(fd + n);
}

EXPORT long dct_bytriple(int fd, struct dct_triple t, int after)
{
	return fd + t.a + t.b + t.c + after;
}

EXPORT int dct_many(int a, int b, int c, int d, int e, int f, int g)
{
	return a + b + c + d + e + f + g;
}

EXPORT int dct_pathname(const char *pathname, const char *mode, unsigned int flags)
{
	return pathname && mode ? (int)flags : -1;
}
