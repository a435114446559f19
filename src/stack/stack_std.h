/* stack_std.h - the functions of Pulumi's standard library provider (`std:*`) a
 * Pulumi YAML program calls with fn::invoke, answered locally.
 *
 * Programs written for newer Pulumi registry examples, and every program
 * `pulumi convert` makes from Terraform, call these for what YAML has no
 * syntax for: `std:replace {text, search, replace}`, `std:filemd5 {input}`,
 * `std:join {separator, input}`... Each takes its arguments by the names the
 * provider's schema gives and answers `{result: ...}`. Paths are relative to
 * the project folder. The long token `std:index:replace` names the same
 * function. */
#ifndef TANDEM_STACK_STD_H
#define TANDEM_STACK_STD_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "err.h"

/* stack_std_known - @token names a std function stack_std answers. */
bool stack_std_known(const char *token);

/*
 * stack_std - call @token with @args (an object, NULL for none); files are
 * read from @dir (NULL: the current folder). @out owned ({"result": ...}).
 * ERR_NOTFOUND for an unknown function, ERR_INVALID for missing or
 * ill-typed arguments (the message names the argument), ERR_IO for a file
 * that cannot be read.
 */
enum err_code stack_std(const char *token, const cJSON *args, const char *dir, cJSON **out,
                        struct err *e);

#endif
