# A private PostgreSQL 15 for the tests that need a database (included
# from tests/CMakeLists.txt). The fixture "pg": pg_start runs
# `tests/pg_server start` before the first test that requires it and
# pg_stop stops the server and removes its data after the last one.
# Register those tests with sluice_pg_test().
set(SLUICE_PG_SERVER ${CMAKE_CURRENT_LIST_DIR}/pg_server)
set(SLUICE_PG_DIR ${CMAKE_BINARY_DIR}/pgtest)

add_test(NAME pg_start COMMAND ${SLUICE_PG_SERVER} start ${SLUICE_PG_DIR})
set_tests_properties(pg_start PROPERTIES FIXTURES_SETUP pg TIMEOUT 120)
add_test(NAME pg_stop COMMAND ${SLUICE_PG_SERVER} stop ${SLUICE_PG_DIR})
set_tests_properties(pg_stop PROPERTIES FIXTURES_CLEANUP pg TIMEOUT 120)

# sluice_pg_test(NAME [COMMAND cmd args...] [TIMEOUT seconds] [VALGRIND]
#                [SERIAL]): test NAME, which needs the server. Without
# COMMAND it runs the program test_NAME (add_executable it first). It
# requires the fixture and gets SLUICE_TEST_PGDIR (the state directory:
# uri, port, password, datadir) and SLUICE_TEST_PGSERVER (tests/pg_server)
# in its environment; tests/pg_env.h reads them. VALGRIND also runs it
# under valgrind (sluice_valgrind_test, C programs only); leave it out to
# keep a test away from valgrind. SERIAL: the test crashes or restarts the
# server, so it runs alone (RUN_SERIAL), never beside another test that
# uses the server. TIMEOUT defaults to 300.
function(sluice_pg_test name)
  cmake_parse_arguments(PARSE_ARGV 1 PGT "VALGRIND;SERIAL" "TIMEOUT" "COMMAND")
  if(NOT PGT_COMMAND)
    set(PGT_COMMAND test_${name})
  endif()
  if(NOT PGT_TIMEOUT)
    set(PGT_TIMEOUT 300)
  endif()
  set(tests ${name})
  add_test(NAME ${name} COMMAND ${PGT_COMMAND})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${PGT_TIMEOUT})
  if(PGT_VALGRIND)
    sluice_valgrind_test(${name})
    if(TEST valgrind_${name})
      list(APPEND tests valgrind_${name})
    endif()
  endif()
  foreach(t ${tests})
    set_property(TEST ${t} PROPERTY FIXTURES_REQUIRED pg)
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
      "SLUICE_TEST_PGDIR=${SLUICE_PG_DIR}"
      "SLUICE_TEST_PGSERVER=${SLUICE_PG_SERVER}")
    if(PGT_SERIAL)
      set_property(TEST ${t} PROPERTY RUN_SERIAL TRUE)
    endif()
  endforeach()
endfunction()

# The harness itself: connections, passwords, crash and restart.
sluice_pg_test(pg_server SERIAL
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_pg_server.sh)

# tests/pg_env.h from C (it crashes and restarts the server, so SERIAL).
add_executable(test_pg_env ${CMAKE_CURRENT_LIST_DIR}/test_pg_env.c)
target_include_directories(test_pg_env PRIVATE ${CMAKE_CURRENT_LIST_DIR})
sluice_pg_test(pg_env SERIAL VALGRIND)

# The database layer on PostgreSQL (test_db_pg.c).
add_executable(test_db_pg ${CMAKE_CURRENT_LIST_DIR}/test_db_pg.c)
target_link_libraries(test_db_pg PRIVATE sluice_core)
target_include_directories(test_db_pg PRIVATE ${CMAKE_CURRENT_LIST_DIR})
sluice_pg_test(db_pg)

# The PostgreSQL graph target end to end, and a server crash mid-load.
sluice_pg_test(graph_pg
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_graph_pg.sh $<TARGET_FILE:sluice>)
sluice_pg_test(graph_pg_fault SERIAL
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_graph_pg.sh $<TARGET_FILE:sluice> --fault)
# The connection pool (src/db/pool.c); the fault test crashes and restarts
# the server, so it runs alone.
add_executable(test_db_pool ${CMAKE_CURRENT_LIST_DIR}/test_db_pool.c)
target_include_directories(test_db_pool PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_db_pool PRIVATE sluice_core)
sluice_pg_test(db_pool)
add_executable(test_db_pool_fault ${CMAKE_CURRENT_LIST_DIR}/test_db_pool_fault.c)
target_include_directories(test_db_pool_fault PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_db_pool_fault PRIVATE sluice_core)
sluice_pg_test(db_pool_fault SERIAL)
# The SQLite driver (real files in a temporary directory; no server).
add_executable(test_db_sqlite ${CMAKE_CURRENT_LIST_DIR}/test_db_sqlite.c)
target_include_directories(test_db_sqlite PRIVATE ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_db_sqlite PRIVATE sluice_core PkgConfig::SQLITE3)
add_test(NAME db_sqlite COMMAND test_db_sqlite)
set_tests_properties(db_sqlite PROPERTIES TIMEOUT 300)
sluice_valgrind_test(db_sqlite)
# Models and the query builder (sluice/model.h) on PostgreSQL and SQLite.
add_executable(test_db_model ${CMAKE_CURRENT_LIST_DIR}/test_db_model.c)
target_include_directories(test_db_model PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(test_db_model PRIVATE sluice_core)
sluice_pg_test(db_model)

# A failed statement in a transaction, the same on both drivers.
add_executable(test_db_tx ${CMAKE_CURRENT_LIST_DIR}/test_db_tx.c)
target_include_directories(test_db_tx PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(test_db_tx PRIVATE sluice_core)
sluice_pg_test(db_tx)

# examples/db_example against SQLite (a real file) and the test PostgreSQL.
add_test(NAME db_example_sqlite
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_db_example.sh
          $<TARGET_FILE:db_example> sqlite)
set_tests_properties(db_example_sqlite PROPERTIES TIMEOUT 60)
sluice_pg_test(db_example_pg
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_db_example.sh
          $<TARGET_FILE:db_example> postgres)

# The compat cases on PostgreSQL too, whenever ../shared/compat exists.
if(EXISTS "${SLUICE_COMPAT_CHECK}")
  sluice_pg_test(compat_pg TIMEOUT 900 COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/compat_pg.sh
    "${SLUICE_COMPAT_CHECK}" $<TARGET_FILE:sluice>)
else()
  sluice_skip_test(compat_pg "no ../shared/compat beside this checkout")
endif()

# The PostgreSQL store driven directly: lost COMMIT replies (fault hook).
add_executable(test_pg_store ${CMAKE_CURRENT_LIST_DIR}/test_pg_store.c)
target_include_directories(test_pg_store PRIVATE ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_pg_store PRIVATE sluice_core)
sluice_pg_test(pg_store)
