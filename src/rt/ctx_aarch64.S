/*
 * Context switch for aarch64 (AAPCS64).
 *
 * Frame saved at the top of a suspended stack (176 bytes):
 *   sp+0   x19 x20      sp+48  x25 x26     sp+96   d8  d9
 *   sp+16  x21 x22      sp+64  x27 x28     sp+112  d10 d11
 *   sp+32  x23 x24      sp+80  x29 x30     sp+128  d12 d13
 *                                          sp+144  d14 d15
 *                                          sp+160  fpcr
 *                                          sp+168  padding
 * x30 (the link register) is where the context resumes. The frame keeps sp
 * 16-byte aligned. The CFI describes the frame, so a debugger can unwind
 * through a switch in progress.
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
	.cfi_adjust_cfa_offset 176
	stp	x19, x20, [sp, #0]
	.cfi_rel_offset x19, 0
	.cfi_rel_offset x20, 8
	stp	x21, x22, [sp, #16]
	.cfi_rel_offset x21, 16
	.cfi_rel_offset x22, 24
	stp	x23, x24, [sp, #32]
	.cfi_rel_offset x23, 32
	.cfi_rel_offset x24, 40
	stp	x25, x26, [sp, #48]
	.cfi_rel_offset x25, 48
	.cfi_rel_offset x26, 56
	stp	x27, x28, [sp, #64]
	.cfi_rel_offset x27, 64
	.cfi_rel_offset x28, 72
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	stp	d8, d9, [sp, #96]
	.cfi_rel_offset d8, 96
	.cfi_rel_offset d9, 104
	stp	d10, d11, [sp, #112]
	.cfi_rel_offset d10, 112
	.cfi_rel_offset d11, 120
	stp	d12, d13, [sp, #128]
	.cfi_rel_offset d12, 128
	.cfi_rel_offset d13, 136
	stp	d14, d15, [sp, #144]
	.cfi_rel_offset d14, 144
	.cfi_rel_offset d15, 152
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
	.cfi_adjust_cfa_offset -176
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15
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
