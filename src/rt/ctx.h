/*
 * Machine context switching for tasks (internal).
 *
 * Two backends with the same shape:
 *  - asm: our own switch for x86-64 SysV and aarch64 (ctx_x86_64.S,
 *    ctx_aarch64.S). Saves the callee-saved registers on the old stack and
 *    swaps stack pointers; no system calls.
 *  - ucontext: makecontext/swapcontext, the portable reference. It costs a
 *    sigprocmask system call per switch.
 * SLUICE_CTX_UCONTEXT selects the backend the runtime uses; both are always
 * built where the asm one exists, so the benchmark can compare them.
 *
 * The asm switch saves rbx, rbp, r12-r15, MXCSR and the x87 control word
 * on x86-64, x19-x30, d8-d15 and FPCR on aarch64. A new context starts in
 * a trampoline whose CFI marks the end of the call chain, so debuggers and
 * unwinders stop there. Every switch (task.c) carries AddressSanitizer's
 * fiber annotations; a dying task passes NULL so ASan frees its fake
 * stack. tests/ctx_selftest.c checks the switch alone, also for aarch64
 * under qemu.
 */
#ifndef SLUICE_RT_CTX_H
#define SLUICE_RT_CTX_H

#include <stddef.h>
#include <ucontext.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define SL_CTX_HAVE_ASM 1
#else
#define SL_CTX_HAVE_ASM 0
#endif

/** Entry point of a new context; it must never return. */
typedef void (*sl_ctx_entry_fn)(void *arg);

/** A suspended asm context: just its saved stack pointer. */
struct sl_ctx_asm {
	/** Stack pointer; the saved registers sit at the top of the stack. */
	void *sp;
};

/** A suspended ucontext context. */
struct sl_ctx_uc {
	/** The saved machine state. */
	ucontext_t uc;
	/** Entry function not yet started, handed over on the first switch. */
	sl_ctx_entry_fn fn;
	/** Its argument. */
	void *arg;
};

#if SL_CTX_HAVE_ASM
/**
 * Save the current registers on the current stack, store the stack pointer
 * in `*save_sp`, and resume the context whose stack pointer is `new_sp`.
 */
void sl_ctx_asm_switch(void **save_sp, void *new_sp);

/** Prepare `ctx` to run `fn(arg)` on the stack [lo, lo + size). */
void sl_ctx_asm_make(struct sl_ctx_asm *ctx, void *lo, size_t size,
                     sl_ctx_entry_fn fn, void *arg);
#endif

/** Prepare `ctx` to run `fn(arg)` on the stack [lo, lo + size). */
void sl_ctx_uc_make(struct sl_ctx_uc *ctx, void *lo, size_t size,
                    sl_ctx_entry_fn fn, void *arg);

/** Save the current context into `from` and resume `to`. */
void sl_ctx_uc_switch(struct sl_ctx_uc *from, struct sl_ctx_uc *to);

#if defined(SLUICE_CTX_UCONTEXT) || !SL_CTX_HAVE_ASM
/** The backend the runtime uses. */
#define SL_CTX_BACKEND "ucontext"
/** The runtime's context type. */
struct sl_ctx {
	/** Backend state. */
	struct sl_ctx_uc uc;
};
static inline void
sl_ctx_make(struct sl_ctx *ctx, void *lo, size_t size, sl_ctx_entry_fn fn,
            void *arg)
{
	sl_ctx_uc_make(&ctx->uc, lo, size, fn, arg);
}
static inline void
sl_ctx_switch(struct sl_ctx *from, struct sl_ctx *to)
{
	sl_ctx_uc_switch(&from->uc, &to->uc);
}
/** Where a suspended context's saved state is, for prefetching. */
static inline const void *
sl_ctx_sp(const struct sl_ctx *ctx)
{
	return &ctx->uc.uc;
}
#else
/** The backend the runtime uses. */
#define SL_CTX_BACKEND "asm"
/** The runtime's context type. */
struct sl_ctx {
	/** Backend state. */
	struct sl_ctx_asm a;
};
static inline void
sl_ctx_make(struct sl_ctx *ctx, void *lo, size_t size, sl_ctx_entry_fn fn,
            void *arg)
{
	sl_ctx_asm_make(&ctx->a, lo, size, fn, arg);
}
static inline void
sl_ctx_switch(struct sl_ctx *from, struct sl_ctx *to)
{
	sl_ctx_asm_switch(&from->a.sp, to->a.sp);
}
/** Where a suspended context's saved state is, for prefetching. */
static inline const void *
sl_ctx_sp(const struct sl_ctx *ctx)
{
	return ctx->a.sp;
}
#endif

#endif /* SLUICE_RT_CTX_H */
