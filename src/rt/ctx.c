/*
 * Context creation for both backends (the switches are in assembly or
 * glibc).
 */
#include "rt/ctx.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#if SL_CTX_HAVE_ASM
/** Defined in ctx_<arch>.S. */
void sl_ctx_asm_trampoline(void);

void
sl_ctx_asm_make(struct sl_ctx_asm *ctx, void *lo, size_t size,
                sl_ctx_entry_fn fn, void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
	/*
	 * 80 bytes below the top: the 64-byte switch frame, then a zero
	 * word that reads as the trampoline's (absent) return address.
	 */
	uint64_t *sp = (uint64_t *)(top - 80);
	memset(sp, 0, 80);
	uint32_t mxcsr = 0x1f80;
	uint16_t fpucw = 0x037f;
	memcpy((char *)sp, &mxcsr, sizeof(mxcsr));
	memcpy((char *)sp + 4, &fpucw, sizeof(fpucw));
	sp[3] = (uint64_t)(uintptr_t)fn;  /* r13 */
	sp[4] = (uint64_t)(uintptr_t)arg; /* r12 */
	sp[7] = (uint64_t)(uintptr_t)sl_ctx_asm_trampoline;
#elif defined(__aarch64__)
	uint64_t *sp = (uint64_t *)(top - 176);
	memset(sp, 0, 176);
	sp[0] = (uint64_t)(uintptr_t)arg;                    /* x19 */
	sp[1] = (uint64_t)(uintptr_t)fn;                     /* x20 */
	sp[11] = (uint64_t)(uintptr_t)sl_ctx_asm_trampoline; /* x30 */
#endif
	ctx->sp = sp;
}
#endif

/** Argument handed to a new ucontext entry (makecontext passes ints). */
static _Thread_local struct {
	/** Entry function. */
	sl_ctx_entry_fn fn;
	/** Its argument. */
	void *arg;
} uc_start;

/** First function of a new ucontext context. */
static void
uc_entry(void)
{
	sl_ctx_entry_fn fn = uc_start.fn;
	void *arg = uc_start.arg;
	fn(arg);
	assert(!"a context entry function returned");
	__builtin_trap();
}

void
sl_ctx_uc_make(struct sl_ctx_uc *ctx, void *lo, size_t size, sl_ctx_entry_fn fn,
               void *arg)
{
	getcontext(&ctx->uc);
	ctx->uc.uc_stack.ss_sp = lo;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, uc_entry, 0);
	ctx->fn = fn;
	ctx->arg = arg;
}

void
sl_ctx_uc_switch(struct sl_ctx_uc *from, struct sl_ctx_uc *to)
{
	if (to->fn != NULL) {
		uc_start.fn = to->fn;
		uc_start.arg = to->arg;
		to->fn = NULL;
	}
	swapcontext(&from->uc, &to->uc);
}
