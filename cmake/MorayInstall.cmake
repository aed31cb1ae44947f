# The install package: bin/moray, include/ray, lib/libmoray.so (SONAME), a CMake package and a
# pkg-config file. Users: find_package(Moray) -> Moray::moray, or pkg-config --cflags --libs moray.
include(CMakePackageConfigHelpers)

install(TARGETS moray_bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS moray moray_headers EXPORT MorayTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT MorayTargets NAMESPACE Moray:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Moray)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/MorayConfig.cmake.in
  ${CMAKE_BINARY_DIR}/MorayConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Moray)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/MorayConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/MorayConfig.cmake ${CMAKE_BINARY_DIR}/MorayConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Moray)

configure_file(${PROJECT_SOURCE_DIR}/cmake/moray.pc.in ${CMAKE_BINARY_DIR}/moray.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/moray.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The dashboard's pages, found by `moray dashboard` from its own location (src/dashboard/web_dir.h).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/dashboard/web/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/moray/dashboard)
