# Another program that shares confine's convention (a lock on DOC.lock beside DOC), locking
# as a user of one library would. Used by tests/it, tests/store and the benchmark.
#
#   python3 other_locker.py try LOCKER LOCK_FILE    take the lock once, without waiting:
#                                                   exit 0 (and let go) or 3 if busy
#   python3 other_locker.py hold LOCKER LOCK_FILE   wait for it, print "locked PID", hold it
#                                                   until stdin closes
#   python3 other_locker.py write LOCKER DOC TIMES  TIMES updates: lock DOC.lock, read DOC (a
#                                                   missing one is {}; a DOC named *.toml is
#                                                   TOML, read with tomllib and written with
#                                                   tomli_w), bump its counter "n",
#                                                   write a temp file beside it, fsync, rename
#                                                   over DOC, fsync the directory, unlock;
#                                                   prints each update's time in ns, one a line
#
# LOCKER is how the lock is taken, each the way its documentation shows:
#   lockf        fcntl.lockf (the design's own pattern; fcntl locks on Linux)
#   flock        fcntl.flock
#   fasteners    fasteners.InterProcessLock (fcntl.lockf on Unix)
#   filelock     filelock.FileLock (flock on Unix)
#   portalocker  portalocker.Lock (flock on Unix by default)
# The libraries must be importable (make test installs them into a virtual environment).
import fcntl, json, os, sys, time

FOREVER = 3600.0  # the libraries' way of saying "wait": a timeout the tests never reach


def lock_of(locker, path):
    """acquire(blocking) -> bool and release() for the lock file `path`."""
    if locker in ("lockf", "flock"):
        call = fcntl.lockf if locker == "lockf" else fcntl.flock
        handle = open(path, "a+")

        def acquire(blocking):
            try:
                call(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                return False
            return True

        return acquire, lambda: call(handle, fcntl.LOCK_UN)
    if locker == "fasteners":
        import fasteners

        lock = fasteners.InterProcessLock(path)
        return (lambda blocking: lock.acquire(blocking=blocking)), lock.release
    if locker == "filelock":
        import filelock

        lock = filelock.FileLock(path)

        def acquire(blocking):
            try:
                lock.acquire(timeout=FOREVER if blocking else 0)
            except filelock.Timeout:
                return False
            return True

        return acquire, lock.release
    if locker == "portalocker":
        import portalocker

        lock = portalocker.Lock(path, mode="a")

        def acquire(blocking):
            try:
                if blocking:
                    lock.acquire(timeout=FOREVER)
                else:
                    lock.acquire(timeout=0, fail_when_locked=True)
            except portalocker.exceptions.LockException:
                return False
            return True

        return acquire, lock.release
    sys.exit(f"unknown locker {locker!r}")


def write(locker, path, times):
    acquire, release = lock_of(locker, path + ".lock")
    if path.endswith(".toml"):
        import tomllib, tomli_w

        load, dump, mode = tomllib.load, tomli_w.dump, "b"
    else:
        load, dump, mode = json.load, json.dump, ""
    folder = os.path.dirname(path) or "."
    tmp = f"{path}.{os.getpid()}.partial"
    spent = []
    for _ in range(times):
        start = time.perf_counter_ns()
        acquire(True)
        try:
            try:
                with open(path, "r" + mode) as f:
                    doc = load(f)
            except FileNotFoundError:
                doc = {}
            doc["n"] = doc.get("n", 0) + 1
            with open(tmp, "w" + mode) as f:
                dump(doc, f)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, path)
            d = os.open(folder, os.O_RDONLY)
            os.fsync(d)
            os.close(d)
        finally:
            release()
        spent.append(time.perf_counter_ns() - start)
    print("\n".join(map(str, spent)))


mode, locker = sys.argv[1], sys.argv[2]
if mode == "write":
    write(locker, sys.argv[3], int(sys.argv[4]))
    sys.exit(0)
acquire, release = lock_of(locker, sys.argv[3])
if mode == "try":
    if not acquire(False):
        print("busy", flush=True)
        sys.exit(3)
    release()
    print("locked", flush=True)
    sys.exit(0)
acquire(True)
print("locked", os.getpid(), flush=True)
sys.stdin.read()  # hold the lock until stdin closes
