# embed.cmake - turn IN (a text file) into OUT, a C file defining the
# NUL-terminated char array VAR, for src/fn/runtime.c.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
get_filename_component(name ${IN} NAME)
file(WRITE ${OUT} "/* generated from ${name} */\n"
     "extern const char ${VAR}[];\n"
     "const char ${VAR}[] = {${hex} 0x00};\n")
