/*
 * Standalone self-test of the asm context switch (src/rt/ctx_<arch>.S and
 * sl_ctx_asm_make in src/rt/ctx.c). It uses nothing else from sluice, so it
 * can be cross-built and run under qemu-user:
 *
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc tests/ctx_selftest.c src/rt/ctx.c \
 *      src/rt/ctx_<arch>.S
 *
 * Checks: the argument reaches the entry, the entry runs on its own stack
 * with a 16-byte aligned stack pointer and a frame chain that ends at the
 * trampoline, ping-pong, every callee-saved register (set and checked in
 * assembly, on both sides of the switch), C locals in registers and FP
 * accumulators across switches and in deep recursion, the FP control
 * register per context, and 100 contexts in a ring.
 *
 * Prints TAP and a closing "N passed, M failed"; exits 1 on failure.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt/ctx.h"
#include "tap.h"

#if SL_CTX_HAVE_ASM

/* {{{ harness */

/** Check that two unsigned 64-bit values are equal. */
#define is_u64(a, b, ...)                                                 \
	do {                                                              \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);          \
		if (!ok(a_ == b_, __VA_ARGS__))                           \
			printf("#   got %#" PRIx64 ", expected %#" PRIx64 \
			       "\n",                                      \
			       a_, b_);                                   \
	} while (0)

/* }}} */

/* {{{ assembly helpers */

/*
 * uintptr_t selftest_caller_sp(void): the stack pointer of the caller at
 * the call (before x86-64's call pushed the return address).
 *
 * void selftest_regs_switch(void **save, void *to, const uint64_t *in,
 *                           uint64_t *out):
 * loads every callee-saved register from in[0..NREGS-1], records the stack
 * pointer in out[NREGS], calls sl_ctx_asm_switch(save, to), and when
 * resumed stores the same registers to out[0..NREGS-1] and the stack
 * pointer to out[NREGS + 1]. It saves and restores its own caller's
 * registers, so it is an ordinary function to C.
 */
uintptr_t selftest_caller_sp(void);
void selftest_regs_switch(void **save, void *to, const uint64_t *in,
                          uint64_t *out);
/** Defined in ctx_<arch>.S: where a new context starts. */
void sl_ctx_asm_trampoline(void);

#if defined(__x86_64__)
/** rbx rbp r12 r13 r14 r15. */
#define NREGS 6
/** Register names, in the order of in[] and out[]. */
static const char *const reg_names[NREGS] = {"rbx", "rbp", "r12",
                                             "r13", "r14", "r15"};
__asm__(".text\n"
        ".globl selftest_caller_sp\n"
        ".type selftest_caller_sp, @function\n"
        "selftest_caller_sp:\n"
        "	leaq 8(%rsp), %rax\n"
        "	ret\n"
        ".size selftest_caller_sp, .-selftest_caller_sp\n"
        ".globl selftest_regs_switch\n"
        ".type selftest_regs_switch, @function\n"
        "selftest_regs_switch:\n"
        "	pushq %rbp\n"
        "	pushq %rbx\n"
        "	pushq %r12\n"
        "	pushq %r13\n"
        "	pushq %r14\n"
        "	pushq %r15\n"
        "	pushq %rcx\n" /* out; the stack is now 16-byte aligned */
        "	movq 0(%rdx), %rbx\n"
        "	movq 8(%rdx), %rbp\n"
        "	movq 16(%rdx), %r12\n"
        "	movq 24(%rdx), %r13\n"
        "	movq 32(%rdx), %r14\n"
        "	movq 40(%rdx), %r15\n"
        "	movq %rsp, 48(%rcx)\n"
        "	call sl_ctx_asm_switch@PLT\n"
        "	movq (%rsp), %rcx\n"
        "	movq %rbx, 0(%rcx)\n"
        "	movq %rbp, 8(%rcx)\n"
        "	movq %r12, 16(%rcx)\n"
        "	movq %r13, 24(%rcx)\n"
        "	movq %r14, 32(%rcx)\n"
        "	movq %r15, 40(%rcx)\n"
        "	movq %rsp, 56(%rcx)\n"
        "	addq $8, %rsp\n"
        "	popq %r15\n"
        "	popq %r14\n"
        "	popq %r13\n"
        "	popq %r12\n"
        "	popq %rbx\n"
        "	popq %rbp\n"
        "	ret\n"
        ".size selftest_regs_switch, .-selftest_regs_switch\n");
#elif defined(__aarch64__)
/** x19-x28, x29, d8-d15. */
#define NREGS 19
/** Register names, in the order of in[] and out[]. */
static const char *const reg_names[NREGS] = {
        "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
        "x29", "d8",  "d9",  "d10", "d11", "d12", "d13", "d14", "d15"};
__asm__(".text\n"
        ".globl selftest_caller_sp\n"
        ".type selftest_caller_sp, %function\n"
        "selftest_caller_sp:\n"
        "	mov x0, sp\n"
        "	ret\n"
        ".size selftest_caller_sp, .-selftest_caller_sp\n"
        ".globl selftest_regs_switch\n"
        ".type selftest_regs_switch, %function\n"
        "selftest_regs_switch:\n"
        "	stp x29, x30, [sp, #-176]!\n"
        "	stp x19, x20, [sp, #16]\n"
        "	stp x21, x22, [sp, #32]\n"
        "	stp x23, x24, [sp, #48]\n"
        "	stp x25, x26, [sp, #64]\n"
        "	stp x27, x28, [sp, #80]\n"
        "	stp d8, d9, [sp, #96]\n"
        "	stp d10, d11, [sp, #112]\n"
        "	stp d12, d13, [sp, #128]\n"
        "	stp d14, d15, [sp, #144]\n"
        "	str x3, [sp, #160]\n"
        "	ldp x19, x20, [x2, #0]\n"
        "	ldp x21, x22, [x2, #16]\n"
        "	ldp x23, x24, [x2, #32]\n"
        "	ldp x25, x26, [x2, #48]\n"
        "	ldp x27, x28, [x2, #64]\n"
        "	ldr x29, [x2, #80]\n"
        "	ldp d8, d9, [x2, #88]\n"
        "	ldp d10, d11, [x2, #104]\n"
        "	ldp d12, d13, [x2, #120]\n"
        "	ldp d14, d15, [x2, #136]\n"
        "	mov x9, sp\n"
        "	str x9, [x3, #152]\n"
        "	bl sl_ctx_asm_switch\n"
        "	ldr x3, [sp, #160]\n"
        "	stp x19, x20, [x3, #0]\n"
        "	stp x21, x22, [x3, #16]\n"
        "	stp x23, x24, [x3, #32]\n"
        "	stp x25, x26, [x3, #48]\n"
        "	stp x27, x28, [x3, #64]\n"
        "	str x29, [x3, #80]\n"
        "	stp d8, d9, [x3, #88]\n"
        "	stp d10, d11, [x3, #104]\n"
        "	stp d12, d13, [x3, #120]\n"
        "	stp d14, d15, [x3, #136]\n"
        "	mov x9, sp\n"
        "	str x9, [x3, #160]\n"
        "	ldp x19, x20, [sp, #16]\n"
        "	ldp x21, x22, [sp, #32]\n"
        "	ldp x23, x24, [sp, #48]\n"
        "	ldp x25, x26, [sp, #64]\n"
        "	ldp x27, x28, [sp, #80]\n"
        "	ldp d8, d9, [sp, #96]\n"
        "	ldp d10, d11, [sp, #112]\n"
        "	ldp d12, d13, [sp, #128]\n"
        "	ldp d14, d15, [sp, #144]\n"
        "	ldp x29, x30, [sp], #176\n"
        "	ret\n"
        ".size selftest_regs_switch, .-selftest_regs_switch\n");
#endif

/** Rounding modes, named independently of the architecture's encoding. */
enum { RND_NEAREST, RND_UP, RND_DOWN, RND_ZERO };

#if defined(__x86_64__)
/** MXCSR and x87 encodings of RND_*. */
static const unsigned rnd_x86[4] = {0, 2, 1, 3};

/** Current rounding mode of this context, or -1 if SSE and x87 differ. */
static int
fp_round_get(void)
{
	uint32_t mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	unsigned sse = (mxcsr >> 13) & 3, x87 = (cw >> 10) & 3;
	if (sse != x87)
		return -1;
	for (int m = 0; m < 4; m++)
		if (rnd_x86[m] == sse)
			return m;
	return -1;
}

/** Set this context's rounding mode (SSE and x87). */
static void
fp_round_set(int mode)
{
	uint32_t mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	mxcsr = (mxcsr & ~(3u << 13)) | rnd_x86[mode] << 13;
	cw = (uint16_t)((cw & ~(3u << 10)) | rnd_x86[mode] << 10);
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fldcw %0" : : "m"(cw));
}
#elif defined(__aarch64__)
/** FPCR.RMode encodings of RND_*. */
static const unsigned rnd_a64[4] = {0, 1, 2, 3};

/** Current rounding mode of this context. */
static int
fp_round_get(void)
{
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	unsigned rm = (unsigned)(fpcr >> 22) & 3;
	for (int m = 0; m < 4; m++)
		if (rnd_a64[m] == rm)
			return m;
	return -1;
}

/** Set this context's rounding mode. */
static void
fp_round_set(int mode)
{
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	fpcr = (fpcr & ~((uint64_t)3 << 22)) | (uint64_t)rnd_a64[mode] << 22;
	__asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#endif

/* }}} */

/* {{{ stacks and contexts */

/** A test stack: mmap'd with a PROT_NONE guard page below. */
struct tstack {
	/** The whole mapping. */
	void *map;
	/** Its size. */
	size_t map_size;
	/** Lowest usable byte (above the guard). */
	char *lo;
	/** Usable bytes. */
	size_t size;
};

/** Usable bytes of each test stack. */
#define STACK_SIZE (256 * 1024)

/** Map a stack of `size` usable bytes; exits on failure. */
static struct tstack
stack_new(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size = (size + page - 1) / page * page;
	struct tstack s;
	s.map_size = size + page;
	s.map = mmap(NULL, s.map_size, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s.map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	if (mprotect(s.map, page, PROT_NONE) != 0) {
		perror("mprotect");
		exit(2);
	}
	s.lo = (char *)s.map + page;
	s.size = size;
	return s;
}

/** Unmap a stack. */
static void
stack_free(struct tstack *s)
{
	munmap(s->map, s->map_size);
}

/** The main context (saved while another one runs). */
static struct sl_ctx_asm main_ctx;
/** The peer context of two-context tests. */
static struct sl_ctx_asm peer_ctx;

/** Switch from the main context to the peer. */
static void
to_peer(void)
{
	sl_ctx_asm_switch(&main_ctx.sp, peer_ctx.sp);
}

/** Switch from the peer back to the main context. */
static void
to_main(void)
{
	sl_ctx_asm_switch(&peer_ctx.sp, main_ctx.sp);
}

/** A yield that does not switch: the reference run. */
static void
no_switch(void)
{
}

/** A yield function. */
typedef void (*yield_fn)(void);

/** Hide `f` from the optimizer so every run calls it indirectly. */
static yield_fn
opaque(yield_fn f)
{
	__asm__ volatile("" : "+r"(f));
	return f;
}

/* }}} */

/* {{{ entry: argument, stack, alignment, frame chain */

/** What a probe entry saw. */
struct probe {
	/** The argument it received. */
	void *arg;
	/** Caller's stack pointer at a call from the entry. */
	uintptr_t call_sp;
	/** Address of a local of the entry. */
	uintptr_t local;
	/** The entry's frame pointer. */
	uintptr_t fp;
	/** Saved frame pointer of the entry's caller (the trampoline). */
	uintptr_t parent_fp;
	/** Return address of the entry. */
	uintptr_t ret;
	/** Times resumed. */
	int resumed;
};

/** Entry that records what it sees, then yields forever. */
static void
probe_entry(void *arg)
{
	struct probe *p = arg;
	volatile char local = 0;
	void **fp = __builtin_frame_address(0);
	__asm__ volatile("" : "+r"(fp));
	p->arg = arg;
	p->call_sp = selftest_caller_sp();
	p->local = (uintptr_t)&local;
	p->fp = (uintptr_t)fp;
	p->parent_fp = (uintptr_t)fp[0];
	p->ret = (uintptr_t)fp[1];
	for (;;) {
		to_main();
		p->resumed++;
	}
}

/** Run a probe on [lo, lo + size) and check what it saw. */
static void
test_probe(const char *what, char *lo, size_t size)
{
	struct probe p;
	memset(&p, 0, sizeof(p));
	sl_ctx_asm_make(&peer_ctx, lo, size, probe_entry, &p);
	uintptr_t top = (uintptr_t)lo + size;
	ok(((uintptr_t)peer_ctx.sp & 15) == 0 && (uintptr_t)peer_ctx.sp < top &&
	           (uintptr_t)peer_ctx.sp >= (uintptr_t)lo,
	   "%s: made sp %p is aligned and in the stack", what, peer_ctx.sp);
	to_peer();
	ok(p.arg == &p, "%s: entry got its argument", what);
	ok(p.local >= (uintptr_t)lo && p.local < top && top - p.local < 4096,
	   "%s: entry runs at the top of its stack (local %#" PRIxPTR
	   ", top %#" PRIxPTR ")",
	   what, p.local, top);
	ok(p.call_sp % 16 == 0,
	   "%s: entry's stack is 16-byte aligned (sp at call %#" PRIxPTR ")",
	   what, p.call_sp);
	ok(p.fp % 16 == 0,
	   "%s: entry's frame pointer %#" PRIxPTR " is 16-byte aligned", what,
	   p.fp);
	ok(p.parent_fp == 0,
	   "%s: frame chain ends at the trampoline (%#" PRIxPTR ")", what,
	   p.parent_fp);
	uintptr_t tramp = (uintptr_t)sl_ctx_asm_trampoline;
	ok(p.ret > tramp && p.ret < tramp + 64,
	   "%s: entry returns into the trampoline (%#" PRIxPTR
	   ", trampoline %#" PRIxPTR ")",
	   what, p.ret, tramp);
	to_peer();
	to_peer();
	ok(p.resumed == 2, "%s: resumed twice after the first switch", what);
}

/* }}} */

/* {{{ ping-pong */

/** Shared counter of the ping-pong. */
static long pp_count;
/** Out-of-order observations. */
static long pp_bad;

/** Peer of the ping-pong: sees odd counts. */
static void
pp_entry(void *arg)
{
	(void)arg;
	for (long k = 0;; k++) {
		if (pp_count != 2 * k + 1)
			pp_bad++;
		pp_count++;
		to_main();
	}
}

/** Ping-pong `n` round trips with a fresh peer. */
static void
test_ping_pong(long n)
{
	struct tstack s = stack_new(STACK_SIZE);
	sl_ctx_asm_make(&peer_ctx, s.lo, s.size, pp_entry, NULL);
	pp_count = 0;
	pp_bad = 0;
	long bad = 0;
	for (long i = 0; i < n; i++) {
		if (pp_count != 2 * i)
			bad++;
		pp_count++;
		to_peer();
	}
	ok(pp_count == 2 * n && pp_bad == 0 && bad == 0,
	   "ping-pong: %ld round trips in order (count %ld, bad %ld/%ld)", n,
	   pp_count, bad, pp_bad);
	stack_free(&s);
}

/* }}} */

/* {{{ callee-saved registers, in assembly */

/** Pattern of register `r` in round `i` of side `side`. */
static uint64_t
reg_pattern(int side, long i, int r)
{
	uint64_t x = ((uint64_t)side << 56) ^ ((uint64_t)i << 20) ^
	             ((uint64_t)r << 8) ^ 0x5a5a00a5c3c3003cULL;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return x;
}

/** Register mismatches seen by the peer. */
static long regs_peer_bad;
/** Rounds the peer has done. */
static long regs_peer_rounds;

/** Peer of the register test: clobbers every register with its own. */
static void
regs_entry(void *arg)
{
	(void)arg;
	uint64_t in[NREGS], out[NREGS + 2];
	for (long i = 0;; i++) {
		for (int r = 0; r < NREGS; r++)
			in[r] = reg_pattern(2, i, r);
		selftest_regs_switch(&peer_ctx.sp, main_ctx.sp, in, out);
		for (int r = 0; r < NREGS; r++)
			if (out[r] != in[r])
				regs_peer_bad++;
		if (out[NREGS] != out[NREGS + 1])
			regs_peer_bad++;
		regs_peer_rounds++;
	}
}

/** Switch `n` times with every callee-saved register set, both ways. */
static void
test_regs(long n)
{
	struct tstack s = stack_new(STACK_SIZE);
	sl_ctx_asm_make(&peer_ctx, s.lo, s.size, regs_entry, NULL);
	regs_peer_bad = 0;
	regs_peer_rounds = 0;
	uint64_t in[NREGS], out[NREGS + 2];
	long bad[NREGS] = {0}, sp_bad = 0;
	for (long i = 0; i < n; i++) {
		for (int r = 0; r < NREGS; r++)
			in[r] = reg_pattern(1, i, r);
		selftest_regs_switch(&main_ctx.sp, peer_ctx.sp, in, out);
		for (int r = 0; r < NREGS; r++)
			if (out[r] != in[r] && bad[r]++ == 0)
				printf("#   %s: got %#" PRIx64
				       ", expected %#" PRIx64 "\n",
				       reg_names[r], out[r], in[r]);
		if (out[NREGS] != out[NREGS + 1])
			sp_bad++;
	}
	long total = 0;
	for (int r = 0; r < NREGS; r++)
		total += bad[r];
	ok(total == 0, "registers: all %d callee-saved survive %ld switches",
	   NREGS, n);
	ok(sp_bad == 0, "registers: stack pointer is the same after a switch");
	ok(regs_peer_bad == 0 && regs_peer_rounds == n - 1,
	   "registers: the peer's survive too (%ld bad, %ld rounds)",
	   regs_peer_bad, regs_peer_rounds);
	stack_free(&s);
}

/* }}} */

/* {{{ C locals across switches */

/** A computation that yields as it goes; same result whatever yield does. */
typedef uint64_t (*work_fn)(uint64_t seed, long n, yield_fn yield);

/** Rotate left. */
static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** Twelve integer accumulators, live across every yield. */
static uint64_t
work_int(uint64_t seed, long n, yield_fn yield)
{
	uint64_t a = seed, b = ~seed, c = seed * 3, d = seed ^ 0x1234;
	uint64_t e = rotl(seed, 7), f = seed + 11, g = seed * seed;
	uint64_t h = seed >> 3, i2 = seed | 1, j = seed ^ (seed >> 9);
	uint64_t k = 0x9e3779b97f4a7c15ULL, l = seed - 5;
	for (long i = 0; i < n; i++) {
		yield();
		a = a * 6364136223846793005ULL + 1442695040888963407ULL;
		b ^= rotl(a, 13) + (uint64_t)i;
		c += b * 5;
		d = rotl(d ^ c, 17);
		e += d >> 3;
		f ^= e * 0xff51afd7ed558ccdULL;
		g += rotl(f, 29);
		h ^= g + i2;
		i2 = i2 * 3 + h;
		j += i2 ^ k;
		k = rotl(k + j, 41);
		l ^= k * 7 + a;
	}
	return a ^ rotl(b, 1) ^ rotl(c, 2) ^ rotl(d, 3) ^ rotl(e, 4) ^
	       rotl(f, 5) ^ rotl(g, 6) ^ rotl(h, 7) ^ rotl(i2, 8) ^ rotl(j, 9) ^
	       rotl(k, 10) ^ rotl(l, 11);
}

/** Bits of a double. */
static uint64_t
dbits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

/** Ten double accumulators, live across every yield. */
static uint64_t
work_fp(uint64_t seed, long n, yield_fn yield)
{
	double s = (double)(seed & 0xffff) / 65536.0;
	double a = s, b = s * 0.5, c = s + 0.25, d = 1.0 - s, e = s * s;
	double f = 0.125, g = s / 3.0, h = 0.75 - s / 7.0, p = 0.3, q = 0.6;
	for (long i = 0; i < n; i++) {
		yield();
		double t = (double)(i & 1023) / 1024.0;
		a = a * 0.999 + b * 0.001 + t * 1e-6;
		b = b * 0.998 + c * 0.002;
		c = c * 0.997 + d * 0.003;
		d = d * 0.996 + e * 0.004;
		e = e * 0.995 + f * 0.005;
		f = f * 0.994 + g * 0.006;
		g = g * 0.993 + h * 0.007;
		h = h * 0.992 + p * 0.008;
		p = p * 0.991 + q * 0.009;
		q = q * 0.990 + a * 0.010;
	}
	return dbits(a) ^ rotl(dbits(b), 1) ^ rotl(dbits(c), 2) ^
	       rotl(dbits(d), 3) ^ rotl(dbits(e), 4) ^ rotl(dbits(f), 5) ^
	       rotl(dbits(g), 6) ^ rotl(dbits(h), 7) ^ rotl(dbits(p), 8) ^
	       rotl(dbits(q), 9);
}

/** Recursion `depth` deep that yields on the way down and up. */
static uint64_t
rec(int depth, uint64_t x, yield_fn yield)
{
	uint64_t a = x * 0x9e3779b97f4a7c15ULL, b = x ^ (x >> 31);
	uint64_t c = (uint64_t)depth * 0x2545f4914f6cdd1dULL + a;
	double fa = (double)(x & 0xfffff) * 0.5 + 1.0;
	double fb = (double)depth * 0.25;
	if (depth == 0) {
		yield();
		return a ^ b ^ dbits(fa);
	}
	if (depth % 3 == 0)
		yield();
	uint64_t r = rec(depth - 1, a + rotl(b, 5), yield);
	if (depth % 5 == 0)
		yield();
	fa = fa * 1.5 + fb;
	return r * 31 + a + (b ^ c) + dbits(fa) + (uint64_t)depth;
}

/** work_fn wrapper of rec(): `n` is the depth. */
static uint64_t
work_rec(uint64_t seed, long n, yield_fn yield)
{
	return rec((int)n, seed, yield);
}

/** A computation run by the peer. */
struct work {
	/** What to compute. */
	work_fn fn;
	/** Its seed. */
	uint64_t seed;
	/** Its length. */
	long n;
	/** The result. */
	uint64_t result;
	/** Set when the result is in. */
	int done;
};

/** Peer entry: compute, then keep yielding back. */
static void
work_entry(void *arg)
{
	struct work *w = arg;
	w->result = w->fn(w->seed, w->n, opaque(to_main));
	w->done = 1;
	for (;;)
		to_main();
}

/**
 * Run `fn` in the main context and in a peer at once, each switching to
 * the other at every yield, and compare both with runs that do not switch.
 */
static void
test_work(const char *what, work_fn fn, long n_main, long n_peer)
{
	uint64_t seed_main = 0x0123456789abcdefULL, seed_peer = 0xfedcba98ULL;
	uint64_t want_main = fn(seed_main, n_main, opaque(no_switch));
	uint64_t want_peer = fn(seed_peer, n_peer, opaque(no_switch));
	struct tstack s = stack_new(STACK_SIZE);
	struct work w = {fn, seed_peer, n_peer, 0, 0};
	sl_ctx_asm_make(&peer_ctx, s.lo, s.size, work_entry, &w);
	uint64_t got_main = fn(seed_main, n_main, opaque(to_peer));
	while (!w.done)
		to_peer();
	is_u64(got_main, want_main, "%s: main context's result", what);
	is_u64(w.result, want_peer, "%s: peer context's result", what);
	stack_free(&s);
}

/* }}} */

/* {{{ FP control register per context */

/** Rounding modes the FP peer saw on its two turns. */
static int fpc_seen[2];

/** Peer of the FP control test. */
static void
fpc_entry(void *arg)
{
	(void)arg;
	fpc_seen[0] = fp_round_get();
	fp_round_set(RND_ZERO);
	to_main();
	fpc_seen[1] = fp_round_get();
	fp_round_set(RND_DOWN);
	for (;;)
		to_main();
}

/** Each context keeps its own rounding mode; a new one starts nearest. */
static void
test_fp_control(void)
{
	struct tstack s = stack_new(STACK_SIZE);
	int before = fp_round_get();
	fp_round_set(RND_UP);
	sl_ctx_asm_make(&peer_ctx, s.lo, s.size, fpc_entry, NULL);
	to_peer();
	int main1 = fp_round_get();
	to_peer();
	int main2 = fp_round_get();
	fp_round_set(RND_NEAREST);
	ok(before == RND_NEAREST, "fp control: main starts round-to-nearest");
	ok(fpc_seen[0] == RND_NEAREST,
	   "fp control: a new context starts round-to-nearest (%d)",
	   fpc_seen[0]);
	ok(main1 == RND_UP && main2 == RND_UP,
	   "fp control: main keeps its mode across switches (%d, %d)", main1,
	   main2);
	ok(fpc_seen[1] == RND_ZERO,
	   "fp control: the peer keeps its mode across switches (%d)",
	   fpc_seen[1]);
	stack_free(&s);
}

/* }}} */

/* {{{ ring of many contexts */

/** Contexts in the ring. */
#define RING 100

/** One context of the ring. */
struct ring_node {
	/** Its place. */
	int id;
	/** The argument its entry got. */
	void *arg;
	/** Rounds it has done. */
	long rounds;
	/** Its running sum (kept in a local between switches). */
	uint64_t sum;
	/** Its context. */
	struct sl_ctx_asm ctx;
	/** Its stack. */
	struct tstack stack;
};

/** The ring. */
static struct ring_node ring[RING];
/** Switches so far, in ring order. */
static long ring_step;
/** Out-of-order observations. */
static long ring_bad;

/** Ring entry: check its turn, bump its sum, pass to the next one. */
static void
ring_entry(void *arg)
{
	struct ring_node *me = arg;
	me->arg = arg;
	int id = me->id;
	uint64_t sum = 0;
	double fsum = 0;
	for (long r = 0;; r++) {
		if (ring_step != r * RING + id)
			ring_bad++;
		ring_step++;
		sum += (uint64_t)id * (uint64_t)r + 1;
		fsum += 0.5;
		me->rounds = r + 1;
		me->sum = sum + (uint64_t)(fsum != 0.5 * (double)(r + 1));
		void *next = id + 1 < RING ? ring[id + 1].ctx.sp : main_ctx.sp;
		sl_ctx_asm_switch(&me->ctx.sp, next);
	}
}

/** RING contexts passing control round a ring `rounds` times. */
static void
test_ring(long rounds)
{
	for (int i = 0; i < RING; i++) {
		ring[i].id = i;
		ring[i].arg = NULL;
		ring[i].rounds = 0;
		ring[i].sum = 0;
		ring[i].stack = stack_new(64 * 1024);
		sl_ctx_asm_make(&ring[i].ctx, ring[i].stack.lo,
		                ring[i].stack.size, ring_entry, &ring[i]);
	}
	ring_step = 0;
	ring_bad = 0;
	for (long r = 0; r < rounds; r++)
		sl_ctx_asm_switch(&main_ctx.sp, ring[0].ctx.sp);
	int args_ok = 1, rounds_ok = 1, sums_ok = 1;
	for (int i = 0; i < RING; i++) {
		uint64_t want =
		        (uint64_t)i * (uint64_t)(rounds * (rounds - 1) / 2) +
		        (uint64_t)rounds;
		args_ok &= ring[i].arg == &ring[i];
		rounds_ok &= ring[i].rounds == rounds;
		sums_ok &= ring[i].sum == want;
		stack_free(&ring[i].stack);
	}
	ok(args_ok, "ring: each of %d entries got its own argument", RING);
	ok(ring_step == rounds * RING && ring_bad == 0,
	   "ring: %ld switches in ring order (%ld out of order)", ring_step,
	   ring_bad);
	ok(rounds_ok && sums_ok,
	   "ring: every context did %ld rounds, sums right", rounds);
}

/* }}} */

/** Switching onto stacks whose top has each alignment. */
TAP_CASE(probe)
{
	struct tstack s = stack_new(STACK_SIZE);
	test_probe("aligned stack", s.lo, s.size);
	test_probe("top at 16n+8", s.lo, s.size - 8);
	test_probe("top at 16n+4", s.lo, s.size - 12);
	test_probe("small stack", s.lo + s.size - 4096, 4096);
	stack_free(&s);
}

/** Two contexts switching back and forth. */
TAP_CASE(ping_pong)
{
	test_ping_pong(100000);
}

/** Callee-saved registers survive switches. */
TAP_CASE(regs)
{
	test_regs(10000);
}

/** Integer and floating-point locals, and recursion, across switches. */
TAP_CASE(work)
{
	test_work("integer locals", work_int, 20000, 30000);
	test_work("fp locals", work_fp, 30000, 20000);
	test_work("recursion", work_rec, 1000, 700);
}

/** The floating-point control state is per context. */
TAP_CASE(fp_control)
{
	test_fp_control();
}

/** A ring of contexts passing control around. */
TAP_CASE(ring)
{
	test_ring(1000);
}

/** Name the architecture under test. */
static int
setup(void)
{
#if defined(__x86_64__)
	printf("# ctx selftest: x86_64\n");
#else
	printf("# ctx selftest: aarch64\n");
#endif
	return 0;
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, NULL);
}

#else /* !SL_CTX_HAVE_ASM */

int
main(void)
{
	printf("1..0 # SKIP no asm context switch on this architecture\n");
	printf("0 passed, 0 failed\n");
	return 0;
}

#endif
