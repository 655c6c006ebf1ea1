# Takes lockf(LOCK_EX) on a file, as other programs that share confine's convention do.
# `try`: once, without waiting (exit 3 if busy); `hold`: wait for it, print "locked PID",
# and hold it until stdin closes. A third argument `flock` takes flock(LOCK_EX) instead.
# Used by tests/it and tests/store.
import fcntl, os, sys
f = open(sys.argv[1], "a+")
mode = sys.argv[2]
lock = fcntl.flock if sys.argv[3:] == ["flock"] else fcntl.lockf
if mode == "try":
    try:
        lock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("busy", flush=True)
        sys.exit(3)
    print("locked", flush=True)
    sys.exit(0)
lock(f, fcntl.LOCK_EX)
print("locked", os.getpid(), flush=True)
sys.stdin.read()  # hold the lock until stdin closes
