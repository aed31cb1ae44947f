# moray_cc_test(NAME name SRCS ... DEPS ... [DRIVER] [TIMEOUT s] [LABELS ...])
# A GoogleTest binary registered with CTest. Unit tests live beside the code they test.
# DRIVER: the test binary is a Moray driver whose workers re-execute it (tests/test_main.cc runs
# the worker loop instead of the tests when started as a worker).
function(moray_cc_test)
  cmake_parse_arguments(T "DRIVER" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SRCS})
  # Every test may use the header-only helpers in tests/ (tests/scoped_env.h).
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  if(T_DRIVER)
    target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} moray_test_main GTest::gtest GTest::gmock)
  else()
    target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} moray_unit_test_main GTest::gtest GTest::gmock)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "MORAY_BIN=${CMAKE_BINARY_DIR}/bin/moray")
  if(T_DRIVER)
    # tests/test_main.cc exits with 77 when every test skipped itself: CTest says "Skipped".
    set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endfunction()
