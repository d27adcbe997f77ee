# The gdb helper test: tests/test_gdb.sh runs gdb on gdb_target with
# tools/sluice-gdb.py loaded and checks its task list and backtraces.
# Included from tests/CMakeLists.txt.
find_program(GDB gdb)

add_executable(gdb_target gdb_target.c)
target_include_directories(gdb_target PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(gdb_target PRIVATE sluice_core)

if(GDB)
  add_test(NAME gdb
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_gdb.sh
            $<TARGET_FILE:gdb_target> ${CMAKE_SOURCE_DIR}/tools/sluice-gdb.py)
  set_tests_properties(gdb PROPERTIES TIMEOUT 180 ENVIRONMENT "GDB=${GDB}")
  set_property(TEST gdb PROPERTY SKIP_RETURN_CODE 77)
else()
  sluice_skip_test(gdb "gdb is not installed (package gdb)" SETUP)
endif()
