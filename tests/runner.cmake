# The pipeline runner's tests (included from tests/CMakeLists.txt).
add_executable(test_pipeline ${CMAKE_CURRENT_LIST_DIR}/test_pipeline.c)
target_include_directories(test_pipeline PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_pipeline PRIVATE sluice_core)
add_test(NAME pipeline COMMAND test_pipeline)
set_tests_properties(pipeline PROPERTIES TIMEOUT 300)
sluice_valgrind_test(pipeline)
