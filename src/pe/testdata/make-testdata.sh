#!/bin/sh
# Regenerates the PE fixtures of src/pe/tests.rs. Needs mingw-w64
# (apt-get install gcc-mingw-w64-i686 gcc-mingw-w64-x86-64). The outputs are
# committed, so tests never need mingw.
set -eu
cd "$(dirname "$0")"
# ver102.dll: PE32 (x86), RT_VERSION under ID 102 / lang 0x407.
i686-w64-mingw32-windres -O coff ver102.rc -o ver102.res
i686-w64-mingw32-gcc -Os -s -shared -nostdlib -Wl,--no-insert-timestamp -e _DllMain@12 dll.c ver102.res -o ver102.dll
# langs64.dll: PE32+ (x64), RT_VERSION #1 in languages 0x407 and 0x409.
x86_64-w64-mingw32-windres -O coff langs64.rc -o langs64.res
x86_64-w64-mingw32-gcc -Os -s -shared -nostdlib -Wl,--no-insert-timestamp -e DllMain dll.c langs64.res -o langs64.dll
rm -f ver102.res langs64.res
ls -l ver102.dll langs64.dll
