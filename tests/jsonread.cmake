# The JSON reader: unit tests, and a differential test against jansson
# (test-only dependency, Debian libjansson-dev; skipped without it).
add_executable(test_jsonread test_jsonread.c
 )
target_include_directories(test_jsonread PRIVATE ${CMAKE_SOURCE_DIR}/src
  ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_jsonread PRIVATE sluice_core)
add_test(NAME jsonread COMMAND test_jsonread)
set_tests_properties(jsonread PROPERTIES TIMEOUT 300)

pkg_check_modules(JANSSON IMPORTED_TARGET jansson)
if(JANSSON_FOUND)
  add_executable(test_json_diff test_json_diff.c
   )
  target_include_directories(test_json_diff PRIVATE ${CMAKE_SOURCE_DIR}/src
    ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_json_diff PRIVATE sluice_core PkgConfig::JANSSON)
  add_test(NAME json_diff COMMAND test_json_diff)
  set_tests_properties(json_diff PROPERTIES TIMEOUT 300)
else()
  sluice_skip_test(json_diff "jansson is not installed (package libjansson-dev)" SETUP)
endif()

sluice_valgrind_test(jsonread)
