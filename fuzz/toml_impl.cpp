// toml++'s implementation, compiled here with the fuzz instrumentation:
// Debian ships toml++ as an uninstrumented shared library, so without this
// the fuzzer would see no coverage inside the TOML parser and ASan would not
// check it. The fuzz targets' own definitions take precedence over the
// library's at link and run time.
#define TOML_IMPLEMENTATION 1
#include <toml++/toml.h>
