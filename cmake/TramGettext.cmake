# Messages people read, translated with GNU gettext: a program's catalogues live in the repository
# as po/DOMAIN/LANG.po; msgfmt (Debian's gettext) compiles each at build time into
# TARGET_DIR/locale/LANG/LC_MESSAGES/DOMAIN.mo, where the program finds them from its own path in the
# build tree, and they install to PREFIX/share/locale (CMAKE_INSTALL_LOCALEDIR).
#
#   tram_gettext(TARGET DOMAIN PO_DIR)
#
# also defines on TARGET: TRAM_BUILD_LOCALEDIR (the build tree's) and TRAM_INSTALL_LOCALEDIR.
# `cmake --build --preset dev --target DOMAIN-pot` refreshes PO_DIR/DOMAIN.pot from the sources
# (xgettext) and merges it into each LANG.po (msgmerge).
include_guard(GLOBAL)
include(GNUInstallDirs)

find_program(TRAM_MSGFMT msgfmt REQUIRED)  # apt-get install gettext
find_program(TRAM_XGETTEXT xgettext)
find_program(TRAM_MSGMERGE msgmerge)

function(tram_gettext target domain po_dir)
  file(GLOB _po_files CONFIGURE_DEPENDS ${po_dir}/*.po)
  set(_locale_dir ${CMAKE_CURRENT_BINARY_DIR}/locale)
  set(_mo_files)
  foreach(_po ${_po_files})
    get_filename_component(_lang ${_po} NAME_WE)
    set(_mo ${_locale_dir}/${_lang}/LC_MESSAGES/${domain}.mo)
    # --check: a translation whose {1}/%s do not match, or a broken header, fails the build.
    add_custom_command(OUTPUT ${_mo}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_locale_dir}/${_lang}/LC_MESSAGES
      COMMAND ${TRAM_MSGFMT} --check -o ${_mo} ${_po}
      DEPENDS ${_po}
      COMMENT "msgfmt ${domain} ${_lang}"
      VERBATIM)
    list(APPEND _mo_files ${_mo})
    install(FILES ${_mo} DESTINATION ${CMAKE_INSTALL_LOCALEDIR}/${_lang}/LC_MESSAGES COMPONENT server)
  endforeach()
  add_custom_target(${domain}-mo ALL DEPENDS ${_mo_files})
  add_dependencies(${target} ${domain}-mo)
  target_compile_definitions(${target} PRIVATE TRAM_BUILD_LOCALEDIR="${_locale_dir}"
                                               TRAM_INSTALL_LOCALEDIR="${CMAKE_INSTALL_FULL_LOCALEDIR}")
  if(TRAM_XGETTEXT AND TRAM_MSGMERGE)
    get_target_property(_sources ${target} SOURCES)
    get_target_property(_src_dir ${target} SOURCE_DIR)
    set(_merge)
    foreach(_po ${_po_files})
      list(APPEND _merge COMMAND ${TRAM_MSGMERGE} --quiet --update --backup=none ${_po} ${po_dir}/${domain}.pot)
    endforeach()
    add_custom_target(${domain}-pot
      COMMAND ${TRAM_XGETTEXT} --language=C++ --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=P_:1,2
              --add-comments=TRANSLATORS: --package-name=${domain} --msgid-bugs-address=tram
              --sort-by-file -o ${po_dir}/${domain}.pot ${_sources}
      ${_merge}
      WORKING_DIRECTORY ${_src_dir}
      COMMENT "xgettext ${domain}.pot, msgmerge into its .po files"
      VERBATIM)
  endif()
endfunction()
