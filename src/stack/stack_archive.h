/* stack_archive.h - the archive provider's data source `archive:getFile`, which a
 * Pulumi YAML program calls with fn::invoke to zip a file, a folder or inline
 * content before deploying it (the registry's aws `lambda/function` example zips
 * its handler so, then deploys `fn::FileArchive` of the zip with
 * `sourceCodeHash: ${lambda.outputBase64sha256}`).
 *
 * Arguments as the provider names them: `type` (zip), one of `sourceFile`,
 * `sourceDir` (with `excludes`: paths relative to it or glob patterns, and
 * `excludeSymlinkDirectories`), `sourceContent` + `sourceContentFilename`, or
 * `sources: [{content, filename}]`; `outputPath`; `outputFileMode` ("0666": the
 * mode of every file in the archive). Paths are relative to @dir (the program's
 * folder). The zip is deterministic, as the provider writes it: entries sorted
 * by name, each stamped 1981-01-01 00:00, so the same files make the same bytes
 * and a second `up` sees no change. The result is the arguments with
 * `outputBase64sha256`, `outputBase64sha512`, `outputMd5`, `outputSha` (SHA-1,
 * also the `id`), `outputSha256`, `outputSha512` (hex) and `outputSize`. The
 * long tokens `archive:index:getFile` and `archive:index/getFile:getFile` name
 * the same function. */
#ifndef TANDEM_STACK_ARCHIVE_H
#define TANDEM_STACK_ARCHIVE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "err.h"

/* stack_archive_known - @token names archive:getFile. */
bool stack_archive_known(const char *token);

/*
 * stack_archive - write the archive @args (an object) describe, relative to @dir
 * (NULL: the current folder), and answer its digests in *@out (owned).
 * ERR_NOTFOUND for an unknown function, ERR_INVALID for missing or conflicting
 * arguments (the message names them), ERR_IO for a source that cannot be read or
 * an output that cannot be written.
 */
enum err_code stack_archive(const char *token, const cJSON *args, const char *dir, cJSON **out,
                            struct err *e);

#endif
