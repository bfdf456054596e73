"""The seccomp part of deploy/plate-edge.service reproduced without systemd, to run code under it in tests.

systemd implements two of the unit's settings as seccomp filters, which libseccomp (ctypes; libseccomp2
ships with systemd) can install in any process:

* ``MemoryDenyWriteExecute=yes`` (src/shared/seccomp-util.c, ``seccomp_memory_deny_write_execute``): EPERM
  for ``mmap`` with both PROT_WRITE and PROT_EXEC, ``mprotect``/``pkey_mprotect`` adding PROT_EXEC, and
  ``shmat`` with SHM_EXEC. Installed exactly so (`deny_write_execute`).
* ``SystemCallFilter=@system-service ~@privileged``: an allow-list, the names expanded by
  ``systemd-analyze syscall-filter`` (`unit_syscalls`). Installed STRICTER than the unit (`allow_only`):
  the unit answers a call outside the list with EPERM (``SystemCallErrorNumber=EPERM``), which a library
  may swallow silently; here such a call kills the process with SIGSYS, so a test sees every one.

Filters cannot be removed from a process, so run code under them in a subprocess:

    python -m tests.support.sandbox [--syscalls FILE] SCRIPT.py [ARGS...]

(``--syscalls FILE``: one allowed system call name per line; without it only the W^X filter.)
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterable

SHM_EXEC = 0o100000
_ALLOW = 0x7FFF0000
_TRAP = 0x00030000  # SIGSYS: default action terminates (and would dump core)
_ERRNO = 0x00050000
_MASKED_EQ = 7  # enum scmp_compare: SCMP_CMP_MASKED_EQ


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _lib() -> ctypes.CDLL:
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
    return lib


def _load(default_action: int, rules: Iterable[tuple[str, int, _ArgCmp | None]]) -> None:
    lib = _lib()
    ctx = lib.seccomp_init(default_action)
    if not ctx:
        raise OSError("seccomp_init failed")
    try:
        for name, action, cmp in rules:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue  # not a system call on this architecture (the groups list every arch's names)
            args = ctypes.byref(cmp) if cmp is not None else None
            rc = lib.seccomp_rule_add_array(ctx, action, nr, 1 if cmp is not None else 0, args)
            if rc != 0:
                raise OSError(-rc, f"seccomp rule for {name} failed")
        rc = lib.seccomp_load(ctx)  # sets no_new_privs first, as systemd does (NoNewPrivileges=)
        if rc != 0:
            raise OSError(-rc, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)


def deny_write_execute() -> None:
    """Install systemd's MemoryDenyWriteExecute=yes filter in this process."""
    eperm = _ERRNO | errno.EPERM
    write_exec = mmap.PROT_WRITE | mmap.PROT_EXEC
    _load(
        _ALLOW,
        [  # the prot / shmflg argument is the third one (index 2)
            ("mmap", eperm, _ArgCmp(2, _MASKED_EQ, write_exec, write_exec)),
            ("mprotect", eperm, _ArgCmp(2, _MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC)),
            ("pkey_mprotect", eperm, _ArgCmp(2, _MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC)),
            ("shmat", eperm, _ArgCmp(2, _MASKED_EQ, SHM_EXEC, SHM_EXEC)),
        ],
    )


def allow_only(syscalls: Iterable[str]) -> None:
    """Install an allow-list: any other system call kills the process with SIGSYS."""
    _load(_TRAP, [(name, _ALLOW, None) for name in sorted(set(syscalls))])


def write_execute_denied() -> bool:
    """True when a writable+executable mapping is refused (the W^X filter works)."""
    try:
        mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_WRITE | mmap.PROT_EXEC).close()
    except PermissionError:
        return True
    return False


def unit_syscalls(allow: str = "@system-service", deny: Iterable[str] = ("@privileged",)) -> set[str]:
    """System call names of ``SystemCallFilter=<allow>`` followed by ``SystemCallFilter=~<deny>...``,
    expanded (recursively) from this machine's ``systemd-analyze syscall-filter``."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        raise FileNotFoundError("systemd-analyze not found: install the `systemd` package")
    out = subprocess.run([analyze, "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in out.splitlines():
        item = line.strip()
        if line.startswith("@"):
            current = groups.setdefault(item, set())
        elif item and not item.startswith("#") and current is not None:
            current.add(item)

    def expand(name: str) -> set[str]:
        if not name.startswith("@"):
            return {name}
        return set().union(*(expand(member) for member in groups[name]))

    allowed = expand(allow)
    for group in deny:
        allowed -= expand(group)
    return allowed


if __name__ == "__main__":
    argv = sys.argv[1:]
    allowed: list[str] | None = None
    if argv[:1] == ["--syscalls"]:
        with open(argv[1]) as f:
            allowed = f.read().split()
        argv = argv[2:]
    deny_write_execute()
    if not write_execute_denied():
        sys.exit("sandbox: the W^X filter is loaded but W+X mappings still work")
    if allowed is not None:
        allow_only(allowed)
    script, sys.argv = argv[0], argv
    runpy.run_path(script, run_name="__main__")
