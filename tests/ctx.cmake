# Self-test of the asm context switch (included from tests/CMakeLists.txt;
# a fragment of its own because it is not built like the other tests).
# It is built from its sources alone, without sluice_core, so it tests
# src/rt/ctx.c and src/rt/ctx_<arch>.S and nothing else; the .S of the
# other architecture assembles to nothing.
add_executable(ctx_selftest
  ${CMAKE_CURRENT_LIST_DIR}/ctx_selftest.c
  ${CMAKE_SOURCE_DIR}/src/rt/ctx.c
  ${CMAKE_SOURCE_DIR}/src/rt/ctx_x86_64.S
  ${CMAKE_SOURCE_DIR}/src/rt/ctx_aarch64.S)
target_include_directories(ctx_selftest PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
if(SLUICE_SANITIZE)
  # A pure test of the assembly: it switches stacks without telling ASan
  # (no __sanitizer_start_switch_fiber), which ASan does not support, so
  # it is built without sanitizers in the sanitizer build too.
  target_compile_options(ctx_selftest PRIVATE -fno-sanitize=all)
  target_link_options(ctx_selftest PRIVATE -fno-sanitize=all)
endif()
add_test(NAME ctx COMMAND ctx_selftest)
set_tests_properties(ctx PROPERTIES TIMEOUT 120)

# The aarch64 switch, cross-built and run under qemu-user. The script
# reports itself skipped (77), with the reason, when qemu cannot run an
# aarch64 program on this machine, and when a tool is missing outside
# `make check` (SLUICE_REQUIRE_TEST_TOOLS makes that a failure).
find_program(AARCH64_CC aarch64-linux-gnu-gcc)
find_program(QEMU_AARCH64 qemu-aarch64)
set(_require "")
if(SLUICE_REQUIRE_TEST_TOOLS)
  set(_require "SLUICE_REQUIRE_TEST_TOOLS=1")
endif()
sluice_add_test(ctx_aarch64 TIMEOUT 600 MAY_SKIP
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-aarch64 --cross-only
  ENVIRONMENT "AARCH64_CC=${AARCH64_CC}" "QEMU_AARCH64=${QEMU_AARCH64}" ${_require}
  REQUIRES AARCH64_CC QEMU_AARCH64
  SKIP "aarch64-linux-gnu-gcc or qemu-aarch64 is missing (packages gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user)" SETUP)
