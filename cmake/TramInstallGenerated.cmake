# Run by `cmake --install` (install(SCRIPT) in TramInstall.cmake): writes the files that name the
# prefix actually installed to, then installs them (file(INSTALL) honours DESTDIR and the
# install manifest). Inputs: the TRAM_* variables set just before by install(CODE); TRAM_GENERATE
# is sdk (tram-client.pc) or server (the unit, the sysusers.d entry, tram.conf).
set(_prefix "${CMAKE_INSTALL_PREFIX}")
foreach(_v BINDIR LIBDIR INCLUDEDIR DATADIR SYSTEMD_UNITDIR SYSUSERSDIR)
  if(IS_ABSOLUTE "${TRAM_${_v}}")
    set(TRAM_FULL_${_v} "${TRAM_${_v}}")
  else()
    set(TRAM_FULL_${_v} "${_prefix}/${TRAM_${_v}}")
  endif()
endforeach()
# GNUInstallDirs' rule: /usr keeps its configuration in /etc, any other prefix in PREFIX/etc.
if(_prefix STREQUAL "/usr")
  set(TRAM_FULL_SYSCONFDIR "/etc")
else()
  set(TRAM_FULL_SYSCONFDIR "${_prefix}/etc")
endif()
set(TRAM_PREFIX "${_prefix}")

file(MAKE_DIRECTORY "${TRAM_STAGING}")
if(TRAM_GENERATE STREQUAL "sdk")
  configure_file("${TRAM_SRC_CMAKE}/tram-client.pc.in" "${TRAM_STAGING}/tram-client.pc" @ONLY)
  file(INSTALL DESTINATION "${TRAM_FULL_LIBDIR}/pkgconfig" TYPE FILE FILES "${TRAM_STAGING}/tram-client.pc")
  return()
endif()

configure_file("${TRAM_SRC_PACKAGING}/systemd/tram-server.service.in" "${TRAM_STAGING}/tram-server.service" @ONLY)
configure_file("${TRAM_SRC_PACKAGING}/tram.conf.in" "${TRAM_STAGING}/tram.conf" @ONLY)
file(INSTALL DESTINATION "${TRAM_FULL_SYSTEMD_UNITDIR}" TYPE FILE FILES "${TRAM_STAGING}/tram-server.service")
file(INSTALL DESTINATION "${TRAM_FULL_SYSUSERSDIR}" TYPE FILE RENAME tram.conf FILES "${TRAM_SRC_PACKAGING}/systemd/tram.sysusers")
if(EXISTS "$ENV{DESTDIR}${TRAM_FULL_SYSCONFDIR}/tram/tram.conf")
  message(STATUS "Keeping: $ENV{DESTDIR}${TRAM_FULL_SYSCONFDIR}/tram/tram.conf (exists; the new default is ${TRAM_STAGING}/tram.conf)")
else()
  file(INSTALL DESTINATION "${TRAM_FULL_SYSCONFDIR}/tram" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${TRAM_STAGING}/tram.conf")
endif()
