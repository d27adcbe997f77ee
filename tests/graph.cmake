# The graph layer: write batches, the SQLite store, targets and the writer
# (included from tests/CMakeLists.txt).
foreach(t graph_batch graph_store sqlite_store)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_include_directories(test_${t} PRIVATE ${CMAKE_SOURCE_DIR}/src
    ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_${t} PRIVATE sluice_core PkgConfig::SQLITE3)
  add_test(NAME ${t} COMMAND test_${t})
  set_tests_properties(${t} PROPERTIES TIMEOUT 300)
  sluice_valgrind_test(${t})
endforeach()

# Graph targets end to end through the command (bash).
add_test(NAME graph_cli COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_graph_cli.sh $<TARGET_FILE:sluice>)
set_tests_properties(graph_cli PROPERTIES TIMEOUT 300)

# Nodestream's own fixture pipelines, diffed against the graph Nodestream
# produced (../shared/compat), whenever that folder exists.
get_filename_component(SLUICE_COMPAT_CHECK
  "${CMAKE_SOURCE_DIR}/../shared/compat/check" ABSOLUTE)
if(EXISTS "${SLUICE_COMPAT_CHECK}")
  add_test(NAME compat COMMAND bash "${SLUICE_COMPAT_CHECK}" --sluice $<TARGET_FILE:sluice>)
  set_tests_properties(compat PROPERTIES TIMEOUT 900)
else()
  sluice_skip_test(compat "no ../shared/compat beside this checkout")
endif()
