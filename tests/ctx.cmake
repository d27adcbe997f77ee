# Self-test of the asm context switch (included from tests/CMakeLists.txt).
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

# The aarch64 switch, cross-built and run under qemu-user, when the tools
# are installed (apt-get install gcc-aarch64-linux-gnu qemu-user).
find_program(AARCH64_CC aarch64-linux-gnu-gcc)
find_program(QEMU_AARCH64 qemu-aarch64)
if(AARCH64_CC AND QEMU_AARCH64)
  add_test(NAME ctx_aarch64
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-aarch64 --cross-only)
  set_tests_properties(ctx_aarch64 PROPERTIES TIMEOUT 600
    ENVIRONMENT "AARCH64_CC=${AARCH64_CC};QEMU_AARCH64=${QEMU_AARCH64}")
endif()
