/*
 * Context switch for aarch64 (AAPCS64).
 *
 * Frame saved at the top of a suspended stack (176 bytes):
 *   sp+0   x19 x20      sp+48  x25 x26     sp+96   d8  d9
 *   sp+16  x21 x22      sp+64  x27 x28     sp+112  d10 d11
 *   sp+32  x23 x24      sp+80  x29 x30     sp+128  d12 d13
 *                                          sp+144  d14 d15
 *                                          sp+160  fpcr
 * x30 (the link register) is where the context resumes.
 */
#if defined(__aarch64__)
	.text

/* void sl_ctx_asm_switch(void **save_sp, void *new_sp) */
	.globl	sl_ctx_asm_switch
	.type	sl_ctx_asm_switch, %function
	.p2align 4
sl_ctx_asm_switch:
	.cfi_startproc
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	ldp	d14, d15, [sp, #144]
	ldp	d12, d13, [sp, #128]
	ldp	d10, d11, [sp, #112]
	ldp	d8, d9, [sp, #96]
	ldp	x29, x30, [sp, #80]
	ldp	x27, x28, [sp, #64]
	ldp	x25, x26, [sp, #48]
	ldp	x23, x24, [sp, #32]
	ldp	x21, x22, [sp, #16]
	ldp	x19, x20, [sp, #0]
	add	sp, sp, #176
	ret
	.cfi_endproc
	.size	sl_ctx_asm_switch, .-sl_ctx_asm_switch

/*
 * First code of a new context: x19 holds the argument, x20 the entry
 * function. The entry function never returns.
 */
	.globl	sl_ctx_asm_trampoline
	.type	sl_ctx_asm_trampoline, %function
	.p2align 4
sl_ctx_asm_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x29, #0
	mov	x30, #0
	mov	x0, x19
	blr	x20
	brk	#0
	.cfi_endproc
	.size	sl_ctx_asm_trampoline, .-sl_ctx_asm_trampoline
#endif
	.section .note.GNU-stack,"",%progbits
