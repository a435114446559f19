# embed.cmake - turn IN (a text file) into OUT, a C file defining
# fn_node_bootstrap_js[] (NUL-terminated) for src/fn/runtime.c.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE ${OUT} "/* generated from node-bootstrap.js */\n"
     "extern const char fn_node_bootstrap_js[];\n"
     "const char fn_node_bootstrap_js[] = {${hex} 0x00};\n")
