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
else()
  add_test(NAME gdb
    COMMAND bash -c "echo 'not ok 1 - gdb is missing: run scripts/setup'; echo '0 passed, 1 failed'; exit 1")
endif()
