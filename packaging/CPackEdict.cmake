# Debian packages (CPack DEB) and man pages. Included from tools/libedict/CMakeLists.txt.
#
#   cmake --build build && cpack --config build/CPackConfig.cmake -B build/packages
#
# Packages (one CPack component each):
#   libedict0      lib       libedict.so.0 (Debian names a shared-library package after its
#                            SONAME: libedict0 is "the libedict package")
#   libedict-dev   dev       headers, libedict.so, libedict.a, CMake package, pkg-config
#   edictctl       edictctl  the admin tool + edictctl(1)
#   edict-agent    agent     the endpoint agent + edict-agent(8) + the systemd unit
#                            (packaging/edict-agent.service, when present)
# Man pages are generated at build time from the programs' own --help (gen_man.cmake); the
# copies in docs/man/ are refreshed with the `update-man` target and checked by a test.

include(GNUInstallDirs)
set(_pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(_man_dir ${CMAKE_BINARY_DIR}/docs/man)
file(MAKE_DIRECTORY ${_man_dir})
set(_doc_dir ${CMAKE_INSTALL_DATADIR}/doc)

# ---- Programs, man pages, unit -----------------------------------------------------------
set(_man_pages)
function(edict_man_page target name section summary subcommands)
  set(_out ${_man_dir}/${name}.${section})
  add_custom_command(OUTPUT ${_out} ${_out}.gz
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> -DNAME=${name}
            -DSECTION=${section} -DVERSION=${PROJECT_VERSION} "-DSUMMARY=${summary}"
            -DSUBCOMMANDS=${subcommands} -DOUT=${_out} -P ${_pkg_dir}/gen_man.cmake
    COMMAND gzip -9nkf ${_out}
    DEPENDS ${target} ${_pkg_dir}/gen_man.cmake
    COMMENT "man page ${name}(${section}) from ${name} --help"
    VERBATIM)
  set(_man_pages ${_man_pages} ${_out} PARENT_SCOPE)
endfunction()

if(TARGET edictctl)
  install(TARGETS edictctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT edictctl)
  edict_man_page(edictctl edictctl 1 "edict administrator tool: compile, sign and verify admin policy" ON)
  install(FILES ${_man_dir}/edictctl.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          COMPONENT edictctl)
endif()
if(TARGET edict-agent)
  # /usr/bin: packaging/edict-agent.service starts /usr/bin/edict-agent.
  install(TARGETS edict-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
  edict_man_page(edict-agent edict-agent 8 "edict endpoint agent: activate signed policy and enforce it" ON)
  install(FILES ${_man_dir}/edict-agent.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
          COMPONENT agent)
  if(EXISTS ${_pkg_dir}/edict-agent.service)
    # Relative to the /usr prefix: /usr/lib/systemd/system, which systemd reads on every
    # Debian release (bookworm is merged-/usr; trixie moves all units there).
    install(FILES ${_pkg_dir}/edict-agent.service DESTINATION lib/systemd/system
            COMPONENT agent)
  endif()
  if(EXISTS ${_pkg_dir}/agent.conf.example)
    install(FILES ${_pkg_dir}/agent.conf.example
            DESTINATION ${_doc_dir}/edict-agent/examples COMPONENT agent)
  endif()
endif()
if(_man_pages)
  add_custom_target(edict_man_pages ALL DEPENDS ${_man_pages})
  set(_copy_cmds)
  foreach(_p ${_man_pages})
    get_filename_component(_n ${_p} NAME)
    list(APPEND _copy_cmds COMMAND ${CMAKE_COMMAND} -E copy ${_p} ${PROJECT_SOURCE_DIR}/docs/man/${_n})
  endforeach()
  add_custom_target(update-man
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_SOURCE_DIR}/docs/man
    ${_copy_cmds}
    DEPENDS ${_man_pages}
    COMMENT "docs/man/ regenerated from the programs' --help")
  if(EDICT_BUILD_TESTS)
    foreach(_p ${_man_pages})
      get_filename_component(_n ${_p} NAME)
      add_test(NAME capi.man_page_current.${_n}
        COMMAND ${CMAKE_COMMAND} -DGENERATED=${_p} -DCOMMITTED=${PROJECT_SOURCE_DIR}/docs/man/${_n}
                -P ${_pkg_dir}/check_man.cmake)
    endforeach()
  endif()
endif()

# Each package's copyright file (Debian policy 12.5).
foreach(_c lib dev edictctl agent)
  set(_p_lib libedict0)
  set(_p_dev libedict-dev)
  set(_p_edictctl edictctl)
  set(_p_agent edict-agent)
  install(FILES ${_pkg_dir}/debian/copyright DESTINATION ${_doc_dir}/${_p_${_c}} COMPONENT ${_c})
endforeach()

# ---- CPack ---------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edict)
set(CPACK_PACKAGE_VENDOR "edict")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's Description is its component description below (first line = synopsis).
# CPackDeb prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY to it unless that is CPack's own
# default text, so it is set to exactly that default.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGE_CONTACT "edict maintainers <edict@example.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev)
if(TARGET edictctl)
  list(APPEND CPACK_COMPONENTS_ALL edictctl)
endif()
if(TARGET edict-agent)
  list(APPEND CPACK_COMPONENTS_ALL agent)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/edict")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libedict0)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # only packages with a SONAME'd library get one
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_LIB_DESCRIPTION
  "edict admin-policy kernel, C library\nedict answers, on the endpoint, what the effective value of an admin setting is\nand whether a data class may be used for a purpose, from signed policy.\nThis package holds the shared library libedict.so.0.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libedict-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libedict0 (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "edict admin-policy kernel, development files\nHeaders (edict/edict.h, edict/edict.hpp), libedict.so, the static libedict.a,\nthe CMake package (find_package(edict)) and the pkg-config file.")

set(CPACK_DEBIAN_EDICTCTL_PACKAGE_NAME edictctl)
set(CPACK_DEBIAN_EDICTCTL_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_EDICTCTL_DESCRIPTION
  "edict administrator tool\nCompiles admin policy JSON, manages signing keys and trust documents, signs\nand verifies policy bundles.")

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME edict-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
  "edict endpoint agent\nVerifies and activates signed admin-policy bundles, writes the effective policy\nto native stores (managed JSON, dconf) and audits every step. Ships a systemd\nunit.")

include(CPack)
