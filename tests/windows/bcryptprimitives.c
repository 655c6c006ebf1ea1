/* ProcessPrng for Wine 8, which lacks bcryptprimitives.dll.
 *
 * Rust's standard library (1.78 and later) takes its random bytes from ProcessPrng in
 * bcryptprimitives.dll, and every Rust executable for Windows imports it. Wine 8 has no
 * such DLL, so the executables do not start there. Built with mingw into the system
 * directory of a Wine prefix (`make test-windows` does), this DLL supplies ProcessPrng over
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has. Only for running tests under
 * Wine: Windows 10 and later ship the real one.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
