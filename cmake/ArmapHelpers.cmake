# armap_add_library(NAME armap_x SRCS ... [PUBLIC_LINK_LIBS ...] [PRIVATE_LINK_LIBS ...])
# Creates a static library with an armap:: alias (armap_core_io -> armap::core_io).
# The include root is the project root, so headers are included as "core/foo.h".
set(ARMAP_WARNING_FLAGS -Wall -Wextra -Wno-unused-parameter)
if(ARMAP_WERROR)
  list(APPEND ARMAP_WARNING_FLAGS -Werror)
endif()

function(armap_add_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;PUBLIC_LINK_LIBS;PRIVATE_LINK_LIBS" ${ARGN})
  add_library(${A_NAME} STATIC ${A_SRCS})
  string(REGEX REPLACE "^armap_" "" alias ${A_NAME})
  add_library(armap::${alias} ALIAS ${A_NAME})
  target_include_directories(${A_NAME} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}>)
  target_compile_features(${A_NAME} PUBLIC cxx_std_17)
  target_compile_options(${A_NAME} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${ARMAP_WARNING_FLAGS}>)
  target_link_libraries(${A_NAME} PUBLIC ${A_PUBLIC_LINK_LIBS} PRIVATE ${A_PRIVATE_LINK_LIBS})
endfunction()

# armap_add_test(NAME foo_test SRCS ... LINK_LIBS ... [LABELS ...])
# Registers each GoogleTest case as "<module>/<name>" so `ctest -R core/` works.
function(armap_add_test)
  if(NOT ARMAP_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME" "SRCS;LINK_LIBS;LABELS" ${ARGN})
  file(RELATIVE_PATH module ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REPLACE "/" "_" module_id ${module})
  set(target ${module_id}_${A_NAME})
  add_executable(${target} ${A_SRCS})
  target_compile_options(${target} PRIVATE ${ARMAP_WARNING_FLAGS})
  target_link_libraries(${target} PRIVATE ${A_LINK_LIBS} armap::gtest_main)
  target_compile_definitions(${target} PRIVATE
    ARMAP_SHARED_DATASETS="${PROJECT_SOURCE_DIR}/../shared/datasets")
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${target} TEST_PREFIX "${module}/${A_NAME}." DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${A_LABELS}")
endfunction()
