/*
 * Context switch for x86-64 System V.
 *
 * Frame saved at the top of a suspended stack (lowest address first):
 *   sp+0   MXCSR (4 bytes), x87 control word (2 bytes), padding
 *   sp+8   r15
 *   sp+16  r14
 *   sp+24  r13
 *   sp+32  r12
 *   sp+40  rbx
 *   sp+48  rbp
 *   sp+56  return address
 * After the stack pointer is swapped, the resumed stack holds a frame of the
 * same layout, so one CFI description serves both halves and a debugger can
 * unwind at any instruction. tools/sluice-gdb.py reads this layout; keep
 * them in step.
 */
#if defined(__x86_64__)
	.text

/* void sl_ctx_asm_switch(void **save_sp, void *new_sp) */
	.globl	sl_ctx_asm_switch
	.type	sl_ctx_asm_switch, @function
	.p2align 4
sl_ctx_asm_switch:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	ret
	.cfi_endproc
	.size	sl_ctx_asm_switch, .-sl_ctx_asm_switch

/*
 * First code of a new context: r12 holds the argument, r13 the entry
 * function. The entry function never returns.
 */
	.globl	sl_ctx_asm_trampoline
	.type	sl_ctx_asm_trampoline, @function
	.p2align 4
sl_ctx_asm_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	sl_ctx_asm_trampoline, .-sl_ctx_asm_trampoline
#endif
	.section .note.GNU-stack,"",@progbits
