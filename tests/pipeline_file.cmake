# The pipeline-file loader (included from tests/CMakeLists.txt); fixtures
# are in tests/data/pipelines.
add_executable(test_pipeline_file ${CMAKE_CURRENT_LIST_DIR}/test_pipeline_file.c)
target_include_directories(test_pipeline_file PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(test_pipeline_file PRIVATE SLUICE_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data")
target_link_libraries(test_pipeline_file PRIVATE sluice_core)
add_test(NAME pipeline_file COMMAND test_pipeline_file)
set_tests_properties(pipeline_file PROPERTIES TIMEOUT 300)
sluice_valgrind_test(pipeline_file)
