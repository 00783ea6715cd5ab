// Provides std::ios_base_library_init(), which GCC 13's <iostream> references from every
// translation unit (libstdc++ GLIBCXX_3.4.32). libLibTorchSharp.so was built with GCC 13; Debian 12's
// libstdc++ predates the symbol, so this shim supplies it. The reference exists only to pull the
// iostream initialiser into the link, so running std::ios_base::Init here is all the body needs.
#include <ios>

namespace std
{
    __attribute__((visibility("default"))) void ios_base_library_init()
    {
        static ios_base::Init init;
    }
}
