"""systemd's ``MemoryDenyWriteExecute=yes`` reproduced without systemd, to test code under it.

systemd implements the setting as a seccomp filter (src/shared/seccomp-util.c,
``seccomp_memory_deny_write_execute``) that fails with EPERM: ``mmap`` with both PROT_WRITE and
PROT_EXEC, ``mprotect``/``pkey_mprotect`` adding PROT_EXEC, and ``shmat`` with SHM_EXEC. This module
installs the same rules through libseccomp (ctypes; libseccomp2 ships with systemd) in the current
process, which cannot be undone, so use it in a subprocess:

    python -m tests.support.mdwe SCRIPT.py [ARGS...]   # filter, then run SCRIPT as __main__
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import runpy
import sys

SHM_EXEC = 0o100000
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_MASKED_EQ = 7  # enum scmp_compare: SCMP_CMP_MASKED_EQ


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def apply() -> None:
    """Install the filter in this process (and its future children). Raises OSError on failure."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as e:
        raise OSError(f"libseccomp.so.2 not found ({e}): install libseccomp2 (systemd depends on it)") from e
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(_ALLOW)
    if not ctx:
        raise OSError("seccomp_init failed")
    write_exec = mmap.PROT_WRITE | mmap.PROT_EXEC
    rules = (
        ("mmap", write_exec, write_exec),
        ("mprotect", mmap.PROT_EXEC, mmap.PROT_EXEC),
        ("pkey_mprotect", mmap.PROT_EXEC, mmap.PROT_EXEC),
        ("shmat", SHM_EXEC, SHM_EXEC),
    )
    try:
        for name, mask, value in rules:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            cmp = _ArgCmp(2, _MASKED_EQ, mask, value)  # the prot / shmflg argument is the third one
            rc = lib.seccomp_rule_add_array(ctx, _ERRNO | errno.EPERM, nr, 1, ctypes.byref(cmp))
            if rc != 0:
                raise OSError(-rc, f"seccomp rule for {name} failed")
        rc = lib.seccomp_load(ctx)  # sets no_new_privs first, as systemd does (NoNewPrivileges)
        if rc != 0:
            raise OSError(-rc, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)


def active() -> bool:
    """True when a writable+executable mapping is refused (the filter works)."""
    try:
        mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_WRITE | mmap.PROT_EXEC).close()
    except PermissionError:
        return True
    return False


if __name__ == "__main__":
    apply()
    if not active():
        sys.exit("mdwe: the filter is loaded but W+X mappings still work")
    script, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
