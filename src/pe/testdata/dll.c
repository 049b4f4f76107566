/* Minimal DLL body: no CRT, one export so the file is a real DLL. */
#include <windows.h>
__declspec(dllexport) int verskew_test_export(void) { return 102; }
BOOL WINAPI DllMain(HINSTANCE h, DWORD r, LPVOID p) { (void)h; (void)r; (void)p; return TRUE; }
