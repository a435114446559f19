/* cppcheck-defs.h - macros from library headers that cppcheck does not read
 * (the gate passes only the project's include folders), force-included by
 * scripts/setup.sh's cppcheck gate. Same definitions as the libraries'. */
#define cJSON_ArrayForEach(element, array)                                                         \
    for (element = (array != NULL) ? (array)->child : NULL; element != NULL;                       \
         element = element->next)
